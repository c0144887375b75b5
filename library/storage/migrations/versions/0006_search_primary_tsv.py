"""search index on PostgreSQL: tsv_p, the title/authors/subjects lexemes with their own GIN index

Tier 1 of a search (every word in title, authors or subjects) was a weight-filtered tsquery on
``tsv``: GIN cannot check weights, so every document with the words anywhere was fetched and
rechecked (10,000 heap rows for three common words at 1M records). ``tsv_p`` answers tier 1
from the index alone.

Revision ID: 0006_search_primary_tsv
Revises: 0005_search_access
"""
from alembic import op

revision = "0006_search_primary_tsv"
down_revision = "0005_search_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: FTS5 column filters need nothing more
    op.execute("ALTER TABLE search_docs ADD COLUMN tsv_p tsvector")
    op.execute("UPDATE search_docs SET tsv_p = ts_filter(tsv, '{a,b,c}') WHERE tsv IS NOT NULL")
    op.execute("CREATE INDEX ix_search_docs_tsv_p ON search_docs USING gin (tsv_p)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_search_docs_tsv_p")
    op.execute("ALTER TABLE search_docs DROP COLUMN tsv_p")
