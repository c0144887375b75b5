"""places: where copies stand (places, place_rules) and the counter "places"

A place is a shelf or spot named in plain words («Стеллаж 5 — зарубежная проза, буква К»),
optionally boxed on its room's plan; its rules match copies by collection, shelf-mark prefix,
ББК prefix and author-sign letters (library/places, docs/PLACES.md).

Revision ID: 0007_places
Revises: 0006_search_primary_tsv
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_places"
down_revision = "0006_search_primary_tsv"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "places",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sigla", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("note", sa.String(255), nullable=True),
        sa.Column("room", sa.String(100), nullable=True),
        sa.Column("box_x", sa.Float(), nullable=True),
        sa.Column("box_y", sa.Float(), nullable=True),
        sa.Column("box_w", sa.Float(), nullable=True),
        sa.Column("box_h", sa.Float(), nullable=True),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_places"),
        sa.UniqueConstraint("sigla", "name", name="uq_places_sigla_name"),
    )
    op.create_index("ix_places_sigla", "places", ["sigla"])
    op.create_table(
        "place_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("collection", sa.String(255), nullable=True),
        sa.Column("shelf_prefix", sa.String(255), nullable=True),
        sa.Column("bbk_prefix", sa.String(255), nullable=True),
        sa.Column("letter_from", sa.String(1), nullable=True),
        sa.Column("letter_to", sa.String(1), nullable=True),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["place_id"], ["places.id"], ondelete="CASCADE",
                                name="fk_place_rules_place_id_places"),
        sa.PrimaryKeyConstraint("id", name="pk_place_rules"),
    )
    op.create_index("ix_place_rules_place_id", "place_rules", ["place_id"])
    counters = sa.table("counters", sa.column("name", sa.String), sa.column("value", sa.BigInteger))
    op.bulk_insert(counters, [{"name": "places", "value": 0}])


def downgrade() -> None:
    op.execute("DELETE FROM counters WHERE name = 'places'")
    op.drop_index("ix_place_rules_place_id", "place_rules")
    op.drop_table("place_rules")
    op.drop_index("ix_places_sigla", "places")
    op.drop_table("places")
