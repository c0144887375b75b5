"""server state shared by worker processes: named leases

One table ``leases`` (name, holder, taken_at, expires_at): the media station's control owner
(``station:<name>``), each server process's heartbeat (``boot:<id>``, so a desk job or import
left ``running`` by a live process of another worker is not taken for interrupted) and short
locks that serialise a check-then-insert across processes (``lock:<what>``). library/leases.py
takes, renews and releases them in atomic statements.

Revision ID: 0021_server_state
Revises: 0020_union_keys
"""
import sqlalchemy as sa
from alembic import op

revision = "0021_server_state"
down_revision = "0020_union_keys"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("taken_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )
    op.create_index("ix_leases_expires_at", "leases", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_leases_expires_at", table_name="leases")
    op.drop_table("leases")
