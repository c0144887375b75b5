"""Holds at the librarian's desk over HTTP (TestClient, SQLite and PostgreSQL): placing a hold
from a record's page by a card, the loud «put it on the hold shelf» after a return, the other
reader refused without a name, the reader's panel, expiry from /desk/holds passing a copy to the
next reader, cancel with a reason, the slip, the report's holds figures; login, CSRF, hostile
input, audit rows, replayed forms (docs/HOLDS.md, docs/DESK.md «Заказы»)."""

from __future__ import annotations

import datetime as dt
import html
import re

from sqlalchemy import select, update

from tests.desk.conftest import csrf, logged_in, spooled_pdf
from tests.server.conftest import TODAY


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _txn(page: str, action: str) -> str:
    """The hidden transaction id of the first form posting to `action` (a path fragment)."""
    m = re.search(r'action="[^"]*' + re.escape(action) + r'[^"]*"[^>]*>(.*?)</form>', page, re.S)
    assert m, page
    t = re.search(r'name="txn" value="([^"]+)"', m.group(1))
    assert t, m.group(1)
    return t.group(1)


def _record_id(db, title: str) -> int:
    from library.storage.models import Record

    with db.session() as s:
        return int(s.scalar(select(Record.id).where(Record.title == title)))


def _holds(db) -> list[tuple[str, str, str | None]]:
    """(card, state, copy barcode) of every hold, in id order."""
    from library.storage.models import Copy, Hold, Reader

    with db.session() as s:
        return [(card, state, bc) for card, state, bc in s.execute(
            select(Reader.card_number, Hold.state, Copy.barcode)
            .join(Reader, Hold.reader_id == Reader.id).outerjoin(Copy, Hold.copy_id == Copy.id)
            .order_by(Hold.id)).all()]


def _audit(db, *actions: str) -> list[tuple[str, str, dict]]:
    from server.models import DeskAudit

    with db.session() as s:
        return [(a.actor, a.action, a.detail) for a in s.scalars(
            select(DeskAudit).where(DeskAudit.action.in_(actions)).order_by(DeskAudit.id))]


def _lend_out(client, card: str, *barcodes: str) -> None:
    """Lend copies at the desk (the story's starting point: every copy of a record is out)."""
    for bc in barcodes:
        page = _panel(client, card)
        r = _lend(client, page, card, bc)
        assert r.status_code == 200 and 'id="refusal"' not in r.text, r.text


def _place(client, record_id: int, card: str, page: str | None = None):
    page = page or client.get(f"/desk/catalogue/record/{record_id}").text
    return client.post(f"/desk/catalogue/record/{record_id}/holds", data={
        "csrf": csrf(page), "card": card, "txn": _txn(page, f"/record/{record_id}/holds")})


def _return(client, barcode: str):
    start = client.get("/desk/circulation").text
    return client.post("/desk/circulation/return", data={
        "csrf": csrf(start), "barcode": barcode, "txn": _txn(start, "/desk/circulation/return")})


def _panel(client, card: str) -> str:
    start = client.get("/desk/circulation").text
    r = client.post("/desk/circulation/return", data={
        "csrf": csrf(start), "barcode": card, "txn": _txn(start, "/desk/circulation/return")})
    assert r.status_code == 303, r.text
    return client.get(r.headers["location"]).text


def _lend(client, page: str, card: str, barcode: str):
    return client.post("/desk/circulation/lend", data={
        "csrf": csrf(page), "card": card, "barcode": barcode,
        "txn": _txn(page, "/desk/circulation/lend")})


def test_the_story_at_the_desk(desk):
    make, db = desk
    client = logged_in(make)
    kid = _record_id(db, "Денискины рассказы")
    _lend_out(client, "CT", "2001", "2002")

    # two readers queue from the record's page (a card typed into the field)
    r = _place(client, kid, "C5A")
    assert r.status_code == 200, r.text
    assert "Аня П., 7А — в очереди: 1-й" in _text(r.text.split('id="hold-notice"')[1])
    r = _place(client, kid, "CPIN", r.text)
    assert r.status_code == 200
    page = _text(r.text)
    assert "Аня П., 7А" in page and "Оля О., 9В" in page
    assert 'href="/desk/circulation?card=C5A"' in r.text
    assert _holds(db) == [("C5A", "queued", None), ("CPIN", "queued", None)]
    assert [(a, act, d["card"]) for a, act, d in _audit(db, "hold_place")] == [
        ("marina", "hold_place", "C5A"), ("marina", "hold_place", "CPIN")]

    # the copy comes back at the start page: the loud message names the first reader
    r = _return(client, "2001")
    assert r.status_code == 200, r.text
    assert 'id="hold-notice"' in r.text
    notice = _text(r.text.split('id="hold-notice"')[1].split("</div>")[0])
    assert "Аня П., 7А" in notice and "Оль" not in notice
    assert "Отложите на полку заказов. Ждёт: Аня П., 7А, до 10.10.2026" in notice
    assert re.search(r'href="/desk/holds/\d+/slip"', r.text)
    assert _holds(db)[0] == ("C5A", "waiting", "2001")

    # the second reader cannot take it: refused «set aside for another reader», no name
    panel = _panel(client, "CPIN")
    r = _lend(client, panel, "CPIN", "2001")
    assert r.status_code == 200
    refusal = _text(r.text.split('id="refusal"')[1].split("</div>")[0])
    assert "Книга отложена для другого читателя" in refusal
    assert 'name="override"' not in r.text, "a hold is never waived at the desk"
    assert "Аня" not in r.text and "Петрова" not in r.text and "C5A" not in r.text
    assert "Денискины рассказы Толстой — в очереди: 1-й" in _text(r.text)

    # the first reader's panel shows it waiting and lends it
    panel = _panel(client, "C5A")
    assert 'id="hold-ready-' in panel
    assert "Оля" not in panel and "CPIN" not in panel
    r = _lend(client, panel, "C5A", "2001")
    assert r.status_code == 200 and 'id="refusal"' not in r.text
    assert _holds(db) == [("C5A", "fulfilled", "2001"), ("CPIN", "queued", None)]

    # a third reader queues; the next return waits for CPIN; not picked up → passes on
    r = _place(client, kid, "C1B")
    assert r.status_code == 200, r.text
    r = _return(client, "2002")
    assert "Оля О., 9В" in _text(r.text.split('id="hold-notice"')[1].split("</div>")[0])
    from library.storage.models import Hold

    with db.transaction() as s:
        s.execute(update(Hold).where(Hold.state == "waiting")
                  .values(pickup_until=TODAY - dt.timedelta(days=1)))
    page = client.get("/desk/holds").text
    assert "2002" in _text(page.split('id="hold-shelf"')[1].split("</table>")[0])
    r = client.post("/desk/holds/expire", data={"csrf": csrf(page)})
    assert r.status_code == 200, r.text
    report = _text(r.text.split('id="expire-report"')[1].split("</section>")[0])
    assert "2002" in report and "Ваня С., 1Б" in report
    assert _holds(db)[1:] == [("CPIN", "expired", "2002"), ("C1B", "waiting", "2002")]
    shelf = _text(r.text.split('id="hold-shelf"')[1].split("</table>")[0])
    assert "Ваня С., 1Б" in shelf and "Оля" not in shelf
    rows = _audit(db, "holds_expire")
    assert len(rows) == 1 and rows[0][2]["expired"] == 1 and rows[0][2]["passed"] == 1
    # a second run the same day changes nothing (and says so)
    again = client.post("/desk/holds/expire", data={"csrf": csrf(r.text)})
    assert again.status_code == 200 and 'id="expire-report"' not in again.text
    assert "Делать нечего: ни один заказ не закончился" in _text(again.text)
    assert _holds(db)[1:] == [("CPIN", "expired", "2002"), ("C1B", "waiting", "2002")]

    # the report page shows the holds figures
    now = dt.date.today()  # the events' times are real ones
    rep = client.get(f"/desk/reports?period=custom&from=01.01.{now.year}&to=31.12.{now.year}")
    assert rep.status_code == 200
    figs = _text(rep.text.split('id="hold-figures"')[1].split("</dl>")[0])
    assert re.search(r"Поставлено в очередь 3 ", figs), figs
    assert re.search(r"Выдано по заказу 1 ", figs), figs
    assert re.search(r"Не забрали вовремя 1 ", figs), figs
    # and the report's files (the core's «Заказы» table)
    for fmt in ("csv", "xlsx"):
        f = client.get(f"/desk/reports/download?period=custom&from=01.01.{now.year}"
                       f"&to=31.12.{now.year}&format={fmt}")
        assert f.status_code == 200, fmt
        if fmt == "csv":
            text = f.content.decode("utf-8-sig")
            assert "Поставлено в очередь" in text and "Выдано по заказу" in text
        else:
            import io

            from openpyxl import load_workbook

            cells = [str(c.value) for ws in load_workbook(io.BytesIO(f.content)).worksheets
                     for row in ws.iter_rows() for c in row if c.value is not None]
            assert "Поставлено в очередь" in cells and "Не забрали вовремя" in cells


def _queue_two(client, db) -> int:
    """C5A and CPIN queue for «Денискины рассказы» (both copies lent to CT); the record id."""
    kid = _record_id(db, "Денискины рассказы")
    _lend_out(client, "CT", "2001", "2002")
    for card in ("C5A", "CPIN"):
        r = _place(client, kid, card)
        assert r.status_code == 200 and 'id="hold-notice"' in r.text, r.text
    return kid


def test_no_page_or_action_without_login(desk):
    make, db = desk
    client = make()
    kid = _record_id(db, "Денискины рассказы")
    for url in ("/desk/holds", "/desk/holds/1/cancel", "/desk/holds/1/slip"):
        r = client.get(url)
        assert r.status_code == 303 and r.headers["location"].startswith("/desk/login"), url
    for url, data in ((f"/desk/catalogue/record/{kid}/holds", {"card": "C5A", "txn": "t" * 20}),
                      ("/desk/holds/expire", {}), ("/desk/holds/1/cancel", {"reason": "x"}),
                      ("/desk/holds/1/slip/print", {})):
        r = client.post(url, data={"csrf": "x", **data})
        assert r.status_code == 303 and r.headers["location"].startswith("/desk/login"), url
    assert _holds(db) == []


def test_csrf_missing_or_wrong_changes_nothing(desk):
    make, db = desk
    client = logged_in(make)
    kid = _queue_two(client, db)
    page = client.get(f"/desk/catalogue/record/{kid}").text
    txn = _txn(page, f"/record/{kid}/holds")
    for token in ("", "wrong"):
        r = client.post(f"/desk/catalogue/record/{kid}/holds",
                        data={"csrf": token, "card": "C1B", "txn": txn})
        assert r.status_code == 403
        hold_id = re.search(r'/desk/holds/(\d+)/cancel', page).group(1)  # type: ignore[union-attr]
        r = client.post(f"/desk/holds/{hold_id}/cancel", data={
            "csrf": token, "txn": "t" * 30, "reason": "The reader asked"})
        assert r.status_code == 403
        r = client.post("/desk/holds/expire", data={"csrf": token})
        assert r.status_code == 403
    assert _holds(db) == [("C5A", "queued", None), ("CPIN", "queued", None)]
    assert _audit(db, "hold_cancel", "holds_expire") == []
    assert len(_audit(db, "hold_place")) == 2


def test_a_replayed_place_form_places_once(desk):
    make, db = desk
    client = logged_in(make)
    kid = _record_id(db, "Денискины рассказы")
    _lend_out(client, "CT", "2001", "2002")
    page = client.get(f"/desk/catalogue/record/{kid}").text
    form = {"csrf": csrf(page), "card": "C5A", "txn": _txn(page, f"/record/{kid}/holds")}
    first = client.post(f"/desk/catalogue/record/{kid}/holds", data=form)
    again = client.post(f"/desk/catalogue/record/{kid}/holds", data=form)
    assert first.status_code == again.status_code == 200
    assert "Уже сделано (форма отправлена повторно)" in _text(again.text)
    assert _holds(db) == [("C5A", "queued", None)]
    assert len(_audit(db, "hold_place")) == 1
    # a new form for the same reader: refused in words next to the field, form kept
    r = _place(client, kid, "C5A")
    assert r.status_code == 409
    err = _text(r.text.split('id="hold-error"')[1].split("</p>")[0])
    assert "Читатель уже стоит в очереди на эту книгу" in err
    assert 'value="C5A"' in r.text and "autofocus" in r.text.split('id="hold-card"')[1].split(">")[0]


def test_place_refusals_are_said_next_to_the_field(desk):
    make, db = desk
    client = logged_in(make)
    anna = _record_id(db, "Анна Каренина")
    r = _place(client, anna, "C5A")  # both copies on the shelf
    assert r.status_code == 409
    assert "Экземпляр есть на полке" in _text(r.text.split('id="hold-error"')[1].split("</p>")[0])
    _lend_out(client, "CT", "3001", "3002")
    for card, words in (("CBLK", "Читатель заблокирован"), ("NOPE", "NOPE"), ("CT", "Эта книга уже у читателя")):
        r = _place(client, anna, card)
        assert r.status_code == 409, card
        assert words in _text(r.text.split('id="hold-error"')[1].split("</p>")[0]), card
    assert _holds(db) == []
    assert _audit(db, "hold_place") == []


def test_hostile_input(desk):
    make, db = desk
    client = logged_in(make)
    kid = _queue_two(client, db)
    page = client.get(f"/desk/catalogue/record/{kid}").text
    for card, status in (("C5A\x00\x1b[2J" + "x" * 10_000, 400), ("<script>alert(1)</script>", 409),
                         ("' OR 1=1 --", 409), ("", 400)):
        r = client.post(f"/desk/catalogue/record/{kid}/holds", data={
            "csrf": csrf(page), "card": card, "txn": _txn(page, f"/record/{kid}/holds")})
        assert r.status_code == status, (card[:20], r.text)
        assert "<script>alert" not in r.text and "\x1b" not in r.text
    r = client.post(f"/desk/catalogue/record/{kid}/holds", data={
        "csrf": csrf(page), "card": "C1B", "txn": "bad txn with spaces"})
    assert r.status_code == 400
    for url in ("/desk/holds/999999/cancel", "/desk/holds/99999999999999999999/cancel",
                "/desk/holds/abc/slip", "/desk/holds/-1/slip", "/desk/catalogue/record/999999"):
        assert client.get(url).status_code in (404, 422), url
    hold_id = re.search(r'/desk/holds/(\d+)/cancel', page).group(1)  # type: ignore[union-attr]
    # a hostile «back» goes to the holds page, never elsewhere; a hostile note is kept escaped
    form = client.get(f"/desk/holds/{hold_id}/cancel?back=https://evil.example/").text
    assert 'name="back" value="/desk/holds"' in form
    r = client.post(f"/desk/holds/{hold_id}/cancel", data={
        "csrf": csrf(form), "txn": _txn(form, "/cancel"), "reason": "Other",
        "note": "<b>x</b>\x07" + "я" * 5000, "back": "//evil.example/"})
    assert r.status_code == 303 and r.headers["location"] == "/desk/holds"
    (_a, _act, detail), = _audit(db, "hold_cancel")
    assert detail["reason"].startswith("<b>x</b>я") and len(detail["reason"]) <= 200
    assert "\x07" not in detail["reason"]
    assert _holds(db) == [("C5A", "cancelled", None), ("CPIN", "queued", None)]
    assert _holds(db)[1] == ("CPIN", "queued", None)


def test_cancel_with_a_reason_passes_the_copy_on(desk):
    make, db = desk
    client = logged_in(make)
    kid = _queue_two(client, db)
    _return(client, "2001")  # waits for C5A
    panel = _panel(client, "C5A")
    m = re.search(r'action="/desk/holds/(\d+)/cancel" class="holds-cancel-form">\s*'
                  r'<input type="hidden" name="back" value="([^"]+)">', panel)
    assert m, panel
    hold_id, back = m.group(1), html.unescape(m.group(2))
    form = client.get(f"/desk/holds/{hold_id}/cancel", params={"back": back})
    assert form.status_code == 200
    assert "Аня П., 7А" in _text(form.text) and "ждёт на полке заказов до 10.10.2026" in _text(form.text)
    # no reason: refused in words, nothing changed
    r = client.post(f"/desk/holds/{hold_id}/cancel", data={
        "csrf": csrf(form.text), "txn": _txn(form.text, "/cancel"), "reason": "Other", "note": " ",
        "back": "/desk/holds"})
    assert r.status_code == 400 and "Выберите или напишите причину" in _text(r.text)
    assert _holds(db)[0] == ("C5A", "waiting", "2001")
    data = {"csrf": csrf(form.text), "txn": _txn(form.text, "/cancel"),
            "reason": "The reader asked", "note": "уезжает",
            "back": html.unescape(re.search(r'name="back" value="([^"]+)"',  # type: ignore[union-attr]
                                            form.text).group(1))}
    r = client.post(f"/desk/holds/{hold_id}/cancel", data=data)
    assert r.status_code == 303 and r.headers["location"].startswith("/desk/circulation?card=C5A")
    again = client.post(f"/desk/holds/{hold_id}/cancel", data=data)  # a replay: once
    assert again.status_code == 303
    assert _holds(db) == [("C5A", "cancelled", "2001"), ("CPIN", "waiting", "2001")]
    rows = _audit(db, "hold_cancel")
    assert len(rows) == 1 and rows[0][2]["reason"] == "Читатель попросил: уезжает"
    assert rows[0][2]["hold"] == int(hold_id)
    # the panel no longer lists it; the record's queue shows CPIN waiting
    assert "Заказов нет" in _text(client.get(r.headers["location"]).text)
    rec = client.get(f"/desk/catalogue/record/{kid}").text
    queue = _text(rec.split('id="hold-queue"')[1].split("</table>")[0])
    assert "Оля О., 9В" in queue and "ждёт на полке заказов до 10.10.2026" in queue and "Аня" not in queue


def test_the_slip_page_and_the_printer(desk):
    make, db = desk
    client = logged_in(make)
    _queue_two(client, db)
    r = _return(client, "2001")
    slip_url = re.search(r'href="(/desk/holds/\d+/slip)"', r.text).group(1)  # type: ignore[union-attr]
    page = client.get(slip_url)
    assert page.status_code == 200
    slip = _text(page.text.split('id="slip"')[1].split("</div>")[0])
    assert "ЗАКАЗ" in slip and "Для: Аня П., 7А" in slip and "Денискины рассказы" in slip
    assert "Штрихкод: 2001" in slip and "Ждёт до 10.10.2026" in slip
    assert 'id="no-printer"' in page.text  # the test settings have no printer
    r = client.post(slip_url + "/print", data={"csrf": csrf(page.text)})
    assert r.status_code == 200 and "Принтер не настроен" in _text(r.text)
    # the slip's PDF (what the network printer gets)
    import datetime as _dt
    from pathlib import Path

    from server.desk.holds_common import Slip

    def pdf(tmp: Path) -> bytes:
        return Slip("Школа", "Аня П., 7А", "Денискины рассказы", "2001", TODAY,
                    _dt.datetime(2026, 10, 5, 10, 0)).pdf(tmp / "s.pdf").read_bytes()

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        assert pdf(Path(tmp)).startswith(b"%PDF")
    # a slip for a hold that waits for nothing: 404
    assert client.get("/desk/holds/999/slip").status_code == 404


def test_an_offline_return_is_flagged_on_the_hold_shelf(desk):
    make, db = desk
    client = logged_in(make)
    _queue_two(client, db)
    from server.desk.web import state  # noqa: F401  (the app's own service below)

    svc = client.app.state.ibc.circulation  # type: ignore[attr-defined]
    out = svc.checkin("2001", "offline-forwarded-1", terminal="kiosk-1", offline=True)
    assert out.hold_for == "Аня П., 7А"
    page = client.get("/desk/holds").text
    shelf = _text(page.split('id="hold-shelf"')[1].split("</table>")[0])
    assert "вернули без связи — найдите на тележке возврата" in shelf and "2001" in shelf
    assert "Очереди: книги, которых ждут читатели (1)" in _text(page)


def test_the_desk_hold_words_agree_with_the_report():
    """The report page's holds figures read in Russian exactly as the report's «Заказы» table
    (library.reports.tables, which stays Russian in the PDF/XLSX/CSV)."""
    from library.reports.tables import _holds_table
    from server.desk import i18n
    from server.desk.reports_pages import HOLD_LABELS

    (table,) = _holds_table({"placed": 1, "waiting": 1, "fulfilled": 1, "expired": 1,
                             "cancelled": 1, "median_wait_days": 2.5})
    token = i18n.set_language("ru")
    try:
        assert [i18n._(v) for v in HOLD_LABELS.values()] == [row[0] for row in table.rows]
    finally:
        i18n.reset_language(token)
    assert table.rows[-1][1] == "2,5"


def test_a_dead_printer_is_told_quickly(desk, settings):
    import time

    make, db = desk
    settings.printer.uri = "ipp://127.0.0.1:9/ipp/print"  # nothing listens on the discard port
    client = logged_in(make)
    _queue_two(client, db)
    r = _return(client, "2001")
    box = r.text.split('id="hold-notice"')[1].split("</div>\n</div>")[0]
    assert "Печать квитанции заказа на МФУ" in box
    action = re.search(r'action="(/desk/holds/\d+/slip/print)"', box).group(1)  # type: ignore[union-attr]
    started = time.monotonic()
    done = client.post(action, data={"csrf": csrf(r.text)})
    assert done.status_code == 200
    assert "квитанция не напечатана" in _text(done.text)
    assert time.monotonic() - started < 12


def test_the_slip_goes_to_a_real_ipp_printer(desk, settings, ipp_printer):
    """«Печать квитанции заказа на МФУ» sends the slip's PDF to ippeveprinter (CUPS)."""
    make, db = desk
    settings.printer.uri = ipp_printer.uri
    client = logged_in(make)
    _queue_two(client, db)
    r = _return(client, "2001")
    action = re.search(r'action="(/desk/holds/\d+/slip/print)"', r.text).group(1)  # type: ignore[union-attr]
    done = client.post(action, data={"csrf": csrf(r.text)})
    assert done.status_code == 200 and "Квитанция отправлена на принтер" in _text(done.text)
    assert spooled_pdf(ipp_printer).startswith(b"%PDF")


def test_a_return_on_a_readers_panel_says_it_too(desk):
    """«Вернуть» on the lender's panel: the loud message names the waiting reader (the librarian
    must know where the book goes), and nothing else of that reader is on the panel."""
    make, db = desk
    client = logged_in(make)
    _queue_two(client, db)
    panel = _panel(client, "CT")
    r = client.post("/desk/circulation/return", data={
        "csrf": csrf(panel), "card": "CT", "barcode": "2002",
        "txn": _txn(panel, "/desk/circulation/return")})
    assert r.status_code == 200
    notice = _text(r.text.split('id="hold-notice"')[1].split("</div>")[0])
    assert "Отложите на полку заказов. Ждёт: Аня П., 7А, до 10.10.2026" in notice
    assert "C5A" not in r.text and "Петрова" not in r.text
    assert "Иванова Мария" in _text(r.text)  # still the lender's panel
    assert _holds(db)[0] == ("C5A", "waiting", "2002")


def test_the_holds_pages_in_english(desk):
    make, db = desk
    client = logged_in(make)
    _queue_two(client, db)
    r = _return(client, "2001")
    slip = re.search(r'href="(/desk/holds/\d+/slip)"', r.text).group(1)  # type: ignore[union-attr]
    assert client.get("/desk/lang/en", params={"next": "/desk/holds"}).status_code == 303
    page = _text(client.get("/desk/holds").text)
    assert "The hold shelf: books waiting for readers (1)" in page and "Process ended holds" in page
    r = _return(client, "2001")  # a second scan: the same notice, nothing changed
    assert "Put it on the hold shelf: for Аня П., 7А, until 10.10.2026" in _text(r.text)
    assert "HOLD" in _text(client.get(slip).text)
    rec = _text(client.get(f"/desk/catalogue/record/{_record_id(db, 'Денискины рассказы')}").text)
    assert "Place a hold for a reader: the reader's card" in rec and "in the queue: no. 1" in rec
    assert _holds(db) == [("C5A", "waiting", "2001"), ("CPIN", "queued", None)]


def test_not_picked_up_and_nobody_next_goes_to_take_off_today(desk):
    make, db = desk
    client = logged_in(make)
    kid = _record_id(db, "Денискины рассказы")
    _lend_out(client, "CT", "2001", "2002")
    assert _place(client, kid, "C5A").status_code == 200
    _return(client, "2001")
    from library.storage.models import Copy, Hold

    with db.transaction() as s:
        s.execute(update(Hold).values(pickup_until=TODAY - dt.timedelta(days=1)))
    page = client.get("/desk/holds").text
    r = client.post("/desk/holds/expire", data={"csrf": csrf(page)})
    report = _text(r.text.split('id="expire-report"')[1].split("</section>")[0])
    assert "Снимите эти книги с полки заказов и поставьте на место" in report and "2001" in report
    take_off = _text(r.text.split('id="take-off"')[1].split("</table>")[0])
    assert "2001" in take_off and "Денискины рассказы" in take_off and "Аня П., 7А" in take_off
    assert "На полке заказов книг нет." in _text(r.text.split('id="hold-shelf"')[1].split("</table>")[0])
    with db.session() as s:
        assert s.scalar(select(Copy.status).where(Copy.barcode == "2001")) == "available"
    # later the same day the list still says what to take off
    again = _text(client.get("/desk/holds").text.split('id="take-off"')[1].split("</table>")[0])
    assert "2001" in again
