"""the OPAC's reader sessions, its per-address sign-in guard and the reading-history choice

``opac_sessions``: a reader signed in to the OPAC (/opac) with card + PIN (server/opac/
sessions.py). Only the SHA-256 of the cookie's token is stored; ``pin_tag`` is a SHA-256 of the
reader's stored PIN hash at sign-in, so a PIN changed or cleared since ends the session.

``opac_login_guards``: failed OPAC sign-ins per client address (``ip:<address>``), counted by
the one guess-limit mechanism (library/slot_guard.py); the per-card limit is the kiosks'
``pin_guards``.

``readers.keep_history``: the reader chose to keep their reading history (default false):
``anonymise_returned`` keeps the reader link of their returned loans.

Revision ID: 0025_opac
Revises: 0024_school_rules
"""
import sqlalchemy as sa
from alembic import op

revision = "0025_opac"
down_revision = "0024_school_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "opac_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("pin_tag", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_why", sa.String(16), nullable=True),
        sa.Column("client_ip", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(["reader_id"], ["readers.id"], ondelete="CASCADE",
                                name="fk_opac_sessions_reader_id_readers"),
        sa.PrimaryKeyConstraint("id", name="pk_opac_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_opac_sessions_token_hash"),
    )
    op.create_index("ix_opac_sessions_reader_id", "opac_sessions", ["reader_id"])
    op.create_table(
        "opac_login_guards",
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_opac_login_guards"),
    )
    with op.batch_alter_table("readers") as t:
        t.add_column(sa.Column("keep_history", sa.Boolean(), nullable=False,
                               server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("readers") as t:
        t.drop_column("keep_history")
    op.drop_table("opac_login_guards")
    op.drop_index("ix_opac_sessions_reader_id", table_name="opac_sessions")
    op.drop_table("opac_sessions")
