"""the ИРБИС64 outbox: loans written locally, to be written into ИРБИС exactly once

One row per checkout, return or renewal made with ``[circulation] backend = "irbis"``
(ils/irbis/circulation.py, ils/irbis/ledger.py): written in the same transaction as the local
loan, pushed to the RDR record (field 40) and the copy's 910^a right after, and again by
``ibc irbis push`` while it stays pending (ИРБИС away, a record locked). ``txn_id`` is the
circulation transaction's id (unique: one row per transaction); ``state`` pending, pushing
(taken by a pusher at ``claimed_at``), done or failed.

Revision ID: 0018_irbis_outbox
Revises: 0017_irbis_sync
"""
import sqlalchemy as sa
from alembic import op

revision = "0018_irbis_outbox"
down_revision = "0017_irbis_sync"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "irbis_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("txn_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("card", sa.String(64), nullable=True),
        sa.Column("barcode", sa.String(64), nullable=False),
        sa.Column("inventory", sa.String(64), nullable=True),
        sa.Column("record_mfn", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("claimed_at", TS, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("done_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_irbis_outbox"),
        sa.UniqueConstraint("txn_id", name="uq_irbis_outbox_txn_id"),
    )
    op.create_index("ix_irbis_outbox_state", "irbis_outbox", ["state", "id"])


def downgrade() -> None:
    op.drop_index("ix_irbis_outbox_state", table_name="irbis_outbox")
    op.drop_table("irbis_outbox")
