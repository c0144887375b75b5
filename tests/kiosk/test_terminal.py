"""Terminal mode for real: `ibc serve` on 127.0.0.1 with the demo library over TLS (its
self-signed certificate made at the first start), the terminal enrolled with `ibc terminals join`
(the code checks the certificate, which the terminal then pins), the kiosk app offscreen in
terminal mode with the fake scanner; the loan must be in the server's database. Then the server
dies: the banner says so and a return goes into the offline queue."""

from __future__ import annotations

import json
import os
import select
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select as sql_select

from library.storage.models import Copy, Loan, Reader, Record

SCRIPT = Path(__file__).with_name("ui_scenario.py")


def _start_server(config: Path, log: Path, advertise: bool = False) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("IBC_CONFIG", None)
    err = log.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "ibc", "--config", str(config), "serve",
                             "--port", "0"], stdout=subprocess.PIPE, stderr=err, env=env)
    err.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline().decode()
            if "listening on" in line:
                url = line.split("listening on", 1)[1].strip()
                if not advertise:
                    return proc, url
            if advertise and "advertised" in line:
                return proc, url
        if proc.poll() is not None:
            break
    proc.kill()
    proc.wait(10)
    proc.stdout.close()
    raise RuntimeError("ibc serve did not start: " + log.read_text(errors="replace")[-2000:])


def _serve(tmp_path, advertise: bool = False):
    """(url, db, pid) of a running `ibc serve` over the demo library (a generator)."""
    from ibc.wiring import search_indexer
    from library.demo.loader import load_demo
    from library.storage.database import open_database

    url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    db = open_database(url)
    load_demo(db, on_batch=search_indexer())
    # The demo loader leaves version 0, which the change feed (version > since=0) never sends:
    # stamp version 1 as the server's own tests do (reported; not the kiosk's to fix).
    with db.transaction() as s:
        s.execute(Record.__table__.update().values(version=1))
        s.execute(Copy.__table__.update().values(version=1))
    cfg = tmp_path / "server.toml"
    cfg.write_text(f'data_dir = "{tmp_path / "srv"}"\n\n[school]\nid = "sch-k"\nname = "Школа"\n\n'
                   f'[database]\nurl = "{url}"\n\n'
                   '[server]\nhost = "127.0.0.1"\ninterfaces = ["127.0.0.1"]\n'
                   f'advertise = {"true" if advertise else "false"}\n', encoding="utf-8")
    proc, base = _start_server(cfg, tmp_path / "serve.log", advertise)
    assert base.startswith("https://")  # TLS is the default
    try:
        yield base, db, proc.pid
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        proc.stdout.close()
        db.dispose()


def enrolment_code(tmp_path: Path, db) -> str:
    """What `ibc terminals enroll` prints: the one-time secret and the certificate check."""
    from library.tls import enrolment_code as code
    from library.tls import fingerprint
    from server.security import create_enrol_code

    pem = (tmp_path / "srv" / "tls" / "server.crt").read_text(encoding="ascii")
    return code(create_enrol_code(db, 5), fingerprint(pem))


@pytest.fixture
def server(tmp_path):
    """(url, db, pid) of a running `ibc serve` over the demo library."""
    yield from _serve(tmp_path)


@pytest.fixture
def advertised_server(tmp_path):
    """The same, advertised over zeroconf on 127.0.0.1."""
    yield from _serve(tmp_path, advertise=True)


@pytest.mark.slow
def test_join_and_terminal_mode_find_the_server_over_zeroconf(tmp_path, advertised_server):
    from config.settings import load_settings
    from kiosk.bridge import Bridge
    from kiosk.remote import terminal_mode
    from kiosk.terminal.credentials import load_terminal
    from kiosk.terminal.locator import ZeroconfUrl

    base, db, _pid = advertised_server
    term = tmp_path / "terminal"
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'data_dir = "{term}"\n\n[school]\nid = "sch-k"\n\n'
                   '[server]\ninterfaces = ["127.0.0.1"]\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "IBC_CONFIG"}
    joined = subprocess.run([sys.executable, "-m", "ibc", "--config", str(cfg), "terminals",
                             "join", enrolment_code(tmp_path, db), "--name", "kiosk-z"],
                            capture_output=True, text=True, timeout=60, env=env, check=False)
    assert joined.returncode == 0, joined.stderr
    assert base in joined.stdout and load_terminal(term)["url"] == ""
    assert load_terminal(term)["server_cert"].startswith("-----BEGIN CERTIFICATE-----")
    bridge = Bridge(post=lambda fn: fn())
    locator = ZeroconfUrl(bridge, "sch-k", ["127.0.0.1"])
    try:
        deadline = time.monotonic() + 15
        while locator() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert locator() == base
    finally:
        locator.close()
    mode = terminal_mode(term, load_terminal(term), load_settings(cfg), bridge)
    try:
        mode.monitor.start()
        deadline = time.monotonic() + 30
        while mode.monitor.state.online is not True and time.monotonic() < deadline:
            time.sleep(0.2)
        assert mode.monitor.state.online is True and mode.monitor.state.url == base, mode.monitor.state.error
    finally:
        mode.close()
        bridge.close()


@pytest.mark.slow
def test_self_checkout_in_terminal_mode_against_a_real_server(tmp_path, server):
    base, db, pid = server
    with db.session() as s:
        card = s.scalar(sql_select(Reader.card_number).where(Reader.class_name.like("9%"),
                                                             Reader.pin_hash.is_(None)))
        barcode, title = s.execute(sql_select(Copy.barcode, Record.title).join(Record).where(
            Copy.status == "available", Record.age_rating == "0+",
            Record.item_type == "book")).first()
    word = title.split()[0]
    term = tmp_path / "terminal"
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'data_dir = "{term}"\n\n[school]\nid = "sch-k"\n\n[server]\nurl = "{base}"\n'
                   'offline_policy = "seen_cards"\n', encoding="utf-8")

    # The technician: a code on the server, `ibc terminals join CODE` on the terminal.
    code = enrolment_code(tmp_path, db)
    env = {k: v for k, v in os.environ.items() if k != "IBC_CONFIG"}
    joined = subprocess.run([sys.executable, "-m", "ibc", "--config", str(cfg), "terminals",
                             "join", code, "--name", "kiosk-t1"], capture_output=True, text=True,
                            timeout=60, env=env, check=False)
    assert joined.returncode == 0, joined.stderr
    info = json.loads((term / "terminal.json").read_text())
    assert info["name"] == "kiosk-t1" and info["token"]
    assert stat.S_IMODE((term / "terminal.json").stat().st_mode) == 0o600

    env.update(SDL_VIDEODRIVER="offscreen", SDL_AUDIODRIVER="dummy", KIVY_NO_ARGS="1",
               KIVY_NO_CONSOLELOG="1", IBC_CONFIG=str(cfg), KIOSK_TEST_CARD=card,
               KIOSK_TEST_BARCODE=barcode, KIOSK_TEST_WORD=word, KIOSK_TEST_SERVER_PID=str(pid))
    proc = subprocess.run([sys.executable, str(SCRIPT), "terminal", str(tmp_path / "kivy")],
                          capture_output=True, text=True, timeout=180, env=env, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    out = json.loads(lines[-1])
    assert "error" not in out, out["error"]

    assert out["online"] is True and out["banner_online"] == ""
    assert out["search_total"] > 0  # the search ran on the local replica
    assert out["greeting"].startswith("Привет, ") and out["state"] == "books"
    assert [ok for _, _, ok in out["items"]] == [True], out["items"]
    assert out["items"][0][1].startswith("Вернуть до")
    assert out["done_state"] == "done" and out["after"] == "attract"
    # The loan is in the server's database, made by this terminal.
    with db.session() as s:
        loan = s.scalar(sql_select(Loan).join(Copy, Loan.copy_id == Copy.id)
                        .where(Copy.barcode == barcode, Loan.returned_at.is_(None)))
        assert loan is not None
        assert s.get(Reader, loan.reader_id).card_number == card
    # Offline: the banner, and the return waits in the queue.
    assert out["banner_offline"].startswith("Нет связи с сервером")
    assert "Спасибо" in out["return_flash"] and out["pending"] == 1


@pytest.mark.slow
def test_terminal_starts_at_once_and_searches_through_the_server_until_its_replica_is_ready(
        tmp_path, server):
    """Start-up never waits for the network; the first search goes to the server; after the
    first sync the replica answers; progress reaches service mode."""
    from config.settings import load_settings
    from kiosk.bridge import Bridge
    from kiosk.remote import terminal_mode
    from kiosk.terminal.catalogue import RemoteCatalogue
    from kiosk.terminal.credentials import load_terminal

    base, db, _pid = server
    with db.session() as s:
        title = s.scalar(sql_select(Record.title).join(Copy).where(Copy.status == "available")
                         .order_by(Record.id).limit(1))
    word = title.split()[0]
    term = tmp_path / "terminal"
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'data_dir = "{term}"\n\n[server]\nurl = "{base}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "IBC_CONFIG"}
    joined = subprocess.run([sys.executable, "-m", "ibc", "--config", str(cfg), "terminals",
                             "join", enrolment_code(tmp_path, db), "--name", "kiosk-s"],
                            capture_output=True, text=True, timeout=60, env=env, check=False)
    assert joined.returncode == 0, joined.stderr
    bridge = Bridge(post=lambda fn: fn())
    mode = terminal_mode(term, load_terminal(term), load_settings(cfg), bridge)
    try:
        assert mode.monitor.state.online is None  # nothing was asked of the network yet
        assert not mode.monitor.replica_ready
        assert mode.catalogue._pick().__class__ is RemoteCatalogue
        page = mode.catalogue.search(word)
        assert page.total > 0 and any(h.title == title for h in page.hits)
        record = mode.catalogue.record(page.hits[0].id)
        assert record.copies
        seen = []
        mode.monitor.post = seen.append
        mode.monitor.check_once()
        assert mode.monitor.replica_ready and seen[-1].replica_ready and seen[-1].records > 0
        assert mode.catalogue._pick() is mode.catalogue.local
        assert mode.catalogue.search(word).total == page.total
        # A cover the librarian dropped on the server reaches the terminal in the background.
        isbn = next(h.isbn for h in mode.catalogue.search(word).hits if h.isbn)
        from library.isbn import normalise, to_isbn13

        server_covers = tmp_path / "srv" / "covers"
        server_covers.mkdir(parents=True)
        png = b"\x89PNG\r\n\x1a\n" + bytes(64)
        (server_covers / f"{to_isbn13(normalise(isbn))}.png").write_bytes(png)
        assert mode.catalogue.cover((isbn,)) is None  # not here yet: asked for, never waited for
        mode.monitor.check_once()
        got = mode.catalogue.cover((isbn,))
        assert got is not None and got.parent == term / "covers" and got.read_bytes() == png
        assert mode.catalogue.cover(("9780000000002",)) is None  # the server has none
        mode.monitor.check_once()
        assert mode.catalogue.cover(("9780000000002",)) is None
    finally:
        mode.close()
    again = terminal_mode(term, load_terminal(term), load_settings(cfg), bridge)
    try:
        assert again.monitor.replica_ready  # a restart: the replica is ready at once
    finally:
        again.close()
        bridge.close()
