"""The inter-school request at the kiosk (docs/HOLDS.md «Pickup school and inter-school
requests»): the record page's «Попросить из другой школы» for a book only another school has,
the answer «Книгу привезут из другой школы (Гимназия № 5)…», «Мои книги» with the request's
state, and the loud «отложи для отправки» of another school's book returned here; over the
fakes, which follow the core's rules (library.circulation.holds)."""

from __future__ import annotations

from kiosk.fakes import ELSEWHERE_ID
from kiosk.presenters.checkin import ReturnPresenter
from kiosk.presenters.holds import HoldPresenter, hold_rows, send_home_notice, wanted_notice
from kiosk.presenters.record import RecordPresenter
from kiosk.services import CopyView, RecordView, SchoolCopies
from library.circulation.flows import ItemResult
from library.circulation.values import LoanOutcome

from .conftest import TODAY

MASHA, TEACHER = "100001", "100005"
GYM = SchoolCopies("ГИМН5", "Гимназия № 5", 1, 1)


def test_the_record_page_offers_a_request_only_when_no_copy_is_here(fakes):
    catalogue, _circ, _printer = fakes
    page = RecordPresenter(catalogue.record(ELSEWHERE_ID))
    assert page.can_request and not page.can_queue
    assert page.hold_label == "Попросить из другой школы"
    assert page.summary == "Эта книга есть только в других школах"
    assert page.schools == ["В других школах: Гимназия № 5 — 1 на полке"]
    assert "Нажми «Попросить из другой школы»" in page.how_to_take
    ours_out = RecordView(1, "Война и мир", copies=(CopyView("A1", "on_loan"),),
                          schools=(SchoolCopies("ИБЦ", "Школа № 1", 0, 1, own=True), GYM))
    assert not RecordPresenter(ours_out).can_request  # ours are out: «Встать в очередь»
    assert RecordPresenter(ours_out).hold_label == "Встать в очередь"
    alone = RecordView(2, "Ничья книга")  # no school has it: no button at all
    assert not RecordPresenter(alone).can_request and not RecordPresenter(alone).can_queue
    assert not RecordPresenter(catalogue.record(1)).can_request  # a single school: as before


def test_a_pupil_asks_another_school_behind_the_card(fakes):
    _catalogue, circ, _printer = fakes
    p = HoldPresenter(circ, terminal="kiosk-1")
    p.start(ELSEWHERE_ID, "Тимур и его команда", None, asking=True)
    assert p.heading == ("Покажи читательский билет, чтобы попросить книгу «Тимур и его "
                         "команда» из другой школы")
    p.scan(MASHA)
    assert p.state == "done" and p.flash is not None and p.flash.ok is True
    assert p.flash.text == ("Книгу привезут из другой школы (Гимназия № 5). Мы скажем, когда "
                            "она будет ждать тебя.")
    teacher = HoldPresenter(circ, terminal="kiosk-1")
    teacher.start(ELSEWHERE_ID, "Тимур и его команда", None, asking=True)
    teacher.scan(TEACHER)
    assert teacher.flash is not None and teacher.flash.text.endswith("будет ждать Вас.")
    again = HoldPresenter(circ, terminal="kiosk-1")
    again.start(ELSEWHERE_ID, "Тимур и его команда", None, asking=True)
    again.scan(MASHA)
    assert again.flash is not None and again.flash.text == "Ты уже в очереди за этой книгой."


def test_my_books_say_where_the_request_is(fakes):
    _catalogue, circ, _printer = fakes
    p = HoldPresenter(circ, terminal="kiosk-1")
    p.start(ELSEWHERE_ID, "Тимур и его команда", None, asking=True)
    p.scan(MASHA)
    rows = hold_rows(circ.holds(MASHA))
    assert [(r.title, r.text) for r in rows] == [
        ("Тимур и его команда", "Попросили из другой школы: Гимназия № 5")]
    circ.send_request(rows[0].hold_id)  # the gymnasium's desk sent it
    assert [r.text for r in hold_rows(circ.holds(MASHA))] == [
        "Едет из другой школы: Гимназия № 5"]


def test_another_schools_book_returned_here_is_set_aside_loudly(fakes):
    _catalogue, circ, _printer = fakes
    out = LoanOutcome("checkin", "t1", 7, "G1", "Тимур и его команда", "Гайдар", None,
                      send_to="Гимназия № 5")
    assert send_home_notice(out) == ("Эта книга из другой школы (Гимназия № 5): отложи её для "
                                     "отправки.")
    assert send_home_notice(out, formal=True).endswith("отложите её для отправки.")
    assert send_home_notice(LoanOutcome("checkin", "t2", 8, "A1", "Книга", "", None)) == ""
    returns = ReturnPresenter(circ, terminal="kiosk-1", today=lambda: TODAY)
    returns.item_done(ItemResult("G1", out))
    assert returns.flash is not None and returns.flash.loud and returns.flash.ok is None
    assert returns.flash.text == ("Тимур и его команда\nЭта книга из другой школы (Гимназия № 5): "
                                  "отложи её для отправки.")
    assert returns.items[-1].loud and returns.slip is None


def test_a_book_another_school_asks_for_goes_to_the_librarian(fakes):
    _catalogue, circ, _printer = fakes
    out = LoanOutcome("checkin", "t1", 7, "A1", "Тимур и его команда", "Гайдар", None,
                      wanted_by="Школа № 2")
    assert wanted_notice(out) == "Эту книгу просит другая школа (Школа № 2): отдай её библиотекарю."
    assert wanted_notice(out, formal=True).endswith("передайте её библиотекарю.")
    returns = ReturnPresenter(circ, terminal="kiosk-1", today=lambda: TODAY)
    returns.item_done(ItemResult("A1", out))
    assert returns.flash is not None and returns.flash.loud
    assert returns.flash.text == ("Тимур и его команда\nЭту книгу просит другая школа (Школа № 2): "
                                  "отдай её библиотекарю.")
