"""State shared by several `ibc serve` worker processes lives in the database (issue 21, item 4).

The rules under parallel threads on SQLite and PostgreSQL (each thread its own transaction, as
each worker process would be): a lease has one holder; the media station has one controlling
teacher; a terminal keeps one live reader session; a desk job or import of a live sibling process
is not taken for interrupted, one of a dead process is; two starts of the same class issue give
one job. Then a real `ibc serve --workers 2` answered by both processes: wrong PINs spread over
the workers lock the card at the limit, parallel session opens on one terminal leave one live.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import threading
import time

import httpx
import pytest
from sqlalchemy import select, update

from library import leases
from library.storage.leases import Lease
from library.storage.models import Reader, utcnow

V = "/api/v1"


def _parallel(n: int, fn):
    """fn(i) on n threads released at the same moment; their results in order."""
    gate = threading.Barrier(n)

    def run(i):
        gate.wait(10)
        return fn(i)

    with cf.ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


# --- leases ----------------------------------------------------------------------------------
def test_a_lease_has_one_holder_under_parallel_takes(db):
    def take(i):
        with db.transaction() as s:
            return leases.take(s, "station:test", f"teacher-{i}", 60)

    got = _parallel(12, take)
    owners = [g for g in got if g.ours]
    assert len(owners) == 1
    winner = owners[0].holder
    assert all(g.holder == winner and not g.ours for g in got if not g.ours)
    with db.session() as s:
        assert s.scalar(select(Lease.holder).where(Lease.name == "station:test")) == winner

    # The holder renews; another is refused until it runs out, then takes over.
    with db.transaction() as s:
        first = s.scalar(select(Lease.taken_at).where(Lease.name == "station:test"))
        assert leases.take(s, "station:test", winner, 60).ours
        assert s.scalar(select(Lease.taken_at).where(Lease.name == "station:test")) == first
    later = utcnow() + dt.timedelta(seconds=61)
    with db.transaction() as s:
        refused = leases.take(s, "station:test", "teacher-x", 60)
        assert not refused.ours and refused.holder == winner and 1 <= refused.seconds_left() <= 60
        assert leases.take(s, "station:test", "teacher-x", 60, now=later).ours
    # release: only by the holder; then anyone at once.
    with db.transaction() as s:
        assert not leases.release(s, "station:test", winner, now=later)
        assert leases.release(s, "station:test", "teacher-x", now=later)
        assert leases.current(s, "station:test", now=later) is None
        assert leases.take(s, "station:test", winner, 60, now=later).ours


def _take_in_process(url: str, holder: str, start, out) -> None:
    """A separate process: open the database, wait for the others, take the station lease."""
    from library.storage.database import open_database

    db = open_database(url)
    try:
        start.wait(60)
        with db.transaction() as s:
            got = leases.take(s, "station:server", holder, 60)
        out.put((holder, got.ours, got.holder))
    finally:
        db.dispose()


def test_a_lease_has_one_holder_across_processes(db_url):
    """Four real processes (as four workers) take the media station's lease at one moment."""
    import multiprocessing

    from library.storage.database import open_database

    open_database(db_url).dispose()  # migrated before the processes start
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_take_in_process, args=(db_url, f"reader-{i}", start, out))
             for i in range(4)]
    for p in procs:
        p.start()
    time.sleep(0.5)
    start.set()
    got = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    winners = [h for h, ours, _ in got if ours]
    assert len(winners) == 1
    assert {seen for _, _, seen in got} == {winners[0]}


def test_a_check_then_insert_under_the_lease_lock_is_one_step(db):
    """hold_lock serialises: 8 parallel "insert unless present" leave one row."""
    from library.storage.models import Counter

    def once(_i):
        with db.transaction() as s:
            leases.hold_lock(s, "lock:test")
            if s.get(Counter, "k-once") is None:
                time.sleep(0.05)  # the window a second process would slip into
                s.add(Counter(name="k-once", value=1))
                return True
            return False

    assert sorted(_parallel(8, once)) == [False] * 7 + [True]


# --- the media station: one controlling teacher ----------------------------------------------
class FakeStation:
    """Just what RemoteStation and the API call; records the commands in order."""

    def __init__(self, *_a, **_kw):
        self.projector, self.terminal, self.calls, self.state = None, None, [], "idle"
        self.teacher = None

    def play_items(self, ids, *, role, teacher, projector, resume):
        self.calls.append(("play", teacher))
        self.state, self.teacher = "playing", teacher

    def pause(self):
        self.calls.append(("pause", None))
        self.state = "paused"

    def stop(self):
        self.calls.append(("stop", None))
        self.state = "idle"

    def status(self):
        return {"state": self.state, "media_id": None, "title": None, "index": -1, "count": 0,
                "position_s": 0.0, "length_s": None, "volume": 100, "teacher": self.teacher}

    def close(self):
        pass


@pytest.fixture
def station_api(db, settings):
    from fastapi.testclient import TestClient

    from server.app import create_app
    from server.media_remote import RemoteStation
    from server.security import create_enrol_code
    from tests.server.conftest import TODAY, populate

    populate(db)
    with db.transaction() as s:
        s.add(Reader(card_number="CT2", first_name="Ольга", last_name="Смирнова", category="teacher"))
    settings.media.station = "headless"
    app = create_app(settings, db, today=lambda: TODAY)
    app.state.media_remote = RemoteStation(settings, db, factory=FakeStation)
    with TestClient(app, raise_server_exceptions=False) as client:
        heads = []
        for name, card in (("t1", "CT"), ("t2", "CT2")):
            r = client.post(f"{V}/terminals/enrol", json={"code": create_enrol_code(db, 5), "name": name})
            h = {"Authorization": f"Bearer {r.json()['token']}"}
            sid = client.post(f"{V}/session", json={"card": card}, headers=h).json()["session"]
            heads.append({**h, "X-Reader-Session": sid})
        yield client, heads, app.state.media_remote


def test_two_teachers_taking_the_station_at_once_get_one_owner(station_api):
    client, heads, remote = station_api
    item = 1
    answers = _parallel(2, lambda i: client.post(f"{V}/media/play", json={"item_id": item},
                                                 headers=heads[i]))
    codes = sorted(r.status_code for r in answers)
    assert codes == [200, 409], [r.text for r in answers]
    loser = next(i for i, r in enumerate(answers) if r.status_code == 409)
    winner = 1 - loser
    assert answers[loser].json()["code"] == "station_busy"
    assert "учитель" in answers[loser].json()["message"]
    assert [c[0] for c in remote.get().calls] == ["play"]  # the refused command never ran
    # The station's state says so to each of them.
    assert answers[winner].json()["control_free_in_s"] is None
    busy = client.get(f"{V}/media/station", headers=heads[loser]).json()["control_free_in_s"]
    assert 1 <= busy <= 120
    assert client.get(f"{V}/media/station", headers=heads[winner]).json()["control_free_in_s"] is None
    # The other teacher's pause is refused too; the owner's goes through.
    assert client.post(f"{V}/media/pause", headers=heads[loser]).json()["code"] == "station_busy"
    assert client.post(f"{V}/media/pause", headers=heads[winner]).status_code == 200
    # Stop ends the owner's control: the other teacher takes the station at once.
    assert client.post(f"{V}/media/stop", headers=heads[winner]).status_code == 200
    assert client.get(f"{V}/media/station", headers=heads[loser]).json()["control_free_in_s"] is None
    assert client.post(f"{V}/media/play", json={"item_id": item}, headers=heads[loser]).status_code == 200
    assert [c[0] for c in remote.get().calls] == ["play", "pause", "stop", "play"]


def test_no_lease_when_control_lease_s_is_zero(station_api):
    client, heads, remote = station_api
    remote.settings.media.control_lease_s = 0
    assert client.post(f"{V}/media/play", json={"item_id": 1}, headers=heads[0]).status_code == 200
    assert client.post(f"{V}/media/pause", headers=heads[1]).status_code == 200


# --- one reader session per terminal ---------------------------------------------------------
def test_parallel_session_opens_on_one_terminal_leave_one_live(db):
    from server.models import ReaderSession, Terminal
    from server.security import open_session
    from tests.server.conftest import populate

    populate(db)
    with db.transaction() as s:
        term = Terminal(name="k1", role="terminal", token_hash="x" * 64)
        s.add(term)
        s.flush()
        tid = term.id
        rids = list(s.scalars(select(Reader.id).where(Reader.blocked.is_(False))))
    _parallel(8, lambda i: open_session(db, tid, rids[i % len(rids)]))
    with db.session() as s:
        live = s.scalars(select(ReaderSession).where(ReaderSession.terminal_id == tid,
                                                     ReaderSession.ended.is_(False))).all()
        assert len(live) == 1


# --- desk jobs and imports: a live sibling's rows stay running ------------------------------
def _rows(db, boot):
    from server.models import DeskImport, DeskJob

    with db.transaction() as s:
        job = DeskJob(kind="class_issue", target="2026:7А", started_by="marina", state="running",
                      boot=boot, progress=0, report={})
        imp = DeskImport(file_name="a.iso", actor="marina", container="iso2709", state="running",
                         boot=boot, bytes_total=10, bytes_done=0, records_total=1, records_done=0,
                         added=0, updated=0, failed=0, errors=[], warnings=[])
        s.add_all([job, imp])
        s.flush()
        return job.id, imp.id


def _states(db, job_id, imp_id):
    from server.models import DeskImport, DeskJob

    with db.session() as s:
        return s.get(DeskJob, job_id).state, s.get(DeskImport, imp_id).state


def test_rows_of_a_live_sibling_process_are_not_interrupted(db):
    from server import boots
    from server.desk import imports, jobs

    job_id, imp_id = _rows(db, "sibling0")
    with db.transaction() as s:  # the sibling worker's heartbeat
        leases.take(s, boots.lease_name("sibling0"), "host:2", boots.STALE_S)
    assert jobs.mark_interrupted(db) == 0 and imports.mark_interrupted(db) == 0
    assert _states(db, job_id, imp_id) == ("running", "running")
    # Its overlapping class issue is not started twice from this process.
    assert jobs.start(db, "class_issue", "2026:7А,7Б", "olga", lambda p: {}) == (job_id, False)

    # The sibling dies: its heartbeat runs out, and its rows are interrupted.
    with db.transaction() as s:
        s.execute(update(Lease).where(Lease.name == boots.lease_name("sibling0"))
                  .values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    assert jobs.mark_interrupted(db) == 1 and imports.mark_interrupted(db) == 1
    assert _states(db, job_id, imp_id) == ("interrupted", "interrupted")
    # A row of a process that never had a heartbeat (an older server) is interrupted as before.
    job2, imp2 = _rows(db, "oldserver")
    assert jobs.mark_interrupted(db) == 1 and imports.mark_interrupted(db) == 1
    assert _states(db, job2, imp2) == ("interrupted", "interrupted")


def test_parallel_starts_of_one_class_issue_give_one_job(db, monkeypatch):
    import contextlib

    from server import boots
    from server.desk import jobs

    # Each thread stands for a worker process: without the process's own lock only the
    # database (the lease lock) keeps two starts of one class apart.
    monkeypatch.setattr(jobs, "_lock", contextlib.nullcontext())
    release = threading.Event()

    def work(progress):
        release.wait(10)
        return {"ok": True}

    got = _parallel(6, lambda i: jobs.start(db, "class_issue", "2026:5А", f"lib{i}", work))
    try:
        assert sorted(started for _id, started in got) == [False] * 5 + [True]
        assert len({job_id for job_id, _started in got}) == 1
        with db.session() as s:  # the starting process's heartbeat committed with the row
            assert leases.current(s, boots.lease_name()) is not None
    finally:
        release.set()
        for job_id, _ in got:
            assert jobs.wait(job_id, 10)


def test_the_heartbeat_renews_while_jobs_run_and_stops_after(db, monkeypatch):
    from server import boots

    monkeypatch.setattr(boots, "BEAT_S", 0.05)
    busy = threading.Event()
    busy.set()
    with db.transaction() as s:
        boots.beat(s)
        first = s.scalar(select(Lease.expires_at).where(Lease.name == boots.lease_name()))
    boots.keep_alive(db, busy.is_set)
    thread = boots._beats[str(db.engine.url)][0]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with db.session() as s:
            now = s.scalar(select(Lease.expires_at).where(Lease.name == boots.lease_name()))
        if now > first:
            break
        time.sleep(0.05)
    assert now > first
    busy.clear()
    thread.join(10)
    assert not thread.is_alive()
    assert str(db.engine.url) not in boots._beats


# --- `ibc serve --workers N` -------------------------------------------------------------------
def test_workers_refused_where_they_cannot_share(tmp_path, capsys):
    from ibc.cli import main
    from tests.server.conftest import write_config

    cfg = tmp_path / "w.toml"
    write_config(cfg, "sqlite:///:memory:", "w", advertise=False)
    assert main(["--config", str(cfg), "serve", "--workers", "2", "--port", "0"]) == 2
    assert "SQLite" in capsys.readouterr().err
    write_config(cfg, f"sqlite:///{tmp_path / 'w.sqlite3'}", "w", advertise=False, workers=2)
    cfg.write_text(cfg.read_text(encoding="utf-8") + '\n[media]\nstation = "headless"\n',
                   encoding="utf-8")
    assert main(["--config", str(cfg), "serve", "--port", "0"]) == 2
    assert "[media] station" in capsys.readouterr().err


def test_two_worker_processes_share_the_guess_limit_and_sessions(serve, db_url):
    """A real `ibc serve` with [server] workers = 2 (SQLite file in WAL mode, PostgreSQL)."""
    from library.storage.database import open_database
    from server.models import ReaderSession
    from server.security import create_enrol_code
    from tests.server.conftest import populate

    db = open_database(db_url)
    populate(db)
    codes = [create_enrol_code(db, 5) for _ in range(2)]
    proc = serve(db_url, "workers", advertise=False, workers=2, pin_failures_per_minute=100)
    try:
        with httpx.Client(timeout=60) as client:
            tokens = [client.post(f"{proc.url}{V}/terminals/enrol",
                                  json={"code": c, "name": f"k{i}"}).json()["token"]
                      for i, c in enumerate(codes)]
            auth = [{"Authorization": f"Bearer {t}"} for t in tokens]
            # 24 wrong PINs at once from two terminals, over both workers: 5 evaluated.
            answers = _parallel(24, lambda i: httpx.post(
                f"{proc.url}{V}/session", json={"card": "CPIN", "pin": f"{9000 + i}"},
                headers=auth[i % 2], timeout=60))
            got = [r.json()["code"] for r in answers]
            assert got.count("wrong_pin") == 5 and got.count("card_locked") == 19, got
            workers = {r.headers.get("x-ibc-worker") for r in answers}
            assert len(workers) == 2 and None not in workers, workers
            right = client.post(f"{proc.url}{V}/session", json={"card": "CPIN", "pin": "4321"},
                                headers=auth[1])
            assert right.status_code == 429 and right.json()["code"] == "card_locked"
            # 10 session opens at once on one terminal, over both workers: one stays live.
            opens = _parallel(10, lambda i: httpx.post(
                f"{proc.url}{V}/session", json={"card": ["C5A", "C1B", "CT"][i % 3]},
                headers=auth[0], timeout=60))
            assert [r.status_code for r in opens] == [200] * 10
        with db.session() as s:
            live = s.scalars(select(ReaderSession).where(ReaderSession.ended.is_(False))).all()
            assert len(live) == 1
    finally:
        code = proc.stop()
        db.dispose()
    assert code == 0


def _children(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (from /proc)."""
    import os

    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _workers(pid: int) -> list[int]:
    """The spawned worker processes of `ibc serve` `pid` (not multiprocessing's helpers)."""
    out = []
    for child in _children(pid):
        try:
            with open(f"/proc/{child}/cmdline", "rb") as fh:
                cmd = fh.read().decode(errors="replace")
        except OSError:
            continue
        if "spawn_main" in cmd:
            out.append(child)
    return out


def _wait_workers(pid: int, n: int, not_in: set[int]) -> list[int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = [p for p in _workers(pid) if p not in not_in and _alive(p)]
        if len(now) == n:
            return now
        time.sleep(0.1)
    raise AssertionError(f"no {n} new workers of {pid}")


def test_a_dead_worker_is_replaced_and_no_worker_outlives_the_service(serve, tmp_path):
    """SIGKILL one of two workers: the other goes on, a new one takes its place; workers that
    keep dying (more than 5 in a minute) stop the service with exit code 1; after a normal stop
    no worker process is left."""
    import os
    import signal

    url = f"sqlite:///{tmp_path / 'dead.sqlite3'}"
    proc = serve(url, "dead", advertise=False, workers=2)
    first = _workers(proc.proc.pid)
    assert len(first) == 2, first
    os.kill(first[0], signal.SIGKILL)
    new = _wait_workers(proc.proc.pid, 1, set(first))
    assert proc.proc.poll() is None
    assert httpx.get(f"{proc.url}{V}/health", timeout=30).status_code == 200
    gone = set(first)
    live = [first[1], *new]
    for _ in range(3):  # 1 death above + 2 × 3 here: more than 5 in a minute
        for pid in live:
            os.kill(pid, signal.SIGKILL)
        gone |= set(live)
        if proc.proc.poll() is not None:
            break
        try:
            live = _wait_workers(proc.proc.pid, 2, gone)
        except AssertionError:
            break
    gone |= set(_workers(proc.proc.pid))  # any replacement started meanwhile
    assert proc.proc.wait(30) == 1
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(p) for p in gone):
        time.sleep(0.1)
    assert not [p for p in gone if _alive(p)]
    proc.stop()

    proc2 = serve(url, "dead", advertise=False, workers=2)
    kids = _workers(proc2.proc.pid)
    assert len(kids) == 2
    assert proc2.stop() == 0
    assert not [p for p in kids if _alive(p)]
