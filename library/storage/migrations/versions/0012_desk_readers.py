"""readers archived by the school-year move

A pupil who leaves the school (the 11th grade, or a class the librarian marks as leaving) is
archived: ``active`` false (no loans, no kiosk session) and ``archived_at`` set, so a later
anonymisation can erase the name once the retention period has passed.

Revision ID: 0012_desk_readers
Revises: 0011_desk
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_desk_readers"
down_revision = "0011_desk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("readers") as batch:
        batch.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("readers") as batch:
        batch.drop_column("archived_at")
