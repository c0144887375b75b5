"""Holds at the kiosk (issue 19): the record page's «Встать в очередь» (HoldPresenter behind the
card gate), «Тебя ждёт книга» after the card (checkout, «Мои книги»), the holds on «Мои книги»
with «Отменить», the loud return notice with its hold slip, and the ``reserved`` refusal; over
the fakes, which follow the core's rules (library.circulation.holds)."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.presenters.checkin import ReturnPresenter
from kiosk.presenters.checkout import CheckoutPresenter
from kiosk.presenters.holds import HoldPresenter, place_refusal, queued_text
from kiosk.presenters.loans import LoansPresenter
from kiosk.presenters.record import RecordPresenter

from .conftest import TODAY

ALICE = 8  # «Алиса в Стране чудес»: its one copy 200010 is out with Аня (100003)
MASHA, OLYA, ANYA, TEACHER = "100001", "100004", "100003", "100005"


def _queue(circ, card: str, reader=None) -> HoldPresenter:
    p = HoldPresenter(circ, terminal="kiosk-1")
    p.start(ALICE, "Алиса в Стране чудес", reader)
    if reader is None:
        p.scan(card)
    return p


def test_the_record_page_offers_the_queue_only_when_every_copy_is_out(fakes):
    catalogue, _circ, _printer = fakes
    alice = RecordPresenter(catalogue.record(ALICE))
    assert alice.can_queue
    assert "Встать в очередь" in alice.how_to_take
    assert not RecordPresenter(catalogue.record(1)).can_queue  # on the shelf
    assert not RecordPresenter(catalogue.record(4)).can_queue  # reading room only


def test_a_pupil_queues_after_the_card(fakes):
    _catalogue, circ, _printer = fakes
    met = []
    p = HoldPresenter(circ, terminal="kiosk-1", on_reader=met.append)
    p.start(ALICE, "Алиса в Стране чудес", None)
    assert p.state == "card" and "Алиса в Стране чудес" in p.heading
    p.scan(MASHA)
    assert p.state == "done" and [r.card for r in met] == [MASHA]
    assert p.flash is not None and p.flash.ok is True
    assert p.flash.text == ("Ты в очереди: 1-й. Когда книгу вернут, она будет ждать тебя на "
                            "полке заказов.")
    second = _queue(circ, TEACHER)
    assert second.flash is not None
    assert second.flash.text.startswith("Вы в очереди: 2-й.")  # «Вы» to a teacher
    assert [h.position for h in circ.holds(TEACHER)] == [2]


def test_the_session_reader_queues_without_a_second_card(fakes):
    _catalogue, circ, _printer = fakes
    masha = circ.find_reader(MASHA)
    p = _queue(circ, MASHA, reader=masha)
    assert p.state == "done" and p.placed is not None and p.placed.position == 1
    again = _queue(circ, MASHA, reader=masha)
    assert again.flash is not None and again.flash.ok is False
    assert again.flash.text == "Ты уже в очереди за этой книгой."


def test_a_reader_with_a_pin_types_it_first(fakes):
    _catalogue, circ, _printer = fakes
    p = _queue(circ, OLYA)
    assert p.state == "pin" and p.heading == "Введи PIN-код"
    for key in "1111":
        p.press_pin(key)
    p.press_pin("ok")
    assert p.state == "pin" and p.flash is not None and p.flash.ok is False
    assert circ.holds(OLYA) == []
    for key in "4321":
        p.press_pin(key)
    assert p.press_pin("ok") is not None
    assert p.state == "done" and [h.position for h in circ.holds(OLYA)] == [1]


@pytest.mark.parametrize(("record_id", "card", "words"), [
    (1, MASHA, "Книга на полке — возьми её!"),
    (ALICE, ANYA, "Эта книга уже у тебя."),
    (ALICE, "100002", "Твой билет заблокирован: встать в очередь нельзя. Поговори с "
                      "библиотекарем."),
])
def test_refusals_are_said_in_words(fakes, record_id, card, words):
    _catalogue, circ, _printer = fakes
    p = HoldPresenter(circ)
    p.start(record_id, "Книга", None)
    p.scan(card)
    assert p.state == "done" and p.flash is not None
    assert (p.flash.text, p.flash.ok) == (words, False)


def test_refusal_words_for_every_code():
    assert place_refusal("hold_limit", params={"count": 3}).startswith("Ты уже в очереди за "
                                                                       "книгами: 3.")
    assert place_refusal("offline_refused", True).startswith("Нет связи с сервером: встать в "
                                                             "очередь сейчас нельзя. Попробуйте")
    assert place_refusal("age_restricted") == ("Эта книга для читателей постарше: встать за "
                                               "ней в очередь нельзя.")
    assert place_refusal("something_new") == ("Встать в очередь за этой книгой здесь нельзя. "
                                              "Спроси библиотекаря.")


def test_the_story_return_notice_reserved_and_lent(fakes, bridged):
    """Маша queues; Аня returns the copy → the loud notice names Маша and a slip prints; Петя
    the teacher is refused the copy; Маша's card says the book waits, she takes it."""
    _catalogue, circ, printer = fakes
    _queue(circ, MASHA)
    returns = ReturnPresenter(circ, terminal="kiosk-1", today=lambda: TODAY, printer=printer,
                              school="Гимназия № 5")
    flash = returns.scan("200010")
    assert flash is not None and flash.loud and flash.ok is None
    assert flash.text == ("Алиса в Стране чудес\nНе ставь на тележку! Отложи эту книгу на полку "
                          "заказов: её ждёт Маша И., 5А. До 11 марта.")
    assert returns.items[-1].loud and "тележку возврата" not in returns.items[-1].text
    slip = returns.slip
    assert slip is not None and (slip.reader, slip.barcode) == ("Маша И., 5А", "200010")
    assert "Для: Маша И., 5А" in slip.text() and "Ждёт до: 11.03.2025" in slip.text()
    assert bridged(returns.slip_job(), lambda ok, err: returns.slip_done(slip, bool(ok)))
    assert printer.printed == [slip]
    assert returns.flash is not None and returns.flash.text.endswith(
        "Возьми листок из принтера и вложи его в книгу.")

    teacher = CheckoutPresenter(circ, printer)
    teacher.scan(TEACHER)
    assert teacher.holds_note == ""
    teacher.scan("200010")
    assert teacher.items[-1].ok is False
    assert teacher.items[-1].text == ("Эта книга отложена для другого читателя. Передайте её "
                                      "библиотекарю.")

    masha = CheckoutPresenter(circ, printer)
    masha.scan(MASHA)
    assert masha.holds_note == ("Тебя ждёт книга: «Алиса в Стране чудес», полка заказов у стола "
                                "библиотекаря, до 11 марта.")
    masha.scan("200010")
    assert masha.items[-1].ok is True and masha.holds_note == ""
    assert circ.holds(MASHA) == []


def test_a_teacher_returning_hears_the_formal_notice_and_a_jammed_printer(fakes, bridged):
    from kiosk.fakes import FakePrinter

    _catalogue, circ, _printer = fakes
    _queue(circ, MASHA)
    returns = ReturnPresenter(circ, today=lambda: TODAY, printer=FakePrinter(working=False))
    returns.formal = True
    flash = returns.scan("200010")
    assert flash is not None and flash.text.split("\n")[1].startswith("Не ставьте на тележку! "
                                                                      "Отложите")
    slip = returns.slip
    bridged(returns.slip_job(), lambda ok, err: returns.slip_done(slip, bool(ok)))
    assert returns.flash is not None and returns.flash.text.endswith(
        "Листок не напечатался: отдайте книгу библиотекарю.")
    plain = ReturnPresenter(circ, today=lambda: TODAY)  # no printer: no slip job
    plain.scan("200001")
    assert plain.slip is None and plain.slip_job() is None


def test_my_books_lists_holds_and_cancels_one(fakes):
    _catalogue, circ, _printer = fakes
    _queue(circ, MASHA)
    _queue(circ, TEACHER)
    p = LoansPresenter(circ, today=lambda: TODAY, terminal="kiosk-1")
    p.scan(TEACHER)
    assert p.state == "list"
    assert [(r.title, r.text, r.waiting) for r in p.hold_rows] == [
        ("Алиса в Стране чудес", "В очереди: 2-й", False)]
    assert p.heading == "Мария Петровна, книг у Вас сейчас нет; Ваша очередь:"
    flash = p.cancel_hold(p.hold_rows[0].hold_id)
    assert (flash.text, flash.ok) == ("Готово: Вы больше не в очереди.", True)
    assert p.notice is flash and p.hold_rows == []
    assert circ.holds(TEACHER) == [] and [h.position for h in circ.holds(MASHA)] == [1]


def test_my_books_says_a_book_waits_and_refuses_another_readers_hold(fakes):
    _catalogue, circ, _printer = fakes
    _queue(circ, MASHA)
    circ.checkin("200010", "ret-1")
    p = LoansPresenter(circ, today=lambda: TODAY)
    p.scan(MASHA)
    assert p.holds_note.startswith("Тебя ждёт книга: «Алиса в Стране чудес»")
    row = p.hold_rows[0]
    assert row.waiting and row.text == ("Ждёт тебя: полка заказов у стола библиотекаря, до 11 "
                                        "марта")
    other = LoansPresenter(circ, today=lambda: TODAY)
    other.scan(ANYA)
    from kiosk.presenters.holds import cancel

    refused = cancel(circ, ANYA, row.hold_id, None)
    assert refused.ok is False and refused.text == "Очередь не отменена. Спроси библиотекаря."
    assert circ.holds(MASHA)[0].state == "waiting"


def test_words_use_the_librarys_shelf_note(fakes):
    from dataclasses import replace

    _catalogue, circ, _printer = fakes
    circ.hold_rules = replace(circ.hold_rules, shelf_note="стеллаж «Заказы» у окна")
    placed = circ.place_hold(MASHA, ALICE, "t-1")
    assert queued_text(placed).startswith("Ты в очереди: 1-й.")
    circ.checkin("200010", "ret-1")
    p = CheckoutPresenter(circ, None)  # type: ignore[arg-type]
    p.scan(MASHA)
    assert p.holds_note == ("Тебя ждёт книга: «Алиса в Стране чудес», стеллаж «Заказы» у окна, "
                            "до 11 марта.")
    assert circ.holds(MASHA)[0].pickup_until == dt.date(2025, 3, 11)


def test_the_story_on_the_real_core(db):
    """The standalone kiosk's port is CirculationService itself: the same screens over the
    database (SQLite and PostgreSQL), hold rules and all."""
    from config.settings import load_settings
    from library.circulation.service import CirculationService
    from library.storage.models import Copy, Reader, Record

    day = dt.date(2026, 10, 5)  # a Monday
    with db.transaction() as s:
        rec = Record(key="alice", title="Алиса в Стране чудес", authors=["Кэрролл, Льюис"],
                     version=1)
        rec.copies.append(Copy(sigla="ИБЦ", barcode="A1", status="available", version=1))
        s.add(rec)
        s.add_all([Reader(card_number="R1", first_name="Анна", last_name="Котова",
                          class_name="5А"),
                   Reader(card_number="R2", first_name="Ваня", last_name="Сидоров",
                          class_name="6Б"),
                   Reader(card_number="T1", first_name="Мария", last_name="Иванова",
                          category="teacher")])
        s.flush()
        record_id = rec.id
    st = load_settings(environ={})
    svc = CirculationService.from_settings(db, st.circulation, today=lambda: day,
                                           holds_settings=st.holds)
    svc.checkout("T1", "A1", "lend-a1")
    anna = HoldPresenter(svc, terminal="kiosk-1")
    anna.start(record_id, "Алиса в Стране чудес", None)
    anna.scan("R1")
    assert anna.flash is not None and anna.flash.text.startswith("Ты в очереди: 1-й.")
    vanya = HoldPresenter(svc)
    vanya.start(record_id, "Алиса в Стране чудес", None)
    vanya.scan("R2")
    assert vanya.flash is not None and vanya.flash.text.startswith("Ты в очереди: 2-й.")
    returns = ReturnPresenter(svc, today=lambda: day)
    returns.formal = True  # the teacher returns it after showing her card
    flash = returns.scan("A1")
    assert flash is not None and flash.loud
    assert "Не ставьте на тележку! Отложите эту книгу на полку заказов: её ждёт Анна К., 5А. " \
           "До 10 октября." in flash.text
    other = CheckoutPresenter(svc, None)  # type: ignore[arg-type]
    other.scan("R2")
    other.scan("A1")
    assert other.items[-1].ok is False and "другого читателя" in other.items[-1].text
    loans = LoansPresenter(svc, today=lambda: day)
    loans.scan("R2")
    assert [r.text for r in loans.hold_rows] == ["В очереди: 1-й"]
    taker = CheckoutPresenter(svc, None)  # type: ignore[arg-type]
    taker.scan("R1")
    assert taker.holds_note.startswith("Тебя ждёт книга: «Алиса в Стране чудес», полка заказов")
    taker.scan("A1")
    assert taker.items[-1].ok is True and taker.holds_note == ""
    assert svc.holds("R1") == [] and svc.holds("R2")[0].position == 1


def test_the_place_in_the_queue_in_both_languages():
    from kiosk import i18n
    from kiosk.presenters.holds import ordinal

    assert [ordinal(n) for n in (1, 2, 11)] == ["1-й", "2-й", "11-й"]
    i18n.set_language("en")
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"]


def test_renewal_held_and_the_irbis_codes_are_said_in_words():
    """A renewal refused while others queue (code renewal_held) and the school's ИРБИС away or
    refusing (standalone kiosk with [circulation] backend = "irbis") get their own words, not the
    generic «ask the librarian» or, for a return, «not from our library»."""
    from kiosk.presenters.messages import refusal, renewal_refusal, return_refusal

    assert renewal_refusal("renewal_held") == "Эту книгу ждёт другой читатель. Пожалуйста, верни её."
    assert refusal("irbis_unavailable").startswith("Библиотечная система сейчас не отвечает.")
    assert refusal("irbis_refused", True).endswith("отдайте её библиотекарю.")
    assert return_refusal("irbis_unavailable") == ("Библиотечная система сейчас не отвечает. "
                                                   "Отдай книгу библиотекарю.")
