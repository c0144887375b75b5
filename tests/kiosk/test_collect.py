"""«Сдача учебников» without Kivy: the presenter behind its card gate, over the fake port."""

from __future__ import annotations

import pytest

from kiosk.presenters.collect import CollectPresenter
from kiosk.presenters.gate import CardGate
from library.access import runs_station
from library.circulation.values import ReaderView
from library.textbooks.issue import ClassSetError, Collected

TEACHER, PUPIL, PIN_PUPIL = "100005", "100001", "100004"
SET = "Окружающий мир. 3 класс. Часть 1"


def make(circulation, port=None) -> CollectPresenter:
    gate = CardGate(circulation, allow=lambda r: runs_station(r.category),
                    refused_text=lambda: "только учителям")
    return CollectPresenter(circulation if port is None else port, gate)


def opened(circulation, port=None) -> CollectPresenter:
    p = make(circulation, port)
    p.scan(TEACHER)
    assert p.is_open
    return p


def test_only_a_staff_card_opens_it(fakes):
    _cat, circ, _pr = fakes
    p = make(circ)
    assert p.state == "card" and p.prompt == "Приложите карточку учителя или библиотекаря"
    flash = p.scan(PUPIL)
    assert flash is not None and flash.ok is False and flash.text == "только учителям"
    assert not p.is_open
    p.scan("300028")  # a book before the card: nothing is taken back
    assert not p.is_open and circ.lib.loan_of("300028") is not None and p.items == []
    p.scan(TEACHER)
    assert p.is_open and p.prompt == "Сканируйте учебники один за другим"


def test_a_staff_card_with_a_pin(fakes):
    _cat, circ, _pr = fakes
    circ.pins[TEACHER] = "2468"
    p = make(circ)
    p.scan(TEACHER)
    assert p.state == "pin" and not p.is_open
    p.scan("300028")  # no book before the PIN
    assert circ.lib.loan_of("300028") is not None
    for key in "2461":
        p.press_pin(key)
    p.press_pin("ok")
    assert not p.is_open and p.state == "pin"  # a wrong PIN
    for key in "2468":
        p.press_pin(key)
    p.press_pin("ok")
    assert p.is_open


def test_three_books_named_newest_first(fakes):
    _cat, circ, _pr = fakes
    p = opened(circ)
    first = p.scan("300028")
    assert first is not None and first.ok is True
    assert first.text == f"Принято: {SET} — Кузнецов\xa0А., 3В"
    p.scan("300029")
    left = p.scan("300030")
    assert left is not None and left.ok is False  # loud: the pupil has left
    assert left.text == f"Принято: {SET} — Лебедев\xa0И., 3В. Ученик выбыл"
    assert [i.text for i in p.items] == ["Принято — Лебедев\xa0И., 3В. Ученик выбыл",
                                         "Принято — Смирнова\xa0В., 3В", "Принято — Кузнецов\xa0А., 3В"]
    assert p.count_text == "Принято: 3" and p.summary == "1 книгу нужно проверить"
    assert all(circ.lib.loan_of(c) is None for c in ("300028", "300029", "300030"))


def test_a_book_scanned_twice_is_already_taken_back(fakes):
    _cat, circ, _pr = fakes
    p = opened(circ)
    p.scan("300028")
    again = p.scan("300028")
    assert again is not None and again.text.startswith("Уже принято: ") and again.ok is True
    assert p.accepted == 1 and len(p.items) == 1 and p.items[0].text.startswith("Уже принято")


def test_loud_scans(fakes):
    _cat, circ, _pr = fakes
    p = opened(circ)
    novel = p.scan("200010")  # «Алиса в Стране чудес», Аня's: not a textbook
    assert novel is not None and novel.ok is False
    assert novel.text.endswith("Козлова\xa0А., 3В. Это не учебник: книга тоже принята")
    shelf = p.scan("300001")
    assert shelf is not None and shelf.ok is False and "Не выдан" in shelf.text
    unknown = p.scan("999999")
    assert unknown is not None and unknown.ok is False and "нет в каталоге" in unknown.text
    assert p.accepted == 1 and p.summary == "3 книги нужно проверить"


def test_collecting_one_class(fakes):
    _cat, circ, _pr = fakes
    p = opened(circ)
    assert p.filter_text == ""
    p.scan("300028")
    assert p.filter_text == "Только 3В"
    p.toggle_class()
    assert p.class_name == "3В" and p.prompt == "Сканируйте учебники 3В"
    assert p.filter_text == "Все классы"
    other = p.scan("200010")  # Аня is of 3В too: only «not a textbook»
    assert other is not None and "Другой класс" not in other.text
    p.class_name = "5А"
    p.scan("300029")
    assert p.items[0].text.startswith("Принято — Смирнова\xa0В., 3В. Другой класс: 3В, а не 5А")
    assert p.items[0].ok is False
    p.toggle_class()
    assert p.class_name is None


def test_reset_forgets_the_batch_and_closes(fakes):
    _cat, circ, _pr = fakes
    p = opened(circ)
    p.scan("300028")
    p.toggle_class()
    p.reset("idle")
    assert not p.is_open and p.state == "card"
    assert p.items == [] and p.accepted == 0 and p.class_name is None and p.flash is None


class _Recording:
    """A port that answers as the real ones do, and counts calls."""

    def __init__(self, error: Exception | None = None):
        self.error, self.calls = error, 0

    def collect(self, reader: ReaderView, barcode: str, *, class_name=None) -> Collected:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return Collected("accepted", "Алгебра 7", "Иванов А.", "7А", False, True, True, False)


def test_the_presenter_checks_staff_itself(fakes):
    """A gate opened for a pupil by mistake still never reaches the port."""
    _cat, circ, _pr = fakes
    port = _Recording()
    p = make(circ, port)
    p.gate.state, p.gate.reader = "open", circ.find_reader(PUPIL)
    assert not p.is_open
    p.scan("300028")
    assert port.calls == 0 and p.items == []


def test_offline_says_to_use_the_return_screen(fakes):
    from kiosk.terminal.circulation import OfflineRefused

    _cat, circ, _pr = fakes
    p = opened(circ, _Recording(OfflineRefused()))
    flash = p.scan("300028")
    assert flash is not None and flash.ok is False
    assert "нужен сервер" in flash.text and "«Вернуть книгу»" in flash.text
    assert p.items == [] and "Иванов" not in flash.text


def test_a_server_refusal_and_a_missing_port(fakes):
    _cat, circ, _pr = fakes
    p = opened(circ, _Recording(ClassSetError("staff_only", "no")))
    flash = p.scan("300028")
    assert flash is not None and flash.ok is False and "карточкой учителя" in flash.text
    p = make(circ, None)
    p.port = None
    p.scan(TEACHER)
    flash = p.scan("300028")
    assert flash is not None and "не настроена" in flash.text
    other = opened(circ, _Recording(ClassSetError("note_too_long", "x")))
    with pytest.raises(ClassSetError):  # anything else goes to the error presenter
        other.scan("300028")


def test_the_fake_port_refuses_a_pupil(fakes):
    _cat, circ, _pr = fakes
    with pytest.raises(ClassSetError) as refused:
        circ.collect(circ.find_reader(PUPIL), "300028")
    assert refused.value.code == "staff_only"
    assert circ.lib.loan_of("300028") is not None


def test_english(fakes):
    from kiosk import i18n

    _cat, circ, _pr = fakes
    p = opened(circ)
    i18n.set_language("en")
    flash = p.scan("300028")
    assert flash is not None and flash.text == f"Taken back: {SET} — Кузнецов\xa0А., 3В"
    assert p.count_text == "Taken back: 1"
