"""catalogue search index

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FTS5_DDL = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(title_t, author_t, subject_t, body_t, "
    "content='search_docs', content_rowid='docid', prefix='2 3', "
    "tokenize='unicode61 remove_diacritics 0')"
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    pg = dialect == "postgresql"
    term_type = sa.String(100, collation="C") if pg else sa.String(100)
    key_type = sa.String(16, collation="C") if pg else sa.String(16)
    op.create_table(
        "search_docs",
        sa.Column("docid", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("title_t", sa.Text()), sa.Column("author_t", sa.Text()),
        sa.Column("subject_t", sa.Text()), sa.Column("body_t", sa.Text()),
        sa.Column("facet_authors", sa.Text()), sa.Column("facet_subjects", sa.Text()),
        sa.Column("year", sa.Integer()), sa.Column("decade", sa.Integer()),
        sa.Column("bbk_section", sa.String(4)), sa.Column("item_type", sa.String(16)),
        sa.Column("language", sa.String(8)), sa.Column("age_rating", sa.String(8)),
        sa.Column("available", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("copies", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("popularity", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("docid", name="pk_search_docs"),
        sa.UniqueConstraint("record_id", name="uq_search_docs_record_id"),
    )
    op.create_table(
        "search_codes",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", "record_id", name="pk_search_codes"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_search_codes_record_id", "search_codes", ["record_id"])
    op.create_table(
        "search_vocab",
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.Column("term", term_type, nullable=False),
        sa.Column("word", sa.String(100), nullable=False),
        sa.Column("df", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("term_id", name="pk_search_vocab"),
        sa.UniqueConstraint("term", name="uq_search_vocab_term"),
    )
    op.create_table(
        "search_vocab_keys",
        sa.Column("key", key_type, nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "term_id", name="pk_search_vocab_keys"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "search_meta",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_search_meta"),
    )
    if pg:
        from sqlalchemy.dialects.postgresql import TSVECTOR

        op.add_column("search_docs", sa.Column("tsv", TSVECTOR()))
        op.create_index("ix_search_docs_tsv", "search_docs", ["tsv"], postgresql_using="gin")
    elif dialect == "sqlite":
        op.execute(FTS5_DDL)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_fts")
    for name in ("search_meta", "search_vocab_keys", "search_vocab", "search_codes",
                 "search_docs"):
        op.drop_table(name)
