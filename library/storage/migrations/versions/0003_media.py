"""media library: content fingerprints for recognising moved files

Revision ID: 0003_media
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_media"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media_fingerprints",
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["media_id"], ["media_items.id"], ondelete="CASCADE",
                                name="fk_media_fingerprints_media_id_media_items"),
        sa.PrimaryKeyConstraint("media_id", name="pk_media_fingerprints"),
    )
    op.create_index("ix_media_fingerprints_size_digest", "media_fingerprints", ["size", "digest"])


def downgrade() -> None:
    op.drop_index("ix_media_fingerprints_size_digest", table_name="media_fingerprints")
    op.drop_table("media_fingerprints")
