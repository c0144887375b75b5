"""The emulator proven against an independent ИРБИС64 client from PyPI: cbsvibpyirbis (MIT, the
maintained fork of amironov73's PythonIrbis, written against the real server, not for this
emulator). If it can register, search, read, write, format, unlock and is refused where the real
server refuses, the emulator speaks the protocol real clients speak.

Known client limits (not emulator faults), so the tests read them explicitly:
- cbsvibpyirbis 0.2.9 marks itself connected even when registration is refused (connect() parses
  an empty INI after -4444/-3333); the refusal is only in ``last_error``.
- its write_record prints «IRBIS RETURN CODE» to stdout and returns 0 on any error.
- read_record(mfn, version) unlocks right after reading, so it cannot hold a lock itself:
  locks are taken by our client or by write_record(lock=True).
"""

from __future__ import annotations

import pytest
from irbis_fixtures import HOST, PASSWORD, USER, catalogue

from ils.irbis import IrbisClient, IrbisRecordLocked
from ils.irbis.emulator import IrbisEmulator, demo_readers, load_records

irbis = pytest.importorskip("cbsvibpyirbis")


def connect(emulator, database: str = "IBIS", user: str = USER, password: str = PASSWORD,
            workstation: str = "C"):
    conn = irbis.Connection(HOST, emulator.port, user, password, database, workstation=workstation)
    conn.connect()
    return conn


def test_connect_max_mfn_search_read_format_disconnect(emulator):
    conn = connect(emulator)
    try:
        assert conn.connected and conn.last_error == 0
        assert conn.server_version.startswith("64.")
        assert conn.get_max_mfn() == 4  # three records: the next MFN is 4
        assert conn.search('"T=ВОЙНА И МИР"') == [1]
        assert conn.search("T=МИР") == [1, 3]
        assert conn.search("A=ПУШКИН") == [2]
        assert conn.search('"IN=2001"') == [2]
        assert conn.search("H=E00401002") == [1]
        assert conn.search("T=МИР * A=ТОЛСТОЙ") == [1]
        assert conn.search("T=МИР ^ A=ТОЛСТОЙ") == [3]
        assert conn.search("T=КАПИТАН$ + T=ВОЙН$") == [1, 2]
        assert conn.search_count("K=МИР") == 2
        record = conn.read_record(2)
        assert record.mfn == 2 and record.version == 1 and not record.is_deleted()
        assert record.fm(200, "a") == "Капитанская дочка"
        assert [f.tag for f in record.fields] == [700, 200, 210, 910]
        brief = conn.format_record("@brief", 2)
        assert brief.startswith("Пушкин А. С. Капитанская дочка") and "2019" in brief
        assert conn.nop()
    finally:
        conn.disconnect()
    assert not conn.connected
    assert emulator.clients == {}


def test_read_records_and_search_format_parse_the_emulators_answers(emulator):
    conn = connect(emulator)
    try:
        # read_records(>1) goes through format_records(ALL): "mfn#<\x1f-joined record lines>"
        records = conn.read_records(1, 3)
        assert [r.mfn for r in records] == [1, 3]
        assert records[1].fm(910, "b") == "3001"
        found = conn.search_format("A=ТОЛСТОЙ", "@brief")
        assert len(found) == 1 and "Война и мир" in found[0]
        readers = conn.search("RI=2000000107")
        assert readers == []  # RI= lives in RDR, not in IBIS
        conn.database = "RDR"
        assert conn.search('"RI=2000000107"') == [2]
        assert conn.read_record(2).fm(10) == "Смирнова"
    finally:
        conn.disconnect()


def test_write_changes_a_field_and_the_version_goes_up(emulator):
    conn = connect(emulator, "RDR", workstation="B")
    try:
        reader = conn.read_record(1)
        assert reader.version == 1
        reader.add(40).add("b", "1001").add("h", "E00401001").add("d", "20261206").add("f", "******")
        new_max = conn.write_record(reader)
        assert new_max == 6 and conn.last_error == 0
        assert reader.version == 2  # write_record parses the record the server sends back
        again = conn.read_record(1)
        assert again.version == 2 and again.fm(40, "f") == "******" and again.fm(40, "b") == "1001"
    finally:
        conn.disconnect()
    stored = emulator.record("RDR", 1)
    assert stored.version == 2 and stored.first(40, "h") == "E00401001"


def test_new_record_gets_the_next_mfn(emulator):
    conn = connect(emulator)
    try:
        record = irbis.Record()
        record.add(200).add("a", "Новая книга")
        record.add(910).add("a", "0").add("b", "9001")
        assert conn.write_record(record) == 5
        assert record.mfn == 4 and record.version == 1
        assert conn.search('"IN=9001"') == [4]
    finally:
        conn.disconnect()


def test_a_record_locked_by_another_client_is_refused(emulator):
    with IrbisClient(HOST, emulator.port, USER, PASSWORD, workstation="B", timeout=5) as ours:
        ours.read_record("IBIS", 3, lock=True)
        conn = connect(emulator)
        try:
            record = conn.read_record(3)  # reading is allowed, the record shows it is locked
            assert record.status & 64
            record.fields[1].subfields[0].value = "Другое заглавие"
            assert conn.write_record(record) == 0 and conn.last_error == -602
            assert emulator.record("IBIS", 3).first(200, "a") == "Мир приключений"
            # the other direction: their lock (write with lock=True) refuses our lock
            record2 = conn.read_record(2)
            assert conn.write_record(record2, lock=True) > 0
            with pytest.raises(IrbisRecordLocked):
                ours.read_record("IBIS", 2, lock=True)
            assert conn.unlock_records([2])
            assert ours.read_record("IBIS", 2, lock=True).mfn == 2
        finally:
            conn.disconnect()


def test_bad_password_and_unknown_user_are_refused(emulator):
    bad = connect(emulator, password="wrong")
    assert bad.last_error == -4444  # the client still says connected (see the module doc)
    unknown = connect(emulator, user="nobody")
    assert unknown.last_error == -3333
    assert emulator.clients == {}


def test_workstation_without_rights_is_refused():
    emu = IrbisEmulator({USER: (PASSWORD, "R")})
    emu.add_database("IBIS", catalogue())
    with emu:
        conn = connect(emu, workstation="B")
        assert conn.last_error == -3338
        reader = connect(emu, workstation="R")
        try:
            assert reader.last_error == 0
            record = reader.read_record(1)
            assert reader.write_record(record) == 0 and reader.last_error == -3336
        finally:
            reader.disconnect()


def test_real_irbis_iso_in_cp1251_and_utf8(shared_testdata, tmp_path):
    """TEST1.ISO (PythonIrbis tests/data/test1.iso, cp1251) and the same records re-encoded in
    UTF-8 by library.marc: the emulator serves both, and the independent client reads the same
    text that library.marc decoded from the file."""
    from library.marc.iso2709 import encode_record
    from library.marc.reader import read_file

    iso = shared_testdata / "marc" / "rusmarc" / "amironov73_ManagedIrbis" / "TEST1.ISO"
    parsed = [p.record for p in read_file(iso)]
    utf8 = tmp_path / "test1-utf8.iso"
    utf8.write_bytes(b"".join(encode_record(r, "utf-8") for r in parsed if r is not None))
    for path in (iso, utf8):
        emu = IrbisEmulator({USER: (PASSWORD, "C")})
        emu.add_database("IBIS", load_records(path))
        emu.add_database("RDR", demo_readers(2))
        with emu:
            conn = connect(emu)
            try:
                assert conn.get_max_mfn() == len(parsed) + 1 == 82
                first = conn.read_record(1)
                title = parsed[0].first("200")
                assert first.fm(200, "a") == title.get("a")
                word = title.get("a").split()[0].strip(".").upper()
                assert 1 in conn.search(f"T={word}$")
                last = conn.read_record(81)
                assert len(last.fields) == len(parsed[80].fields)
            finally:
                conn.disconnect()
