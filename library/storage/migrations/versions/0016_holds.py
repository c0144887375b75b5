"""holds (reservations): a reader queues for a record whose copies are out

One row per hold (library/circulation/holds.py, hold_service.py): queued, then waiting with
the copy set aside on the hold shelf until ``pickup_until``, then fulfilled, expired or
cancelled. Partial unique indexes: one active hold per reader and record, one waiting hold
per copy. ``placed_txn`` makes placing exactly-once; the reader link is anonymised like a
loan's, the category and class stay for the reports.

Revision ID: 0016_holds
Revises: 0015_desk_jobs
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_holds"
down_revision = "0015_desk_jobs"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ACTIVE = sa.text("state IN ('queued', 'waiting')")
WAITING = sa.text("state = 'waiting'")


def upgrade() -> None:
    op.create_table(
        "holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=True),
        sa.Column("reader_category", sa.String(16), nullable=True),
        sa.Column("reader_class", sa.String(16), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("placed_at", TS, nullable=False),
        sa.Column("placed_txn", sa.String(64), nullable=True),
        sa.Column("placed_by", sa.String(80), nullable=True),
        sa.Column("copy_id", sa.Integer(), nullable=True),
        sa.Column("waiting_since", TS, nullable=True),
        sa.Column("pickup_until", sa.Date(), nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("close_reason", sa.String(32), nullable=True),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("anonymised", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], ondelete="CASCADE",
                                name="fk_holds_record_id_records"),
        sa.ForeignKeyConstraint(["reader_id"], ["readers.id"], ondelete="SET NULL",
                                name="fk_holds_reader_id_readers"),
        sa.ForeignKeyConstraint(["copy_id"], ["copies.id"], ondelete="SET NULL",
                                name="fk_holds_copy_id_copies"),
        sa.PrimaryKeyConstraint("id", name="pk_holds"),
        sa.UniqueConstraint("placed_txn", name="uq_holds_placed_txn"),
    )
    op.create_index("ix_holds_reader_id", "holds", ["reader_id"])
    op.create_index("ix_holds_record_state", "holds", ["record_id", "state"])
    op.create_index("ix_holds_state", "holds", ["state"])
    op.create_index("uq_holds_active_reader_record", "holds", ["reader_id", "record_id"],
                    unique=True, sqlite_where=ACTIVE, postgresql_where=ACTIVE)
    op.create_index("uq_holds_waiting_copy", "holds", ["copy_id"], unique=True,
                    sqlite_where=WAITING, postgresql_where=WAITING)


def downgrade() -> None:
    op.drop_table("holds")
