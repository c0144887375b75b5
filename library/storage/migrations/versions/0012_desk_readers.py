"""readers archived by the school-year move; the moves themselves

A pupil who leaves the school (the last grade, `[school] last_grade`) is archived: ``active``
false (no loans, no kiosk session) and ``archived_at`` set, so a later anonymisation can erase
the name once the retention period has passed (``anonymised_at``). ``school_year_moves`` holds
one row per school year whose move was done (its primary key makes the move happen once a year,
however many times and from however many places it is started).

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
        batch.add_column(sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "school_year_moves",
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("moved_by", sa.String(64), nullable=False),
        sa.Column("pupils_moved", sa.Integer(), nullable=False),
        sa.Column("leavers", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("school_year_moves")
    with op.batch_alter_table("readers") as batch:
        batch.drop_column("anonymised_at")
        batch.drop_column("archived_at")
