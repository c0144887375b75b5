"""search index: media access level per document (teachers-only media hidden from pupils)

Revision ID: 0005_search_access
Revises: 0004_terminals
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_search_access"
down_revision = "0004_terminals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0 open (books, media for everyone), 1 on-site only, 2 teachers only (and unknown levels).
    op.add_column("search_docs", sa.Column("access", sa.SmallInteger(), nullable=False,
                                           server_default="0"))
    op.execute("UPDATE search_docs SET access = (SELECT CASE m.access WHEN 'everyone' THEN 0 "
               "WHEN 'onsite' THEN 1 ELSE 2 END FROM media_items m "
               "WHERE m.record_id = search_docs.record_id) "
               "WHERE record_id IN (SELECT record_id FROM media_items WHERE record_id IS NOT NULL)")
    # Restricted documents are few: a partial index makes "not restricted" a tiny lookup.
    op.create_index("ix_search_docs_restricted", "search_docs", ["docid"],
                    postgresql_where=sa.text("access >= 2"), sqlite_where=sa.text("access >= 2"))


def downgrade() -> None:
    op.drop_index("ix_search_docs_restricted", table_name="search_docs")
    with op.batch_alter_table("search_docs") as batch:
        batch.drop_column("access")
