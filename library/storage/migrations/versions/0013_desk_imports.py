"""MARC imports uploaded at the librarian's desk

One row per uploaded file (server/desk/imports.py): who, when, the file's name and container,
the encoding the librarian chose (none: detected per record),
the progress (bytes and records), the counts (added, updated, failed), the state (running, done,
failed, interrupted), the process that ran it (``boot``: a running job of an earlier process
is shown interrupted) and the per-record error report.

Revision ID: 0013_desk_imports
Revises: 0012_desk_readers
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_desk_imports"
down_revision = "0012_desk_readers"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "desk_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("container", sa.String(16), nullable=True),
        sa.Column("encoding", sa.String(16), nullable=True),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("boot", sa.String(32), nullable=False),
        sa.Column("bytes_total", sa.BigInteger(), nullable=False),
        sa.Column("bytes_done", sa.BigInteger(), nullable=False),
        sa.Column("records_total", sa.Integer(), nullable=True),
        sa.Column("records_done", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(500), nullable=True),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_desk_imports"),
    )
    op.create_index("ix_desk_imports_started_at", "desk_imports", ["started_at"])
    op.create_index("ix_desk_imports_state", "desk_imports", ["state"])


def downgrade() -> None:
    op.drop_index("ix_desk_imports_state", table_name="desk_imports")
    op.drop_index("ix_desk_imports_started_at", table_name="desk_imports")
    op.drop_table("desk_imports")
