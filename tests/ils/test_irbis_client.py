"""Our client (ils.irbis.IrbisClient) against the emulator: every command, every error class,
re-registration, thread safety, the SQLite store across a restart, and a transport that never
hangs and never reads without bound."""

from __future__ import annotations

import itertools
import socket
import threading
import time

import pytest
from irbis_fixtures import HOST, PASSWORD, USER, catalogue, free_port, make_emulator

from ils.irbis import (
    IrbisAuthError,
    IrbisClient,
    IrbisClientIdTaken,
    IrbisDatabaseUnknown,
    IrbisNoRights,
    IrbisNotConnected,
    IrbisProtocolError,
    IrbisRecord,
    IrbisRecordDeleted,
    IrbisRecordLocked,
    IrbisRecordNotFound,
    IrbisServerError,
    IrbisUnavailable,
    IrbisVersionConflict,
    from_marc,
    to_marc,
)
from ils.irbis.emulator import IrbisEmulator
from ils.irbis.errors import translator
from ils.irbis.record import PHYSICALLY_DELETED


def test_every_command(client, emulator):
    assert client.connected and client.interval == 5 and client.server_version.startswith("64.")
    assert client.max_mfn("IBIS") == 4 and client.max_mfn("RDR") == 6
    assert client.search("IBIS", "T=МИР") == [1, 3]
    assert client.search("IBIS", "T=МИР", limit=1) == [1]
    assert client.search("IBIS", "T=НЕТ-ТАКОГО") == []
    assert client.search("RDR", '"RI=2000000110"') == [3]
    book = client.read_record("IBIS", 1)
    assert (book.mfn, book.version, book.database) == (1, 1, "IBIS")
    assert book.first(200, "a") == "Война и мир"
    assert [f.get("b") for f in book.fields_of(910)] == ["1001", "1002"]
    book.fields_of(910)[0].set("a", "1")
    saved = client.write_record("IBIS", book)
    assert (saved.mfn, saved.version) == (1, 2) and saved.fields_of(910)[0].get("a") == "1"
    assert emulator.record("IBIS", 1).fields_of(910)[0].get("a") == "1"
    assert client.format("IBIS", 2, "@brief").startswith("Пушкин А. С. Капитанская дочка")
    assert client.format("IBIS", 2, "@all").splitlines()[1] == "#200: ^aКапитанская дочка^fПушкин А. С."
    assert client.format("RDR", 1) == "Иванов Артём Сергеевич, билет 2000000101"
    client.nop()
    client.unlock("IBIS", [1, 2])
    client.disconnect()
    assert emulator.clients == {}
    with pytest.raises(IrbisNotConnected):
        client.max_mfn("IBIS")


def test_lock_write_keeps_or_releases_it(emulator):
    with IrbisClient(HOST, emulator.port, USER, PASSWORD, "B", 5) as a, \
            IrbisClient(HOST, emulator.port, USER, PASSWORD, "B", 5) as b:
        reader = a.read_record("RDR", 1, lock=True)
        assert reader.locked
        with pytest.raises(IrbisRecordLocked) as refused:
            b.read_record("RDR", 1, lock=True)
        assert refused.value.server_code == -602
        assert refused.value.message(translator("ru")) == \
            "Запись 1 в базе RDR заблокирована другим пользователем ИРБИС"
        assert b.read_record("RDR", 1).locked  # reading without a lock is allowed
        reader.add_field(40, subfields=[("b", "1001"), ("f", "******")])
        with pytest.raises(IrbisRecordLocked):
            b.write_record("RDR", reader)
        kept = a.write_record("RDR", reader, lock=True)
        assert kept.version == 2 and kept.locked
        with pytest.raises(IrbisRecordLocked):
            b.read_record("RDR", 1, lock=True)
        a.unlock("RDR", [1])
        mine = b.read_record("RDR", 1, lock=True)
        assert mine.first(40, "f") == "******"
        assert not b.write_record("RDR", mine).locked  # written without lock: released
        assert a.read_record("RDR", 1, lock=True).version == 3


def test_stale_version_is_refused(client):
    old = client.read_record("IBIS", 2)
    client.write_record("IBIS", old.copy())
    with pytest.raises(IrbisVersionConflict):
        client.write_record("IBIS", old)


def test_new_record_and_logical_delete(client):
    rec = IrbisRecord()
    rec.add_field(200, subfields=[("a", "Новая")])
    saved = client.write_record("IBIS", rec)
    assert (saved.mfn, saved.version) == (4, 1) and client.max_mfn("IBIS") == 5
    assert client.search("IBIS", "T=НОВАЯ") == [4]
    saved.status |= 1
    client.write_record("IBIS", saved)
    deleted = client.read_record("IBIS", 4)
    assert deleted.deleted and deleted.version == 2
    assert client.search("IBIS", "T=НОВАЯ") == []


def test_not_actualized_record_is_not_found_by_search(client):
    rec = client.read_record("IBIS", 2)
    rec.set_subfield(200, "a", "Дубровский")
    saved = client.write_record("IBIS", rec, actualize=False)
    assert saved.status & 8  # NON_ACTUALIZED
    assert client.search("IBIS", "T=ДУБРОВСКИЙ") == []


@pytest.mark.parametrize(("database", "mfn", "error", "code"), [
    ("NOSUCH", 1, IrbisDatabaseUnknown, -400),
    ("IBIS", 99, IrbisRecordNotFound, -140),
    ("IBIS", 0, IrbisRecordNotFound, -140),
])
def test_read_errors(client, database, mfn, error, code):
    with pytest.raises(error) as exc:
        client.read_record(database, mfn)
    assert exc.value.server_code == code


def test_physically_absent_record(emulator, client):
    emulator.add_database("HOLES", [IrbisRecord(1, 0, PHYSICALLY_DELETED), IrbisRecord(2, 1)])
    with pytest.raises(IrbisRecordDeleted):
        client.read_record("HOLES", 1)
    assert client.read_record("HOLES", 2).mfn == 2


def test_unsupported_formats_are_server_errors(client):
    with pytest.raises(IrbisServerError) as exc:
        client.format("IBIS", 1, "@no_such_pft")
    assert exc.value.server_code == -5555
    with pytest.raises(IrbisServerError) as exc:
        client.format("IBIS", 1, "v200^a")
    assert exc.value.server_code == -8888


def test_bad_search_expression_is_refused(client):
    with pytest.raises(IrbisServerError):
        client.search("IBIS", "(T=МИР")


def test_wrong_password_unknown_user_and_rights(emulator):
    with pytest.raises(IrbisAuthError) as exc:
        IrbisClient(HOST, emulator.port, USER, "wrong", timeout=5).connect()
    assert exc.value.server_code == -4444
    assert "неверное имя или пароль" in exc.value.message(translator("ru"))
    with pytest.raises(IrbisAuthError):
        IrbisClient(HOST, emulator.port, "nobody", PASSWORD, timeout=5).connect()
    with pytest.raises(IrbisNoRights) as exc:
        IrbisClient(HOST, emulator.port, USER, PASSWORD, workstation="K", timeout=5).connect()
    assert exc.value.server_code == -3338
    with IrbisClient(HOST, emulator.port, USER, PASSWORD, workstation="R", timeout=5) as reader:
        rec = reader.read_record("RDR", 1)
        with pytest.raises(IrbisNoRights) as exc:
            reader.write_record("RDR", rec)
        assert exc.value.server_code == -3336
    with pytest.raises(ValueError):
        IrbisClient(HOST, 1, USER, PASSWORD, workstation="Z")


def test_client_id_taken_retries_with_another(emulator):
    with IrbisClient(HOST, emulator.port, USER, PASSWORD, timeout=5,
                     client_ids=itertools.repeat(111111).__next__) as first:
        ids = iter([111111, 111111, 222222])
        second = IrbisClient(HOST, emulator.port, USER, PASSWORD, timeout=5, client_ids=ids.__next__)
        second.connect()
        assert second.client_id == 222222 and first.client_id == 111111
        second.disconnect()
        stuck = IrbisClient(HOST, emulator.port, USER, PASSWORD, timeout=5, register_tries=3,
                            client_ids=itertools.repeat(111111).__next__)
        with pytest.raises(IrbisClientIdTaken):
            stuck.connect()
        assert emulator.requests.count("A") == 1 + 3 + 3


def test_registers_again_when_the_server_forgot_the_client(client, emulator):
    emulator.clients.clear()  # what a restarted server knows
    assert client.max_mfn("IBIS") == 4
    assert len(emulator.clients) == 1 and list(emulator.requests)[-3:] == ["O", "A", "O"]


def test_one_client_shared_by_threads(client, emulator):
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(15):
                assert client.search("IBIS", "A=ТОЛСТОЙ") == [1]
                assert client.read_record("RDR", 2).first(30) == "2000000107"
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert client.query_id == 1 + 6 * 15 * 2  # one per request, none lost or repeated


def test_sqlite_store_survives_a_restart(tmp_path):
    store = tmp_path / "irbis.sqlite"
    emu = IrbisEmulator({USER: (PASSWORD, "B")}, store=store)
    emu.add_database("RDR", [IrbisRecord(1, 1, 0)])
    emu.start()
    with IrbisClient(HOST, emu.port, USER, PASSWORD, "B", 5) as c:
        rec = c.read_record("RDR", 1, lock=True)
        rec.add_field(40, subfields=[("b", "1001"), ("f", "******")])
        c.write_record("RDR", rec, lock=True)
    emu.stop()
    again = IrbisEmulator({USER: (PASSWORD, "B")}, store=store)
    again.add_database("RDR", [IrbisRecord(1, 1, 0)])  # the store wins over the file's records
    with again, IrbisClient(HOST, again.port, USER, PASSWORD, "B", 5) as c:
        rec = c.read_record("RDR", 1)
        assert rec.version == 2 and rec.first(40, "b") == "1001" and rec.locked
        with pytest.raises(IrbisRecordLocked):
            c.read_record("RDR", 1, lock=True)


def test_marc_conversion_feeds_library_mapping():
    from library.marc.mapping import to_record_data
    from library.marc.model import Parsed

    rec = catalogue()[0]
    marc = to_marc(rec)
    assert marc.first("200").get("a") == "Война и мир"
    assert [f.get("b") for f in marc.get_fields("910")] == ["1001", "1002"]
    data = to_record_data(Parsed(1, None, marc), "irbis")
    assert data.title == "Война и мир"
    back = from_marc(marc, 1)
    assert [f.tag for f in back.fields] == [f.tag for f in rec.fields]
    assert back.first(910, "h") == "E00401001"


# ------------------------------------------------------------------------------ transport


def test_connection_refused_is_unavailable():
    client = IrbisClient(HOST, free_port(), USER, PASSWORD, timeout=2)
    with pytest.raises(IrbisUnavailable) as exc:
        client.connect()
    assert "не отвечает" in exc.value.message(translator("ru"))


def _server(behaviour) -> tuple[socket.socket, threading.Thread, threading.Event]:
    srv = socket.socket()
    srv.bind((HOST, 0))
    srv.listen()
    stop = threading.Event()

    def run() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            with conn:
                behaviour(conn, stop)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return srv, thread, stop


def _close(srv: socket.socket, thread: threading.Thread, stop: threading.Event) -> None:
    stop.set()
    thread.join(5)
    srv.close()


def test_silent_server_times_out():
    def silent(conn, stop):
        stop.wait(5)

    srv, thread, stop = _server(silent)
    try:
        started = time.monotonic()
        with pytest.raises(IrbisUnavailable, match="no answer in time"):
            IrbisClient(HOST, srv.getsockname()[1], USER, PASSWORD, timeout=0.5).connect()
        assert time.monotonic() - started < 3
    finally:
        _close(srv, thread, stop)


def test_endless_answer_is_cut_at_the_cap():
    def endless(conn, stop):
        try:
            while not stop.is_set():
                conn.sendall(b"x" * 65536)
        except OSError:
            pass

    srv, thread, stop = _server(endless)
    try:
        client = IrbisClient(HOST, srv.getsockname()[1], USER, PASSWORD, timeout=10)
        client.transport.max_answer = 1 << 20
        with pytest.raises(IrbisProtocolError, match="longer than"):
            client.connect()
    finally:
        _close(srv, thread, stop)


def test_garbage_answer_is_a_protocol_error():
    def garbage(conn, stop):
        conn.recv(4096)
        conn.sendall(b"\x00\xff HTTP/1.1 400 Bad Request\r\n\r\n")

    srv, thread, stop = _server(garbage)
    try:
        with pytest.raises(IrbisProtocolError):
            IrbisClient(HOST, srv.getsockname()[1], USER, PASSWORD, timeout=3).connect()
    finally:
        _close(srv, thread, stop)


@pytest.mark.parametrize("junk", [b"GET / HTTP/1.0\r\n\r\n", b"99999999\n", b"5\nA\nC\n", b""])
def test_emulator_drops_junk_and_keeps_serving(emulator, junk):
    with socket.create_connection((HOST, emulator.port), timeout=3) as s:
        s.sendall(junk)
        s.shutdown(socket.SHUT_WR)
        assert s.recv(100) == b""  # closed without an answer
    with IrbisClient(HOST, emulator.port, USER, PASSWORD, timeout=5) as c:
        assert c.max_mfn("IBIS") == 4


def test_emulator_answers_unknown_command_with_protocol_error(client):
    from ils.irbis import wire

    request = wire.encode_request("Z", "C", client.client_id, 99, PASSWORD, USER, [b"IBIS"])
    answer = wire.decode_answer(client.transport.exchange(request), "Z")
    assert answer.return_code() == -2222


def test_make_emulator_helper_is_independent():
    a, b = make_emulator(), make_emulator()
    a.databases["IBIS"].slots[1].record.fields.clear()
    assert b.record("IBIS", 1).fields


def test_idle_client_is_forgotten_and_registers_again():
    emu = make_emulator(client_ttl=0.2)
    with emu, IrbisClient(HOST, emu.port, USER, PASSWORD, timeout=5) as c:
        first_id = c.client_id
        time.sleep(0.3)
        assert c.max_mfn("IBIS") == 4  # -3334, then A again and O repeated
        assert list(emu.requests)[-3:] == ["O", "A", "O"]
        assert list(emu.clients) == [c.client_id]
        assert first_id not in emu.clients or c.client_id == first_id


def test_client_limit_is_server_overloaded():
    emu = make_emulator(max_clients=2)
    with emu, IrbisClient(HOST, emu.port, USER, PASSWORD, timeout=5), \
            IrbisClient(HOST, emu.port, USER, PASSWORD, timeout=5):
        with pytest.raises(IrbisServerError) as exc:
            IrbisClient(HOST, emu.port, USER, PASSWORD, timeout=5).connect()
        assert exc.value.server_code == -6666


def test_format_count_larger_than_the_request_is_bounded(client):
    from ils.irbis import wire

    request = wire.encode_request("G", "C", client.client_id, 500, PASSWORD, USER,
                                  [b"IBIS", b"@brief", b"999999999", b"1", b"2"])
    answer = wire.decode_answer(client.transport.exchange(request), "G")
    assert answer.return_code() == 0
    lines = answer.rest_lines()
    assert len(lines) == 2 and lines[0].startswith("1#Толстой Л. Н. Война и мир")


def test_read_records_in_batches(client):
    client.write_record("IBIS", client.read_record("IBIS", 2))  # version 2
    records = client.read_records("IBIS", [3, 1, 2, 99], batch=2)
    assert [(r.mfn, r.version) for r in records] == [(3, 1), (1, 1), (2, 2)]
    assert records[1].fields == client.read_record("IBIS", 1).fields
    assert client.read_records("IBIS", []) == []


def test_search_expression_grammar():
    from ils.irbis.emulator import Database, SearchSyntaxError, _Slot, evaluate

    db = Database("IBIS")
    for rec in catalogue():
        db.put(_Slot(rec))
    d = db.dictionary
    assert evaluate("", d) == set()
    assert evaluate('"T=ВОЙНА И МИР"', d) == {1}
    assert evaluate("t=мир", d) == {1, 3}  # terms are upper-cased as the dictionary is
    assert evaluate("(T=МИР + A=ПУШКИН) ^ A=ИВАНОВ", d) == {1, 2}
    assert evaluate("T=МИР + A=ПУШКИН * A=ИВАНОВ", d) == {1, 3}  # * binds tighter than +
    assert evaluate("IN=100$", d) == {1}
    for bad in ("(T=МИР", "T=МИР)", "+ T=МИР", "T=МИР *", '"unclosed', "(" * 40 + "T=МИР" + ")" * 40):
        with pytest.raises(SearchSyntaxError):
            evaluate(bad, d)


def test_deeply_nested_search_gets_an_answer(client):
    with pytest.raises(IrbisServerError) as exc:
        client.search("IBIS", "(" * 5000 + "T=МИР" + ")" * 5000)
    assert exc.value.server_code == -8888
    assert client.search("IBIS", "T=МИР") == [1, 3]


def test_emulator_drops_a_trickling_client():
    emu = make_emulator(request_timeout=0.5)
    with emu, socket.create_connection((HOST, emu.port), timeout=5) as s:
        started = time.monotonic()
        s.sendall(b"100\n")
        closed = False
        while time.monotonic() - started < 3:
            try:
                s.sendall(b"A")
            except OSError:
                closed = True
                break
            s.settimeout(0.2)
            try:
                if s.recv(10) == b"":
                    closed = True
                    break
            except TimeoutError:
                pass
        assert closed and time.monotonic() - started < 2
