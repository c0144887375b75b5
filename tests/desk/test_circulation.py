"""The desk's «Выдача и возврат» over HTTP (TestClient, SQLite and PostgreSQL): the scan field,
the reader's panel, lend/return/renew through the kiosk's exactly-once service, overrides with a
reason (Event + desk_audit rows), replayed and parallel forms, CSRF, hostile input, and one
reader's data never on the next reader's page."""

from __future__ import annotations

import datetime as dt
import html
import re
import threading

from sqlalchemy import select, update

from tests.desk.conftest import csrf, logged_in, spooled_pdf
from tests.server.conftest import TODAY

DUE = (TODAY + dt.timedelta(days=14)).strftime("%d.%m.%Y")  # 19.10.2026, a Monday


def _txn(page: str, action: str = "lend") -> str:
    """The hidden transaction id of the first form posting to /desk/circulation/<action>."""
    m = re.search(r'action="/desk/circulation/' + action + r'"[^>]*>(.*?)</form>', page, re.S)
    assert m, page
    t = re.search(r'name="txn" value="([^"]+)"', m.group(1))
    assert t, m.group(1)
    return t.group(1)


def _panel(client, card: str) -> str:
    """Scan a reader's card at the start page and follow to the panel."""
    start = client.get("/desk/circulation")
    assert start.status_code == 200
    r = client.post("/desk/circulation/return", data={"csrf": csrf(start.text), "barcode": card,
                                                      "txn": _txn(start.text, "return")})
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith(f"/desk/circulation?card={card}&v=")
    page = client.get(r.headers["location"])
    assert page.status_code == 200
    return page.text


def _lend(client, page: str, card: str, barcode: str, **extra: str):
    return client.post("/desk/circulation/lend", data={
        "csrf": csrf(page), "card": card, "barcode": barcode, "txn": _txn(page), **extra})


def _open_loans(db) -> list[tuple[str, str]]:
    from library.storage.models import Copy, Loan, Reader

    with db.session() as s:
        return sorted(s.execute(select(Reader.card_number, Copy.barcode)
                                .join(Loan, Loan.reader_id == Reader.id)
                                .join(Copy, Copy.id == Loan.copy_id)
                                .where(Loan.returned_at.is_(None))).all())


def _events(db, kind: str) -> list[dict]:
    from library.storage.models import Event

    with db.session() as s:
        return [e.payload for e in s.scalars(select(Event).where(Event.kind == kind).order_by(Event.id))]


def _audit(db) -> list[tuple[str, str, dict]]:
    from server.models import DeskAudit

    with db.session() as s:
        return [(a.actor, a.action, a.detail) for a in s.scalars(
            select(DeskAudit).where(DeskAudit.action.in_(("lend", "return", "renew", "override")))
            .order_by(DeskAudit.id))]


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_no_page_or_action_without_login(desk):
    make, db = desk
    client = make()
    for path in ("/desk/circulation", "/desk/circulation?card=C5A", "/desk/circulation/receipt"):
        r = client.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/desk/login"
    for action in ("lend", "return", "renew", "renew-all", "receipt/print"):
        r = client.post(f"/desk/circulation/{action}",
                        data={"csrf": "x", "card": "C5A", "barcode": "2001", "txn": "a" * 30})
        assert r.status_code == 303 and r.headers["location"] == "/desk/login"
    assert _open_loans(db) == []


def test_the_start_page_has_one_focused_scan_field(desk):
    make, _db = desk
    page = logged_in(make).get("/desk/circulation")
    assert page.status_code == 200
    assert '<label for="scan">Билет читателя или штрихкод книги</label>' in page.text
    assert re.search(r'<input id="scan" name="barcode" type="text" autofocus', page.text)
    assert 'aria-current="page">Выдача<' in page.text


def test_lend_renew_return_on_the_panel(desk):
    make, db = desk
    client = logged_in(make)
    page = _panel(client, "C5A")
    text = _text(page)
    assert "Петрова Аня" in text and "7А" in text and "ученик" in text
    assert "0 из 5" in text and "Книг на руках нет" in text
    assert re.search(r'<input id="scan" name="barcode" type="text" autofocus', page)

    r = _lend(client, page, "C5A", "2001")
    assert r.status_code == 200
    assert f"Выдано: «Денискины рассказы», вернуть до {DUE}" in _text(r.text)
    assert "1 из 5" in _text(r.text)
    assert _open_loans(db) == [("C5A", "2001")]
    r = _lend(client, r.text, "C5A", "3001")
    assert "Выдано: «Анна Каренина»" in _text(r.text)
    # this visit's outcomes, newest first; the focus back on the scan field
    assert _text(r.text).index("Анна Каренина», вернуть") < _text(r.text).index("Денискины рассказы», вернуть")
    assert re.search(r'<input id="scan" name="barcode" type="text" autofocus', r.text)
    assert 'href="/desk/circulation/receipt?card=C5A&amp;v=' in r.text

    r = client.post("/desk/circulation/renew", data={"csrf": csrf(r.text), "card": "C5A",
                                                     "barcode": "2001", "txn": _txn(r.text, "renew")})
    assert r.status_code == 200
    renewed = (TODAY + dt.timedelta(days=28)).strftime("%d.%m.%Y")
    assert f"Продлено: «Денискины рассказы», вернуть до {renewed}" in _text(r.text)

    r = client.post("/desk/circulation/return", data={"csrf": csrf(r.text), "card": "C5A",
                                                      "barcode": "2001", "txn": _txn(r.text, "return")})
    assert r.status_code == 200
    assert "Принято: «Денискины рассказы»" in _text(r.text)
    assert "Читатель: Петрова Аня" in _text(r.text), "back on the reader's panel"
    assert _open_loans(db) == [("C5A", "3001")]

    terminal = {e["kind"]: e["terminal"] for e in _event_rows(db)}
    assert terminal == {"checkout": "desk:marina", "renew": "desk:marina", "return": "desk:marina",
                        "visit": "desk:marina"}
    actions = [(a, d["card"], d["barcode"]) for _who, a, d in _audit(db)]
    assert actions == [("lend", "C5A", "2001"), ("lend", "C5A", "3001"), ("renew", "C5A", "2001"),
                       ("return", "C5A", "2001")]


def _event_rows(db) -> list[dict]:
    from library.storage.models import Event

    with db.session() as s:
        return [{"kind": e.kind, "terminal": e.terminal} for e in s.scalars(select(Event))]


def test_renew_all_renews_each_loan_once(desk):
    make, db = desk
    client = logged_in(make)
    page = _panel(client, "CT")
    page = _lend(client, page, "CT", "2001").text
    page = _lend(client, page, "CT", "3001").text
    form = {"csrf": csrf(page), "card": "CT", "txn": _txn(page, "renew-all")}
    r = client.post("/desk/circulation/renew-all", data=form)
    assert r.status_code == 200
    assert _text(r.text).count("Продлено:") == 2
    again = client.post("/desk/circulation/renew-all", data=form)  # the same form sent twice
    assert _text(again.text).count("Продлено:") == 2
    with db.session() as s:
        from library.storage.models import Loan

        assert sorted(s.scalars(select(Loan.renewals))) == [1, 1]


def test_a_book_scanned_at_the_start_page_is_returned(desk):
    make, db = desk
    client = logged_in(make)
    page = _panel(client, "C5A")
    _lend(client, page, "C5A", "2002")
    start = client.get("/desk/circulation").text
    assert "Денискины" not in start, "the start page forgets the last reader"
    r = client.post("/desk/circulation/return", data={"csrf": csrf(start), "barcode": "2002",
                                                      "txn": _txn(start, "return")})
    assert r.status_code == 200
    assert "Принято: «Денискины рассказы»" in _text(r.text)
    assert "Петрова" not in r.text and "C5A" not in r.text, "a return names no reader"
    assert re.search(r'<input id="scan" name="barcode" type="text" autofocus', r.text)
    assert _open_loans(db) == []
    # the same book again: not on loan, said in words
    r = client.post("/desk/circulation/return", data={"csrf": csrf(r.text), "barcode": "2002",
                                                      "txn": _txn(r.text, "return")})
    assert "Эта книга не выдана" in _text(r.text)


def test_unknown_codes_are_said_in_words(desk):
    make, db = desk
    client = logged_in(make)
    start = client.get("/desk/circulation").text
    r = client.post("/desk/circulation/return", data={"csrf": csrf(start), "barcode": "NOPE-42",
                                                      "txn": _txn(start, "return")})
    assert r.status_code == 200
    assert "Код «NOPE-42» не найден: это не билет читателя и не книга" in _text(r.text)
    assert re.search(r'<input id="scan" name="barcode" type="text" autofocus', r.text)
    page = _panel(client, "C5A")
    r = _lend(client, page, "C5A", "NOPE-42")
    assert "Код «NOPE-42» не найден" in _text(r.text)
    assert "Читатель: Петрова Аня" in _text(r.text)
    r = client.get("/desk/circulation?card=NOBODY")
    assert "Билет не зарегистрирован или не действует" in _text(r.text)
    assert _open_loans(db) == []


def test_blocked_reader_refused_then_overridden_with_a_reason(desk):
    from library.storage.models import Reader

    make, db = desk
    with db.transaction() as s:
        s.execute(update(Reader).where(Reader.card_number == "CBLK").values(block_reason="Порвал книгу"))
    client = logged_in(make)
    page = _panel(client, "CBLK")
    assert "Заблокирован" in _text(page) and "Порвал книгу" in _text(page)
    r = _lend(client, page, "CBLK", "2001")
    assert r.status_code == 200
    text = _text(r.text)
    assert "Читатель заблокирован" in text and "Выдать всё равно" in text
    assert _open_loans(db) == []
    assert 'name="override" value="reader_blocked"' in r.text

    # no reason: refused, the form kept
    form = {"csrf": csrf(r.text), "card": "CBLK", "barcode": "2001",
            "txn": _txn(r.text, "lend"), "override": "reader_blocked", "reason": "",
            "reason_note": "  \x07 "}
    no_reason = client.post("/desk/circulation/lend", data=form)
    assert no_reason.status_code == 400
    assert "Укажите причину" in _text(no_reason.text) and "Выдать всё равно" in no_reason.text
    assert _open_loans(db) == [] and _events(db, "override") == []
    too_long = client.post("/desk/circulation/lend", data={**form, "reason_note": "я" * 201})
    assert too_long.status_code == 400 and "длиннее 200" in _text(too_long.text)
    assert _open_loans(db) == []

    form["txn"] = _txn(no_reason.text, "lend")
    ok = client.post("/desk/circulation/lend", data={**form, "reason": "Разрешение заведующей",
                                                     "reason_note": "до пятницы"})
    assert ok.status_code == 200
    assert "Выдано: «Денискины рассказы»" in _text(ok.text)
    assert "вопреки правилу: Разрешение заведующей: до пятницы" in _text(ok.text)
    assert _open_loans(db) == [("CBLK", "2001")]
    assert _events(db, "override") == [{"action": "checkout", "refusal": "reader_blocked",
                                        "reason": "Разрешение заведующей: до пятницы",
                                        "by": "marina"}]
    rows = [(who, a, d) for who, a, d in _audit(db) if a == "override"]
    assert rows == [("marina", "override", {"card": "CBLK", "barcode": "2001",
                                            "title": "Денискины рассказы", "of": "checkout",
                                            "reason": "Разрешение заведующей: до пятницы"})]
    # the same override form sent again: replayed, nothing twice
    again = client.post("/desk/circulation/lend", data={**form, "reason": "Разрешение заведующей",
                                                        "reason_note": "до пятницы"})
    assert again.status_code == 200
    assert len(_events(db, "override")) == 1 and _open_loans(db) == [("CBLK", "2001")]


def test_renewal_limit_overridden(desk):
    from library.storage.models import Loan

    make, db = desk
    client = logged_in(make)
    page = _lend(client, _panel(client, "C5A"), "C5A", "3001").text
    with db.transaction() as s:
        s.execute(update(Loan).values(renewals=2))
    r = client.post("/desk/circulation/renew", data={"csrf": csrf(page), "card": "C5A",
                                                     "barcode": "3001", "txn": _txn(page, "renew")})
    assert "Книгу уже продлевали 2 раз" in _text(r.text) and "Продлить всё равно" in r.text
    ov = re.search(r'<form method="post" action="/desk/circulation/renew" class="circ-override">(.*?)</form>',
                   r.text, re.S)
    assert ov
    txn = re.search(r'name="txn" value="([^"]+)"', ov.group(1)).group(1)  # type: ignore[union-attr]
    ok = client.post("/desk/circulation/renew", data={
        "csrf": csrf(r.text), "card": "C5A", "barcode": "3001", "txn": txn,
        "override": "renewal_limit", "reason": "Нужна для урока"})
    assert "Продлено: «Анна Каренина»" in _text(ok.text)
    assert _events(db, "override") == [{"action": "renew", "refusal": "renewal_limit",
                                        "reason": "Нужна для урока", "by": "marina"}]


def test_physical_impossibilities_are_never_overridden(desk):
    make, db = desk
    client = logged_in(make)
    _lend(client, _panel(client, "CT"), "CT", "2001")
    page = _panel(client, "C5A")
    r = _lend(client, page, "C5A", "2001")
    assert "выдан другому читателю" in _text(r.text)
    assert "Выдать всё равно" not in r.text
    forced = _lend(client, r.text, "C5A", "2001", override="item_on_loan", reason="Другое",
                   reason_note="очень надо")
    assert "выдан другому читателю" in _text(forced.text)
    assert _open_loans(db) == [("CT", "2001")] and _events(db, "override") == []


def test_age_rating_and_limit_are_overridable(desk):
    make, db = desk
    client = logged_in(make)
    page = _panel(client, "C1B")  # 1Б: seven years old; «Война и мир» is 12+
    r = _lend(client, page, "C1B", "1001")
    assert "Книга для читателей 12+" in _text(r.text) and "Выдать всё равно" in r.text
    assert _open_loans(db) == []
    ok = _lend(client, r.text, "C1B", "1001", override="age_restricted", reason="Другое",
               reason_note="читает с папой")
    assert "Выдано: «Война и мир»" in _text(ok.text)
    assert _events(db, "override")[0]["refusal"] == "age_restricted"


def test_a_replayed_form_lends_once(desk):
    make, db = desk
    client = logged_in(make)
    page = _panel(client, "C5A")
    form = {"csrf": csrf(page), "card": "C5A", "barcode": "2001", "txn": _txn(page)}
    first = client.post("/desk/circulation/lend", data=form)
    second = client.post("/desk/circulation/lend", data=form)  # reload, double Enter
    assert first.status_code == second.status_code == 200
    assert _text(second.text).count("Выдано: «Денискины рассказы»") == 1
    assert _open_loans(db) == [("C5A", "2001")]
    assert len([e for e in _event_rows(db) if e["kind"] == "checkout"]) == 1
    assert [a for _w, a, _d in _audit(db)] == ["lend"]


def test_a_parallel_double_submit_lends_once(desk):
    make, db = desk
    client = logged_in(make)
    page = _panel(client, "C5A")
    form = {"csrf": csrf(page), "card": "C5A", "barcode": "3002", "txn": _txn(page)}
    answers: list[int] = []
    barrier = threading.Barrier(4)

    def send() -> None:
        barrier.wait()
        answers.append(client.post("/desk/circulation/lend", data=form).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert answers == [200] * 4
    assert _open_loans(db) == [("C5A", "3002")]
    assert len([e for e in _event_rows(db) if e["kind"] == "checkout"]) == 1
    assert [a for _w, a, _d in _audit(db)] == ["lend"]


def test_csrf_missing_or_wrong_changes_nothing(desk):
    make, db = desk
    client = logged_in(make)
    page = _panel(client, "C5A")
    for token in ("", "wrong"):
        r = client.post("/desk/circulation/lend", data={"csrf": token, "card": "C5A",
                                                        "barcode": "2001", "txn": _txn(page)})
        assert r.status_code == 403 and "Страница устарела" in r.text
    _lend(client, page, "C5A", "2001")
    for action in ("return", "renew"):
        r = client.post(f"/desk/circulation/{action}", data={"card": "C5A", "barcode": "2001",
                                                             "txn": "a" * 30})
        assert r.status_code == 403
    assert _open_loans(db) == [("C5A", "2001")]
    with db.session() as s:
        from library.storage.models import Loan

        assert s.scalar(select(Loan.renewals)) == 0


def test_hostile_input_is_escaped_and_bounded(desk):
    from library.storage.models import Reader

    make, db = desk
    evil = '<script>alert(1)</script>" onfocus="x'
    with db.transaction() as s:
        s.execute(update(Reader).where(Reader.card_number == "CBLK").values(
            block_reason=evil, first_name="<b>Петя</b>"))
    client = logged_in(make)
    page = _panel(client, "CBLK")
    assert "<script>" not in page and "&lt;script&gt;" in page and "<b>Петя" not in page
    r = _lend(client, page, "CBLK", "<img src=x onerror=alert(1)>")
    assert "<img src=x" not in r.text and "&lt;img src=x" in r.text
    r = _lend(client, r.text, "CBLK", "x" * 10_000)
    assert r.status_code == 400 and "Слишком длинный" in _text(r.text)
    r = _lend(client, r.text, "CBLK", "20\x0001")
    assert r.status_code == 400
    r = client.get("/desk/circulation?card=" + "' OR 1=1 --")
    assert r.status_code == 200 and "не зарегистрирован" in _text(r.text)
    r = client.get("/desk/circulation?card=" + "Z" * 5000)
    assert r.status_code in (400, 422)
    r = _lend(client, _panel(client, "CBLK"), "CBLK", "2001", override="reader_blocked",
              reason="Другое", reason_note="<i>" + "\x1b[31m" + " причина")
    assert "<i>" not in r.text and "Выдано" in _text(r.text)
    assert _events(db, "override")[0]["reason"] == "<i> [31m причина"
    assert _open_loans(db) == [("CBLK", "2001")]


def test_the_next_reader_never_sees_the_last_one(desk):
    make, db = desk
    client = logged_in(make)
    page = _panel(client, "C5A")
    page = _lend(client, page, "C5A", "2001").text
    visit = re.search(r"receipt\?card=C5A&amp;v=([0-9a-f]+)", page).group(1)  # type: ignore[union-attr]
    # another card scanned in the book field: that reader's panel, fresh
    r = client.post("/desk/circulation/lend", data={"csrf": csrf(page), "card": "C5A",
                                                    "barcode": "CT", "txn": _txn(page)})
    assert r.status_code == 303
    nxt = client.get(r.headers["location"]).text
    assert "Иванова Мария" in _text(nxt)
    assert "Петрова" not in nxt and "Денискины" not in nxt and "C5A" not in nxt
    # the last reader's visit id given with the next card shows nothing of it
    other = client.get(f"/desk/circulation?card=CT&v={visit}").text
    assert "Денискины" not in other and "Петрова" not in other
    # nor the receipt
    r = client.get(f"/desk/circulation/receipt?card=CT&v={visit}")
    assert r.status_code == 404 and "Денискины" not in r.text
    # «Закончить»: the start page, empty
    start = client.get("/desk/circulation").text
    assert "Денискины" not in start and "Петрова" not in start and "Иванова" not in start
    # another librarian does not see this desk's visit
    boss = logged_in(make, "boss", "очень-длинный-пароль")
    seen = boss.get(f"/desk/circulation?card=C5A&v={visit}").text
    assert "Выдано" not in seen


def test_the_receipt_names_the_reader_shortly(desk, monkeypatch):
    make, _db = desk
    client = logged_in(make)
    page = _panel(client, "C5A")
    page = _lend(client, page, "C5A", "2001").text
    page = _lend(client, page, "C5A", "3001").text
    link = re.search(r'href="(/desk/circulation/receipt\?[^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = client.get(html.unescape(link))
    assert r.status_code == 200
    text = _text(r.text)
    assert "Читатель: Аня П." in text and "Петрова" not in text
    assert "Денискины рассказы" in text and "Анна Каренина" in text and f"Вернуть до {DUE}" in text
    assert "Всего книг: 2" in text
    assert "Принтер на сервере не настроен" in text and "receipt/print" not in r.text
    r = client.post("/desk/circulation/receipt/print", data={
        "csrf": csrf(r.text), "card": "C5A", "v": re.search(r"v=([0-9a-f]+)", link).group(1)})  # type: ignore[union-attr]
    assert r.status_code == 200 and "Принтер не настроен" in _text(r.text)


def test_a_dead_printer_is_told_quickly(desk, settings):
    import time

    make, _db = desk
    settings.printer.uri = "ipp://127.0.0.1:9/ipp/print"  # nothing listens on the discard port
    client = logged_in(make)
    page = _lend(client, _panel(client, "C5A"), "C5A", "2001").text
    link = html.unescape(re.search(r'href="(/desk/circulation/receipt\?[^"]+)"', page).group(1))  # type: ignore[union-attr]
    receipt = client.get(link)
    assert "Печать на МФУ" in receipt.text
    started = time.monotonic()
    r = client.post("/desk/circulation/receipt/print", data={
        "csrf": csrf(receipt.text), "card": "C5A", "v": re.search(r"v=([0-9a-f]+)", link).group(1)})  # type: ignore[union-attr]
    assert r.status_code == 200
    assert "квитанция не напечатана" in _text(r.text)
    assert time.monotonic() - started < 12


def test_the_receipt_goes_to_a_real_ipp_printer(desk, settings, ipp_printer):
    """«Печать на МФУ» sends the receipt's PDF to ippeveprinter (CUPS' IPP Everywhere printer)."""
    make, _db = desk
    settings.printer.uri = ipp_printer.uri
    client = logged_in(make)
    page = _lend(client, _panel(client, "C5A"), "C5A", "2001").text
    link = html.unescape(re.search(r'href="(/desk/circulation/receipt\?[^"]+)"', page).group(1))  # type: ignore[union-attr]
    receipt = client.get(link)
    assert 'action="/desk/circulation/receipt/print"' in receipt.text
    r = client.post("/desk/circulation/receipt/print", data={
        "csrf": csrf(receipt.text), "card": "C5A", "v": re.search(r"v=([0-9a-f]+)", link).group(1)})  # type: ignore[union-attr]
    assert r.status_code == 200 and "Квитанция отправлена на принтер" in _text(r.text)
    assert spooled_pdf(ipp_printer).startswith(b"%PDF")


def test_a_client_made_transaction_id_shows_its_outcome(desk):
    """A client that makes its own ids (a benchmark, a script) still sees each outcome."""
    import uuid

    make, db = desk
    client = logged_in(make)
    page = client.get("/desk/circulation?card=C5A").text
    r = client.post("/desk/circulation/lend", data={"csrf": csrf(page), "card": "C5A",
                                                    "barcode": "2001", "txn": uuid.uuid4().hex})
    assert r.status_code == 200 and "Выдано: «Денискины рассказы»" in _text(r.text)
    r = client.post("/desk/circulation/return", data={"csrf": csrf(page), "card": "C5A",
                                                      "barcode": "2001", "txn": str(uuid.uuid4())})
    assert r.status_code == 200 and "Принято: «Денискины рассказы»" in _text(r.text)
    assert "Выдано" not in _text(r.text), "each request shows its own outcome"
    r = client.post("/desk/circulation/lend", data={"csrf": csrf(page), "card": "C5A",
                                                    "barcode": "2001", "txn": "x y"})
    assert r.status_code == 400 and _open_loans(db) == []


def test_overdue_loans_and_a_pin_lock_are_shown(desk):
    from library.storage.models import Loan, PinGuard, Reader

    make, db = desk
    client = logged_in(make)
    page = _lend(client, _panel(client, "C5A"), "C5A", "2001").text
    with db.transaction() as s:
        s.execute(update(Loan).values(due_date=TODAY - dt.timedelta(days=3)))
        reader_id = s.scalar(select(Reader.id).where(Reader.card_number == "C5A"))
        s.add(PinGuard(reader_id=reader_id, attempts=5,
                       locked_until=dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=10)))
    page = client.get("/desk/circulation?card=C5A").text
    assert '<tr class="circ-overdue">' in page
    text = _text(page)
    assert "просрочено на 3 дн." in text
    assert "У читателя есть просроченные книги (1)" in text
    assert "Билет заперт после неверных PIN-кодов до" in text
    r = _lend(client, page, "C5A", "3001")
    assert "У читателя есть просроченные книги" in _text(r.text) and "Выдать всё равно" in r.text
    r = client.post("/desk/circulation/renew", data={"csrf": csrf(r.text), "card": "C5A",
                                                     "barcode": "2001", "txn": _txn(r.text, "renew")})
    assert "Книга просрочена: продлить нельзя" in _text(r.text) and "Продлить всё равно" in r.text
    assert _open_loans(db) == [("C5A", "2001")]


def test_a_card_scanned_at_the_desk_counts_one_visit(desk):
    """The reader's card at the desk is a visit (the report's посещаемость), counted like a kiosk
    session: category and class, never the reader; reloading the panel or lending adds none."""
    from library.storage.models import Event

    make, db = desk
    client = logged_in(make)
    page = _panel(client, "C5A")
    _lend(client, page, "C5A", "2002")
    client.get("/desk/circulation?card=C5A")  # a link to the panel is not a new visit
    with db.session() as s:
        visits = s.execute(select(Event.terminal, Event.reader_category, Event.reader_class,
                                  Event.payload).where(Event.kind == "visit")).all()
    assert [(t, c, k, p) for t, c, k, p in visits] == [("desk:marina", "pupil", "7А", {})]
    _panel(client, "C5A")  # the card scanned again: the next visit
    assert len(_events(db, "visit")) == 2


def test_irbis_refusals_are_said_in_the_desks_words():
    """[circulation] backend = "irbis": ИРБИС away or refusing the account is said in Russian on
    the desk (the library's catalogue has no words for the adapter's codes)."""
    from ils.irbis.circulation import IrbisAway, IrbisRefused
    from server.desk import i18n
    from server.desk.circulation_pages import _refusal_text

    token = i18n.set_language("ru")
    try:
        assert _refusal_text(IrbisAway()) == ("Сервер ИРБИС не отвечает: ничего не сделано, "
                                              "повторите через минуту")
        assert _refusal_text(IrbisRefused(reason="irbis_auth")).startswith(
            "Сервер ИРБИС не принял учётную запись библиотеки (irbis_auth)")
    finally:
        i18n.reset_language(token)
