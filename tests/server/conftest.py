"""Fixtures for the school server: a small library, an app with enrolled terminals, a live server."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from library.storage.models import Copy, MediaItem, Reader, Record

TODAY = dt.date(2026, 10, 5)  # a Monday


def populate(db) -> None:
    """Three records, six copies, four readers, three media items."""
    from library.circulation.pins import hash_pin

    with db.transaction() as s:
        def rec(key, title, copies, age_min=None):
            r = Record(key=key, title=title, authors=["Толстой, Лев Николаевич"], age_min=age_min,
                       version=1)
            for bc in copies:
                r.copies.append(Copy(sigla="ИБЦ", barcode=bc, status="available",
                                     shelf_mark="84(2Рос=Рус)1", version=1))
            s.add(r)
        rec("war", "Война и мир", ["1001", "1002"], age_min=12)
        rec("kid", "Денискины рассказы", ["2001", "2002"])
        rec("anna", "Анна Каренина", ["3001", "3002"])
        s.add_all([
            Reader(card_number="C5A", first_name="Аня", last_name="Петрова", class_name="7А"),
            Reader(card_number="C1B", first_name="Ваня", last_name="Сидоров", class_name="1Б"),
            Reader(card_number="CT", first_name="Мария", last_name="Иванова", category="teacher"),
            Reader(card_number="CPIN", first_name="Оля", last_name="Орлова", class_name="9В",
                   pin_hash=hash_pin("4321")),
            Reader(card_number="CBLK", first_name="Петя", last_name="Орлов", class_name="7А",
                   blocked=True),
        ])
        s.add_all([
            MediaItem(path="/m/a.mp4", title="Фотосинтез", kind="video", access="everyone"),
            MediaItem(path="/m/b.mp4", title="Контрольная: ответы", kind="video", access="teachers"),
            MediaItem(path="/m/c.mp3", title="Гимн", kind="audio", access="strange-level"),
        ])
        s.flush()
        s.execute(Record.__table__.update().values(version=1))
    from library.search import reindex_all

    with db.transaction() as s:
        reindex_all(s)


@pytest.fixture
def settings():
    """Default settings with a short idle time and a low guess limit."""
    from config.settings import load_settings

    st = load_settings(environ={})
    st.server.session_idle_s = 60
    st.server.pin_failures_per_minute = 5
    return st


@pytest.fixture
def api(db, settings):
    """(TestClient, db) for an app on a populated database."""
    from fastapi.testclient import TestClient

    from server.app import create_app

    populate(db)
    app = create_app(settings, db, today=lambda: TODAY)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, db


@pytest.fixture
def enrol(api):
    """enrol(name) -> the new terminal's auth header."""
    from server.security import create_enrol_code

    client, db = api

    def _enrol(name: str) -> dict:
        code = create_enrol_code(db, 5)
        r = client.post("/api/v1/terminals/enrol", json={"code": code, "name": name})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    return _enrol


# --- a real server process ---------------------------------------------------------------------
class ServerProcess:
    """`ibc serve` as a subprocess on 127.0.0.1 with an ephemeral port."""

    def __init__(self, config, workdir):
        self.config, self.workdir = config, workdir
        self.proc = None
        self.url = ""

    @property
    def cert_pem(self) -> str:
        """The server's TLS certificate (PEM) from its data dir, as a terminal pins it."""
        import tomllib

        data_dir = tomllib.loads(self.config.read_text(encoding="utf-8"))["data_dir"]
        return (Path(data_dir) / "tls" / "server.crt").read_text(encoding="ascii")

    def enrolment_code(self, db) -> str:
        """A one-time code as `ibc terminals enroll` prints it (with the certificate check
        when the server speaks TLS)."""
        from library.tls import enrolment_code, fingerprint
        from server.security import create_enrol_code

        tls = self.url.startswith("https://")
        return enrolment_code(create_enrol_code(db, 5), fingerprint(self.cert_pem) if tls else None)

    def start(self, timeout: float = 30.0) -> str:
        """Start and wait until it listens and advertises; returns its URL."""
        import os
        import select
        import subprocess
        import sys
        import time

        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("IBC_CONFIG", None)
        self._err = open(self.workdir / f"serve-{time.monotonic_ns()}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ibc", "--config", str(self.config), "serve", "--port", "0"],
            stdout=subprocess.PIPE, stderr=self._err, env=env)
        deadline = time.monotonic() + timeout
        lines = []
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                line = self.proc.stdout.readline().decode()
                lines.append(line)
                if "listening on" in line:
                    self.url = line.split("listening on", 1)[1].strip()
                if "advertised" in line or ("listening on" in line and "advertise = false"
                                            in self.config.read_text()):
                    return self.url
            if self.proc.poll() is not None:
                break
        self.kill()
        log = open(self._err.name, encoding="utf-8", errors="replace").read()[-2000:]  # noqa: SIM115
        raise RuntimeError(f"ibc serve did not start: {lines} {log}")

    def kill(self) -> None:
        """SIGKILL (a power cut for the server)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._close()

    def stop(self) -> int:
        """SIGTERM and wait; returns the exit code."""
        import signal

        code = 0
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            code = self.proc.wait(15)
        self._close()
        return code

    def _close(self) -> None:
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        if getattr(self, "_err", None):
            self._err.close()


def write_config(path, db_url: str, school_id: str, **server) -> None:
    """A settings file for a test server bound to 127.0.0.1, its data dir beside the file.

    Plain HTTP (``tls = "off"``, the development setting) unless the test passes ``tls="on"``:
    the tests about the terminals' real path run with TLS (test_e2e, tests/security/test_tls.py,
    tests/kiosk/test_terminal.py), the others are about something else."""
    server = {"advertise": True, "tls": "off", **server}
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in server.items())
    data_dir = path.parent / f"data-{school_id}"
    path.write_text(
        f'data_dir = {json.dumps(str(data_dir))}\n\n'
        f'[school]\nid = "{school_id}"\nname = "Школа {school_id}"\n\n'
        f'[database]\nurl = "{db_url}"\n\n'
        '[server]\nhost = "127.0.0.1"\ninterfaces = ["127.0.0.1"]\n' + extra,
        encoding="utf-8")


@pytest.fixture
def zc_loop():
    """One AsyncZeroconf on 127.0.0.1 living on an asyncio loop thread (as in the kiosk app),
    plus run(coro) to call into that loop."""
    import asyncio
    import threading

    from device.discovery import make_zeroconf

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-zc-loop", daemon=True)
    thread.start()

    def run(coro, timeout: float = 30.0):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    async def _make():
        return make_zeroconf(["127.0.0.1"])

    aiozc = run(_make())
    yield aiozc, run
    run(aiozc.async_close())
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


@pytest.fixture
def serve(tmp_path):
    """serve(db_url, school_id, **server_settings) -> a started ServerProcess; all stopped after."""
    procs = []

    def _serve(db_url: str, school_id: str, **server) -> ServerProcess:
        cfg = tmp_path / f"{school_id}.toml"
        write_config(cfg, db_url, school_id, **server)
        proc = ServerProcess(cfg, tmp_path)
        procs.append(proc)
        proc.start()
        return proc

    yield _serve
    for proc in procs:
        proc.stop()


@pytest.fixture
def library_fill():
    """populate(db): the small test library."""
    return populate


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """(url, terminal auth headers incl. a reader session) of one module-wide `ibc serve`."""
    import httpx

    from library.storage.database import open_database
    from server.security import create_enrol_code

    tmp = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{tmp / 'server.sqlite3'}"
    db = open_database(url)
    populate(db)
    code = create_enrol_code(db, 5)
    db.dispose()
    cfg = tmp / "live.toml"
    write_config(cfg, url, "live", advertise=False, pin_failures_per_minute=1000)
    proc = ServerProcess(cfg, tmp)
    proc.start()
    try:
        token = httpx.post(f"{proc.url}/api/v1/terminals/enrol",
                           json={"code": code, "name": "fuzz"}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        sess = httpx.post(f"{proc.url}/api/v1/session", json={"card": "C5A"}, headers=auth).json()
        yield proc.url, {**auth, "X-Reader-Session": sess["session"]}
    finally:
        proc.stop()
