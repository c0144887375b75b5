"""school server: terminals, enrolment codes, reader sessions, offline conflicts

Revision ID: 0004_terminals
Revises: 0003_media
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_terminals"
down_revision = "0003_media"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "terminals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_terminals"),
        sa.UniqueConstraint("name", name="uq_terminals_name"),
        sa.UniqueConstraint("token_hash", name="uq_terminals_token_hash"),
    )
    op.create_table(
        "enrol_codes",
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
        sa.Column("used_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("code_hash", name="pk_enrol_codes"),
    )
    op.create_table(
        "reader_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("terminal_id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.Column("ended", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["terminal_id"], ["terminals.id"], ondelete="CASCADE",
                                name="fk_reader_sessions_terminal_id_terminals"),
        sa.ForeignKeyConstraint(["reader_id"], ["readers.id"], ondelete="CASCADE",
                                name="fk_reader_sessions_reader_id_readers"),
        sa.PrimaryKeyConstraint("token_hash", name="pk_reader_sessions"),
    )
    op.create_index("ix_reader_sessions_terminal_id", "reader_sessions", ["terminal_id"])
    op.create_table(
        "offline_conflicts",
        sa.Column("txn_id", sa.String(64), nullable=False),
        sa.Column("terminal", sa.String(64), nullable=False),
        sa.Column("op", sa.String(16), nullable=False),
        sa.Column("card", sa.String(64), nullable=True),
        sa.Column("barcode", sa.String(64), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("message", sa.String(500), nullable=False),
        sa.Column("queued_at", TS, nullable=True),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("txn_id", name="pk_offline_conflicts"),
    )
    op.create_index("ix_offline_conflicts_terminal", "offline_conflicts", ["terminal"])


def downgrade() -> None:
    op.drop_index("ix_offline_conflicts_terminal", "offline_conflicts")
    op.drop_table("offline_conflicts")
    op.drop_index("ix_reader_sessions_terminal_id", "reader_sessions")
    op.drop_table("reader_sessions")
    op.drop_table("enrol_codes")
    op.drop_table("terminals")
