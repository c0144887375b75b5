"""The OPAC's «my account» (server/opac/account_pages.py, sessions.py; docs/OPAC.md «My account»)
over HTTP, on SQLite and PostgreSQL: sign-in by card + PIN and its limits, database sessions
and their endings, CSRF, loans and renewals, holds, the reading history, a read-only server,
hostile input and the migration 0025_opac.

Readers of tests.server.conftest.populate: CPIN (Оля, 9В, PIN 4321), C5A (Аня, no PIN), C1B,
CT, CBLK (blocked; given a PIN here). Copies 1001/1002 (Война и мир), 2001/2002, 3001/3002.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from sqlalchemy import select, update

from library.storage.models import Loan, Reader
from server.models import OpacLoginGuard, OpacSession
from tests.opac.conftest import csrf

WRONG_RU = "Неверный номер билета или PIN"
NO_PIN_RU = "Сначала задайте PIN на киоске в библиотеке или у библиотекаря"


@pytest.fixture
def settings():
    """Default settings with a small per-address limit (the per-card one stays 5)."""
    from config.settings import load_settings

    st = load_settings(environ={})
    st.opac.ip_max_failures = 8
    return st


@pytest.fixture
def acc(opac):
    """(client, db, service): one client of the populated app, its database and circulation."""
    make, db = opac
    client = make()
    return client, db, client.app.state.ibc.circulation


def login_page(client, back: str | None = None):
    r = client.get("/opac/login", params={"next": back} if back else None)
    assert r.status_code == 200, r.text
    return r


def sign_in(client, card: str = "CPIN", pin: str = "4321", back: str | None = None):
    """POST the sign-in form (after GET, for its form token); the response."""
    page = login_page(client)
    data = {"card": card, "pin": pin, "csrf": csrf(page.text)}
    if back is not None:
        data["next"] = back
    return client.post("/opac/login", data=data)


def signed(client, card: str = "CPIN", pin: str = "4321"):
    r = sign_in(client, card, pin)
    assert r.status_code == 303 and r.headers["location"] == "/opac/account", r.text
    return client


def form_fields(html: str, action: str) -> list[dict[str, str]]:
    """The hidden fields of every form posting to `action`."""
    found = []
    for form in re.findall(r'<form method="post" action="%s"[^>]*>(.*?)</form>' % re.escape(action),
                           html, re.S):
        found.append(dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)))
    return found


def set_pin(db, card: str, pin: str) -> None:
    from library.circulation.pins import hash_pin

    with db.transaction() as s:
        s.execute(update(Reader).where(Reader.card_number == card).values(pin_hash=hash_pin(pin)))


def token_of(client) -> str:
    """The client's OPAC session cookie."""
    return next(c.value for c in client.cookies.jar if c.name == "ibc_opac")


def put(client, value: str) -> None:
    """Make `value` the client's (only) OPAC session cookie."""
    for c in list(client.cookies.jar):
        if c.name == "ibc_opac":
            client.cookies.jar.clear(c.domain, c.path, c.name)
    client.cookies.set("ibc_opac", value, domain="testserver.local", path="/opac")


def shift(db, column, delta: dt.timedelta, live_only: bool = False) -> None:
    """Move a time column of the OPAC sessions back by `delta`."""
    with db.transaction() as s:
        for row in s.scalars(select(OpacSession)):
            if not live_only or row.ended_at is None:
                setattr(row, column, getattr(row, column) - delta)


def sessions_of(db, card: str = "CPIN") -> list[OpacSession]:
    with db.session() as s:
        rid = s.scalar(select(Reader.id).where(Reader.card_number == card))
        return list(s.scalars(select(OpacSession).where(OpacSession.reader_id == rid)
                              .order_by(OpacSession.id)))


ACCOUNT_GETS = ["/opac/account", "/opac/account/history", "/opac/account/pin"]
ACCOUNT_POSTS = ["/opac/logout", "/opac/renew", "/opac/holds", "/opac/holds/cancel",
                 "/opac/account/history", "/opac/account/pin"]


# --- no session ------------------------------------------------------------------------------
@pytest.mark.parametrize("cookie", [None, "forged", "x" * 43, "A" * 500])
def test_every_account_url_without_a_live_session_goes_to_the_sign_in_form(acc, cookie):
    client, _db, service = acc
    service.checkout("CPIN", "1001", "t-setup")
    if cookie:
        put(client, cookie)
    for url in ACCOUNT_GETS:
        r = client.get(url)
        assert r.status_code == 303, (url, r.text)
        assert r.headers["location"] == "/opac/login?next=" + url, url
        assert "Война" not in r.text and "Оля" not in r.text
    for url in ACCOUNT_POSTS:
        r = client.post(url, data={"csrf": "x", "txn": "a" * 20, "loan": "1", "record": "1"})
        assert r.status_code == 303 and r.headers["location"] == "/opac/login", (url, r.text)
    with _db.session() as s:
        assert s.scalar(select(Loan.renewals)) == 0


def test_an_ended_or_expired_cookie_opens_nothing(acc):
    client, db, _service = acc
    signed(client)
    token = token_of(client)
    assert client.get("/opac/account").status_code == 200
    shift(db, "last_seen", dt.timedelta(minutes=16))  # idle past [opac] idle_minutes (15)
    assert client.get("/opac/account").status_code == 303
    assert [x.ended_why for x in sessions_of(db)] == ["idle"]
    signed(client)
    shift(db, "created_at", dt.timedelta(hours=13), live_only=True)  # past max_hours (12)
    assert client.get("/opac/account").status_code == 303
    assert [x.ended_why for x in sessions_of(db)] == ["idle", "max_age"]
    put(client, token)  # the first, idle one: still dead
    assert client.get("/opac/account").status_code == 303


# --- signing in ------------------------------------------------------------------------------
def test_sign_in_shows_first_name_class_and_loans_never_the_card(acc):
    client, db, service = acc
    service.checkout("CPIN", "1001", "t1")
    page = login_page(client).text
    assert 'autocomplete="username"' in page and 'type="password"' in page
    assert 'inputmode="numeric"' in page and 'autocomplete="current-password"' in page
    assert '<label for="card">' in page and '<label for="pin">' in page
    signed(client)
    token = token_of(client)
    r = client.get("/opac/account")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    assert "Оля" in r.text and "9В" in r.text and "Война и мир" in r.text
    assert "CPIN" not in r.text and "Орлова" not in r.text and "1001" not in r.text
    assert "19.10.2026" in r.text or re.search(r"\d\d\.\d\d\.2026", r.text)
    assert "Вы пока ничего не заказали" in r.text  # plain words, no empty table
    assert "<table" not in r.text
    [row] = sessions_of(db)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and row.client_ip
    with db.session() as s:  # a remote visit is no library visit: no event recorded
        from library.storage.models import Event

        assert s.scalar(select(Event.id).where(Event.kind == "visit")) is None


def test_the_sign_in_form_needs_its_token(acc):
    client, db, _service = acc
    login_page(client)
    r = client.post("/opac/login", data={"card": "CPIN", "pin": "4321", "csrf": "wrong"})
    assert r.status_code == 403 and "ibc_opac=" not in r.headers.get("set-cookie", "")
    fresh = type(client)(client.app, raise_server_exceptions=False, follow_redirects=False)
    r = fresh.post("/opac/login", data={"card": "CPIN", "pin": "4321", "csrf": "x" * 43})
    assert r.status_code == 403
    assert sessions_of(db) == []


def test_unknown_card_wrong_pin_and_archived_reader_get_one_message(acc):
    client, db, _service = acc
    set_pin(db, "CT", "1357")
    with db.transaction() as s:
        s.execute(update(Reader).where(Reader.card_number == "CT")
                  .values(active=False, archived_at=dt.datetime.now(dt.timezone.utc)))
    pages = [sign_in(client, "NOPE"), sign_in(client, "CPIN", "0000"), sign_in(client, "CT", "1357")]
    for r in pages:
        assert r.status_code == 401 and WRONG_RU in r.text, r.text
    # the same page each time, but for the form token
    texts = {re.sub(r'name="csrf" value="[^"]+"', "", r.text) for r in pages}
    assert len(texts) == 1
    r = sign_in(client, "C5A", "1234")  # no PIN yet
    assert r.status_code == 401 and NO_PIN_RU in r.text
    with db.session() as s:  # all four counted against the address
        assert s.scalar(select(OpacLoginGuard.attempts)) == 4
    assert sessions_of(db, "CT") == [] and sessions_of(db) == []


def test_wrong_pins_lock_the_card_here_and_at_the_kiosks(acc, settings):
    from library.circulation.errors import CardLocked
    from server.security import create_enrol_code, enrol

    client, db, service = acc
    for _ in range(settings.circulation.pin_max_failures):
        assert sign_in(client, "CPIN", "0000").status_code == 401
    r = sign_in(client, "CPIN", "4321")  # the right PIN: still locked
    assert r.status_code == 429 and "мин" in r.text and int(r.headers["retry-after"]) >= 60
    assert "ibc_opac=" not in r.headers.get("set-cookie", "")
    with pytest.raises(CardLocked):
        service.check_pin("CPIN", "4321")
    token = enrol(db, create_enrol_code(db, 5), "kiosk-1")
    r = client.post("/api/v1/session", json={"card": "CPIN", "pin": "4321"},
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 429 and r.json()["code"] == "card_locked"


def test_a_card_locked_at_a_kiosk_is_locked_here(acc, settings):
    client, _db, service = acc
    for _ in range(settings.circulation.pin_max_failures):
        assert service.check_pin("CPIN", "9999") is False
    r = sign_in(client)
    assert r.status_code == 429


def test_the_address_is_locked_after_failures_over_distinct_cards(acc, settings):
    client, db, _service = acc
    for i in range(settings.opac.ip_max_failures):
        assert sign_in(client, f"9{i:03d}", "1234").status_code == 401
    r = sign_in(client)  # a right card and PIN from the same address: locked too
    assert r.status_code == 429 and "15" in r.text
    assert sessions_of(db) == []
    with db.transaction() as s:  # the lock runs out: the right PIN gives the slot back
        s.execute(update(OpacLoginGuard).values(
            locked_until=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
    signed(client)
    with db.session() as s:
        assert s.scalar(select(OpacLoginGuard.attempts)) == 0


def test_a_new_token_at_each_sign_in_and_the_old_one_ends(acc):
    client, db, _service = acc
    put(client, "A" * 43)  # planted by someone else
    signed(client)
    first = token_of(client)
    assert first != "A" * 43
    signed(client)
    second = token_of(client)
    assert second != first
    assert [x.ended_why for x in sessions_of(db)] == ["replaced", None]
    put(client, first)
    assert client.get("/opac/account").status_code == 303


def test_sign_out_needs_the_form_token_and_ends_the_session_server_side(acc):
    client, db, _service = acc
    signed(client)
    token = token_of(client)
    page = client.get("/opac/account").text
    assert client.post("/opac/logout", data={"csrf": "nope"}).status_code == 403
    assert client.get("/opac/account").status_code == 200  # still signed in
    r = client.post("/opac/logout", data={"csrf": csrf(page)})
    assert r.status_code == 303 and r.headers["location"] == "/opac"
    assert [x.ended_why for x in sessions_of(db)] == ["logout"]
    put(client, token)  # the old cookie, replayed
    assert client.get("/opac/account").status_code == 303


def test_a_pin_changed_or_an_archived_reader_ends_the_session(acc):
    client, db, _service = acc
    signed(client)
    set_pin(db, "CPIN", "8642")
    assert client.get("/opac/account").status_code == 303
    signed(client, pin="8642")
    with db.transaction() as s:
        s.execute(update(Reader).where(Reader.card_number == "CPIN").values(pin_hash=None))
    assert client.get("/opac/account").status_code == 303
    set_pin(db, "CPIN", "4321")
    signed(client)
    with db.transaction() as s:
        s.execute(update(Reader).where(Reader.card_number == "CPIN")
                  .values(active=False, archived_at=dt.datetime.now(dt.timezone.utc)))
    assert client.get("/opac/account").status_code == 303
    assert [x.ended_why for x in sessions_of(db)] == ["pin", "pin", "reader"]


@pytest.mark.parametrize("back, where", [
    ("/opac/search?q=толстой", "/opac/search?q=толстой"), ("/opac/record/2", "/opac/record/2"),
    ("https://evil.example/opac", "/opac/account"), ("//evil.example/opac", "/opac/account"),
    ("/opac/..\\evil", "/opac/account"), ("/desk", "/opac/account"),
    ("/opac/login", "/opac/account"), ("/opac\r\nSet-Cookie: x=1", "/opac/account")])
def test_next_goes_back_to_an_opac_page_only(acc, back, where):
    client, _db, _service = acc
    from urllib.parse import unquote

    r = sign_in(client, back=back)
    assert r.status_code == 303 and unquote(r.headers["location"]) == where


def test_a_blocked_reader_signs_in_and_sees_why(acc):
    client, db, service = acc
    set_pin(db, "CBLK", "2580")
    with db.transaction() as s:
        s.execute(update(Reader).where(Reader.card_number == "CBLK").values(block_reason="Книга испорчена"))
    signed(client, "CBLK", "2580")
    r = client.get("/opac/account")
    assert r.status_code == 200 and "Петя" in r.text
    assert "заблокирован" in r.text and "Книга испорчена" in r.text
    assert "Книг на руках нет" in r.text


@pytest.mark.parametrize("card, pin", [
    ("9" * 10000, "1234"), ("CPIN\x00", "4321"), ("CPIN", "43\x0021"), ("<script>alert(1)</script>", "1"),
    ("CPIN", "4" * 5000), ("'; DROP TABLE readers; --", "1234"), ("", ""), ("C\u202ePIN", "4321")])
def test_hostile_sign_in_input_is_a_plain_refusal(acc, card, pin):
    client, db, _service = acc
    r = sign_in(client, card, pin)
    assert r.status_code == 401, r.text
    assert "<script>alert" not in r.text and WRONG_RU in r.text
    assert sessions_of(db) == []


# --- loans and renewals ------------------------------------------------------------------------
def test_renew_once_per_form_and_the_new_due_date_shown(acc):
    client, db, service = acc
    due = service.checkout("CPIN", "1001", "t1").due_date
    signed(client)
    page = client.get("/opac/account").text
    [fields] = form_fields(page, "/opac/renew")
    r = client.post("/opac/renew", data=fields)
    assert r.status_code == 200, r.text
    with db.session() as s:
        loan = s.scalar(select(Loan))
        assert loan.renewals == 1 and loan.due_date > due
        new_due = loan.due_date
    assert new_due.strftime("%d.%m.%Y") in r.text and "продлена до" in r.text
    assert client.post("/opac/renew", data=fields).status_code == 200  # a double tap
    with db.session() as s:
        assert s.scalar(select(Loan.renewals)) == 1
    # the next page's form is a new renewal
    [again] = form_fields(client.get("/opac/account").text, "/opac/renew")
    assert again["txn"] != fields["txn"]


def test_a_refused_renewal_shows_the_rules_words(acc):
    from library.circulation.errors import RenewalHeld
    from library.i18n import translator

    client, db, service = acc
    service.checkout("CPIN", "3001", "t1")
    service.checkout("C5A", "3002", "t2")
    service.place_hold("C1B", _record_id(db, "3001"), "h1")
    signed(client)
    [fields] = form_fields(client.get("/opac/account").text, "/opac/renew")
    r = client.post("/opac/renew", data=fields)
    assert r.status_code == 409
    text = RenewalHeld().message(translator("ru"))
    assert text in r.text
    with db.session() as s:
        assert set(s.scalars(select(Loan.renewals))) == {0}


def _record_id(db, barcode: str) -> int:
    from library.storage.models import Copy

    with db.session() as s:
        return s.scalar(select(Copy.record_id).where(Copy.barcode == barcode))


def test_forms_without_or_with_a_wrong_token_change_nothing(acc):
    client, db, service = acc
    service.checkout("CPIN", "1001", "t1")
    signed(client)
    [fields] = form_fields(client.get("/opac/account").text, "/opac/renew")
    for bad in ({**fields, "csrf": "0" * 64}, {k: v for k, v in fields.items() if k != "csrf"}):
        assert client.post("/opac/renew", data=bad).status_code == 403
    record = _record_id(db, "2001")
    for bad in ({"record": record, "txn": "a" * 20}, {"record": record, "txn": "a" * 20, "csrf": "x"}):
        assert client.post("/opac/holds", data=bad).status_code == 403
        assert client.post("/opac/account/history", data={**bad, "keep": "1"}).status_code == 403
    with db.session() as s:
        assert s.scalar(select(Loan.renewals)) == 0
        assert s.scalar(select(Reader.keep_history).where(Reader.card_number == "CPIN")) is False
    assert service.holds("CPIN") == []
    r = client.post("/opac/renew", data={**fields, "txn": "short"})  # not a form's id
    assert r.status_code == 400
    service.checkout("C5A", "3001", "t2")
    service.checkout("C1B", "3002", "t3")
    hold = service.place_hold("CPIN", _record_id(db, "3001"), "h1")
    for bad in ({"hold": hold.hold_id, "txn": "d" * 20}, {"hold": hold.hold_id, "txn": "d" * 20, "csrf": "x"}):
        assert client.post("/opac/holds/cancel", data=bad).status_code == 403
        assert client.post("/opac/logout", data=bad).status_code == 403
    assert [h.state for h in service.holds("CPIN")] == ["queued"]
    assert client.get("/opac/account").status_code == 200  # still signed in


def test_another_readers_loan_or_hold_is_refused(acc):
    client, db, service = acc
    service.checkout("C5A", "3001", "t1")
    service.checkout("C5A", "3002", "t2")
    hold = service.place_hold("C1B", _record_id(db, "3001"), "h1")
    other_loan = service.loans("C5A")[0].loan_id
    signed(client)
    token = csrf(client.get("/opac/account").text)
    r = client.post("/opac/renew", data={"loan": other_loan, "txn": "b" * 20, "csrf": token})
    assert r.status_code == 404 and "Аня" not in r.text
    r = client.post("/opac/holds/cancel", data={"hold": hold.hold_id, "txn": "c" * 20, "csrf": token})
    assert r.status_code == 404 and "Ваня" not in r.text
    with db.session() as s:
        assert set(s.scalars(select(Loan.renewals))) == {0}
    assert [h.state for h in service.holds("C1B")] == ["queued"]


# --- holds -------------------------------------------------------------------------------------
def test_place_and_cancel_a_hold_once_per_form(acc):
    client, db, service = acc
    service.checkout("C5A", "3001", "t1")
    service.checkout("C1B", "3002", "t2")
    signed(client)
    token = csrf(client.get("/opac/account").text)
    data = {"record": _record_id(db, "3001"), "txn": "p" * 22, "csrf": token}
    r = client.post("/opac/holds", data=data)
    assert r.status_code == 200 and "«Анна Каренина» заказана: вы 1-й в очереди" in r.text
    assert client.post("/opac/holds", data=data).status_code == 200  # a double tap
    [hold] = service.holds("CPIN")
    assert hold.state == "queued" and hold.position == 1
    page = client.get("/opac/account").text
    assert "В очереди" in page
    [fields] = form_fields(page, "/opac/holds/cancel")
    r = client.post("/opac/holds/cancel", data=fields)
    assert r.status_code == 200 and "заказ отменён" in r.text
    assert service.holds("CPIN") == []
    assert "Вы пока ничего не заказали" in client.get("/opac/account").text
    r = client.post("/opac/holds", data={**data, "txn": "q" * 22, "pickup": "НЕТ"})
    assert r.status_code == 400 and service.holds("CPIN") == []
    r = client.post("/opac/holds", data={**data, "txn": "r" * 22, "record": 999999})
    assert r.status_code == 409 and service.holds("CPIN") == []


def test_the_record_pages_hold_block(acc):
    from server.desk import i18n
    from server.opac.sessions import OpacReader
    from server.opac.web import templates

    token = i18n.set_language("ru")
    try:
        tpl = templates.get_template("record_hold.html")
        anonymous = tpl.render(_=i18n._, record={"id": 7}, reader=None, schools=None)
        assert 'href="/opac/login?next=/opac/record/7"' in anonymous and "<form" not in anonymous
        reader = OpacReader(1, "Оля", "pupil", "ИБЦ", "t" * 43)
        one = tpl.render(_=i18n._, record={"id": 7}, reader=reader, schools=None)
        assert 'action="/opac/holds"' in one and reader.csrf in one and "<select" not in one
        two = tpl.render(_=i18n._, record={"id": 7}, reader=reader, schools=_Schools())
        assert '<label for="pickup">' in two and '<option value="Ш2" selected>' in two
        txns = re.findall(r'name="txn" value="([^"]+)"', one + two)
        assert len(set(txns)) == 2  # a fresh id each page
        # a copy on the pickup school's shelf answers instead of a hold the rule would refuse
        shelf = tpl.render(_=i18n._, record={"id": 7}, reader=reader, schools=None, on_shelf=True)
        assert "<form" not in shelf and "Книга есть на полке: приходите в библиотеку" in shelf
        city = tpl.render(_=i18n._, record={"id": 7}, reader=None, schools=_Schools(), on_shelf=True,
                          on_shelf_at="Школа № 2")
        assert "на полке (Школа № 2)" in city and "/opac/login" not in city
    finally:
        i18n.reset_language(token)


class _Schools:
    """The catalogue's Schools as the record page passes it (two schools, Ш2 chosen)."""

    class _S:
        def __init__(self, sigla, name):
            self.sigla, self.name = sigla, name

    all = [_S("ИБЦ", "Школа 1"), _S("Ш2", "Школа 2")]
    chosen = "Ш2"
    city = True


# --- reading history ---------------------------------------------------------------------------
def _returned_long_ago(db, service, card: str, barcode: str, txn: str) -> None:
    service.checkout(card, barcode, txn + "o")
    service.checkin(barcode, txn + "i")
    with db.transaction() as s:
        s.execute(update(Loan).where(Loan.checkout_txn == txn + "o")
                  .values(returned_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=400)))


def test_reading_history_is_off_by_default_and_kept_only_when_on(acc):
    client, db, service = acc
    _returned_long_ago(db, service, "CPIN", "2001", "a")
    signed(client)
    page = client.get("/opac/account/history")
    assert page.status_code == 200 and "выключена" in page.text and "Денискины" not in page.text
    r = client.post("/opac/account/history", data={"keep": "1", "csrf": csrf(page.text)})
    assert r.status_code == 303
    page = client.get("/opac/account/history")
    assert "Денискины рассказы" in page.text
    assert service.anonymise_returned() == 0  # the reader keeps the link
    _returned_long_ago(db, service, "C5A", "3001", "b")
    assert service.anonymise_returned() == 1  # another reader's is unlinked as before
    assert "Денискины рассказы" in client.get("/opac/account/history").text
    r = client.post("/opac/account/history", data={"keep": "0", "csrf": csrf(page.text)})
    assert r.status_code == 303
    with db.session() as s:
        assert s.scalars(select(Loan.reader_id)).all() == [None, None]
    page = client.get("/opac/account/history").text
    assert "Денискины" not in page and "выключена" in page


# --- a read-only server ------------------------------------------------------------------------
def test_a_read_only_server_sends_the_account_to_the_main_server(db, settings):
    from fastapi.testclient import TestClient

    from library.storage.database import Database
    from server.app import create_app
    from tests.server.conftest import TODAY, populate

    populate(db)
    settings.server.read_only = True
    settings.server.primary_url = "https://main.example:8470"
    ro_db = Database(db.url.render_as_string(hide_password=False))
    app = create_app(settings, ro_db, today=lambda: TODAY)
    try:
        with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
            for url in ("/opac/login", "/opac/logout", "/opac/renew", "/opac/account/history",
                        "/opac/account/pin"):
                r = client.post(url, data={"card": "CPIN", "pin": "4321", "csrf": "x",
                                           "current": "4321", "new": "8642", "again": "8642"})
                assert r.status_code == 503, url
                assert r.headers["content-type"].startswith("text/html")
                assert 'href="https://main.example:8470/opac/login"' in r.text
                assert "основном сервере" in r.text and r.headers["cache-control"] == "no-store"
            r = client.get("/opac/login")
            assert r.status_code == 503 and "https://main.example:8470/opac/login" in r.text
            assert client.get("/opac/account").status_code == 303
            assert client.get("/opac/static/opac.css").status_code == 200
    finally:
        ro_db.dispose()
    with db.session() as s:
        assert s.scalars(select(OpacSession)).all() == []


# --- the migration -----------------------------------------------------------------------------
def test_migration_0025_down_and_up_again(db):
    from alembic import command
    from sqlalchemy import inspect

    from library.storage.migrate import alembic_config, head_revision
    from tests.server.conftest import populate

    populate(db)
    with db.transaction() as s:
        s.execute(update(Reader).where(Reader.card_number == "CPIN").values(keep_history=True))
    command.downgrade(alembic_config(db), "0024_school_rules")
    assert db.schema_revision() == "0024_school_rules"
    found = inspect(db.engine)
    assert not {"opac_sessions", "opac_login_guards"} & set(found.get_table_names())
    assert "keep_history" not in {c["name"] for c in found.get_columns("readers")}
    command.upgrade(alembic_config(db), "head")
    assert db.schema_revision() == head_revision()
    with db.session() as s:  # back, and off for everyone
        assert set(s.scalars(select(Reader.keep_history))) == {False}
        assert s.scalars(select(OpacSession)).all() == []


def test_reserve_from_the_record_page(acc):
    client, db, service = acc
    record = _record_id(db, "3001")
    service.checkout("C5A", "3001", "t1")
    service.checkout("C1B", "3002", "t2")
    page = client.get(f"/opac/record/{record}").text
    assert f'href="/opac/login?next=/opac/record/{record}"' in page and 'action="/opac/holds"' not in page
    r = sign_in(client, back=f"/opac/record/{record}")
    assert r.headers["location"] == f"/opac/record/{record}"
    page = client.get(f"/opac/record/{record}").text
    [fields] = form_fields(page, "/opac/holds")
    assert fields["record"] == str(record) and "CPIN" not in page
    r = client.post("/opac/holds", data=fields)
    assert r.status_code == 200 and "1-й в очереди" in r.text
    assert client.post("/opac/holds", data=fields).status_code == 200  # a double tap: one hold
    assert [h.record_id for h in service.holds("CPIN")] == [record]


def test_an_unknown_card_costs_a_pin_check_as_a_wrong_pin_does(acc, monkeypatch):
    client, _db, service = acc
    checked = []
    real = service.hashing
    monkeypatch.setattr(service, "hashing", lambda fn, *args: checked.append(fn.__name__) or real(fn, *args))
    assert sign_in(client, "NOPE", "1234").status_code == 401
    assert sign_in(client, "CPIN", "0000").status_code == 401
    assert checked == ["verify_pin", "verify_pin"]


def test_a_sign_in_deletes_session_rows_unused_for_a_month(acc):
    client, db, _service = acc
    signed(client, "CPIN", "4321")
    shift(db, "last_seen", dt.timedelta(days=31))
    with db.transaction() as s:  # another address's failures, two days ago
        s.add(OpacLoginGuard(key="ip:10.0.0.9", attempts=3,
                             window_start=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)))
    set_pin(db, "CBLK", "2580")
    signed(client, "CBLK", "2580")  # another reader's sign-in prunes them
    assert sessions_of(db, "CPIN") == [] and len(sessions_of(db, "CBLK")) == 1
    with db.session() as s:
        assert s.scalars(select(OpacLoginGuard.key)).all() == ["ip:testclient"]


# --- changing the PIN --------------------------------------------------------------------------
PIN_URL = "/opac/account/pin"


def change(client, current: str, new: str, again: str | None = None, token: str | None = None):
    """POST the PIN form (after GET, for the session's form token unless `token`)."""
    if token is None:
        page = client.get(PIN_URL)
        assert page.status_code == 200, page.text
        token = csrf(page.text)
    return client.post(PIN_URL, data={"current": current, "new": new,
                                      "again": new if again is None else again, "csrf": token})


def pin_state(db, card: str = "CPIN"):
    """(the stored PIN hash, the card's pin_guards row as a tuple or None)."""
    from library.storage.models import PinGuard

    with db.session() as s:
        reader = s.scalar(select(Reader).where(Reader.card_number == card))
        guard = s.get(PinGuard, reader.id)
        return reader.pin_hash, None if guard is None else (guard.attempts, guard.window_start,
                                                            guard.locked_until)


def test_the_pin_form_says_the_rule_and_is_linked_from_the_account(acc, settings):
    client, _db, _service = acc
    signed(client)
    account = client.get("/opac/account").text
    assert '<a href="/opac/account/pin">Сменить PIN</a>' in account
    r = client.get(PIN_URL)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    page = r.text
    for field in ("current", "new", "again"):
        assert f'<label for="{field}">' in page
        assert re.search(f'<input type="password" id="{field}" name="{field}" inputmode="numeric"', page)
    assert page.count('autocomplete="new-password"') == 2 and 'autocomplete="current-password"' in page
    assert "Текущий PIN" in page and "Новый PIN ещё раз" in page
    assert "от 4 до 8 цифр" in page and "1234" in page
    assert "CPIN" not in page and "Орлова" not in page and "4321" not in page.replace("1234, 4321", "")
    settings.circulation.pin_min_digits = settings.circulation.pin_max_digits = 6
    assert "6 цифр." in client.get(PIN_URL).text  # the rule is the settings'


@pytest.mark.parametrize("token", [None, "", "wrong", "x" * 10000])
def test_the_pin_form_without_its_token_changes_nothing(acc, token):
    client, db, _service = acc
    signed(client)
    before = pin_state(db)
    data = {"current": "4321", "new": "8642", "again": "8642"}
    if token is not None:
        data["csrf"] = token
    r = client.post(PIN_URL, data=data)
    assert r.status_code == 403, r.text
    assert pin_state(db) == before
    assert client.get("/opac/account").status_code == 200


def test_new_pins_that_differ_are_refused_before_anything(acc, monkeypatch):
    from library.circulation.service import CirculationService

    client, db, _service = acc
    signed(client)
    before = pin_state(db)
    monkeypatch.setattr(CirculationService, "change_pin", lambda *a, **k: pytest.fail("called"))
    r = change(client, "4321", "8642", "8643")
    assert r.status_code == 400 and "Новые PIN не совпадают" in r.text
    assert 'role="alert"' in r.text and '<input type="password" id="current"' in r.text
    assert pin_state(db) == before


@pytest.mark.parametrize("new, words", [
    ("975", "ПИН-код — от 4 до 8 цифр"), ("123456789", "ПИН-код — от 4 до 8 цифр"),
    ("12a4", "ПИН-код — от 4 до 8 цифр"), ("1111", "легко угадать"), ("4567", "легко угадать"),
    ("1212", "легко угадать")])
def test_a_malformed_or_trivial_new_pin_uses_no_guess(acc, new, words):
    client, db, _service = acc
    signed(client)
    before = pin_state(db)
    for current in ("4321", "0000"):  # a wrong current PIN is not even checked
        r = change(client, current, new)
        alert = re.search(r'<p class="error" role="alert"[^>]*>([^<]*)</p>', r.text)
        assert r.status_code == 422 and alert and words in alert.group(1), r.text
    assert pin_state(db) == before


def test_a_wrong_current_pin_counts_and_locks_the_card_everywhere(acc, settings):
    from server.security import create_enrol_code, enrol

    client, db, service = acc
    signed(client)
    old_hash, _guard = pin_state(db)
    for i in range(settings.circulation.pin_max_failures):
        r = change(client, "0000", "8642")
        assert r.status_code == 409 and "Неверный ПИН-код" in r.text, r.text
        assert pin_state(db)[1][0] == i + 1  # one slot of the card's guesses each
    r = change(client, "4321", "8642")  # the right PIN now: the card is locked
    assert r.status_code == 429 and "заблокирован" in r.text and "мин" in r.text
    assert int(r.headers["retry-after"]) >= 60
    assert pin_state(db)[0] == old_hash
    token = enrol(db, create_enrol_code(db, 5), "kiosk-1")
    r = client.post("/api/v1/session", json={"card": "CPIN", "pin": "4321"},
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 429 and r.json()["code"] == "card_locked"
    assert client.get("/opac/account").status_code == 200  # still signed in, PIN unchanged


def test_a_changed_pin_keeps_this_session_and_ends_the_others(acc, opac):
    make, _ = opac
    client, db, service = acc
    other = signed(make())
    signed(client)
    mine = token_of(client)
    r = change(client, "4321", "8642")
    assert r.status_code == 200 and "PIN изменён" in r.text and 'role="status"' in r.text
    assert "Оля" in r.text and "CPIN" not in r.text
    assert token_of(client) == mine  # the same session goes on
    assert client.get("/opac/account").status_code == 200
    assert client.get(PIN_URL).status_code == 200
    assert other.get("/opac/account").status_code == 303  # the other browser is signed out
    assert [x.ended_why for x in sessions_of(db)] == ["pin", None]
    guard = pin_state(db)[1]
    assert guard is None or guard[0] == 0  # the card's guess count starts again
    assert sign_in(make(), "CPIN", "4321").status_code == 401  # the old PIN no longer signs in
    signed(make(), "CPIN", "8642")
    assert service.check_pin("CPIN", "8642") is True  # the kiosks' PIN too
    assert client.get("/opac/account").status_code == 200


@pytest.mark.parametrize("current, new, again", [
    ("4321", "86\x0042", "86\x0042"), ("43\x0021", "8642", "8642"), ("4321", "8" * 10000, "8" * 10000),
    ("4" * 10000, "8642", "8642"), ("4321", "8642", "8" * 10000), ("<script>alert(1)</script>", "8642", "8642"),
    ("4321", "<script>alert(1)</script>", "<script>alert(1)</script>"), ("4321", "８６４２", "８６４２")])
def test_hostile_pin_form_input_is_a_plain_refusal(acc, current, new, again):
    client, db, _service = acc
    signed(client)
    before_hash, _guard = pin_state(db)
    r = change(client, current, new, again)
    assert 400 <= r.status_code < 500 and r.status_code != 429, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert "<script>alert" not in r.text and "CPIN" not in r.text
    assert pin_state(db)[0] == before_hash
    assert client.get("/opac/account").status_code == 200
