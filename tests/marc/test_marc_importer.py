"""The importer on SQLite and PostgreSQL: add, update in place, copies merge, atomic batches."""

from __future__ import annotations

import datetime as dt

import pytest
from marc_fixtures import rusmarc
from sqlalchemy import func, select

from library.marc.importer import import_files
from library.marc.iso2709 import decode_record, encode_record, split_fields
from library.marc.model import DataField
from library.storage.models import Copy, Counter, Event, Loan, Reader, Record


def write(tmp_path, name: str, *records: bytes):
    path = tmp_path / name
    path.write_bytes(b"".join(records))
    return path


def counts(db):
    with db.session() as s:
        return s.scalar(select(func.count(Record.id))), s.scalar(select(func.count(Copy.id)))


def test_add_then_reimport_updates_in_place(db, tmp_path):
    path = write(tmp_path, "a.iso", *(rusmarc(n, copies=2) for n in range(5)))
    first = import_files(db, [path], sigla="SCH", batch_size=2)
    assert (first.read, first.added, first.updated, first.skipped) == (5, 5, 0, 0)
    assert dict(first.encodings) == {"cp1251": 5}
    with db.session() as s:
        before = {r.key: r.id for r in s.execute(select(Record.key, Record.id))}
        copy_ids = sorted(s.scalars(select(Copy.id)))
        v1 = s.scalar(select(func.max(Record.version)))
    assert counts(db) == (5, 10)
    again = import_files(db, [path], sigla="SCH", batch_size=2)
    assert (again.added, again.updated, again.skipped) == (0, 5, 0)
    with db.session() as s:
        assert {r.key: r.id for r in s.execute(select(Record.key, Record.id))} == before
        assert sorted(s.scalars(select(Copy.id))) == copy_ids
        assert s.scalar(select(func.min(Record.version))) > v1
        assert s.scalar(select(Counter.value).where(Counter.name == "catalogue")) == 6
        assert s.scalar(select(func.count(Event.id)).where(Event.kind == "import")) == 2
        copy = s.scalars(select(Copy).order_by(Copy.id)).first()
        assert (copy.sigla, copy.inventory_number, copy.status) == ("SCH", "0-0", "available")
    assert counts(db) == (5, 10)


def test_copies_merge_keeps_ids_deletes_stale_and_respects_loans(db, tmp_path):
    import_files(db, [write(tmp_path, "a.iso", rusmarc(1, copies=3))], sigla="SCH")
    with db.transaction() as s:
        ids = {c.inventory_number: c.id for c in s.scalars(select(Copy))}
        reader = Reader(card_number="R1")
        s.add(reader)
        s.flush()
        s.add(Loan(copy_id=ids["1-2"], reader_id=reader.id, due_date=dt.date(2030, 1, 1)))
        s.get(Copy, ids["1-2"]).status = "on_loan"
    # the new file: copy 1-0 unchanged, 1-1 gone, 1-2 (on loan) says available, 1-9 new
    full = rusmarc(1, copies=1)
    leader, fields = split_fields(full)
    record = decode_record(full, leader, fields, "cp1251")
    record.fields.append(DataField("910", " ", " ", [("a", "0"), ("b", "1-2"), ("h", "200000102")]))
    record.fields.append(DataField("910", " ", " ", [("a", "4"), ("b", "1-9")]))
    report = import_files(db, [write(tmp_path, "b.iso", encode_record(record, "cp1251"))],
                          sigla="SCH")
    assert (report.updated, report.skipped) == (1, 0)
    with db.session() as s:
        now = {c.inventory_number: c for c in s.scalars(select(Copy))}
    assert set(now) == {"1-0", "1-2", "1-9"}
    assert now["1-0"].id == ids["1-0"] and now["1-2"].id == ids["1-2"]
    assert now["1-2"].status == "on_loan"  # an open loan outranks the file
    assert now["1-9"].status == "lost" and now["1-9"].status_code == "4"


def test_union_catalogue_keeps_each_schools_copies(db, tmp_path):
    one = rusmarc(1, copies=1, extra=[])
    import_files(db, [write(tmp_path, "a.iso", one)], sigla="A")
    import_files(db, [write(tmp_path, "b.iso", one)], sigla="B")
    with db.session() as s:
        rows = sorted((c.sigla, c.inventory_number) for c in s.scalars(select(Copy)))
    assert rows == [("A", "1-0"), ("B", "1-0")]
    assert counts(db) == (1, 2)


def test_duplicate_barcode_keeps_the_copy_without_it(db, tmp_path):
    a = rusmarc(1, copies=1)
    b = rusmarc(2, copies=1).replace(b"200000200", b"200000100")  # same barcode as record 1
    report = import_files(db, [write(tmp_path, "a.iso", a, b)], sigla="SCH")
    assert (report.added, report.skipped, report.warning_count) == (2, 0, 1)
    assert "barcode 200000100" in report.warnings[0]["reason"]
    assert report.warnings[0]["record"] == 2
    with db.session() as s:
        rows = sorted((c.inventory_number, c.barcode) for c in s.scalars(select(Copy)))
    assert rows == [("1-0", "200000100"), ("2-0", None)]


def test_on_batch_runs_inside_the_transaction_with_the_batch_ids(db, tmp_path):
    seen = []

    def hook(session, record_ids):
        seen.append(sorted(record_ids))
        assert session.scalar(select(func.count(Record.id)).where(Record.id.in_(record_ids))) \
            == len(record_ids)

    import_files(db, [write(tmp_path, "a.iso", *(rusmarc(n) for n in range(5)))], sigla="S",
                 on_batch=hook, batch_size=2)
    with db.session() as s:
        all_ids = sorted(s.scalars(select(Record.id)))
    assert [len(b) for b in seen] == [2, 2, 1]
    assert sorted(i for b in seen for i in b) == all_ids


def test_a_failing_record_in_the_middle_loses_nothing_else(db, tmp_path):
    bad_title = "Книга номер 3"

    def hook(session, record_ids):
        titles = session.scalars(select(Record.title).where(Record.id.in_(record_ids))).all()
        if bad_title in titles:
            raise ValueError("index refused the record")

    title99 = "Книга номер 99".encode("cp1251")
    unmappable = rusmarc(99).replace(title99, b" " * len(title99))
    # a record whose 200$a is blank → "no title", skipped before the batch is written
    path = write(tmp_path, "a.iso", *(rusmarc(n, copies=2) for n in range(3)), unmappable,
                 *(rusmarc(n, copies=2) for n in range(3, 6)))
    report = import_files(db, [path], sigla="S", on_batch=hook, batch_size=10)
    assert (report.read, report.added, report.skipped) == (7, 5, 2)
    reasons = sorted(e["reason"] for e in report.errors)
    assert "no title" in reasons[1] and "index refused" in reasons[0]
    assert {e["record"] for e in report.errors} == {4, 5}
    assert counts(db) == (5, 10)


def test_a_batch_is_atomic(db, tmp_path):
    def boom(session, record_ids):
        raise ValueError("crash after the rows were written")

    report = import_files(db, [write(tmp_path, "a.iso", *(rusmarc(n, copies=2) for n in range(4)))],
                          sigla="S", on_batch=boom, batch_size=4)
    assert (report.added, report.skipped) == (0, 4)
    assert counts(db) == (0, 0)


def test_same_key_twice_in_one_file(db, tmp_path):
    report = import_files(db, [write(tmp_path, "a.iso", rusmarc(1, title="Первая"),
                                     rusmarc(1, title="Вторая"))], sigla="S")
    assert (report.read, report.added, report.updated) == (2, 1, 1)
    with db.session() as s:
        assert s.scalars(select(Record.title)).all() == ["Вторая"]


def test_unreadable_and_empty_files_are_reported(db, tmp_path):
    (tmp_path / "empty.iso").write_bytes(b"")
    (tmp_path / "junk.txt").write_bytes(b"hello world")
    report = import_files(db, [tmp_path / "missing.iso", tmp_path / "empty.iso",
                               tmp_path / "junk.txt"], sigla="S")
    reasons = [e["reason"] for e in report.errors]
    assert "cannot read" in reasons[0] and "empty" in reasons[1] and "not ISO 2709" in reasons[2]
    assert report.unreadable_files == 3


@pytest.mark.parametrize("batch_size", [1, 3])
def test_progress_is_called(db, tmp_path, batch_size):
    calls = []
    import_files(db, [write(tmp_path, "a.iso", *(rusmarc(n) for n in range(3)))], sigla="S",
                 progress=lambda name, done, total, rep: calls.append((done, total)),
                 batch_size=batch_size)
    assert calls[-1][0] == calls[-1][1] > 0


def test_reader_process_gives_the_same_report(tmp_path):
    from library.storage.database import open_database

    records = [rusmarc(n, copies=2) for n in range(40)]
    records[7] = records[7][:14] + b"f" + records[7][15:]  # a broken base address
    path = write(tmp_path, "a.iso", *records)
    reports = []
    for parallel in (False, True):
        db = open_database(f"sqlite:///{tmp_path / f'{parallel}.sqlite3'}")
        try:
            reports.append(import_files(db, [path], sigla="S", parallel=parallel).as_dict())
            assert counts(db) == (39, 78)
        finally:
            db.dispose()
    assert reports[0] == reports[1] and reports[0]["skipped"] == 1


def test_strided_readers_cover_the_file_once(tmp_path):
    from library.marc.reader import read_file

    records = [rusmarc(n) for n in range(11)]
    records[4] = records[4][:14] + b"f" + records[4][15:]  # broken: still yielded, by its owner
    path = write(tmp_path, "a.iso", *records)
    whole = [(p.ordinal, p.error) for p in read_file(path)]
    parts = [[(p.ordinal, p.error) for p in read_file(path, stride=(k, 3))] for k in range(3)]
    assert sorted(x for part in parts for x in part) == whole
    assert [o for o, _ in parts[1]] == [2, 5, 8, 11]


def test_flat_json_columns_are_what_json_dumps_writes():
    import json

    from library.marc.rows import _json_strs

    for value in ([], ["a"], ["Иванов, И.", 'x"y\\z', "\u2028\t"], ["a", 1]):
        assert _json_strs(value) == json.dumps(value)


def test_import_keeps_synchronous_normal_and_restores_settings(tmp_path):
    from library.storage.database import open_database

    db = open_database(f"sqlite:///{tmp_path / 'p.sqlite3'}")
    try:
        import_files(db, [write(tmp_path, "a.iso", *(rusmarc(n) for n in range(3)))], sigla="S")
        conns = [db.engine.connect() for _ in range(3)]  # the pool hands back the used ones
        try:
            for conn in conns:
                raw = conn.connection.dbapi_connection
                assert raw.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
                assert raw.execute("PRAGMA cache_size").fetchone()[0] == -2000
                assert raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
        finally:
            for conn in conns:
                conn.close()
    finally:
        db.dispose()
