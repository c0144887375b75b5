"""The librarian's desk over HTTP (TestClient, SQLite and PostgreSQL): login, sessions in the
database, CSRF, login limits, roles, the audit log, the home page's figures and the CLI."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys

import pytest
from sqlalchemy import select, update

from tests.desk.conftest import ADMIN_PASSWORD, PASSWORD, csrf, logged_in, login, make_app
from tests.server.conftest import TODAY

STALE = "Страница устарела: обновите её"


def _audit(db) -> list[tuple[str, str, dict]]:
    from server.models import DeskAudit

    with db.session() as s:
        return [(a.actor, a.action, a.detail) for a in s.scalars(select(DeskAudit).order_by(DeskAudit.id))]


def _guards(db):
    from server.models import DeskLoginGuard as G

    with db.session() as s:
        return s.execute(select(G.key, G.attempts, G.locked_until).order_by(G.key)).all()


def _sessions(db):
    from server.models import DeskSession

    with db.session() as s:
        return [(x.ended_at, x.ended_why) for x in s.scalars(select(DeskSession).order_by(DeskSession.id))]


def test_no_page_without_login(desk):
    make, _db = desk
    client = make()
    for path in ("/desk", "/desk/accounts"):
        r = client.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/desk/login"
    r = client.post("/desk/logout", data={"csrf": "x"})
    assert r.status_code == 303 and r.headers["location"] == "/desk/login"
    page = client.get("/desk/login")
    assert page.status_code == 200
    for field in ('name="name"', 'name="password"', 'name="csrf"', ">Войти<",
                  '<label for="name">', '<label for="password">'):
        assert field in page.text
    for r in (page, client.get("/desk")):
        assert r.headers["content-security-policy"] == "default-src 'self'; frame-ancestors 'none'"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
        assert r.headers["cache-control"] == "no-store"
    assert client.get("/desk/static/desk.css").headers["content-type"].startswith("text/css")


def test_login_sets_a_guarded_cookie_and_the_home_page_counts_from_the_tables(desk):
    from library.storage.models import Copy, Loan, Reader
    from server.desk.figures import day_bounds
    from server.models import Terminal

    make, db = desk
    start, _end = day_bounds(TODAY)
    now = dt.datetime.now(dt.timezone.utc)
    with db.transaction() as s:
        copy = {c.barcode: c.id for c in s.scalars(select(Copy))}
        reader = {r.card_number: r.id for r in s.scalars(select(Reader))}

        def loan(bc: str, card: str, issued: dt.datetime, due: dt.date,
                 returned: dt.datetime | None = None) -> None:
            s.add(Loan(copy_id=copy[bc], reader_id=reader[card], issued_at=issued, due_date=due,
                       returned_at=returned))
        hour = dt.timedelta(hours=1)
        loan("1001", "C5A", start + 2 * hour, TODAY + dt.timedelta(days=14))           # issued today
        loan("1002", "C1B", start + 3 * hour, TODAY + dt.timedelta(days=14), start + 5 * hour)
        loan("2001", "C5A", start - dt.timedelta(days=30), TODAY - dt.timedelta(days=2))  # overdue
        loan("2002", "C5A", start - dt.timedelta(days=30), TODAY - dt.timedelta(days=1))  # overdue
        loan("3001", "CT", start - dt.timedelta(days=20), TODAY - dt.timedelta(days=5))   # overdue
        loan("3002", "C1B", start - dt.timedelta(days=20), TODAY, start - hour)  # returned yesterday
        s.add_all([Terminal(name="k1", token_hash="a" * 64, last_seen=now - dt.timedelta(minutes=2)),
                   Terminal(name="k2", token_hash="b" * 64, last_seen=now - dt.timedelta(hours=1)),
                   Terminal(name="k3", token_hash="c" * 64, last_seen=now,
                            revoked_at=now - dt.timedelta(days=1)),
                   Terminal(name="lib", role="librarian", token_hash="d" * 64, last_seen=now)])
    client = make()
    r = login(client)
    assert r.status_code == 303 and r.headers["location"] == "/desk"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("ibc_desk=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Path=/desk" in cookie and "Secure" not in cookie  # plain http here; https sets Secure
    home = client.get("/desk")
    assert home.status_code == 200
    assert "<h1>Рабочее место библиотекаря</h1>" in home.text
    assert "marina" in home.text and "библиотекарь" in home.text
    figures = dict(re.findall(r'<dd id="([a-z-]+)">([^<]*)</dd>', home.text))
    assert figures == {"issued-today": "2", "returned-today": "1", "overdue": "3",
                       "overdue-readers": "2", "terminals": "1 / 2"}
    assert 'action="/desk/logout"' in home.text and ">Выйти<" in home.text


def test_csrf_refusals_change_nothing(desk):
    make, db = desk
    one, two = logged_in(make), logged_in(make, "boss", ADMIN_PASSWORD)
    other = csrf(two.get("/desk").text)
    before = _audit(db), _guards(db)
    for data in ({}, {"csrf": ""}, {"csrf": "0" * 64}, {"csrf": other}):
        r = one.post("/desk/logout", data=data)
        assert r.status_code == 403 and STALE in r.text
        assert one.get("/desk").status_code == 200  # still signed in
    # the login form: no form token, a wrong one, or no login cookie
    fresh = make()
    token = csrf(fresh.get("/desk/login").text)
    for data in ({"name": "marina", "password": PASSWORD},
                 {"name": "marina", "password": PASSWORD, "csrf": "x" * 43}):
        r = fresh.post("/desk/login", data=data)
        assert r.status_code == 403 and STALE in r.text and "set-cookie" not in r.headers
    stranger = make()
    r = stranger.post("/desk/login", data={"name": "marina", "password": PASSWORD, "csrf": token})
    assert r.status_code == 403
    assert (_audit(db), _guards(db)) == before and len(_sessions(db)) == 2


def test_wrong_passwords_lock_the_name_across_a_new_app(desk, db, settings):
    from fastapi.testclient import TestClient

    from server.models import DeskLoginGuard

    make, _db = desk
    client = make()
    for _ in range(5):
        r = login(client, "marina", "не тот пароль!")
        assert r.status_code == 401 and "Неверное имя или пароль" in r.text
    r = login(client)  # the right password, but the name is locked
    assert r.status_code == 429 and "Слишком много неудачных попыток" in r.text
    assert int(r.headers["retry-after"]) > 0 and "ibc_desk=" not in r.headers.get("set-cookie", "")
    with TestClient(make_app(db, settings), raise_server_exceptions=False, follow_redirects=False) as c2:
        for _ in range(10):
            r = login(c2)
            assert r.status_code == 429
    # one row per failure and one for the lock; refused attempts while locked add none
    assert [a[1] for a in _audit(db)][-6:] == ["login_failed"] * 5 + ["login_locked"]
    with db.transaction() as s:  # the lock runs out: the right password works again
        s.execute(update(DeskLoginGuard).values(
            locked_until=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
    assert login(client).status_code == 303
    assert login(make(), "boss", ADMIN_PASSWORD).status_code == 303  # other names never locked


def test_parallel_guesses_evaluate_at_most_the_limit(desk):
    from concurrent.futures import ThreadPoolExecutor

    make, db = desk
    client = make()
    token = csrf(client.get("/desk/login").text)

    def guess(i: int) -> int:
        return client.post("/desk/login", data={"name": "marina", "password": f"wrong-{i:08}",
                                                 "csrf": token}).status_code
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(guess, range(16)))
    assert codes.count(401) == 5 and codes.count(429) == 11
    assert sum(1 for a in _audit(db) if a[1] == "login_failed") == 5


def test_the_address_limit_holds_across_names(desk, settings):
    make, _db = desk
    client = make()
    for i in range(settings.desk.ip_max_failures):
        assert login(client, f"nobody{i}", "whatever-password").status_code == 401
    assert login(client).status_code == 429


def test_unknown_name_and_wrong_password_get_the_same_answer(desk):
    make, db = desk
    client = make()
    wrong = login(client, "marina", "не тот пароль!")
    unknown = login(client, "nobody", "не тот пароль!")
    assert wrong.status_code == unknown.status_code == 401
    strip = lambda html: re.sub(r'value="[^"]*"', "", html)  # noqa: E731 (the name field echoes)
    assert strip(wrong.text) == strip(unknown.text)
    from server.desk.accounts import disable

    disable(db, "marina")
    disabled = login(client)
    assert disabled.status_code == 401 and strip(disabled.text) == strip(wrong.text)
    reasons = [a[2]["reason"] for a in _audit(db) if a[1] == "login_failed"]
    assert reasons == ["password", "unknown", "disabled"]


def test_roles(desk):
    make, _db = desk
    librarian = logged_in(make)
    r = librarian.get("/desk/accounts")
    assert r.status_code == 403 and "Только для администратора" in r.text
    assert "/desk/accounts" not in librarian.get("/desk").text
    admin = logged_in(make, "boss", ADMIN_PASSWORD)
    r = admin.get("/desk/accounts")
    assert r.status_code == 200 and "marina" in r.text and "boss" in r.text
    assert "администратор" in r.text and "scrypt" not in r.text


def test_terminal_and_librarian_tokens_open_no_desk_page(desk):
    from server.security import create_enrol_code, create_librarian_token

    make, db = desk
    client = make()
    r = client.post("/api/v1/terminals/enrol", json={"code": create_enrol_code(db, 5), "name": "k1"})
    for token in (r.json()["token"], create_librarian_token(db, "api-lib")):
        auth = {"Authorization": f"Bearer {token}"}
        for path in ("/desk", "/desk/accounts"):
            r = client.get(path, headers=auth)
            assert r.status_code == 303 and r.headers["location"] == "/desk/login"


def test_idle_expiry_ends_the_session_and_says_so(desk):
    from server.models import DeskSession

    make, db = desk
    client = make()
    assert client.get("/desk").status_code == 303
    client = logged_in(make)
    with db.transaction() as s:
        s.execute(update(DeskSession).values(
            last_seen=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=31)))
    r = client.get("/desk")
    assert r.status_code == 303 and r.headers["location"] == "/desk/login"
    ended_at, why = _sessions(db)[0]
    assert ended_at is not None and why == "idle"
    assert ("marina", "session_expired", {"why": "idle"}) in _audit(db)


def test_logout_ends_the_session_for_good(desk):
    make, db = desk
    client = logged_in(make)
    cookie = client.cookies.get("ibc_desk")
    r = client.post("/desk/logout", data={"csrf": csrf(client.get("/desk").text)})
    assert r.status_code == 303 and r.headers["location"] == "/desk/login"
    assert _sessions(db)[0][1] == "logout"
    replay = make()
    replay.cookies.set("ibc_desk", cookie, path="/desk")
    assert replay.get("/desk").status_code == 303
    actions = [(a[0], a[1]) for a in _audit(db)]
    assert ("marina", "login") in actions and ("marina", "logout") in actions


def test_password_change_and_disable_end_open_sessions(desk):
    from server.desk.accounts import disable, set_password

    make, db = desk
    client = logged_in(make)
    set_password(db, "marina", "новый-пароль-2027")
    assert client.get("/desk").status_code == 303
    client = logged_in(make, "marina", "новый-пароль-2027")
    disable(db, "marina")
    assert client.get("/desk").status_code == 303
    assert [w for _e, w in _sessions(db)] == ["password", "disabled"]


@pytest.mark.parametrize("name", ["x" * 10_000, "mari\x1b[2Jna", "marina\x00", "' OR 1=1 --",
                                  "marina'; DROP TABLE desk_accounts; --", "<script>alert(1)</script>",
                                  "", "   "])
def test_hostile_input_gets_a_clean_refusal(desk, name):
    make, db = desk
    client = make()
    r = login(client, name, "p" * 5000 if len(name) < 100 else PASSWORD)
    assert r.status_code == 401 and "Неверное имя или пароль" in r.text
    assert "<script>alert" not in r.text and "\x1b" not in r.text
    failed = [a for a in _audit(db) if a[1] == "login_failed"]
    assert failed and len(str(failed[-1][2])) < 300
    assert logged_in(make).get("/desk").status_code == 200  # the table is still there


def test_a_huge_form_is_refused(desk):
    make, _db = desk
    client = make()
    r = client.post("/desk/login", data={"name": "x" * 100_000, "password": "y", "csrf": "z"})
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("text/html")  # a page of the desk, not JSON
    assert "Файл слишком большой: не больше 64 КБ" in r.text and 'href="/desk"' in r.text
    assert client.post("/api/v1/checkout", content=b"x" * 100_000).json()["code"] == "body_too_large"
    r = client.get("/desk/no-such-page")  # unknown desk addresses are pages too
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")


def test_cli_accounts_read_the_password_from_stdin_never_argv(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IBC_")}
    env["IBC_DATA_DIR"] = str(tmp_path)

    def ibc(*argv: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "ibc", "--db", url, "librarian", *argv],
                              input=stdin, capture_output=True, text=True, timeout=120, env=env,
                              check=False)

    done = ibc("add", "Marina", "--role", "admin", stdin=PASSWORD + "\n")
    assert done.returncode == 0 and "добавлена" in done.stdout, done.stderr
    done = ibc("add", "petr", PASSWORD, stdin=PASSWORD + "\n")  # a password in argv: refused
    assert done.returncode == 2
    done = ibc("add", "petr", stdin="короткий\n")
    assert done.returncode == 1 and "не короче 10" in done.stderr
    assert ibc("add", "marina", stdin=PASSWORD + "\n").returncode == 1  # taken
    assert ibc("passwd", "marina", stdin="другой-пароль-1\n").returncode == 0
    assert ibc("disable", "marina").returncode == 0
    import json

    rows = json.loads(ibc("list", "--json").stdout)
    assert [(r["name"], r["role"], r["disabled_at"] is not None) for r in rows] == [
        ("marina", "admin", True)]
    assert "отключена" in ibc("list").stdout
    from library.storage.database import open_database

    db = open_database(url)
    try:
        actions = [(a, b) for a, b, _d in _audit(db)]
        assert actions == [("cli", "account_added"), ("cli", "password_changed"),
                           ("cli", "account_disabled")]
    finally:
        db.dispose()
    token = ibc("token", "api-lib")  # the API's librarian tokens still work
    assert token.returncode == 0 and len(token.stdout.strip()) > 30


def test_migration_0011_down_and_up(db):
    from alembic import command

    from library.storage.migrate import alembic_config, head_revision

    command.downgrade(alembic_config(db), "0010_pin_guards")
    db.upgrade()
    assert db.schema_revision() == head_revision()


def test_the_audit_log_page(desk):
    """Admins read who did what (newest first, by account and action, paged); librarians and
    strangers cannot; filters are escaped and bounded."""
    make, db = desk
    assert make().get("/desk/accounts/audit").headers["location"] == "/desk/login"
    librarian = logged_in(make)
    assert librarian.get("/desk/accounts/audit").status_code == 403
    boss = logged_in(make, "boss", ADMIN_PASSWORD)
    r = boss.get("/desk/accounts/audit")
    assert r.status_code == 200 and "Журнал действий" in r.text
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>", r.text)
    assert [(who, what) for _at, who, what in rows][:2] == [("boss", "login"), ("marina", "login")]
    r = boss.get("/desk/accounts/audit", params={"actor": "marina", "action": "login"})
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>", r.text)
    assert [(who, what) for _at, who, what in rows] == [("marina", "login")]
    r = boss.get("/desk/accounts/audit", params={"actor": "<script>x</script>"})
    assert r.status_code == 200 and "<script>x" not in r.text and "&lt;script&gt;" in r.text
    assert boss.get("/desk/accounts/audit", params={"actor": "x" * 65}).status_code == 422
    assert boss.get("/desk/accounts/audit", params={"before": "-1"}).status_code == 422
    from server.desk.audit import PAGE, audit

    with db.transaction() as s:
        for i in range(PAGE + 5):
            audit(s, "cli", "password_changed", n=i)
    r = boss.get("/desk/accounts/audit", params={"action": "password_changed"})
    assert r.text.count("<tr><td>") == PAGE and "before=" in r.text
    older = re.search(r'href="(/desk/accounts/audit\?[^"]+before=\d+)"', r.text).group(1).replace("&amp;", "&")
    r = boss.get(older)
    assert r.text.count("<tr><td>") == 5 and "n=0" in r.text and "before=" not in r.text
