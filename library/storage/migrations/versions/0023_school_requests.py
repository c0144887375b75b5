"""holds with a pickup school and inter-school requests (issue 21 item 3, last part)

``holds.pickup_sigla``: the school where the reader picks the book up (NULL: the default
school); ``holds.request``: the hold asks another school for a copy (the pickup school had none
on its shelf when it was placed). A hold whose copy travels between schools is ``transit``
(library/circulation/holds.py): the index «one active hold per reader and record» now counts
that state too. ``transfers``: a copy travelling between schools (Koha «branchtransfers»): the
copy, from, to, the hold it travels for (NULL: it goes home), sent, received; at most one open
(not received) transfer per copy.

Revision ID: 0023_school_requests
Revises: 0022_school_staff
"""
import sqlalchemy as sa
from alembic import op

revision = "0023_school_requests"
down_revision = "0022_school_staff"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
OLD_ACTIVE = sa.text("state IN ('queued', 'waiting')")
ACTIVE = sa.text("state IN ('queued', 'waiting', 'transit')")
OPEN = sa.text("received_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("holds") as t:
        t.add_column(sa.Column("pickup_sigla", sa.String(32), nullable=True))
        t.add_column(sa.Column("request", sa.Boolean(), nullable=False,
                               server_default=sa.false()))
    op.drop_index("uq_holds_active_reader_record", table_name="holds")
    op.create_index("uq_holds_active_reader_record", "holds", ["reader_id", "record_id"],
                    unique=True, sqlite_where=ACTIVE, postgresql_where=ACTIVE)
    op.create_table(
        "transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.Integer(), nullable=False),
        sa.Column("from_sigla", sa.String(32), nullable=False),
        sa.Column("to_sigla", sa.String(32), nullable=False),
        sa.Column("hold_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", TS, nullable=False),
        sa.Column("sent_by", sa.String(80), nullable=True),
        sa.Column("received_at", TS, nullable=True),
        sa.Column("received_by", sa.String(80), nullable=True),
        sa.ForeignKeyConstraint(["copy_id"], ["copies.id"], ondelete="CASCADE",
                                name="fk_transfers_copy_id_copies"),
        sa.ForeignKeyConstraint(["hold_id"], ["holds.id"], ondelete="SET NULL",
                                name="fk_transfers_hold_id_holds"),
        sa.PrimaryKeyConstraint("id", name="pk_transfers"),
    )
    op.create_index("uq_transfers_open_copy", "transfers", ["copy_id"], unique=True,
                    sqlite_where=OPEN, postgresql_where=OPEN)
    op.create_index("ix_transfers_to_open", "transfers", ["to_sigla", "received_at"])
    op.create_index("ix_transfers_from_open", "transfers", ["from_sigla", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_transfers_from_open", table_name="transfers")
    op.drop_index("ix_transfers_to_open", table_name="transfers")
    op.drop_index("uq_transfers_open_copy", table_name="transfers")
    op.drop_table("transfers")
    op.drop_index("uq_holds_active_reader_record", table_name="holds")
    op.create_index("uq_holds_active_reader_record", "holds", ["reader_id", "record_id"],
                    unique=True, sqlite_where=OLD_ACTIVE, postgresql_where=OLD_ACTIVE)
    with op.batch_alter_table("holds") as t:
        t.drop_column("request")
        t.drop_column("pickup_sigla")
