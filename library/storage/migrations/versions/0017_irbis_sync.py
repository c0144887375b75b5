"""catalogue sync from ИРБИС64: what was seen of each ИРБИС record, and the last run

``irbis_sync_records``: per (ИРБИС database, MFN) the record version the sync last wrote, its
state (live, deleted, skipped = could not be mapped) and the local record it became (SET NULL
when that record is deleted here). ``irbis_sync_runs``: per ИРБИС database the last run's start,
end, last completed run, max MFN, error and counts (ils/irbis/sync.py).

Revision ID: 0017_irbis_sync
Revises: 0016_holds
"""
import sqlalchemy as sa
from alembic import op

revision = "0017_irbis_sync"
down_revision = "0016_holds"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "irbis_sync_records",
        sa.Column("database", sa.String(32), nullable=False),
        sa.Column("mfn", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(255), nullable=True),
        sa.Column("synced_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], ondelete="SET NULL",
                                name="fk_irbis_sync_records_record_id_records"),
        sa.PrimaryKeyConstraint("database", "mfn", name="pk_irbis_sync_records"),
    )
    op.create_index("ix_irbis_sync_records_record_id", "irbis_sync_records", ["record_id"])
    op.create_table(
        "irbis_sync_runs",
        sa.Column("database", sa.String(32), nullable=False),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("completed_at", TS, nullable=True),
        sa.Column("max_mfn", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("database", name="pk_irbis_sync_runs"),
    )


def downgrade() -> None:
    op.drop_table("irbis_sync_runs")
    op.drop_index("ix_irbis_sync_records_record_id", table_name="irbis_sync_records")
    op.drop_table("irbis_sync_records")
