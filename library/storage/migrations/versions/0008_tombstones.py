"""tombstones: records and copies deleted outright travel in the change feed

A trigger on each table writes (kind, id, version) into ``tombstones`` in the deleting
transaction, with a version of its own from the counter "catalogue" (bumped per deleted row, so
a tombstone always sorts after every cursor a replica already holds). Triggers and not ORM events:
they also see Core deletes (library/marc/writer.py), ON DELETE CASCADE (a record's copies) and
SQL typed by hand. Records and copies still at version 0 (media records, older demo loads) get a
fresh version so replicas that already passed version 0 receive them.

Revision ID: 0008_tombstones
Revises: 0007_places
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_tombstones"
down_revision = "0007_places"
branch_labels = None
depends_on = None

TABLES = {"records": "r", "copies": "c"}
BUMP = "UPDATE counters SET value = value + 1 WHERE name = 'catalogue'"
CURRENT = "(SELECT value FROM counters WHERE name = 'catalogue')"

PG_FUNCTION = """
CREATE FUNCTION ibc_tombstone() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
  UPDATE counters SET value = value + 1 WHERE name = 'catalogue' RETURNING value INTO v;
  INSERT INTO tombstones (kind, row_id, version, deleted_at)
  VALUES (TG_ARGV[0], OLD.id, COALESCE(v, 0), now())
  ON CONFLICT (kind, row_id)
  DO UPDATE SET version = EXCLUDED.version, deleted_at = EXCLUDED.deleted_at;
  RETURN OLD;
END $$
"""


def _sqlite_trigger(table: str, kind: str) -> str:
    return (f"CREATE TRIGGER tombstone_{table} AFTER DELETE ON {table} FOR EACH ROW BEGIN "
            f"{BUMP}; "
            f"DELETE FROM tombstones WHERE kind = '{kind}' AND row_id = OLD.id; "
            f"INSERT INTO tombstones (kind, row_id, version, deleted_at) "
            f"VALUES ('{kind}', OLD.id, COALESCE({CURRENT}, 0), CURRENT_TIMESTAMP); END")


def upgrade() -> None:
    op.create_table(
        "tombstones",
        sa.Column("kind", sa.String(1), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "row_id", name="pk_tombstones"),
    )
    op.create_index("ix_tombstones_version", "tombstones", ["version"])
    op.create_index("ix_tombstones_deleted_at", "tombstones", ["deleted_at"])
    op.execute("INSERT INTO counters (name, value) SELECT 'catalogue', 0 "
               "WHERE NOT EXISTS (SELECT 1 FROM counters WHERE name = 'catalogue')")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for table, kind in TABLES.items():
            op.execute(f"CREATE TRIGGER tombstone_{table} AFTER DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION ibc_tombstone('{kind}')")
    else:
        for table, kind in TABLES.items():
            op.execute(_sqlite_trigger(table, kind))
    # rows never stamped (version 0) get one fresh version, so every replica receives them
    stale = ("EXISTS (SELECT 1 FROM records WHERE version = 0) "
             "OR EXISTS (SELECT 1 FROM copies WHERE version = 0)")
    op.execute(f"{BUMP} AND ({stale})")
    for table in TABLES:
        op.execute(f"UPDATE {table} SET version = {CURRENT} WHERE version = 0")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS tombstone_{table}"
                   + (f" ON {table}" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ibc_tombstone()")
    op.drop_index("ix_tombstones_deleted_at", "tombstones")
    op.drop_index("ix_tombstones_version", "tombstones")
    op.drop_table("tombstones")
