"""Core tables of the search index (kept off the ORM models; created by migration 0002).

    search_docs        one row per indexed record: docid (static rank order; the FTS5 rowid),
                       stemmed token strings per field, facet columns, availability, popularity;
                       media access level (0 open, 1 on-site, 2 teachers only);
                       on PostgreSQL also ``tsv`` (tsvector, GIN) built from the same tokens
    search_fts         SQLite only: FTS5 external-content table over search_docs
    search_codes       normalised ISBN (10 and 13) / barcode / inventory number → record
    search_vocab       every indexed term with document frequency and a surface word
    search_vocab_keys  SymSpell deletion keys → term (typo candidates)
    search_meta        counters: document count, next docid
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, MetaData, SmallInteger, String, Table, Text

metadata = MetaData()

docs = Table(
    "search_docs", metadata,
    Column("docid", BigInteger, primary_key=True, autoincrement=False),
    Column("record_id", Integer, nullable=False, unique=True),
    Column("title_t", Text), Column("author_t", Text), Column("subject_t", Text),
    Column("body_t", Text),
    Column("facet_authors", Text), Column("facet_subjects", Text),
    Column("year", Integer), Column("decade", Integer), Column("bbk_section", String(4)),
    Column("item_type", String(16)), Column("language", String(8)), Column("age_rating", String(8)),
    Column("available", Integer, nullable=False, default=0),
    Column("copies", Integer, nullable=False, default=0),
    Column("popularity", Integer, nullable=False, default=0),
    # Media access level (migration 0005): 0 open, 1 on-site only, 2 teachers only.
    Column("access", SmallInteger, nullable=False, default=0),
)
codes = Table(
    "search_codes", metadata,
    Column("code", String(64), primary_key=True),
    Column("record_id", Integer, primary_key=True, index=True),
)
vocab = Table(
    "search_vocab", metadata,
    Column("term_id", Integer, primary_key=True),
    Column("term", String(100), nullable=False, unique=True),
    Column("word", String(100), nullable=False),
    Column("df", Integer, nullable=False, default=0),
)
vocab_keys = Table(
    "search_vocab_keys", metadata,
    Column("key", String(16), primary_key=True),
    Column("term_id", Integer, primary_key=True),
)
meta = Table(
    "search_meta", metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

FTS5_DDL = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(title_t, author_t, subject_t, body_t, "
    "content='search_docs', content_rowid='docid', prefix='2 3', "
    "tokenize='unicode61 remove_diacritics 0')"
)
FIELD_COLUMNS = ("title_t", "author_t", "subject_t", "body_t")
