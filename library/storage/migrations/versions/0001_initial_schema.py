"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 06:46:45.319290
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    counters = op.create_table('counters',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_counters'))
    )
    op.bulk_insert(counters, [{'name': 'catalogue', 'value': 0}])
    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('sigla', sa.String(length=32), nullable=True),
    sa.Column('terminal', sa.String(length=64), nullable=True),
    sa.Column('reader_category', sa.String(length=16), nullable=True),
    sa.Column('reader_class', sa.String(length=16), nullable=True),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('copy_id', sa.Integer(), nullable=True),
    sa.Column('media_id', sa.Integer(), nullable=True),
    sa.Column('query', sa.String(length=500), nullable=True),
    sa.Column('count', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_kind_ts', ['kind', 'ts'], unique=False)

    op.create_table('readers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_number', sa.String(length=64), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('middle_name', sa.String(length=100), nullable=True),
    sa.Column('class_name', sa.String(length=16), nullable=True),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('blocked', sa.Boolean(), nullable=False),
    sa.Column('block_reason', sa.String(length=255), nullable=True),
    sa.Column('pin_hash', sa.String(length=255), nullable=True),
    sa.Column('sigla', sa.String(length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_readers')),
    sa.UniqueConstraint('card_number', name=op.f('uq_readers_card_number'))
    )
    with op.batch_alter_table('readers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_readers_class_name'), ['class_name'], unique=False)

    op.create_table('records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('source_format', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=2000), nullable=False),
    sa.Column('subtitle', sa.String(length=2000), nullable=True),
    sa.Column('responsibility', sa.String(length=2000), nullable=True),
    sa.Column('authors', sa.JSON(), nullable=False),
    sa.Column('publisher', sa.String(length=500), nullable=True),
    sa.Column('place', sa.String(length=500), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('isbn', sa.String(length=32), nullable=True),
    sa.Column('isbns', sa.JSON(), nullable=False),
    sa.Column('subjects', sa.JSON(), nullable=False),
    sa.Column('udc', sa.String(length=255), nullable=True),
    sa.Column('bbk', sa.String(length=255), nullable=True),
    sa.Column('annotation', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('age_rating', sa.String(length=8), nullable=True),
    sa.Column('age_min', sa.Integer(), nullable=True),
    sa.Column('item_type', sa.String(length=16), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('marc', sa.LargeBinary(), nullable=True),
    sa.Column('marc_encoding', sa.String(length=16), nullable=True),
    sa.Column('popularity', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_records')),
    sa.UniqueConstraint('key', name=op.f('uq_records_key'))
    )
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_records_isbn'), ['isbn'], unique=False)
        batch_op.create_index(batch_op.f('ix_records_version'), ['version'], unique=False)
        batch_op.create_index(batch_op.f('ix_records_year'), ['year'], unique=False)

    op.create_table('transactions',
    sa.Column('txn_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('terminal', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('txn_id', name=op.f('pk_transactions'))
    )
    op.create_table('copies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('sigla', sa.String(length=32), nullable=False),
    sa.Column('inventory_number', sa.String(length=64), nullable=True),
    sa.Column('barcode', sa.String(length=64), nullable=True),
    sa.Column('rfid', sa.String(length=64), nullable=True),
    sa.Column('shelf_mark', sa.String(length=255), nullable=True),
    sa.Column('collection', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_code', sa.String(length=4), nullable=True),
    sa.Column('price', sa.String(length=32), nullable=True),
    sa.Column('received', sa.String(length=16), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_copies_record_id_records'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_copies')),
    sa.UniqueConstraint('sigla', 'barcode', name=op.f('uq_copies_sigla_barcode'))
    )
    with op.batch_alter_table('copies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_copies_barcode'), ['barcode'], unique=False)
        batch_op.create_index(batch_op.f('ix_copies_inventory_number'), ['inventory_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_copies_record_id'), ['record_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_copies_rfid'), ['rfid'], unique=False)
        batch_op.create_index(batch_op.f('ix_copies_sigla'), ['sigla'], unique=False)
        batch_op.create_index(batch_op.f('ix_copies_version'), ['version'], unique=False)

    op.create_table('media_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=2000), nullable=False),
    sa.Column('title', sa.String(length=1000), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('mtime', sa.Double(), nullable=True),
    sa.Column('duration_s', sa.Double(), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('codecs', sa.String(length=255), nullable=True),
    sa.Column('thumbnail', sa.String(length=2000), nullable=True),
    sa.Column('subject', sa.String(length=255), nullable=True),
    sa.Column('class_from', sa.Integer(), nullable=True),
    sa.Column('class_to', sa.Integer(), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('access', sa.String(length=16), nullable=False),
    sa.Column('licence', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.String(length=1000), nullable=True),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('plays', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_media_items_record_id_records'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_items')),
    sa.UniqueConstraint('path', name=op.f('uq_media_items_path'))
    )
    op.create_table('loans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('copy_id', sa.Integer(), nullable=False),
    sa.Column('reader_id', sa.Integer(), nullable=True),
    sa.Column('reader_category', sa.String(length=16), nullable=True),
    sa.Column('reader_class', sa.String(length=16), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('renewals', sa.Integer(), nullable=False),
    sa.Column('checkout_txn', sa.String(length=64), nullable=True),
    sa.Column('return_txn', sa.String(length=64), nullable=True),
    sa.Column('terminal', sa.String(length=64), nullable=True),
    sa.Column('anonymised', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['copy_id'], ['copies.id'], name=op.f('fk_loans_copy_id_copies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reader_id'], ['readers.id'], name=op.f('fk_loans_reader_id_readers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loans')),
    sa.UniqueConstraint('checkout_txn', name=op.f('uq_loans_checkout_txn'))
    )
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loans_copy_id'), ['copy_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_loans_reader_id'), ['reader_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_loans_returned_at'), ['returned_at'], unique=False)
        batch_op.create_index('uq_loans_open_copy', ['copy_id'], unique=True, sqlite_where=sa.text('returned_at IS NULL'), postgresql_where=sa.text('returned_at IS NULL'))




def downgrade() -> None:

    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.drop_index('uq_loans_open_copy', sqlite_where=sa.text('returned_at IS NULL'), postgresql_where=sa.text('returned_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_loans_returned_at'))
        batch_op.drop_index(batch_op.f('ix_loans_reader_id'))
        batch_op.drop_index(batch_op.f('ix_loans_copy_id'))

    op.drop_table('loans')
    op.drop_table('media_items')
    with op.batch_alter_table('copies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_copies_version'))
        batch_op.drop_index(batch_op.f('ix_copies_sigla'))
        batch_op.drop_index(batch_op.f('ix_copies_rfid'))
        batch_op.drop_index(batch_op.f('ix_copies_record_id'))
        batch_op.drop_index(batch_op.f('ix_copies_inventory_number'))
        batch_op.drop_index(batch_op.f('ix_copies_barcode'))

    op.drop_table('copies')
    op.drop_table('transactions')
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_records_year'))
        batch_op.drop_index(batch_op.f('ix_records_version'))
        batch_op.drop_index(batch_op.f('ix_records_isbn'))

    op.drop_table('records')
    with op.batch_alter_table('readers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_readers_class_name'))

    op.drop_table('readers')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_kind_ts')

    op.drop_table('events')
    op.drop_table('counters')

