"""circulation rule overrides and media per school

``school_rules`` (sigla, key, value, changed_at, changed_by): one row per rule a school sets
differently from ``[circulation]`` (library/circulation/school_rules.py: the keys are the
settings' own paths such as ``pupil.rules.book.loan_days``; the value is stored as JSON text).
A school without rows lends exactly by the settings.

``media_items.sigla``: the school a media item belongs to; NULL = shared by the whole city
(every item scanned before this revision).

Revision ID: 0024_school_rules
Revises: 0023_school_requests
"""
import sqlalchemy as sa
from alembic import op

revision = "0024_school_rules"
down_revision = "0023_school_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "school_rules",
        sa.Column("sigla", sa.String(32), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("value", sa.String(100), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(80), nullable=True),
        sa.PrimaryKeyConstraint("sigla", "key", name="pk_school_rules"),
    )
    with op.batch_alter_table("media_items") as t:
        t.add_column(sa.Column("sigla", sa.String(32), nullable=True))
    op.create_index("ix_media_items_sigla", "media_items", ["sigla"])


def downgrade() -> None:
    op.drop_index("ix_media_items_sigla", table_name="media_items")
    with op.batch_alter_table("media_items") as t:
        t.drop_column("sigla")
    op.drop_table("school_rules")
