"""background jobs started at the librarian's desk

One row per job (server/desk/jobs.py), of any kind (``class_issue``: the automatic textbook
issue of a class or of a whole grade): who started it and when, what it works on
(``target``, e.g. ``2026:7А,7Б``), its state (running, done, failed, interrupted), the
progress against an estimated total, the process that runs it (``boot``: a running job of an
earlier process is shown interrupted) and the report as JSON.

Revision ID: 0015_desk_jobs
Revises: 0014_textbooks
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_desk_jobs"
down_revision = "0014_textbooks"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "desk_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("started_by", sa.String(64), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("message", sa.String(500), nullable=True),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("boot", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_desk_jobs"),
    )
    op.create_index("ix_desk_jobs_started_at", "desk_jobs", ["started_at"])
    op.create_index("ix_desk_jobs_state", "desk_jobs", ["state"])


def downgrade() -> None:
    op.drop_index("ix_desk_jobs_state", table_name="desk_jobs")
    op.drop_index("ix_desk_jobs_started_at", table_name="desk_jobs")
    op.drop_table("desk_jobs")
