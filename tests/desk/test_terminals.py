"""The desk's terminals section over HTTP (TestClient, SQLite and PostgreSQL): the list with
last seen and on line, enrolment codes (large, as QR, usable by the API), revoke, the offline
conflicts and their resolution; roles, CSRF, hostile input, the audit log."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import func, select

from tests.desk.conftest import ADMIN_PASSWORD, csrf, logged_in

STALE = "Страница устарела: обновите её"
ADMIN_ONLY = "Только для администратора"


@pytest.fixture
def settings(tmp_path):
    """TLS on with a self-signed certificate in a temporary data folder: the enrolment code
    carries its check, as on a real server."""
    from config.settings import load_settings
    from server import tls

    st = load_settings(environ={})
    st.data_dir = str(tmp_path / "data")
    st.server.tls = "on"
    tls.ensure(st, st.data_dir)
    return st


def _audit(db, action: str) -> list[tuple[str, dict]]:
    from server.models import DeskAudit

    with db.session() as s:
        return [(a.actor, a.detail) for a in s.scalars(
            select(DeskAudit).where(DeskAudit.action == action).order_by(DeskAudit.id))]


def _add_terminals(db) -> dict[str, int]:
    from server.models import Terminal

    now = dt.datetime.now(dt.timezone.utc)
    with db.transaction() as s:
        rows = [Terminal(name="kiosk-1", token_hash="a" * 64, last_seen=now - dt.timedelta(minutes=3)),
                Terminal(name="kiosk-2", token_hash="b" * 64, last_seen=now - dt.timedelta(hours=2)),
                Terminal(name="kiosk-old", token_hash="c" * 64, last_seen=now,
                         revoked_at=now - dt.timedelta(days=1)),
                Terminal(name="kiosk-new", token_hash="e" * 64),
                Terminal(name="api-ivanova", role="librarian", token_hash="d" * 64, last_seen=now)]
        s.add_all(rows)
        s.flush()
        return {t.name: t.id for t in rows}


def _rows(page: str) -> dict[str, str]:
    """terminal name → the text of its table row."""
    out = {}
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.S):
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        if cells:
            out[cells[0]] = re.sub(r"<[^>]+>", " ", row)
    return out


def test_no_login_is_sent_to_the_login_page(desk):
    make, db = desk
    ids = _add_terminals(db)
    client = make()
    for path in ("/desk/terminals", "/desk/terminals/conflicts", f"/desk/terminals/{ids['kiosk-1']}/revoke"):
        r = client.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/desk/login", path
    for path in ("/desk/terminals/enrol", f"/desk/terminals/{ids['kiosk-1']}/revoke",
                 "/desk/terminals/conflicts/x/resolve"):
        r = client.post(path, data={"csrf": "x"})
        assert r.status_code == 303 and r.headers["location"] == "/desk/login", path


def test_the_list_shows_every_terminal_with_last_seen_and_state(desk):
    make, db = desk
    _add_terminals(db)
    page = logged_in(make).get("/desk/terminals")
    assert page.status_code == 200
    rows = _rows(page.text)
    assert set(rows) == {"kiosk-1", "kiosk-2", "kiosk-old", "kiosk-new"}, "terminals only, no API tokens"
    assert "3 мин назад" in rows["kiosk-1"] and "на связи" in rows["kiosk-1"]
    assert "2 ч назад" in rows["kiosk-2"] and "нет связи" in rows["kiosk-2"]
    assert "отключён" in rows["kiosk-old"] and "на связи" not in rows["kiosk-old"]
    assert "ещё не был" in rows["kiosk-new"] and "нет связи" in rows["kiosk-new"]
    assert re.search(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", rows["kiosk-1"]), "the exact time too"
    # The same rule as the home page: one terminal on line of three live ones.
    home = logged_in(make).get("/desk")
    assert re.search(r'id="terminals">1 / 3<', home.text)


def test_a_librarian_sees_the_list_but_no_admin_buttons_and_is_refused(desk):
    make, db = desk
    ids = _add_terminals(db)
    client = logged_in(make)
    page = client.get("/desk/terminals")
    assert page.status_code == 200 and "kiosk-1" in page.text
    assert "Подключить терминал" not in page.text and "/revoke" not in page.text
    token = csrf(page.text)
    for path in ("/desk/terminals/enrol", f"/desk/terminals/{ids['kiosk-1']}/revoke"):
        r = client.post(path, data={"csrf": token})
        assert r.status_code == 403 and ADMIN_ONLY in r.text, path
    assert client.get(f"/desk/terminals/{ids['kiosk-1']}/revoke").status_code == 403
    from server.models import EnrolCode, Terminal

    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(EnrolCode)) == 0
        assert s.scalar(select(Terminal.revoked_at).where(Terminal.name == "kiosk-1")) is None
    assert _audit(db, "terminal_code") == [] and _audit(db, "terminal_revoked") == []


def _qr_image(svg: str, scale: int = 6):
    """The page's inline QR svg (its one path of unit squares) drawn as a PIL image."""
    from PIL import Image

    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    path = re.search(r'<path fill="#000000" d="([^"]+)"', svg).group(1)
    img = Image.new("L", (size * scale, size * scale), 255)
    for x, y in re.findall(r"M(\d+) (\d+)h1v1h-1z", path):
        x0, y0 = int(x) * scale, int(y) * scale
        img.paste(0, (x0, y0, x0 + scale, y0 + scale))
    return img


def _qr_text(svg: str) -> str:
    """Decode the page's inline QR svg with zbar."""
    from pyzbar import pyzbar

    found = pyzbar.decode(_qr_image(svg))
    assert found, "zbar reads the QR code"
    return found[0].data.decode("ascii")


def test_an_admin_makes_a_code_shown_large_and_as_qr_that_enrols_a_terminal(desk, settings):
    from library.tls import parse_enrolment_code
    from server import security, tls

    make, db = desk
    client = logged_in(make, "boss", ADMIN_PASSWORD)
    page = client.get("/desk/terminals")
    assert "Подключить терминал" in page.text
    r = client.post("/desk/terminals/enrol", data={"csrf": csrf(page.text)})
    assert r.status_code == 200
    code = html.unescape(re.search(r'class="term-code"[^>]*>([^<]+)<', r.text).group(1))
    assert re.fullmatch(r"[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}", code)
    assert f"ibc terminals join {code}" in r.text
    assert "data:" not in r.text and "<script" not in r.text
    svg = re.search(r"<svg .*?</svg>", r.text, re.S).group(0)
    assert _qr_text(svg) == code
    # Valid for [server] enrol_code_minutes, its end said as «дд.мм.гггг чч:мм».
    minutes = settings.server.enrol_code_minutes
    assert f"действует {minutes} мин" in r.text
    expires = re.search(r'id="enrol-expires">([^<]+)<', r.text).group(1)
    end = dt.datetime.strptime(expires, "%d.%m.%Y %H:%M").astimezone()
    assert abs((end - dt.datetime.now().astimezone()).total_seconds() - 60 * minutes) < 120
    # The code is for this server's certificate, and the API trades its secret for a token.
    parsed = parse_enrolment_code(code)
    assert parsed.accepts(tls.load(settings, settings.data_dir).fingerprint)
    token = security.enrol(db, parsed.secret, "kiosk-9")
    assert client.get("/api/v1/search", params={"q": "война"},
                      headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with pytest.raises(security.EnrolError):
        security.enrol(db, parsed.secret, "kiosk-10")  # one-time
    assert _audit(db, "terminal_code") == [("boss", {"minutes": minutes})]
    assert "kiosk-9" in _rows(client.get("/desk/terminals").text)


def test_without_a_certificate_the_page_says_so(desk, settings):
    from pathlib import Path

    from server.models import EnrolCode

    make, db = desk
    for f in (Path(settings.data_dir) / "tls").iterdir():
        f.unlink()
    client = logged_in(make, "boss", ADMIN_PASSWORD)
    r = client.post("/desk/terminals/enrol", data={"csrf": csrf(client.get("/desk/terminals").text)})
    assert r.status_code == 503 and "нет сертификата" in r.text and "Подключить терминал" in r.text
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(EnrolCode)) == 0


def test_revoke_after_a_confirm_page_and_the_token_is_refused(desk):
    from server import security

    make, db = desk
    token = security.enrol(db, security.create_enrol_code(db, 5), "kiosk-7")
    api = make()
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/search", params={"q": "мир"}, headers=headers).status_code == 200
    client = logged_in(make, "boss", ADMIN_PASSWORD)
    page = client.get("/desk/terminals")
    tid = next(r["id"] for r in security.list_credentials(db) if r["name"] == "kiosk-7")
    assert f'href="/desk/terminals/{tid}/revoke"' in page.text
    confirm = client.get(f"/desk/terminals/{tid}/revoke")
    assert confirm.status_code == 200 and "Отключить терминал «kiosk-7»?" in confirm.text
    # CSRF missing or wrong: 403, still live.
    for bad in ({}, {"csrf": "x" * 43}):
        r = client.post(f"/desk/terminals/{tid}/revoke", data=bad)
        assert r.status_code == 403 and STALE in r.text
    assert api.get("/api/v1/search", params={"q": "мир"}, headers=headers).status_code == 200
    r = client.post(f"/desk/terminals/{tid}/revoke", data={"csrf": csrf(confirm.text)})
    assert r.status_code == 303 and r.headers["location"] == f"/desk/terminals?revoked={tid}"
    after = client.get(r.headers["location"])
    assert "Терминал «kiosk-7» отключён" in after.text
    assert "отключён" in _rows(after.text)["kiosk-7"]
    assert api.get("/api/v1/search", params={"q": "мир"}, headers=headers).status_code == 401
    assert _audit(db, "terminal_revoked") == [("boss", {"terminal": "kiosk-7"})]
    # Twice: nothing more happens, no second audit row; an unknown id is 404.
    client.post(f"/desk/terminals/{tid}/revoke", data={"csrf": csrf(confirm.text)})
    assert len(_audit(db, "terminal_revoked")) == 1
    assert client.get("/desk/terminals/999999/revoke").status_code == 404
    assert client.get(f"/desk/terminals/{10**30}/revoke").status_code == 404
    assert client.post("/desk/terminals/999999/revoke",
                       data={"csrf": csrf(confirm.text)}).status_code == 404
    # An API credential of a librarian is not a terminal: not revoked from here.
    lib = security.create_librarian_token(db, "api-x")
    assert lib
    lid = next(r["id"] for r in security.list_credentials(db) if r["name"] == "api-x")
    assert client.post(f"/desk/terminals/{lid}/revoke", data={"csrf": csrf(confirm.text)}).status_code == 404


def _add_conflicts(db) -> None:
    from server.models import OfflineConflict

    with db.transaction() as s:
        s.add(OfflineConflict(txn_id="kiosk-1:17", terminal="kiosk-1", op="checkout", card="C5A",
                              barcode="1001", code="copy_on_loan", message="Книга уже выдана",
                              queued_at=dt.datetime(2026, 12, 1, 10, 5, tzinfo=dt.timezone.utc),
                              params={"barcode": "1001"}))
        s.add(OfflineConflict(txn_id="kiosk-2:3", terminal="kiosk-2", op="checkin", card=None,
                              barcode="<b>2002</b>", code="not_on_loan",
                              message="<script>alert(1)</script> не выдана", attempts=3,
                              queued_at=None))


def test_conflicts_are_listed_and_resolved_with_a_note(desk):
    from server.conflicts import list_conflicts

    make, db = desk
    _add_conflicts(db)
    client = logged_in(make)  # a librarian resolves conflicts
    page = client.get("/desk/terminals/conflicts")
    assert page.status_code == 200
    text = page.text
    assert "Не решены (2)" in text
    assert "Выдача: Книга уже выдана" in text and "kiosk-1" in text and "C5A" in text and "1001" in text
    assert "Петрова" not in text and "Аня" not in text, "a card number only, no reader's name"
    assert "01.12.2026" in text
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;b&gt;2002&lt;/b&gt;" in text and "(попыток: 3)" in text
    token = csrf(text)
    # CSRF missing: 403, nothing changed.
    r = client.post("/desk/terminals/conflicts/kiosk-1:17/resolve", data={"note": "x"})
    assert r.status_code == 403 and STALE in r.text
    assert len(list_conflicts(db)) == 2
    # Too long a note: said next to the field, the note kept, nothing changed.
    r = client.post("/desk/terminals/conflicts/kiosk-1:17/resolve", data={"note": "я" * 10_000, "csrf": token})
    assert r.status_code == 400 and "Слишком длинная заметка" in r.text and 'aria-invalid="true"' in r.text
    assert len(list_conflicts(db)) == 2
    note = "Книга на руках у C5A с 01.12 — выдачу записали вручную\x1b[2J\x00 <i>ок</i>"
    r = client.post("/desk/terminals/conflicts/kiosk-1:17/resolve", data={"note": note, "csrf": token})
    assert r.status_code == 303 and r.headers["location"].startswith("/desk/terminals/conflicts?done=")
    left = list_conflicts(db)
    assert [c["txn_id"] for c in left] == ["kiosk-2:3"]
    done = next(c for c in list_conflicts(db, include_resolved=True) if c["txn_id"] == "kiosk-1:17")
    assert done["resolved"] and done["resolution"]["by"] == "marina"
    note_kept = done["resolution"]["note"]
    assert note_kept.startswith("Книга на руках") and "\x1b" not in note_kept and "\x00" not in note_kept
    (actor, detail), = _audit(db, "conflict_resolved")
    assert actor == "marina" and detail["txn_id"] == "kiosk-1:17" and "\x1b" not in detail["note"]
    after = client.get(r.headers["location"]).text
    assert "Конфликт отмечен решённым" in after and "Не решены (1)" in after
    assert "&lt;i&gt;ок&lt;/i&gt;" in after and "<i>ок</i>" not in after and "marina" in after
    # Again, or an unknown one: said on the page, no new audit row.
    for txn in ("kiosk-1:17", "no-such", "x" * 10_000, "k%1B%5B2J%00", "%3Cscript%3E"):
        r = client.post(f"/desk/terminals/conflicts/{txn}/resolve", data={"note": "", "csrf": token})
        assert r.status_code == 404 and "Нет такого конфликта, или он уже решён" in r.text
    assert len(_audit(db, "conflict_resolved")) == 1


def test_hostile_terminal_names_are_escaped(desk):
    from server.models import Terminal

    make, db = desk
    with db.transaction() as s:
        s.add(Terminal(name='<img src=x onerror="alert(1)">', token_hash="f" * 64))
    page = logged_in(make).get("/desk/terminals").text
    assert "<img src=x" not in page and "&lt;img src=x" in page


def test_join_reads_the_code_from_the_qr_code_with_the_camera(tmp_path):
    """`ibc terminals join --camera`: the kiosk's scanner pipeline reads the desk's QR code
    (drawn from the page's svg, as a short video: a camera's frames), and ignores other QR codes."""
    from ibc.commands.join import code_from_camera
    from server.desk.terminals_pages import qr_svg
    from tests.media.conftest import ffmpeg

    def video(text: str, name: str):
        still = tmp_path / f"{name}.png"
        _qr_image(str(qr_svg(text)), scale=5).save(still)
        out = tmp_path / f"{name}.mp4"
        ffmpeg("-loop", "1", "-i", str(still), "-t", "1", "-r", "10", "-vf",
               "pad=640:480:(ow-iw)/2:(oh-ih)/2:white", "-pix_fmt", "yuv420p", str(out))
        return str(out)

    code = "0BB7-D2C2-AAB8-2CBH-U5VT"
    assert code_from_camera(video(code, "code"), 20) == code
    assert code_from_camera(video("0bb7 d2c2 aab8", "plain"), 20) == "0BB7-D2C2-AAB8"
    assert code_from_camera(video("https://example.org/", "other"), 20) is None
    assert code_from_camera(str(tmp_path / "no-such.mp4"), 5) is None


def test_with_tls_off_the_code_has_no_check_and_the_page_warns(desk, settings):
    from server import security

    make, db = desk
    settings.server.tls = "off"
    client = logged_in(make, "boss", ADMIN_PASSWORD)
    r = client.post("/desk/terminals/enrol", data={"csrf": csrf(client.get("/desk/terminals").text)})
    assert r.status_code == 200 and "TLS на сервере выключен" in r.text
    code = re.search(r'class="term-code"[^>]*>([^<]+)<', r.text).group(1)
    assert re.fullmatch(r"[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}", code)
    assert security.enrol(db, code, "kiosk-dev")


def test_the_cli_resolves_with_a_note_by_the_same_function(desk, capsys, tmp_path, monkeypatch):
    """`ibc queue resolve TXN --note …` keeps the note as the desk does; `queue list --all` shows it;
    a second resolve is refused."""
    from ibc.cli import main

    _make, db = desk
    _add_conflicts(db)
    monkeypatch.setenv("IBC_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    url = db.engine.url.render_as_string(hide_password=False)
    assert main(["--db", url, "queue", "resolve", "kiosk-1:17", "--note", "выдано вручную\x1b[2J"]) == 0
    assert main(["--db", url, "queue", "resolve", "kiosk-1:17"]) == 1
    capsys.readouterr()
    assert main(["--db", url, "queue", "list", "--all"]) == 0
    out = capsys.readouterr().out
    assert "(cli): выдано вручную\\x1b[2J" in out and "\x1b" not in out


def test_the_terminals_in_english(desk, settings):
    """With the English switch the section speaks English: times ago, states, the enrolment
    code's page, and a conflict's refusal said again from its code (stored in Russian)."""
    from server.desk import i18n
    from server.desk.terminals_pages import ago
    from server.models import OfflineConflict

    make, db = desk
    _add_terminals(db)
    with db.transaction() as s:
        s.add(OfflineConflict(txn_id="kiosk-1:20", terminal="kiosk-1", op="checkout", card="C5A",
                              barcode="1001", code="item_not_found",
                              message="Штрихкод 1001 не найден в каталоге", params={"barcode": "1001"}))
    _add_conflicts(db)  # an unknown code: its stored words stay as they are
    client = logged_in(make, "boss", ADMIN_PASSWORD)
    client.get("/desk/lang/en")
    rows = _rows(client.get("/desk/terminals").text)
    assert "3 min ago" in rows["kiosk-1"] and "online" in rows["kiosk-1"]
    assert "2 h ago" in rows["kiosk-2"] and "offline" in rows["kiosk-2"]
    assert "revoked" in rows["kiosk-old"] and "not yet" in rows["kiosk-new"]
    conflicts = client.get("/desk/terminals/conflicts").text
    assert "Not resolved (3)" in conflicts and "(attempts: 3)" in conflicts
    assert "Lending: Barcode 1001 is not in the catalogue" in conflicts
    assert "Lending: Книга уже выдана" in conflicts  # unknown code: as stored
    code = client.post("/desk/terminals/enrol", data={"csrf": csrf(client.get("/desk/terminals").text)})
    assert code.status_code == 200 and "Terminal enrolment code" in code.text
    assert 'aria-label="QR code of the enrolment code"' in code.text
    assert not re.search("[А-Яа-яЁё]", code.text.replace("Русский", ""))
    token = i18n.set_language("ru")
    try:
        now = dt.datetime(2026, 12, 6, tzinfo=dt.timezone.utc)
        assert [ago(now - dt.timedelta(days=n), now) for n in (1, 2, 5, 21)] == \
            ["1 дн. назад", "2 дн. назад", "5 дн. назад", "21 дн. назад"]
        i18n.set_language("en")
        assert [ago(now - dt.timedelta(days=n), now) for n in (1, 2)] == ["1 day ago", "2 days ago"]
    finally:
        i18n.reset_language(token)
