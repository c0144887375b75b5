"""the union catalogue: which record each school's record key became

``record_keys``: one row per (record key, importing school sigla) written by ``ibc import``
(library/marc/links.py): the record it points at, the record's union key (library/marc/union.py;
NULL when it has none) and ``owner`` (this key's imports write the record's fields; false for a
key whose book was merged into another school's record, which brings only its copies). Records
imported before this revision have no rows: the first re-import of their file claims them.
``desk_imports.merged``: how many records of a desk upload joined other schools' records.

Revision ID: 0020_union_keys
Revises: 0019_schools
"""
import sqlalchemy as sa
from alembic import op

revision = "0020_union_keys"
down_revision = "0019_schools"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_keys",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("sigla", sa.String(32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("union_key", sa.String(255), nullable=True),
        sa.Column("owner", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], ondelete="CASCADE",
                                name="fk_record_keys_record_id_records"),
        sa.PrimaryKeyConstraint("key", "sigla", name="pk_record_keys"),
    )
    op.create_index("ix_record_keys_record_id", "record_keys", ["record_id"])
    op.create_index("ix_record_keys_union_key", "record_keys", ["union_key"])
    with op.batch_alter_table("desk_imports") as batch:
        batch.add_column(sa.Column("merged", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("desk_imports") as batch:
        batch.drop_column("merged")
    op.drop_index("ix_record_keys_union_key", table_name="record_keys")
    op.drop_index("ix_record_keys_record_id", table_name="record_keys")
    op.drop_table("record_keys")
