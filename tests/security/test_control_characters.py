"""Attack: drive the librarian's terminal through stored data.

A terminal (or anything holding a terminal token) sends a card number, a barcode or a search
with ESC sequences in it; later the librarian runs `ibc queue list`, `ibc search` or the
quarterly report and the sequence clears the screen, rewrites lines or retitles the window.
Stopped twice: the API refuses control characters in every identifier and query (422, nothing
stored), and the command line escapes whatever it prints (data imported before, or from a MARC
file, shows as ``\\x1b``).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from ibc.cli import main
from library.storage.models import Event, Record
from library.text import has_controls, printable
from server.models import OfflineConflict

HOSTILE = ["\x1b[2J\x1b[H", "C5A\x1b]0;pwned\x07", "\x9b31m", "C5A\x7f", "C5A\r\nC1B", "\x00"]


@pytest.mark.parametrize("value", HOSTILE)
def test_the_api_refuses_control_characters_in_identifiers(api, enrol, value):
    client, db = api
    auth = enrol("kiosk-cc")
    with db.session() as s:
        conflicts = s.scalar(select(func.count()).select_from(OfflineConflict))
        events = s.scalar(select(func.count()).select_from(Event))
    sent = [
        client.post("/api/v1/session", json={"card": value}, headers=auth),
        client.post("/api/v1/offline", headers=auth, json={
            "op": "checkin", "card": value, "barcode": "1001", "txn_id": "kiosk-cc:t1"}),
        client.post("/api/v1/offline", headers=auth, json={
            "op": "checkin", "barcode": value, "txn_id": "kiosk-cc:t2"}),
        client.post("/api/v1/return", headers=auth, json={"barcode": value, "txn_id": "kiosk-cc:t3"}),
        client.get("/api/v1/search", params={"q": f"война{value}"}, headers=auth),
    ]
    assert [r.status_code for r in sent] == [422] * len(sent), [r.text for r in sent]
    with db.session() as s:  # nothing was stored: no conflict row, no search or visit event
        assert s.scalar(select(func.count()).select_from(OfflineConflict)) == conflicts
        assert s.scalar(select(func.count()).select_from(Event)) == events


def test_plain_identifiers_still_pass(api, enrol):
    client, _db = api
    auth = enrol("kiosk-ok")
    assert client.post("/api/v1/session", json={"card": "C5A"}, headers=auth).status_code == 200
    r = client.get("/api/v1/search", params={"q": "Война и мир"}, headers=auth)
    assert r.status_code == 200 and r.json()["total"] >= 1


def test_the_command_line_escapes_what_it_prints(db, capsys, monkeypatch, tmp_path):
    """Data stored before the API refused it, or imported from a file: shown, never obeyed."""
    from library.search import reindex_all

    monkeypatch.setenv("IBC_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    with db.transaction() as s:
        s.add(OfflineConflict(txn_id="k:1", terminal="kiosk-1", op="checkout",
                              card="C5A\x1b[2J\x1b]0;pwned\x07", barcode="1001\x9b31m",
                              code="reader_not_found", message="нет такого читателя",
                              queued_at=dt.datetime(2026, 12, 1, 10, 0), params={}))
        s.add(Record(key="evil", title="Сказки\x1b[31m красные", authors=["Автор\x1b[0m"],
                     version=1))
        s.flush()
        reindex_all(s)
    url = db.engine.url.render_as_string(hide_password=False)
    capsys.readouterr()
    for argv in (["queue", "list"], ["search", "Сказки"]):
        assert main(["--db", url, *argv]) == 0
        out = capsys.readouterr().out
        assert "\x1b" not in out and "\x9b" not in out and "\x07" not in out, out
    assert main(["--db", url, "queue", "list"]) == 0
    out = capsys.readouterr().out
    assert "C5A\\x1b[2J\\x1b]0;pwned\\x07" in out and "1001\\x9b31m" in out
    assert main(["--db", url, "search", "Сказки", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)  # JSON stays valid: its own escapes are text
    assert any("Сказки" in h["title"] for h in hits["hits"])


def test_printable_keeps_text_and_escapes_controls():
    assert printable("Война и мир\tтом 1\n") == "Война и мир\tтом 1\n"
    assert printable("a\x1b[2Jb\rc\x9bd\x7f") == "a\\x1b[2Jb\\x0dc\\x9bd\\x7f"
    assert has_controls("a\tb") and not has_controls("Ёлка №5 — «сказки»")
