"""the librarian's desk: accounts, sessions, login guards and the audit log

Accounts sign in with a password (salted scrypt, library/hashing.py); a session lives in the
database (only the SHA-256 of its cookie token is stored) and ends on idle, logout or a disabled
account; failed logins are counted per account name and per client address in the database, so
a lock survives a restart and holds across server processes; every login, failure, logout and
account change is one row of ``desk_audit``.

Revision ID: 0011_desk
Revises: 0010_pin_guards
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_desk"
down_revision = "0010_pin_guards"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "desk_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("password_changed_at", TS, nullable=False),
        sa.Column("disabled_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_desk_accounts"),
        sa.UniqueConstraint("name", name="uq_desk_accounts_name"),
    )
    op.create_table(
        "desk_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("ended_why", sa.String(16), nullable=True),
        sa.Column("client_ip", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["desk_accounts.id"], ondelete="CASCADE",
                                name="fk_desk_sessions_account_id_desk_accounts"),
        sa.PrimaryKeyConstraint("id", name="pk_desk_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_desk_sessions_token_hash"),
    )
    op.create_index("ix_desk_sessions_account_id", "desk_sessions", ["account_id"])
    op.create_table(
        "desk_login_guards",
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("locked_until", TS, nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_desk_login_guards"),
    )
    op.create_table(
        "desk_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("client_ip", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_desk_audit"),
    )
    op.create_index("ix_desk_audit_at", "desk_audit", ["at"])
    op.create_index("ix_desk_audit_action", "desk_audit", ["action"])


def downgrade() -> None:
    op.drop_index("ix_desk_audit_action", "desk_audit")
    op.drop_index("ix_desk_audit_at", "desk_audit")
    op.drop_table("desk_audit")
    op.drop_table("desk_login_guards")
    op.drop_index("ix_desk_sessions_account_id", "desk_sessions")
    op.drop_table("desk_sessions")
    op.drop_table("desk_accounts")
