"""A read-only `ibc serve` (server/readonly.py), in-process on both backends and for real on a
PostgreSQL hot standby (issue 21, item 5).

The first half builds the read-only app on the `db` fixture (SQLite and PostgreSQL): reads
answer, every write is 503 ``read_only`` with the primary's URL, nothing is written (terminal
and session ``last_seen`` stay), the database itself refuses writes, a schema behind the code's
head is refused. The second half starts two PostgreSQL clusters on loopback (.ci/pg-replica.sh:
a primary and a `pg_basebackup -R` hot standby), imports a catalogue into the primary with
`ibc import`, serves the primary with `ibc serve` and the standby with `ibc serve --read-only`
and checks searches, the change feed, replay of a new record, refusals and start-up refusals.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text, update

from tests.server.conftest import TODAY, ServerProcess, populate, write_config

ROOT = Path(__file__).resolve().parents[2]
V = "/api/v1"
PRIMARY_URL = "https://primary.example:8470"


# --- in-process, on SQLite and PostgreSQL --------------------------------------------------------
@pytest.fixture
def ro(db, settings):
    """(read-only TestClient, terminal headers, a session token, the writable db): the terminal
    enrolled and the session opened on the writable side, then the same database served
    read-only through a pool of its own."""
    from fastapi.testclient import TestClient

    from library.storage.database import Database
    from library.storage.models import Reader
    from server.app import create_app
    from server.models import Terminal
    from server.security import create_enrol_code, enrol, open_session

    populate(db)
    token = enrol(db, create_enrol_code(db, 5), "kiosk-1")
    with db.session() as s:
        tid = s.scalar(select(Terminal.id).where(Terminal.name == "kiosk-1"))
        reader_id = s.scalar(select(Reader.id).where(Reader.card_number == "CT"))
    session = open_session(db, tid, reader_id)
    settings.server.read_only = True
    settings.server.primary_url = PRIMARY_URL
    ro_db = Database(db.url.render_as_string(hide_password=False))
    app = create_app(settings, ro_db, today=lambda: TODAY)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, {"Authorization": f"Bearer {token}"}, session, db
    ro_db.dispose()


def _refused(r: httpx.Response) -> None:
    assert r.status_code == 503, r.text
    data = r.json()
    assert data["code"] == "read_only"
    assert "только для чтения" in data["message"]
    assert data["primary"] == PRIMARY_URL


def test_a_read_only_server_answers_reads(ro):
    client, auth, session, _db = ro
    hits = client.get(f"{V}/search", params={"q": "война"}, headers=auth).json()["hits"]
    assert [h["title"] for h in hits] == ["Война и мир"]
    record = client.get(f"{V}/records/{hits[0]['id']}", headers=auth)
    assert record.status_code == 200 and len(record.json()["copies"]) == 2
    assert client.get(f"{V}/schools", headers=auth).status_code == 200
    assert client.get(f"{V}/places", headers=auth).status_code == 200
    assert client.get(f"{V}/covers/9785170000000", headers=auth).json()["code"] == "not_found"
    feed = client.get(f"{V}/changes", params={"since": 0}, headers=auth).json()
    assert {r["key"] for r in feed["records"]} == {"war", "kid", "anna"}
    # a teacher's session opened on the primary: teachers-only media found, loans listed
    media = client.get(f"{V}/media", headers={**auth, "X-Reader-Session": session}).json()
    assert "Контрольная: ответы" in {m["title"] for m in media}
    assert client.get(f"{V}/loans", headers={**auth, "X-Reader-Session": session}).json() == []
    health = client.get(f"{V}/health").json()
    assert health["status"] == "ok" and health["read_only"] is True
    assert "replay_lag_s" not in health  # not a standby: no replay


def test_every_write_is_refused_with_the_primary(ro):
    client, auth, session, db = ro
    with_session = {**auth, "X-Reader-Session": session}
    _refused(client.post(f"{V}/checkout", json={"barcode": "1001", "txn_id": "t1"},
                         headers=with_session))
    _refused(client.post(f"{V}/return", json={"barcode": "1001", "txn_id": "t2"}, headers=auth))
    _refused(client.post(f"{V}/renew", json={"barcode": "1001", "txn_id": "t3"}, headers=with_session))
    _refused(client.post(f"{V}/session", json={"card": "C5A"}, headers=auth))
    _refused(client.delete(f"{V}/session", headers=with_session))
    _refused(client.post(f"{V}/holds", json={"record_id": 1, "txn_id": "t4"}, headers=with_session))
    _refused(client.post(f"{V}/terminals/enrol", json={"code": "x", "name": "y"}))
    _refused(client.post(f"{V}/media/play", json={"item_id": 1}, headers=with_session))
    for path in ("/desk", "/desk/login", "/desk/catalogue"):  # desk sessions are rows: refused
        page = client.get(path, follow_redirects=False)
        assert page.status_code == 503 and "text/html" in page.headers["content-type"]
        assert "только для чтения" in page.text and PRIMARY_URL in page.text
    from library.storage.models import Loan

    with db.session() as s:  # nothing reached the database
        assert s.scalar(select(Loan.id)) is None


def test_a_read_only_server_writes_nothing(ro):
    """Terminal credentials and reader sessions are checked without touching last_seen, and
    the read-only server's own connections refuse a write."""
    from library.storage.replication import is_read_only_error
    from server.models import ReaderSession, Terminal

    client, auth, session, db = ro
    old = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    with db.transaction() as s:
        s.execute(update(Terminal).values(last_seen=old))
        s.execute(update(ReaderSession).values(last_seen=dt.datetime.now(dt.timezone.utc)
                                               - dt.timedelta(seconds=30)))
    with db.session() as s:
        seen = s.scalar(select(ReaderSession.last_seen))
    assert client.get(f"{V}/loans", headers={**auth, "X-Reader-Session": session}).status_code == 200
    assert client.get(f"{V}/search", params={"q": "мир"}, headers=auth).status_code == 200
    with db.session() as s:
        assert s.scalar(select(Terminal.last_seen)).replace(tzinfo=dt.timezone.utc) == old
        assert s.scalar(select(ReaderSession.last_seen)) == seen
    st = client.app.state.ibc
    with pytest.raises(Exception) as caught, st.db.transaction() as s:
        s.execute(update(Terminal).values(last_seen=None))
    assert is_read_only_error(caught.value)


def test_an_expired_session_is_refused_and_left_as_it_was(ro):
    from server.models import ReaderSession

    client, auth, session, db = ro
    with db.transaction() as s:
        s.execute(update(ReaderSession).values(last_seen=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)))
    r = client.get(f"{V}/loans", headers={**auth, "X-Reader-Session": session})
    assert r.status_code == 401 and r.json()["code"] == "session_expired"
    with db.session() as s:
        assert s.scalar(select(ReaderSession.ended)) is False  # the primary ends it, not us


def test_a_read_only_server_on_a_schema_behind_is_refused(db, settings):
    from library.storage.migrate import alembic_config, head_revision
    from server.readonly import ReadOnlyRefusal, decide

    settings.server.read_only = True
    assert decide(settings, db) is True
    from alembic import command

    command.stamp(alembic_config(db), "0021_server_state")
    try:
        with pytest.raises(ReadOnlyRefusal, match="0021_server_state"):
            decide(settings, db)
        settings.server.read_only = False
        assert decide(settings, db) is False  # a writable server migrates instead
    finally:
        command.stamp(alembic_config(db), head_revision())


def test_read_only_from_the_environment(monkeypatch):
    from config.settings import load_settings

    st = load_settings(environ={"IBC_SERVER__READ_ONLY": "true",
                                "IBC_SERVER__PRIMARY_URL": PRIMARY_URL})
    assert st.server.read_only is True and st.server.primary_url == PRIMARY_URL
    assert load_settings(environ={}).server.read_only is False


def test_a_terminal_with_a_primary_url_reads_from_the_replica_and_writes_to_the_primary():
    """kiosk/terminal/api.py: with ``write_url`` every write and every request carrying a reader
    session goes to the primary; anonymous reads (search, records, the feed) to the replica."""
    from kiosk.terminal import ApiClient

    seen: list[tuple[str, str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.host, request.url.path.removeprefix(V)))
        if request.url.path == f"{V}/session" and request.method == "POST":
            return httpx.Response(200, json={"session": "s-1"})
        return httpx.Response(200, json={})

    transport = httpx.MockTransport(answer)
    with ApiClient("http://replica", "tok", transport=transport, write_url="http://primary") as c:
        c.search("мир")
        c.record(1)
        c.changes(0)
        c.open_session("C5A")
        c.loans()
        c.search("мир")  # a session search: the primary (the replica may not have the session)
        c.checkout("1001", "t-1")
        c.end_session()
        c.changes(0)
    assert seen == [("GET", "replica", "/search"), ("GET", "replica", "/records/1"),
                    ("GET", "replica", "/changes"), ("POST", "primary", "/session"),
                    ("GET", "primary", "/loans"), ("GET", "replica", "/search"),
                    ("POST", "primary", "/checkout"), ("DELETE", "primary", "/session"),
                    ("GET", "replica", "/changes")]
    seen.clear()
    with ApiClient("http://replica", "tok", transport=transport) as c:  # no primary: one server
        c.open_session("C5A")
        c.checkout("1001", "t-1")
    assert {host for _m, host, _p in seen} == {"replica"}


# --- two PostgreSQL clusters on loopback ---------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def clusters():
    """(primary URL, standby URL) of a primary and its streaming hot standby (.ci/pg-replica.sh);
    ports from PG_REPLICA_PORTS ("5573,5574") or free ones."""
    if not list(Path("/usr/lib/postgresql").glob("*/bin/pg_basebackup")):
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries are missing: CI must run the replication tests")
        pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql)")
    ports = os.environ.get("PG_REPLICA_PORTS", "")
    primary_port, standby_port = (ports.split(",") if ports else (_free_port(), _free_port()))
    workdir = tempfile.mkdtemp(prefix="ibc-replica-")
    script = ROOT / ".ci" / "pg-replica.sh"
    try:
        out = subprocess.run([str(script), "start", workdir, str(primary_port), str(standby_port)],
                             check=True, capture_output=True, text=True, timeout=180).stdout.split()
        yield out[0], out[1]
    finally:
        subprocess.run([str(script), "stop", workdir], capture_output=True, timeout=120)
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_replayed(primary, standby, timeout: float = 30.0) -> None:
    from library.storage.replication import caught_up, current_lsn

    lsn = current_lsn(primary)
    deadline = time.monotonic() + timeout
    while not caught_up(standby, lsn):
        assert time.monotonic() < deadline, f"the standby did not replay {lsn}"
        time.sleep(0.05)


def _ibc(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "IBC_CONFIG"}
    return subprocess.run([sys.executable, "-m", "ibc", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)


def _marc(path: Path, titles: list[str]) -> None:
    """A RUSMARC file of records with these titles (bench/gen_marc.py's records otherwise)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from gen_marc import rusmarc_record

    from library.marc.iso2709 import encode_record
    from library.marc.model import DataField

    rnd = random.Random(len(titles))
    with open(path, "wb") as fh:
        for i, title in enumerate(titles, start=900_000):
            rec = rusmarc_record(i, rnd)
            rec.fields = [DataField("200", "1", " ", [("a", title)]) if getattr(f, "tag", "") == "200"
                          else f for f in rec.fields]
            fh.write(encode_record(rec, "cp1251"))


@pytest.fixture(scope="module")
def pair(clusters, tmp_path_factory):
    """A catalogue imported into the primary, `ibc serve` on the primary and `ibc serve
    --read-only` on the standby (after the standby replayed the import), an enrolled terminal.
    Yields a namespace of both servers, both databases and the terminal's headers."""
    from types import SimpleNamespace

    sys.path.insert(0, str(ROOT / "bench"))
    from gen_marc import generate

    from library.storage.database import Database, open_database
    from server.security import create_enrol_code

    primary_url, standby_url = clusters
    tmp = tmp_path_factory.mktemp("replica")
    generate("rusmarc", 300, str(tmp / "catalogue.iso"), seed=3)
    done = _ibc("--db", primary_url, "import", str(tmp / "catalogue.iso"), "--no-progress")
    assert done.returncode == 0, done.stderr
    primary = open_database(primary_url)
    standby = Database(standby_url)
    code = create_enrol_code(primary, 5)
    procs = []
    try:
        cfg = tmp / "primary.toml"
        write_config(cfg, primary_url, "primary", advertise=False)
        writer = ServerProcess(cfg, tmp)
        procs.append(writer)
        writer.start(60)
        r = httpx.post(f"{writer.url}{V}/terminals/enrol", json={"code": code, "name": "kiosk-1"})
        assert r.status_code == 200, r.text
        auth = {"Authorization": f"Bearer {r.json()['token']}"}
        _wait_replayed(primary, standby)
        cfg = tmp / "standby.toml"
        write_config(cfg, standby_url, "standby", advertise=False, read_only=True,
                     primary_url=writer.url)
        reader = ServerProcess(cfg, tmp)
        procs.append(reader)
        reader.start(60)
        yield SimpleNamespace(primary=primary, standby=standby, writer=writer, reader=reader,
                              auth=auth, tmp=tmp, primary_url=primary_url, standby_url=standby_url)
    finally:
        for proc in procs:
            proc.stop()
        primary.dispose()
        standby.dispose()


def _all_changes(base: str, auth: dict) -> dict:
    """The whole change feed, page after page, as a terminal's replica reads it."""
    records, copies, since, after = [], [], 0, ""
    while True:
        page = httpx.get(f"{base}{V}/changes", params={"since": since, "after": after, "limit": 500},
                         headers=auth, timeout=30).json()
        records += page["records"]
        copies += page["copies"]
        if not page["more"]:
            return {"records": records, "copies": copies, "version": page["version"]}
        since, after = page["next_since"], page["next_after"]


def test_the_standby_serves_the_primarys_catalogue(pair):
    from library.storage.replication import in_recovery

    assert in_recovery(pair.standby) and not in_recovery(pair.primary)
    health = httpx.get(f"{pair.reader.url}{V}/health").json()
    assert health["read_only"] is True and health["replay_lag_s"] >= 0
    assert "read_only" not in httpx.get(f"{pair.writer.url}{V}/health").json()
    with pair.primary.session() as s:
        title = s.execute(text("SELECT title FROM records ORDER BY id LIMIT 1")).scalar()
    word = max(title.split(), key=len)
    on_standby = httpx.get(f"{pair.reader.url}{V}/search", params={"q": word, "limit": 100},
                           headers=pair.auth).json()
    on_primary = httpx.get(f"{pair.writer.url}{V}/search", params={"q": word, "limit": 100},
                           headers=pair.auth).json()
    assert on_standby["total"] > 0 and title in {h["title"] for h in on_standby["hits"]}
    assert [h["id"] for h in on_standby["hits"]] == [h["id"] for h in on_primary["hits"]]
    feed = _all_changes(pair.reader.url, pair.auth)
    assert len({r["id"] for r in feed["records"]}) == 300  # copies bring their records again
    assert feed == _all_changes(pair.writer.url, pair.auth)


def test_a_record_written_on_the_primary_appears_on_the_standby(pair):
    _marc(pair.tmp / "new.iso", ["Квазары над Ладогой"])
    done = _ibc("--db", pair.primary_url, "import", str(pair.tmp / "new.iso"), "--no-progress")
    assert done.returncode == 0, done.stderr
    _wait_replayed(pair.primary, pair.standby)
    hits = httpx.get(f"{pair.reader.url}{V}/search", params={"q": "квазары ладогой"},
                     headers=pair.auth).json()["hits"]
    assert [h["title"] for h in hits] == ["Квазары над Ладогой"]


def test_writes_go_to_the_primary_and_the_standby_refuses_them(pair):
    from sqlalchemy import insert

    from library.storage.models import Copy, Reader

    with pair.primary.transaction() as s:
        s.execute(insert(Reader).values(card_number="R-REPL", first_name="Аня", last_name="Реплина"))
        barcode = s.scalar(select(Copy.barcode).where(Copy.status == "available").order_by(Copy.id))
    _wait_replayed(pair.primary, pair.standby)
    refused = httpx.post(f"{pair.reader.url}{V}/session", json={"card": "R-REPL"}, headers=pair.auth)
    assert refused.status_code == 503 and refused.json()["code"] == "read_only"
    assert refused.json()["primary"] == pair.writer.url
    session = httpx.post(f"{pair.writer.url}{V}/session", json={"card": "R-REPL"}, headers=pair.auth)
    assert session.status_code == 200, session.text
    who = {**pair.auth, "X-Reader-Session": session.json()["session"]}
    refused = httpx.post(f"{pair.reader.url}{V}/checkout", json={"barcode": barcode, "txn_id": "r-1"},
                         headers=who)
    assert refused.status_code == 503 and refused.json()["code"] == "read_only"
    lent = httpx.post(f"{pair.writer.url}{V}/checkout", json={"barcode": barcode, "txn_id": "r-2"},
                      headers=who)
    assert lent.status_code == 200, lent.text
    _wait_replayed(pair.primary, pair.standby)
    # the loan replayed: the reader's loans and the copy's status read on the standby
    loans = httpx.get(f"{pair.reader.url}{V}/loans", headers=who).json()
    assert [loan["barcode"] for loan in loans] == [barcode]


def test_a_terminal_client_lends_through_the_primary_and_searches_the_replica(pair):
    from sqlalchemy import insert

    from kiosk.terminal import ApiClient
    from library.storage.models import Copy, Reader

    with pair.primary.transaction() as s:
        s.execute(insert(Reader).values(card_number="R-TERM", first_name="Ира", last_name="Клиентова"))
        copy = s.scalars(select(Copy).where(Copy.status == "available").order_by(Copy.id.desc())).first()
        barcode, title = copy.barcode, copy.record.title
    _wait_replayed(pair.primary, pair.standby)
    token = pair.auth["Authorization"].removeprefix("Bearer ")
    with ApiClient(pair.reader.url, token, write_url=pair.writer.url) as client:
        found = client.search(max(title.split(), key=len), limit=100)["hits"]
        assert title in {h["title"] for h in found}
        client.open_session("R-TERM")
        assert client.checkout(barcode, "term-1")["barcode"] == barcode
        assert [loan["barcode"] for loan in client.loans()] == [barcode]
        client.end_session()
        _wait_replayed(pair.primary, pair.standby)
        copies = [c for c in client.changes(0, limit=5000)["copies"] if c["barcode"] == barcode]
        assert copies and copies[0]["status"] == "on_loan"


def test_a_standby_is_never_served_writable(pair):
    cfg = pair.tmp / "writable-standby.toml"
    write_config(cfg, pair.standby_url, "wrong", advertise=False)
    done = _ibc("--config", str(cfg), "serve", "--port", "0", timeout=60)
    assert done.returncode == 2
    assert "hot standby" in done.stderr and "--read-only" in done.stderr


def test_a_read_only_server_on_a_schema_behind_is_refused_at_start(pair):
    from alembic import command
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from library.storage.database import open_database
    from library.storage.migrate import alembic_config

    admin = create_engine(pair.primary_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('CREATE DATABASE "behind"'))
    url = make_url(pair.primary_url).set(database="behind").render_as_string(hide_password=False)
    db = open_database(url)
    command.stamp(alembic_config(db), "0021_server_state")
    db.dispose()
    try:
        cfg = pair.tmp / "behind.toml"
        write_config(cfg, url, "behind", advertise=False)
        done = _ibc("--config", str(cfg), "serve", "--read-only", "--port", "0", timeout=60)
        assert done.returncode == 2
        assert "0021_server_state" in done.stderr and "does not migrate" in done.stderr
    finally:
        with admin.connect() as conn:
            conn.execute(text('DROP DATABASE IF EXISTS "behind" WITH (FORCE)'))
        admin.dispose()


def test_read_only_worker_processes_on_the_standby(pair):
    """`ibc serve --workers 2` read-only: every worker decides the same (create_app), none
    migrates or writes; without primary_url the refusal names no primary."""
    cfg = pair.tmp / "standby-workers.toml"
    write_config(cfg, pair.standby_url, "workers", advertise=False, read_only=True, workers=2)
    proc = ServerProcess(cfg, pair.tmp)
    proc.start(90)
    try:
        for _ in range(10):
            r = httpx.get(f"{proc.url}{V}/search", params={"q": "история"}, headers=pair.auth)
            assert r.status_code == 200 and r.json()["total"] > 0
            assert r.headers["x-ibc-worker"]  # answered by a worker process
        refused = httpx.post(f"{proc.url}{V}/return", json={"barcode": "x", "txn_id": "w-1"},
                             headers=pair.auth)
        assert refused.status_code == 503 and refused.json()["code"] == "read_only"
        assert "primary" not in refused.json()
        assert httpx.get(f"{proc.url}{V}/health").json()["read_only"] is True
    finally:
        assert proc.stop() == 0
