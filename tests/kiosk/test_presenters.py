"""Presenters and ports, without Kivy: search, record, checkout, return, loans, session, errors."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import subprocess
import sys

import pytest

from kiosk.presenters.attract import AttractPresenter
from kiosk.presenters.checkin import ReturnPresenter
from kiosk.presenters.checkout import CheckoutPresenter
from kiosk.presenters.errors import ErrorPresenter
from kiosk.presenters.keyboard import BACKSPACE, CLEAR, HIDE, SPACE, rows
from kiosk.presenters.loans import LoansPresenter
from kiosk.presenters.record import RecordPresenter
from kiosk.presenters.search import SearchPresenter
from kiosk.presenters.service import ServicePresenter, pin_matches
from kiosk.presenters.session import IdleTimer
from kiosk.scan import KeystrokeAssembler
from kiosk.services import CatalogueService
from library.circulation.ports import CirculationPort
from library.errors import NotFound, StorageError

from .conftest import TODAY


def type_text(p: SearchPresenter, text: str) -> None:
    for ch in text:
        p.press(SPACE if ch == " " else ch)


def test_presenters_do_not_import_kivy():
    code = ("import sys, kiosk.presenters.search, kiosk.presenters.checkout, kiosk.fakes, "
            "kiosk.local, kiosk.services; print(any(m.startswith('kivy') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_fakes_satisfy_the_ports(fakes):
    catalogue, circulation, _ = fakes
    assert isinstance(catalogue, CatalogueService)
    assert isinstance(circulation, CirculationPort)


def test_keyboard_layouts_have_big_commands():
    for layout in ("ru", "en", "digits"):
        keys = [k.value for row in rows(layout) for k in row]
        assert BACKSPACE in keys and SPACE in keys and CLEAR in keys and HIDE in keys
    assert "й" in [k.value for k in rows("ru")[0]]


def test_search_as_you_type(fakes):
    p = SearchPresenter(fakes[0])
    assert p.state == "empty" and "название" in p.heading
    type_text(p, "нос")
    p.search()
    assert p.state == "results"
    assert p.rows[0].title == "Приключения Незнайки и его друзей"
    assert p.rows[0].availability == "На полке: 1"
    assert p.heading == "Найдено: 1 книга"
    p.press(BACKSPACE)
    assert p.query == "но"


def test_search_no_results_suggests_and_helps(fakes):
    p = SearchPresenter(fakes[0])
    type_text(p, "динозвры")
    p.search()
    assert p.state == "no_results"
    assert p.heading == "По запросу «динозвры» ничего не нашлось"
    assert p.suggestion == "Может, ты имеешь в виду «динозавры»?"
    assert len(p.hints) == 3


def test_search_facets_and_clear(fakes):
    p = SearchPresenter(fakes[0])
    type_text(p, "сказки")
    p.search()
    chips = {c.field: c for c in p.chips}
    assert chips["available"].label.startswith("На полке")
    p.toggle_facet("available", "yes")
    p.search()
    assert [c.selected for c in p.chips if c.field == "available"] == [True]
    assert all(r.available for r in p.rows)
    p.press(CLEAR)
    assert p.query == "" and p.facets == {} and p.state == "empty"


def test_record_where_and_how(fakes):
    catalogue = fakes[0]
    p = RecordPresenter(catalogue.record(1), room=catalogue.room)
    assert ("ББК", "84(2Рос=Рус)6") in p.facts
    assert p.summary == "На полке 2 из 2 · Стеллаж 1"
    assert p.where == "Стеллаж 1 — русские писатели, буквы А–К"
    assert [x.name for x in p.plan if x.target] == ["Стеллаж 1"] and len(p.plan) == 6
    assert "Взять книгу" in p.how_to_take
    out = RecordPresenter(catalogue.record(8))
    assert out.available == 0
    assert out.summary == "Единственный экземпляр на руках · вернут 10 марта"
    assert "«Встать в очередь»" in out.how_to_take  # every copy out: the queue (issue 19)
    with pytest.raises(NotFound):
        catalogue.record(999)


def test_record_of_a_class_set_is_a_summary_and_groups(fakes):
    p = RecordPresenter(fakes[0].record(11))
    assert p.summary == "На полке 27 из 30 · Шкаф учебников"
    groups = p.groups
    assert [(g.status, g.count, g.available) for g in groups] == [
        ("На полке", 27, True), ("На руках", 3, False)]
    assert groups[0].detail == "шифр 20я71 П38" and groups[0].place == ""  # named in the summary
    assert groups[1].detail == "первый вернут 14 марта"


def test_record_without_places_shows_the_shelf_mark(fakes):
    from dataclasses import replace

    rec = fakes[0].record(1)
    bare = replace(rec, copies=tuple(replace(c, place=None) for c in rec.copies))
    p = RecordPresenter(bare)
    assert p.summary == "На полке 2 из 2" and p.plan == []
    assert p.where == "Шифр на полке: 84(2Рос=Рус)6 Д72\nРаздел: «Художественная литература»"


def test_checkout_flow_card_books_receipt(fakes, bridged):
    _, circulation, printer = fakes
    seen = []
    p = CheckoutPresenter(circulation, printer, "ИБЦ", on_reader=seen.append)
    assert p.prompt == "Покажи читательский билет"
    flash = p.scan("200001")  # a book before the card: kept for after the card, not an error
    assert flash.ok is None and flash.sound == "info" and p.state == "card"
    assert "билет" in flash.text and "запомнили" in flash.text
    flash = p.scan("100001")
    assert p.state == "books" and [r.card for r in seen] == ["100001"]
    assert flash.text == "Денискины рассказы\nВернуть до 19 марта"  # the kept book, lent now
    assert p.greeting == "Привет, Маша!" and p.prompt == "Покажи штрих-код книги"
    assert [i.barcode for i in p.items] == ["200001"] and p.items[0].ok  # the pending book
    refused = p.scan("200006")
    assert not refused.ok and refused.sound == "error" and "читальном зале" in refused.text
    assert refused.text.startswith("Энциклопедия динозавров\n")  # refused books by title
    assert "поставь обратно на полку" in refused.text  # and where the book goes
    dup = p.scan("200001")  # the same book twice: the flow ignores it, the screen says so
    assert dup.ok is None and "уже есть в списке" in dup.text
    ok = p.scan("200003")
    assert ok.ok and ok.sound == "success" and "Вернуть до 19 марта" in ok.text
    assert [i.ok for i in p.items] == [True, False, True]
    p.finish()
    assert p.state == "done" and p.receipt is not None and p.can_print
    assert p.prompt == "Спасибо!"
    assert p.summary.startswith("Ты берёшь домой 2 книги.")
    assert "не выданы, поставь обратно на полку" in p.summary
    assert bridged(p.receipt_job(), p.receipt_done) and not p.can_print
    assert p.summary.endswith("Возьми чек.")
    receipt = printer.printed[0]
    assert [ln.title for ln in receipt.lines] == ["Денискины рассказы",
                                                  "Приключения Незнайки и его друзей"]
    assert "Вернуть до 19.03.2025" in receipt.text() and receipt.reader == "Маша И."
    p.reset()
    assert p.reader is None and p.items == [] and p.state == "card"


def test_checkout_refusals_and_jammed_printer(fakes, bridged):
    _, circulation, printer = fakes
    printer.working = False
    p = CheckoutPresenter(circulation, printer)
    blocked = p.scan("100002")  # the card says why at once, in plain words
    assert not blocked.ok and "билет заблокирован" in blocked.text
    assert "не сдан учебник «Математика. 5 класс»" in blocked.text
    p.reset()
    told = p.scan("100003")  # has an overdue loan: told at the card
    assert not told.ok and "сначала верни просроченные" in told.text
    flash = p.scan("200001")
    assert not flash.ok and flash.text == ("Денискины рассказы\nСначала верни просроченные "
                                           "книги. Эту книгу пока поставь обратно на полку.")
    other = p.scan("100001")  # another reader's card mid-session
    assert other.text == "Это билет другого читателя: сначала нажми «Готово»."
    again = p.scan("200001")  # a refused book shown again: one line, not two
    assert not again.ok and len(p.items) == 1
    p.finish()
    assert p.receipt is None and p.prompt == "Книги не выданы"  # no thanks when all refused
    assert "Спасибо" not in p.summary and "отдай библиотекарю" in p.summary
    p.reset()
    p.scan("100001")
    p.scan("200003")
    p.scan("200005")
    p.finish()
    assert not bridged(p.receipt_job(), p.receipt_done)
    assert p.summary == ("Ты берёшь домой 2 книги. Чек не напечатался — запомни даты "
                         "возврата.")


def test_checkout_offers_no_receipt_without_a_printer(fakes):
    from kiosk.services import NoPrinter

    p = CheckoutPresenter(fakes[1], NoPrinter())
    p.scan("100001")
    p.scan("200003")
    p.finish()
    assert p.receipt is not None and not p.can_print
    assert p.summary == "Ты берёшь домой 1 книгу. Запомни даты возврата."


def test_checkout_speaks_formally_to_a_teacher(fakes):
    p = CheckoutPresenter(fakes[1], fakes[2])
    p.scan("100005")
    assert p.greeting == "Здравствуйте, Мария Петровна!"
    assert p.prompt == "Покажите штрих-код книги"
    assert p.scan("100001").text == "Это билет другого читателя: сначала нажмите «Готово»."
    p.scan("200003")
    p.finish()
    assert p.summary.startswith("Вы берёте 1 книгу.")


def test_checkout_hears_a_reader_card_from_the_server_as_another_card(fakes):
    """A terminal cannot tell cards from unknown books: the server answers finish_first."""
    from library.circulation import errors as E
    from library.circulation.flows import ItemResult

    p = CheckoutPresenter(fakes[1], fakes[2])
    p.scan("100001")
    p.item_done(ItemResult("2000000183", error=E.FinishFirst()))
    assert p.items == [] and "билет другого читателя" in p.flash.text


def test_checkout_asks_the_pin_of_a_reader_who_has_one(fakes):
    _, circulation, printer = fakes
    p = CheckoutPresenter(circulation, printer)
    p.scan("100004")
    assert p.state == "pin" and p.prompt == "Введи PIN-код"
    for key in "1111":
        p.press_pin(key)
    assert p.pin.masked == "••••"
    wrong = p.press_pin("ok")
    assert not wrong.ok and "Неверный PIN" in wrong.text and p.state == "pin"
    for key in "43219":
        p.press_pin(key)
    p.press_pin("back")
    assert p.press_pin("ok").ok and p.greeting == "Привет, Оля!" and p.state == "books"
    assert p.scan("200001").ok


def test_a_locked_card_is_told_in_plain_words(fakes, monkeypatch):
    """Too many wrong PINs (the server's or the database's guess limit): the PIN pad says the
    card is locked, not «wrong PIN», and no book is lent."""
    from library.circulation import errors as E

    _, circulation, printer = fakes

    def locked(card: str, pin: str) -> bool:
        raise E.CardLocked(minutes=15)

    monkeypatch.setattr(circulation, "check_pin", locked)
    p = CheckoutPresenter(circulation, printer)
    p.scan("100004")
    for key in "4321":
        p.press_pin(key)
    told = p.press_pin("ok")
    assert not told.ok and "билет заблокирован" in told.text and "Неверный" not in told.text
    assert p.state != "books" and not p.scan("200001").ok


def test_checkout_pin_required_by_policy(fakes):
    from dataclasses import replace

    _, circulation, printer = fakes
    circulation.policy = replace(circulation.policy, require_pin=True)
    p = CheckoutPresenter(circulation, printer)
    p.scan("100001")
    assert p.state == "pin"  # Маша has no PIN: with PINs required she cannot take books here
    assert not p.press_pin("ok").ok


def test_idle_reset_ends_the_flow_as_idle(fakes):
    _, circulation, printer = fakes
    p = CheckoutPresenter(circulation, printer)
    ended = []
    p.scan("100001")
    flow = p.flow
    flow.hooks = type("H", (), {"session_ended": lambda self, reason, receipt: ended.append(reason)})()
    p.reset("idle")
    assert ended == ["idle"] and flow.reader is None and p.flow is not flow


def test_return_says_where_to_put(fakes):
    p = ReturnPresenter(fakes[1], today=lambda: TODAY)
    late = p.scan("200004")
    assert late.ok and "Положи её на тележку возврата." in late.text
    assert "Срок возврата прошёл 3 дня назад." in late.text
    on_time = p.scan("200010")
    assert on_time.ok and "тележку возврата" in on_time.text and "84(4Вел)" not in on_time.text
    assert "уже сдана" in p.scan("200010").text
    assert not p.scan("999").ok
    assert not p.scan("999").ok and len(p.items) == 3  # the same refusal is not listed twice
    assert "не была выдана" in p.scan("200001").text
    card = p.scan("100001")  # a reader card shown to the return screen
    assert card.ok is None and "покажи штрих-код на книге" in card.text and len(p.items) == 4


@pytest.mark.parametrize(("returns", "note", "expected"), [
    ("shelf", "", "Поставь её на место: Стеллаж 3 — зарубежные писатели."),
    ("desk", "", "Отдай её библиотекарю."),
    ("cart", "Положи книгу в ящик у двери.", "Положи книгу в ящик у двери."),
])
def test_return_follows_the_library_setting(fakes, returns, note, expected):
    p = ReturnPresenter(fakes[1], today=lambda: TODAY, returns=returns, return_note=note)
    assert expected in p.scan("200010").text


def test_loans_overdue_and_renew(fakes):
    seen = []
    p = LoansPresenter(fakes[1], today=lambda: TODAY, on_reader=seen.append)
    assert not p.scan("nope").ok
    assert not p.scan("200001").ok and p.state == "card"  # a book here never lends
    p.scan("100003")
    assert p.heading == "Аня, твои книги:" and len(seen) == 1
    assert len(p.loans) == 2  # the scanned book was not checked out
    overdue, fine = p.rows
    assert overdue.overdue and overdue.due == "Просрочена на 3 дня" and not overdue.can_renew
    assert not fine.overdue and fine.can_renew
    assert p.renew(fine.loan_id).ok
    # the real rule: 14 days from the old due date (5 days ahead), not from today
    assert p.rows[1].outcome == "Продлено. Вернуть до 24 марта"
    refused = p.renew(overdue.loan_id)
    assert not refused.ok and "Просроченную" in refused.text


def test_loans_with_pin(fakes):
    p = LoansPresenter(fakes[1], today=lambda: TODAY)
    p.scan("100004")
    assert p.state == "pin"
    for key in "4321":
        p.press_pin(key)
    p.press_pin("ok")
    assert p.state == "list" and p.heading == "Оля, сейчас у тебя нет книг."


def _type(p, digits):
    for key in digits:
        p.press_pin(key)
    return p.press_pin("ok")


def test_a_reader_changes_their_pin_on_my_books(fakes):
    circulation = fakes[1]
    p = LoansPresenter(circulation, today=lambda: TODAY)
    p.scan("100004")
    _type(p, "4321")
    assert p.state == "list" and p.pin_button == "Сменить PIN"
    p.start_pin_change()  # the PIN typed at the card is the current one: not asked again
    assert p.state == "new_pin" and p.pin_step == "new"
    assert p.heading == "Придумай новый PIN и набери его" and "1234" in p.flash.text
    for key in "5830":
        p.press_pin(key)
    assert p.pin.masked == "••••" and "5830" not in p.heading + p.flash.text  # never shown
    p.press_pin("ok")
    assert p.pin_step == "again" and p.heading == "Набери новый PIN ещё раз"
    missed = _type(p, "5831")
    assert not missed.ok and missed.text == "PIN-коды не совпали, введи ещё раз."
    assert p.pin_step == "new"
    _type(p, "5830")
    done = _type(p, "5830")
    assert done.ok and done.text == "Готово: новый PIN сохранён." and p.state == "list"
    assert circulation.check_pin("100004", "5830") and not circulation.check_pin("100004", "4321")
    p.reset("idle")  # the PIN is forgotten with the reader
    assert p.gate.opening_pin is None and p.state == "card"
    p.scan("100004")
    _type(p, "5830")
    assert p.state == "list"


def test_a_new_pin_refused_is_said_in_plain_words(fakes):
    circulation = fakes[1]
    p = LoansPresenter(circulation, today=lambda: TODAY)
    p.scan("100004")
    _type(p, "4321")
    p.start_pin_change()
    _type(p, "1111")
    trivial = _type(p, "1111")
    assert not trivial.ok and trivial.text == "Такой PIN легко угадать. Придумай другой."
    assert p.pin_step == "new"  # try another one at once
    _type(p, "58")
    short = _type(p, "58")
    assert short.text == "В PIN-коде от 4 до 8 цифр. Придумай другой."
    p.cancel_pin_change()
    assert p.state == "list" and circulation.check_pin("100004", "4321")
    circulation.pins["100004"] = "9075"  # changed meanwhile: the PIN of the card is now wrong
    p.start_pin_change()
    _type(p, "5830")
    wrong = _type(p, "5830")
    assert not wrong.ok and wrong.text == "Неверный PIN. Набери свой старый PIN."
    assert p.pin_step == "current" and p.heading == "Набери свой старый PIN"
    for pin in ("9075", "5830", "5830"):
        done = _type(p, pin)
    assert done.ok and circulation.check_pin("100004", "5830")


def test_a_first_pin_only_where_the_policy_allows(fakes):
    circulation = fakes[1]
    p = LoansPresenter(circulation, today=lambda: TODAY)
    p.scan("100005")  # a teacher without a PIN: «Вы»
    assert p.pin_button == "Придумать PIN"
    p.start_pin_change()
    assert p.pin_step == "new" and p.heading == "Придумайте новый PIN и наберите его"
    _type(p, "5830")
    missed = _type(p, "5803")
    assert missed.text == "PIN-коды не совпали, введите ещё раз."
    _type(p, "5830")
    assert _type(p, "5830").ok and circulation.check_pin("100005", "5830")
    assert p.pin_button == "Сменить PIN"  # the next change asks nothing twice
    p.reset()
    circulation.pin_self_set = False
    p.scan("100001")
    assert p.state == "list" and p.pin_button == ""  # no button the policy would refuse
    assert p.start_pin_change() is None and p.state == "list"
    p.reset()
    p.scan("100004")  # a reader with a PIN may still change it
    _type(p, "4321")
    assert p.pin_button == "Сменить PIN"


def test_a_reader_known_from_checkout_types_the_current_pin_first(fakes):
    circulation = fakes[1]
    p = LoansPresenter(circulation, today=lambda: TODAY)
    p.use_reader(circulation.find_reader("100004"))  # identified on «Взять книгу»
    p.start_pin_change()
    assert p.pin_step == "current" and p.heading == "Набери свой старый PIN"
    for pin in ("4321", "5830", "5830"):
        done = _type(p, pin)
    assert done.ok and circulation.check_pin("100004", "5830")


def test_pin_change_refusals_have_words_for_every_code():
    from kiosk.presenters.messages import pin_change_refusal

    assert "библиотекарь" in pin_change_refusal("pin_self_set_off")
    assert "обратитесь" in pin_change_refusal("pin_self_set_off", formal=True)
    assert "заблокирован" in pin_change_refusal("card_locked")
    assert pin_change_refusal("pin_format", params={"min": "6", "max": "8"}).startswith(
        "В PIN-коде от 6 до 8 цифр")
    assert "Нет связи" in pin_change_refusal("offline_refused")
    assert pin_change_refusal("something_new") == "PIN не изменён. Спроси библиотекаря."


def test_idle_timer_counts_down_and_expires():
    t = IdleTimer(10, warn_s=3)
    assert t.countdown_text == "" and not t.tick(100)
    t.start(0)
    assert t.countdown_text == "10 секунд"
    assert not t.tick(6) and not t.warning
    t.touch(6)
    assert not t.tick(13) and t.warning and "3 секунды." in t.warning_text
    assert t.tick(16) and not t.active
    assert not t.tick(17)


def test_idle_limits_by_kind_of_screen():
    from kiosk.presenters.session import IdleLimits

    limits = IdleLimits(60, 30, 12, warn=10)
    assert limits.of("general") == (60, 10)
    assert limits.of("personal") == (30, 10)
    assert limits.of("closing") == (12, 0)  # the thank-you page: no "are you still here?"
    t = IdleTimer(60, 10)
    t.start(0)
    t.tick(20)
    t.limit(*limits.of("personal"))  # a card was shown: the idle time so far counts
    assert t.countdown_text == "10 секунд" and t.warning
    assert t.tick(30) and not t.active


def test_error_presenter_is_friendly_and_logs(caplog):
    p = ErrorPresenter()
    with caplog.at_level(logging.ERROR, logger="ibc.kiosk"):
        view = p.present(ConnectionError("10.0.0.2 refused"), "search")
    assert view.title == "Нет связи" and "библиотекаря" in view.message
    assert view.reference.startswith("Код ошибки: ")
    assert view.reference[-4:] in caplog.text and "10.0.0.2 refused" in caplog.text
    assert p.present(StorageError("disk")).title == "Каталог недоступен"
    assert p.present(ValueError("x")).title == "Что-то пошло не так"


def test_service_pin():
    assert pin_matches("1234", "1234") and not pin_matches("1235", "1234")
    assert pin_matches("42", "sha256:" + hashlib.sha256(b"42").hexdigest())
    p = ServicePresenter("1234")
    for k in "12":
        p.press(k)
    p.press("back")
    for k in "234":
        p.press(k)
    assert p.masked == "••••"
    p.press("ok")
    assert p.unlocked
    locked = ServicePresenter("1234")
    for _ in range(6):
        locked.press("9")
        locked.press("ok")
    locked.press("1"), locked.press("2"), locked.press("3"), locked.press("4"), locked.press("ok")
    assert not locked.unlocked and locked.message == "Слишком много попыток."
    unset = ServicePresenter(None)
    unset.press("ok")
    assert "не настроен" in unset.message and not unset.unlocked


def test_keystroke_assembler():
    k = KeystrokeAssembler()
    for ch in "100001":
        k.feed(ch)
    assert k.enter() == "100001" and k.enter() is None
    fast = KeystrokeAssembler(max_gap_s=0.1)
    fast.feed("1", 0.0)
    fast.feed("2", 5.0)  # a person pressing keys, not a scanner: start again
    fast.feed("3", 5.01)
    assert fast.enter() == "23"


def test_attract_clock_and_arrivals(fakes):
    p = AttractPresenter(fakes[0], "ИБЦ", now=lambda: dt.datetime(2025, 3, 5, 9, 7))
    p.refresh()
    assert p.clock == "09:07" and p.date == "Среда, 5 марта"
    assert len(p.arrivals) == 4 and p.arrivals[0].year == 2024


def test_media_presenter_browse_play_and_controls(bridged):
    from kiosk.fakes import FakeMedia
    from kiosk.presenters.media import MediaPresenter

    media = FakeMedia()
    p = MediaPresenter(media)
    p.open("Мария П.")
    assert p.heading == "Здравствуйте, Мария П.! Медиатека: 7" and p.selected == 1
    assert any(i.teachers_only for i in p.items)
    for ch in "мат":
        p.press(ch)
    assert p.heading == "«мат»: 2"
    assert "только для учителей" in p.row_detail(p.items[1])
    p.select(p.items[0].id)
    assert p.play(projector=True) and media.calls[-1] == ("play", 3, True)
    assert p.now_title == "Играет: Таблица умножения — песенка"
    assert "проектор: включён" in p.now_detail and p.playing
    assert p.toggle_pause() and p.now.state == "paused"
    assert p.toggle_pause() and p.now.state == "playing"
    assert p.seek(30) and p.now.position_s == 30
    assert p.change_volume(10) and p.now.volume == 80
    assert bridged(p.projector_job("off"), p.projector_done) and p.now.projector == "standby"
    assert p.stop() and p.now_title.startswith("Остановлено")


def test_media_presenter_without_projector_or_station(bridged):
    from kiosk.fakes import FakeMedia
    from kiosk.presenters.media import MediaPresenter

    p = MediaPresenter(FakeMedia(projector=False))
    p.open("Мария П.")
    assert not bridged(p.projector_job("on"), p.projector_done) and "не настроен" in p.message and not p.message_ok
    none = MediaPresenter(None)
    none.open("Мария П.")
    assert none.heading == "Здесь нет медиастанции." and not none.play()


def test_service_sections_checks_figures_queue():
    from kiosk.fakes import fake_service_info
    from kiosk.presenters.service import ServicePresenter
    from kiosk.terminal.monitor import ConnectionState

    p = ServicePresenter("1234", fake_service_info())
    p.show("figures")
    assert p.section == "server"  # locked: nothing to see
    for k in "1234":
        p.press(k)
    p.press("ok")
    offline = ConnectionState(False, "http://srv:8470", "return_only", 2, 1)
    rows = p.rows(offline)
    assert rows[0] == ("Сервер", "http://srv:8470 — нет связи", False)
    assert ("Очередь без связи", "2 операции ждут отправки", False) in rows
    assert any(r[0] == "Конфликт" and "уже выдана" in r[1] for r in rows)
    assert p.rows(None)[0][1] == "не используется: локальная база"
    p.show("devices")
    assert p.rows()[0][1] == "Нажмите «Проверить устройства»."
    assert p.start_checks() and not p.start_checks()
    assert p.rows()[0][1] == "Проверяем…"
    p.checks_done(p.run_checks())
    assert p.rows()[2] == ("принтер", "внимание — ipp://printer.local/ipp/print: мало бумаги", False)
    p.show("figures")
    figures = dict((k, v) for k, v, _ in p.rows())
    assert figures["Выдач"] == "1210" and figures["Посещений"] == "1934"


def test_connection_banner_follows_the_policy():
    from kiosk.presenters.connection import banner
    from kiosk.terminal.monitor import ConnectionState

    assert banner(None) == "" and banner(ConnectionState(True)) == ""
    assert banner(ConnectionState(False, policy="return_only")) == \
        "Нет связи с сервером — книги можно сдать"
    assert "обратитесь к библиотекарю" in banner(ConnectionState(False, policy="disabled"))


def test_service_mode_speaks_plain_russian_with_codes_behind_details():
    import datetime as dt

    from kiosk.fakes import fake_service_info
    from kiosk.presenters.connection import plain_error
    from kiosk.terminal.monitor import ConnectionState

    state = ConnectionState(False, "http://ibc-server.local:8470", "seen_cards", 3, 1,
                            dt.datetime(2025, 3, 5, 10, 12), 4127,
                            "ConnectError: [Errno 113] No route to host", dt.datetime(2025, 3, 5))
    p = ServicePresenter("1234", fake_service_info())
    for key in "1234":
        p.press(key)
    p.press("ok")
    rows = dict((k, v) for k, v, _ok in p.rows(state))
    assert rows["Последняя ошибка"] == "компьютер сервера недоступен в сети"
    assert rows["Конфликт"] == "Выдача 200004: Эта книга уже выдана: подойди к библиотекарю"
    assert not any("Errno" in v or "item_on_loan" in v for v in rows.values())
    p.toggle_details()
    rows = dict((k, v) for k, v, _ok in p.rows(state))
    assert "[Errno 113]" in rows["Последняя ошибка"] and rows["Конфликт"].endswith("(item_on_loan)")
    assert plain_error("httpx.ConnectError: [Errno 111] Connection refused").startswith(
        "компьютер сервера отвечает")
    assert plain_error("ReadTimeout: timed out") == "сервер не ответил вовремя"
    assert plain_error("") == ""


def test_media_presenter_film_tapped_off_the_screen_and_vlc_failures():
    """One screen shared by the film and the kiosk: a tap took the film off it, «Показать фильм»
    puts it back; VLC's failure, in words, is said once."""
    from dataclasses import replace

    from kiosk.fakes import FakeMedia
    from kiosk.media import film_hidden
    from kiosk.presenters.media import MediaPresenter

    media = FakeMedia()
    p = MediaPresenter(media)
    p.open("Мария П.")
    assert p.play(projector=True)
    media.tap_film()
    p.refresh_status()
    assert p.now.film_hidden and "«Показать фильм»" in p.where_note
    assert p.show_film() and not p.now.film_hidden and media.calls[-1] == ("show",)
    media.now = replace(media.now, error="Не удалось вывести звук: звуковое устройство недоступно")
    p.refresh_status()
    assert p.message.startswith("Не удалось вывести звук") and not p.message_ok
    p._say("", True)
    p.refresh_status()
    assert p.message == ""  # said once, not every second
    # the station's status → film_hidden only for a hidden window on the kiosk's own screen
    screen = {"output": "screen 1280×720+0+0", "visible": False, "covers_panel": True}
    assert film_hidden("playing", screen) and film_hidden("paused", screen)
    assert not film_hidden("stopped", screen) and not film_hidden("playing", None)
    assert not film_hidden("playing", {**screen, "covers_panel": False})
    assert not film_hidden("playing", {**screen, "visible": True})
