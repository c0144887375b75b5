"""Opening, migrating and using the database on SQLite and PostgreSQL."""

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from library.errors import StorageError
from library.storage import Copy, Loan, Reader, Record
from library.storage.database import Database, normalise_url, open_database
from library.storage.migrate import current_revision, head_revision


def test_migrated_to_head(db):
    assert current_revision(db) == head_revision()


def test_sqlite_pragmas(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()


def test_url_choice(tmp_path):
    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("", data_dir=tmp_path).database == str(tmp_path / "ibc.sqlite3")


def test_unreachable_postgres_is_a_clear_error():
    with pytest.raises(StorageError, match="cannot open database"):
        open_database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def _record(db: Database) -> int:
    with db.transaction() as s:
        rec = Record(key="k1", title="Война и мир", authors=["Толстой, Лев Николаевич"])
        rec.copies.append(Copy(sigla="ИБЦ", barcode="2000000000015", inventory_number="1"))
        s.add(rec)
        s.add(Reader(card_number="2000000001", first_name="Аня", last_name="Петрова"))
    return rec.id


def test_round_trip_cyrillic(db):
    rid = _record(db)
    with db.session() as s:
        rec = s.get(Record, rid)
        assert rec.title == "Война и мир"
        assert rec.authors == ["Толстой, Лев Николаевич"]
        assert rec.copies[0].barcode == "2000000000015"


def test_one_open_loan_per_copy(db):
    _record(db)
    with db.session() as s:
        copy_id = s.scalar(select(Copy.id))
        reader_id = s.scalar(select(Reader.id))
    due = dt.date(2026, 12, 1)
    with db.transaction() as s:
        s.add(Loan(copy_id=copy_id, reader_id=reader_id, due_date=due))
    with pytest.raises(IntegrityError):
        with db.transaction() as s:
            s.add(Loan(copy_id=copy_id, reader_id=reader_id, due_date=due))
    with db.transaction() as s:
        loan = s.scalar(select(Loan))
        loan.returned_at = dt.datetime.now(dt.timezone.utc)
    with db.transaction() as s:
        s.add(Loan(copy_id=copy_id, reader_id=reader_id, due_date=due))
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Loan)) == 2


def test_foreign_keys_enforced(db):
    with pytest.raises(IntegrityError):
        with db.transaction() as s:
            s.add(Copy(record_id=999999, sigla="X"))
            s.flush()


def test_failed_transaction_writes_nothing(db):
    with pytest.raises(RuntimeError):
        with db.transaction() as s:
            s.add(Record(key="k2", title="t"))
            s.flush()
            raise RuntimeError("boom")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Record)) == 0
