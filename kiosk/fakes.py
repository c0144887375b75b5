"""In-memory fakes of the kiosk ports, with a small Russian school collection.

Used by unit tests, by the screenshot gallery and by ``ibc kiosk --demo`` until the real back
ends are wired. The fake search folds case and ё, matches every word as a prefix of a word in
the title, authors or subjects, and suggests the closest known word when nothing matches.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.services import CopyView, FacetValue, Hit, RecordView, SchoolCopies, SearchPage
from library.circulation import errors as E
from library.circulation import holds as H
from library.circulation.pins import PinRules, check_new_pin
from library.circulation.rules import (
    ItemFacts,
    Policy,
    ReaderFacts,
    check_reader,
    checkout_due,
    renew_due,
)
from library.circulation.values import HoldView, LoanOutcome, LoanView, ReaderView
from library.errors import NotFound
from library.places import PlaceView

if TYPE_CHECKING:
    from kiosk.media import NowPlaying
    from kiosk.services import Printable, ServiceInfo
    from library.textbooks.issue import Collected

_BOOKS = [
    # id, title, authors, year, publisher, bbk, shelf, collection, subjects, annotation
    (1, "Денискины рассказы", ("Драгунский В. Ю.",), 2021, "Махаон", "84(2Рос=Рус)6", "Д72",
     "Художественная литература", ("рассказы", "дети"),
     "Весёлые рассказы о мальчике Дениске Кораблёве и его друге Мишке."),
    (2, "Приключения Незнайки и его друзей", ("Носов Н. Н.",), 2019, "Росмэн", "84(2Рос=Рус)6",
     "Н84", "Художественная литература", ("сказки", "приключения"),
     "Сказочная повесть о коротышках из Цветочного города."),
    (3, "Гарри Поттер и философский камень", ("Роулинг Дж. К.",), 2020, "Махаон",
     "84(4Вел)", "Р68", "Художественная литература", ("фэнтези", "приключения"),
     "Первая книга о мальчике-волшебнике, который узнаёт, кто он на самом деле."),
    (4, "Энциклопедия динозавров", ("Уилсон Х.",), 2022, "Эксмо", "28.1я2", "У36",
     "Справочный фонд", ("динозавры", "энциклопедии"),
     "Всё о динозаврах: как они жили, что ели и почему исчезли."),
    (5, "Математика. 5 класс", ("Виленкин Н. Я.", "Жохов В. И."), 2023, "Просвещение",
     "22.1я72", "В44", "Учебники", ("математика", "учебники"), None),
    (6, "Тимур и его команда", ("Гайдар А. П.",), 2018, "Детская литература", "84(2Рос=Рус)6",
     "Г14", "Художественная литература", ("повести", "дружба"),
     "Повесть о ребятах, которые тайно помогают семьям красноармейцев."),
    (7, "Космос. Большая книга знаний", ("Гальперштейн Л. Я.",), 2024, "Росмэн", "22.6я2",
     "Г17", "Справочный фонд", ("космос", "астрономия", "энциклопедии"),
     "Планеты, звёзды, ракеты и космонавты — для тех, кто мечтает о звёздах."),
    (8, "Алиса в Стране чудес", ("Кэрролл Л.",), 2017, "Эксмо", "84(4Вел)", "К98",
     "Художественная литература", ("сказки",), "Алиса падает в кроличью нору."),
    (9, "Человек-амфибия", ("Беляев А. Р.",), 2020, "Азбука", "84(2Рос=Рус)6", "Б44",
     "Художественная литература", ("фантастика",), "Юноша Ихтиандр может жить под водой."),
    (10, "Русский язык. 5 класс", ("Ладыженская Т. А.",), 2023, "Просвещение", "81.2Рус-922",
     "Л15", "Учебники", ("русский язык", "учебники"), None),
    (11, "Окружающий мир. 3 класс. Часть 1", ("Плешаков А. А.",), 2023, "Просвещение",
     "20я71", "П38", "Учебники", ("окружающий мир", "учебники"),
     "Учебник для 3 класса: природа, человек, общество. Комплект на весь класс."),
]
ROOM = "Абонемент"
# The reading room's places as a librarian sets them (library.places in the real back ends):
# x, y, w, h on the room's plan, y from the top.
_PLACES = {
    1: PlaceView(1, "Стеллаж 1", "русские писатели, буквы А–К", ROOM, (0.04, 0.06, 0.08, 0.40)),
    2: PlaceView(2, "Стеллаж 2", "русские писатели, буквы Л–Я", ROOM, (0.04, 0.52, 0.08, 0.40)),
    3: PlaceView(3, "Стеллаж 3", "зарубежные писатели", ROOM, (0.20, 0.06, 0.30, 0.10)),
    4: PlaceView(4, "Стеллаж 4", "энциклопедии и книги о науке", ROOM, (0.56, 0.06, 0.30, 0.10)),
    5: PlaceView(5, "Шкаф учебников", "у окна, по классам", ROOM, (0.88, 0.30, 0.08, 0.60)),
    6: PlaceView(6, "Тележка возврата", "у стола библиотекаря", ROOM, (0.40, 0.78, 0.14, 0.10)),
}
# record id → place id
# A title only another school of the city holds (docs/HOLDS.md «Pickup school …»): not in this
# terminal's search, shown by id — its record page offers «Попросить из другой школы».
ELSEWHERE_ID = 90
_ELSEWHERE = {
    ELSEWHERE_ID: ("Тимур и его команда", ("Гайдар А. П.",), 2019,
                   "Пионеры тайно помогают семьям красноармейцев.",
                   (SchoolCopies("ГИМН5", "Гимназия № 5", 1, 1),)),
}
# A city's union catalogue in the search list (`FakeCatalogue.city`): other schools' copies of
# some of this school's titles; this school is OWN_SCHOOL.
OWN_SCHOOL = SchoolCopies("ИБЦ", "Наша школа", 0, 0, True)
_CITY_OTHERS = {
    8: (SchoolCopies("ГИМН5", "Гимназия № 5", 1, 1),),
    9: (SchoolCopies("ЛИЦ2", "Лицей № 2", 2, 3),),
}
_BOOK_PLACE = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 1, 7: 4, 8: 3, 9: 1, 10: 5, 11: 5}
CLASS_SET = 11  # a textbook class set: 30 copies, 3 of them on loan
# barcode -> (record id, status, due offset in days when on loan)
_COPIES = {
    "200001": (1, "available"), "200002": (1, "available"), "200003": (2, "available"),
    "200004": (3, "on_loan"), "200005": (3, "available"), "200006": (4, "not_for_loan"),
    "200007": (5, "available"), "200008": (6, "available"), "200009": (7, "available"),
    "200010": (8, "on_loan"), "200011": (9, "available"), "200012": (10, "available"),
    **{f"3000{n:02d}": (CLASS_SET, "available") for n in range(1, 31)},
}
_READERS = [
    ReaderView(1, "100001", "Маша", "И.", "5А", "pupil"),
    ReaderView(2, "100002", "Петя", "С.", "6Б", "pupil"),  # blocked: did not return a textbook
    ReaderView(3, "100003", "Аня", "К.", "3В", "pupil"),
    ReaderView(4, "100004", "Оля", "О.", "9В", "pupil"),  # has a PIN: 4321
    ReaderView(5, "100005", "Мария", "С.", None, "teacher", "Петровна"),
]
_BLOCK_NOTES = {"100002": "не сдан учебник «Математика. 5 класс» за прошлый год"}
# The pupils of 3В who have the three class-set copies on loan (Лебедев has left the school),
# and Аня's surname: what «Сдача учебников» names (reader id → surname, first name, class, active).
_CLASS_SET_READERS = (99, 98, 97)
_PUPILS = {3: ("Козлова", "Аня", "3В", True), 99: ("Кузнецов", "Артём", "3В", True),
           98: ("Смирнова", "Вера", "3В", True), 97: ("Лебедев", "Илья", "3В", False)}
TEXTBOOKS = "Учебники"  # the fake catalogue's collection of textbooks
_BLOCKED = {"100002"}
_PINS = {"100004": "4321"}


@dataclass
class _Loan:
    id: int
    barcode: str
    reader_id: int
    due: dt.date
    renewals: int = 0


@dataclass
class _Hold:
    id: int
    record_id: int
    reader_id: int
    placed_at: dt.datetime
    state: str = H.QUEUED
    barcode: str | None = None  # waiting: the copy set aside
    until: dt.date | None = None
    from_school: str | None = None  # a request to another school: its name


def _fold(text: str) -> str:
    return text.casefold().replace("ё", "е")


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", _fold(text))


@dataclass
class FakeLibrary:
    """The shared state of the fake catalogue and circulation."""

    today: dt.date = field(default_factory=dt.date.today)
    loans: dict[int, _Loan] = field(default_factory=dict)
    holds: dict[int, _Hold] = field(default_factory=dict)
    _next_loan: int = 1

    def __post_init__(self) -> None:
        # Demo history: the reader Аня has one overdue loan and one due soon.
        self.add_loan("200004", 3, self.today - dt.timedelta(days=3))
        self.add_loan("200010", 3, self.today + dt.timedelta(days=5))
        for n, days_left, reader in zip((28, 29, 30), (9, 16, 23), _CLASS_SET_READERS):
            # three class-set copies are out
            self.add_loan(f"3000{n:02d}", reader, self.today + dt.timedelta(days=days_left))

    def add_loan(self, barcode: str, reader_id: int, due: dt.date) -> _Loan:
        """Record an open loan."""
        loan = _Loan(self._next_loan, barcode, reader_id, due)
        self.loans[loan.id] = loan
        self._next_loan += 1
        return loan

    def loan_of(self, barcode: str) -> _Loan | None:
        """The open loan of a copy, if any."""
        return next((ln for ln in self.loans.values() if ln.barcode == barcode), None)

    def waiting_for(self, barcode: str) -> _Hold | None:
        """The waiting hold a copy is set aside for (the copy is ``reserved``), if any."""
        return next((h for h in self.holds.values()
                     if h.state == H.WAITING and h.barcode == barcode), None)

    def queue(self, record_id: int) -> list[_Hold]:
        """A record's queued holds in the order placed."""
        return sorted((h for h in self.holds.values()
                       if h.record_id == record_id and h.state == H.QUEUED),
                      key=lambda h: (h.placed_at, h.id))


class FakeCatalogue:
    """`CatalogueService` over the fake collection."""

    def __init__(self, library: FakeLibrary | None = None):
        self.lib = library or FakeLibrary()
        self.records = {b[0]: b for b in _BOOKS}
        self.city = False  # True: hits carry schools, titles only others hold are found too
        self.vocabulary = sorted({w for b in _BOOKS for w in _words(" ".join([b[1], *b[2], *b[8]]))})

    def _copies(self, record_id: int) -> list[CopyView]:
        out = []
        for barcode, (rid, status) in _COPIES.items():
            if rid != record_id:
                continue
            loan = self.lib.loan_of(barcode)
            if status == "on_loan" or loan:
                status = "on_loan" if loan else "available"
            if status == "available" and self.lib.waiting_for(barcode) is not None:
                status = "reserved"
            book = self.records[rid]
            out.append(CopyView(barcode, status, f"{book[5]} {book[6]}", book[7],
                                loan.due if loan else None, _PLACES.get(_BOOK_PLACE.get(rid, 0))))
        return out

    def _hit(self, book: tuple) -> Hit:
        if book[0] in _ELSEWHERE:  # only other schools hold it (city mode)
            held = _ELSEWHERE[book[0]][4]
            return Hit(book[0], book[1], book[2], book[3], None, sum(c.available for c in held),
                       sum(c.total for c in held), None, "book", None, "84(2Рос=Рус)6", held)
        copies = self._copies(book[0])
        kind = "textbook" if book[7] == "Учебники" else "book"
        available = sum(c.status == "available" for c in copies)
        schools: tuple[SchoolCopies, ...] = ()
        if self.city:
            others = _CITY_OTHERS.get(book[0], ())
            own = SchoolCopies(OWN_SCHOOL.sigla, OWN_SCHOOL.name, available, len(copies), True)
            schools = (own, *others)
        return Hit(book[0], book[1], book[2], book[3], None, available, len(copies),
                   f"{book[5]} {book[6]}", kind, _PLACES.get(_BOOK_PLACE.get(book[0], 0)), book[5],
                   schools)

    def _searchable(self) -> list[tuple]:
        """This school's titles; in city mode also those only other schools hold (as rows
        shaped like _BOOKS: id, title, authors, year, …, subjects)."""
        if not self.city:
            return list(_BOOKS)
        return [*((rid, t, a, y, "", "", "", "", ()) for rid, (t, a, y, _n, _h)
                  in _ELSEWHERE.items()), *_BOOKS]

    def search(self, query: str, *, limit: int = 20, offset: int = 0,
               facets: dict[str, str] | None = None) -> SearchPage:
        """Every query word must prefix a word of the title, authors or subjects."""
        words = _words(query)
        matched = []
        for book in self._searchable():
            text = _words(" ".join([book[1], *book[2], *book[8]]))
            if words and all(any(t.startswith(w) for t in text) for w in words):
                matched.append(book)
        counts: Counter[tuple[str, str]] = Counter()
        for book in matched:
            if book[7]:
                counts[("collection", book[7])] += 1
            if self._hit(book).available:
                counts[("available", "yes")] += 1
            if self.city and book[0] not in _ELSEWHERE:
                counts[("school", OWN_SCHOOL.sigla)] += 1
        for key, value in (facets or {}).items():
            if key == "available":
                matched = [b for b in matched if self._hit(b).available]
            elif key == "collection":
                matched = [b for b in matched if b[7] == value]
            elif key == "school":
                matched = [b for b in matched if b[0] not in _ELSEWHERE]
        suggestion = None
        if words and not matched:
            fixed = [(difflib.get_close_matches(w, self.vocabulary, 1, 0.6) or [w])[0] for w in words]
            suggestion = " ".join(fixed) if fixed != words else None
        hits = tuple(self._hit(b) for b in matched[offset:offset + limit])
        facet_values = tuple(FacetValue(k, v, n) for (k, v), n in sorted(counts.items()))
        return SearchPage(query, hits, len(matched), suggestion, facet_values)

    def title_of(self, record_id: int) -> tuple[str, tuple[str, ...]]:
        """A record's title and authors (this school's or only another's)."""
        if record_id in _ELSEWHERE:
            return _ELSEWHERE[record_id][0], _ELSEWHERE[record_id][1]
        return self.records[record_id][1], self.records[record_id][2]

    def record(self, record_id: int) -> RecordView:
        """One fake record; NotFound for an unknown id."""
        if record_id in _ELSEWHERE:
            title, authors, year, note, held = _ELSEWHERE[record_id]
            return RecordView(record_id, title, authors, None, note, year, "Махаон", "Москва",
                              "84(2Рос=Рус)6", None, "6+", None, (), "book", held)
        if record_id not in self.records:
            raise NotFound(f"record {record_id}")
        b = self.records[record_id]
        kind = "textbook" if b[7] == "Учебники" else "book"
        return RecordView(b[0], b[1], b[2], None, b[9], b[3], b[4], "Москва", b[5], None, "6+",
                          None, tuple(self._copies(record_id)), kind)

    def new_arrivals(self, limit: int = 6) -> list[Hit]:
        """The newest titles by year."""
        return [self._hit(b) for b in sorted(_BOOKS, key=lambda b: (-b[3], b[0]))[:limit]]

    def room(self, room: str | None) -> list[PlaceView]:
        """The fake room's places."""
        return [p for p in _PLACES.values() if p.room == room]

    def cover(self, isbns: tuple[str, ...], barcodes: tuple[str, ...] = ()) -> Path | None:
        """No cover files here: every row gets a generated cover."""
        return None


class FakeCirculation:
    """`CirculationPort` with the usual school rules (14 days, 5 books, 2 renewals).

    Behaves like `library.circulation.service.CirculationService`: library value types,
    refusals raised as `CirculationError`s, transaction ids replayed once.
    """

    def __init__(self, library: FakeLibrary | None = None, catalogue: FakeCatalogue | None = None,
                 require_pin: bool = False):
        from config.settings import CirculationSettings

        self.lib = library or FakeLibrary()
        self.catalogue = catalogue or FakeCatalogue(self.lib)
        # The real rules with the shipped defaults (14 days, 5 books, 2 renewals, Sundays closed).
        self.policy = replace(Policy.from_settings(CirculationSettings()), require_pin=require_pin)
        self.txns: dict[str, LoanOutcome] = {}
        self.pins = dict(_PINS)  # card → PIN, this instance's own (a PIN change stays here)
        self.pin_self_set = True  # [circulation] pin_self_set
        self.pin_rules = PinRules()
        self.collected: dict[str, Collected] = {}  # barcode → its «Сдача учебников» answer
        self.hold_rules = H.HoldRules()  # [holds] with the shipped defaults
        self.hold_txns: dict[str, HoldView] = {}

    def _facts(self, reader: ReaderView) -> ReaderFacts:
        mine = [ln for ln in self.lib.loans.values() if ln.reader_id == reader.id]
        return ReaderFacts(reader.category, reader.class_name, reader.card in _BLOCKED,
                           len(mine), sum(ln.due < self.lib.today for ln in mine))

    def _item(self, barcode: str) -> ItemFacts:
        book = self._book(barcode)
        status = _COPIES[barcode][1]
        if self.lib.loan_of(barcode) or status == "on_loan":  # a demo loan returned: on the shelf
            status = "on_loan" if self.lib.loan_of(barcode) else "available"
        return ItemFacts(status, "book", None, book[1])

    def _reader(self, card: str) -> ReaderView:
        for reader in _READERS:
            if reader.card == card.strip():
                return reader
        raise E.ReaderNotFound(card=card)

    def _book(self, barcode: str) -> tuple:
        if barcode not in _COPIES:
            raise E.ItemNotFound(barcode=barcode)
        return self.catalogue.records[_COPIES[barcode][0]]

    def find_reader(self, card: str) -> ReaderView:
        """The reader with this card number; a blocked card says why at once."""
        if card.strip() in _COPIES:
            raise E.BookNotCard()
        reader = self._reader(card)
        try:
            check_reader(self.policy, self._facts(reader))
        except E.CirculationError as exc:
            return replace(reader, restriction=exc.code,
                           restriction_note=_BLOCK_NOTES.get(reader.card))
        return reader

    def is_reader_card(self, code: str) -> bool:
        """Reader cards are 1000xx here."""
        return any(r.card == code.strip() for r in _READERS)

    def check_pin(self, card: str, pin: str) -> bool:
        """Readers without a PIN pass unless PINs are required."""
        expected = self.pins.get(card.strip())
        return (not self.policy.require_pin) if expected is None else pin == expected

    def pin_required(self, reader: ReaderView) -> bool:
        """This reader has a PIN of their own (or PINs are required for everyone)."""
        return self.policy.pin_required(reader.card in self.pins)

    def identified_reader(self, reader: ReaderView) -> ReaderView:
        """Nothing more to learn after the PIN here."""
        return reader

    def end_session(self) -> None:
        """No session to forget."""

    def may_set_first_pin(self) -> bool:
        """``pin_self_set`` of this fake library."""
        return self.pin_self_set

    def change_pin(self, card: str, current: str | None, new: str) -> None:
        """The service's order with the real rule (pins.check_new_pin); no guess counting."""
        new = check_new_pin(new, self.pin_rules)
        reader = self._reader(card)
        if reader.card in self.pins:
            if current is None or not self.check_pin(reader.card, current):
                raise E.WrongPin()
        elif not self.pin_self_set:
            raise E.PinSelfSetOff()
        self.pins[reader.card] = new

    def _outcome(self, action: str, txn: str, loan: _Loan | None, barcode: str,
                 shelf: str | None = None, due: dt.date | None = None) -> LoanOutcome:
        book = self._book(barcode)
        place = _PLACES.get(_BOOK_PLACE.get(book[0], 0))
        out = LoanOutcome(action, txn, loan.id if loan else 0, barcode, book[1], ", ".join(book[2]),
                          due, shelf, loan.renewals if loan else 0,
                          place=place.label if place else None)
        self.txns[txn] = out
        return out

    def checkout(self, card: str, barcode: str, txn_id: str, *,
                 terminal: str | None = None) -> LoanOutcome:
        """Lend a copy unless a rule refuses."""
        if txn_id in self.txns:
            return self.txns[txn_id]
        reader = self._reader(card)
        if self.is_reader_card(barcode):
            raise E.FinishFirst()
        book = self._book(barcode)
        loan = self.lib.loan_of(barcode)
        if loan and loan.reader_id == reader.id:
            raise E.ItemAlreadyYours(title=book[1])
        held = self.lib.waiting_for(barcode)
        if held is not None and held.reader_id != reader.id:
            raise E.ReservedForAnother(title=book[1])
        try:
            due = checkout_due(self.policy, self._facts(reader), self._item(barcode),
                               self.lib.today)
        except E.CirculationError as exc:
            exc.params.setdefault("title", book[1])  # as the service: the kiosk names the book
            raise
        loan = self.lib.add_loan(barcode, reader.id, due)
        self._fulfil(reader, book[0], barcode)
        return self._outcome("checkout", txn_id, loan, barcode, due=due)

    def checkin(self, barcode: str, txn_id: str, *, terminal: str | None = None) -> LoanOutcome:
        """Close the open loan of a copy; an overdue copy goes to the return cart."""
        if txn_id in self.txns:
            return self.txns[txn_id]
        if self.is_reader_card(barcode):
            raise E.ReaderCardShown()
        book = self._book(barcode)
        loan = self.lib.loan_of(barcode)
        if loan is None:
            raise E.NotOnLoan(title=book[1])
        del self.lib.loans[loan.id]
        out = self._outcome("checkin", txn_id, loan, barcode, f"{book[5]} {book[6]}",
                            due=loan.due)
        hold = self._trap(book[0], barcode)
        if hold is not None:  # as the service: the outcome names the reader it waits for
            out = replace(out, hold_id=hold.id, hold_for=self._short_name(hold.reader_id),
                          hold_until=hold.until)
            self.txns[txn_id] = out
        return out

    # --- holds (library.circulation.ports.HoldsPort, the rules of library.circulation.holds) ----
    def _short_name(self, reader_id: int) -> str:
        reader = next(r for r in _READERS if r.id == reader_id)
        surname = _PUPILS.get(reader_id, ("",))[0] or reader.initial
        return H.short_name(reader.first_name, surname, reader.class_name)

    def _trap(self, record_id: int, barcode: str) -> _Hold | None:
        """A copy back on the shelf: set aside for the record's first queued reader."""
        queue = self.lib.queue(record_id)
        if not queue or not self.hold_rules.enabled:
            return None
        hold = queue[0]
        hold.state = H.hold_transition(hold.state, "trap")
        hold.barcode = barcode
        hold.until = H.pickup_until(self.policy.calendar, self.lib.today,
                                    self.hold_rules.pickup_days)
        return hold

    def _fulfil(self, reader: ReaderView, record_id: int, barcode: str) -> None:
        hold = next((h for h in self.lib.holds.values() if h.reader_id == reader.id
                     and h.record_id == record_id and h.state in H.ACTIVE), None)
        if hold is None:
            return
        other = hold.barcode if hold.state == H.WAITING and hold.barcode != barcode else None
        hold.state = H.hold_transition(hold.state, "fulfil")
        if other is not None:
            self._trap(record_id, other)

    def _hold_view(self, hold: _Hold, replayed: bool = False) -> HoldView:
        title, authors = self.catalogue.title_of(hold.record_id)
        position = 0
        if hold.state == H.QUEUED:
            position = [h.id for h in self.lib.queue(hold.record_id)].index(hold.id) + 1
        waiting = hold.state == H.WAITING
        return HoldView(hold.id, hold.record_id, title, ", ".join(authors), hold.state,
                        position, hold.placed_at, hold.until if waiting else None,
                        hold.barcode if waiting else None,
                        (self.hold_rules.shelf_note or None) if waiting else None, replayed,
                        request=hold.from_school is not None, from_school=hold.from_school)

    def send_request(self, hold_id: int) -> HoldView:
        """The owning school's desk sent the book for a request (the core: transfer_service
        .send): the hold is ``transit``."""
        hold = self.lib.holds[hold_id]
        hold.state = H.hold_transition(hold.state, "send")
        return self._hold_view(hold)

    def place_hold(self, card: str, record_id: int, txn_id: str, *, terminal: str | None = None,
                   by: str | None = None) -> HoldView:
        """Queue the reader for a record by the real place rule (holds.check_place)."""
        if txn_id in self.hold_txns:
            return replace(self.hold_txns[txn_id], replayed=True)
        reader = self._reader(card)
        if record_id not in self.catalogue.records and record_id not in _ELSEWHERE:
            raise E.RecordNotFound()
        title = self.catalogue.title_of(record_id)[0]
        statuses = [c.status for c in self.catalogue._copies(record_id)]
        held = _ELSEWHERE[record_id][4] if record_id in _ELSEWHERE else ()
        elsewhere = sum(h.total for h in held)  # every other school's copy could be sent
        mine = [h for h in self.lib.holds.values() if h.reader_id == reader.id
                and h.state in H.ACTIVE]
        facts = H.PlaceFacts(
            reader.category, reader.card in _BLOCKED, len(mine),
            any(h.record_id == record_id for h in mine),
            any(ln.reader_id == reader.id and _COPIES[ln.barcode][0] == record_id
                for ln in self.lib.loans.values()),
            "book", sum(st in H.HOLDABLE_STATUSES for st in statuses) + elsewhere,
            sum(st == "available" for st in statuses))
        try:
            H.check_place(self.policy, self.hold_rules, facts)
        except E.CirculationError as exc:
            exc.params.setdefault("title", title)
            raise
        source = None
        if H.is_request(facts.on_shelf_copies, elsewhere):
            source = sorted(held, key=lambda h: (h.available == 0, h.name))[0].name
        hold = _Hold(max(self.lib.holds, default=0) + 1, record_id, reader.id,
                     dt.datetime.now(dt.timezone.utc), from_school=source)
        self.lib.holds[hold.id] = hold
        view = self._hold_view(hold)
        self.hold_txns[txn_id] = view
        return view

    def cancel_hold(self, hold_id: int, txn_id: str, *, card: str | None = None,
                    terminal: str | None = None, by: str | None = None) -> HoldView:
        """Cancel the reader's own hold (with `card`); a waiting copy passes on."""
        if txn_id in self.hold_txns:
            return replace(self.hold_txns[txn_id], replayed=True)
        hold = self.lib.holds.get(hold_id)
        if hold is None:
            raise E.HoldNotFound()
        if card is not None and hold.reader_id != self._reader(card).id:
            raise E.NotYourHold()
        was = hold.state
        hold.state = H.hold_transition(was, "cancel")
        if was == H.WAITING and hold.barcode:
            self._trap(hold.record_id, hold.barcode)
        view = self._hold_view(hold)
        self.hold_txns[txn_id] = view
        return view

    def holds(self, card: str) -> list[HoldView]:
        """The reader's active holds: waiting first (soonest end), then queued."""
        reader = self._reader(card)
        mine = [h for h in self.lib.holds.values() if h.reader_id == reader.id
                and h.state in H.ACTIVE]
        mine.sort(key=lambda h: (h.state != H.WAITING, h.until or dt.date.max, h.placed_at))
        return [self._hold_view(h) for h in mine]

    def collect(self, reader: ReaderView, barcode: str, *,
                class_name: str | None = None) -> Collected:
        """`kiosk.services.CollectionPort` as library.textbooks.issue.collect does it: a
        teacher's or staff reader only; the copy's open loan is closed (transaction
        ``ret:{loan}``) and its pupil named; a copy collected here before is ``already``."""
        from library.access import runs_station
        from library.textbooks.issue import ClassSetError, Collected, return_txn

        if not runs_station(reader.category):
            raise ClassSetError("staff_only", "textbook collection needs a teacher's or staff card")
        code = barcode.strip()
        if code not in _COPIES:
            return Collected.refused(ClassSetError("unknown_copy", "no copy has this code"))
        book = self._book(code)
        loan = self.lib.loan_of(code)
        if loan is None:
            done = self.collected.get(code)
            if done is None:
                return Collected.refused(ClassSetError("not_on_loan", "not on loan", title=book[1]))
            return replace(done, kind="already")
        self.checkin(code, return_txn(loan.id))
        surname, first, klass, active = _PUPILS.get(loan.reader_id, ("", "", "", True))
        got = Collected("accepted", book[1], f"{surname} {first[:1]}." if surname else "", klass,
                        bool(class_name) and klass != class_name, book[7] == TEXTBOOKS, active,
                        False)
        self.collected[code] = got
        return got

    def loans(self, card: str) -> list[LoanView]:
        """Open loans, earliest due first."""
        reader = self._reader(card)
        mine = sorted((ln for ln in self.lib.loans.values() if ln.reader_id == reader.id),
                      key=lambda ln: ln.due)
        return [LoanView(ln.id, ln.barcode, self._book(ln.barcode)[1],
                         ", ".join(self._book(ln.barcode)[2]),
                         ln.due - dt.timedelta(days=self.policy.category(reader.category)
                                               .rule("book").loan_days), ln.due, ln.renewals,
                         ln.due < self.lib.today) for ln in mine]

    def renew(self, card: str, barcode: str, txn_id: str, *,
              terminal: str | None = None) -> LoanOutcome:
        """Extend a loan by the loan period from today."""
        if txn_id in self.txns:
            return self.txns[txn_id]
        reader = self._reader(card)
        loan = self.lib.loan_of(barcode)
        if loan is None or loan.reader_id != reader.id:
            raise E.NotYourLoan()
        loan.due = renew_due(self.policy, self._facts(reader), self._item(barcode), loan.due,
                             loan.renewals, self.lib.today)
        loan.renewals += 1
        return self._outcome("renew", txn_id, loan, barcode, due=loan.due)


class FakePrinter:
    """A printer that keeps what it printed; ``working=False`` simulates a jam."""

    available = True

    def __init__(self, working: bool = True):
        self.working = working
        self.printed: list[Printable] = []

    async def print_receipt(self, receipt: Printable) -> bool:
        """Keep the receipt when working."""
        if self.working:
            self.printed.append(receipt)
        return self.working


def fake_services(today: dt.date | None = None) -> tuple[FakeCatalogue, FakeCirculation, FakePrinter]:
    """A consistent catalogue, circulation and printer over one fake library."""
    lib = FakeLibrary(today or dt.date.today())
    catalogue = FakeCatalogue(lib)
    return catalogue, FakeCirculation(lib, catalogue), FakePrinter()


class FakeMedia:
    """`kiosk.media.MediaPort` in memory: a few lessons' media, a pretend player and projector."""

    where = "station"

    ITEMS = [
        (1, "Фотосинтез: как растение ест свет", "video", 754.0, "Биология", False),
        (2, "Бородино. Фрагмент фильма", "video", 1320.0, "История", False),
        (3, "Таблица умножения — песенка", "audio", 185.0, "Математика", False),
        (4, "Контрольная работа: разбор ответов", "video", 960.0, "Математика", True),
        (5, "Вулканы и землетрясения", "video", 1100.0, "География", False),
        (6, "П. И. Чайковский. Времена года", "audio", 2650.0, "Музыка", False),
        (7, "Правила дорожного движения", "video", 610.0, "ОБЖ", False),
    ]

    def __init__(self, projector: bool = True):
        from kiosk.media import NowPlaying

        self.has_projector = projector
        self.now = NowPlaying(volume=70, projector="standby" if projector else "unused")
        self.calls: list[tuple] = []

    def items(self, query: str = "", role: str = "teacher") -> list:
        """What `role` may see (library.access); a query matches title or subject."""
        from kiosk.media import MediaView
        from library.access import Action, may

        q = _fold(query.strip())
        return [MediaView(*row) for row in self.ITEMS
                if may(role, "teachers" if row[5] else "everyone", Action.SEE)
                and (not q or q in _fold(row[1] + " " + row[4]))]

    def play(self, media_id: int, *, projector: bool = False,
             teacher: str | None = None) -> NowPlaying:
        """Start one item."""
        item = next(r for r in self.ITEMS if r[0] == media_id)
        self.calls.append(("play", media_id, projector))
        proj = ("on" if projector else self.now.projector) if self.has_projector else "unused"
        self.now = replace(self.now, state="playing", title=item[1], position_s=0.0,
                           duration_s=item[3], projector=proj)
        return self.now

    def control(self, action: str) -> NowPlaying:
        """pause | resume | stop | show."""
        self.calls.append((action,))
        if action == "show":
            self.now = replace(self.now, film_hidden=False)
            return self.now
        state = {"pause": "paused", "resume": "playing", "stop": "stopped"}[action]
        self.now = replace(self.now, state=state, film_hidden=False if state == "stopped"
                           else self.now.film_hidden)
        return self.now

    def tap_film(self) -> None:
        """A tap on the film (one screen shared with the kiosk) took it off the screen."""
        if self.now.state in ("playing", "paused"):
            self.now = replace(self.now, film_hidden=True)

    def seek(self, position_s: float) -> NowPlaying:
        """Jump."""
        self.now = replace(self.now, position_s=max(0.0, min(position_s, self.now.duration_s or 0)))
        return self.now

    def volume(self, percent: int) -> NowPlaying:
        """Volume."""
        self.now = replace(self.now, volume=max(0, min(100, percent)))
        return self.now

    def status(self) -> NowPlaying:
        """Now playing."""
        return self.now

    def close(self) -> None:
        """Nothing to release."""

    async def projector(self, action: str, value: str = "") -> str:
        """Power and input."""
        from kiosk.i18n import _
        from kiosk.media import MediaUnavailable

        if not self.has_projector:
            raise MediaUnavailable(_("The projector is not set up ([projector] host)"))
        self.calls.append(("projector", action, value))
        power = {"on": "on", "off": "standby"}.get(action, self.now.projector)
        self.now = replace(self.now, projector=power)
        return value or power


def fake_service_info() -> ServiceInfo:
    """Canned service-mode answers (screenshots, tests)."""
    from kiosk.services import ServiceInfo

    checks = [("камера", "OK", "/dev/video0: 1280×720, 30 кадр/с"),
              ("USB-сканер", "OK", "Honeywell Voyager 1250g"),
              ("принтер", "WARN", "ipp://printer.local/ipp/print: мало бумаги"),
              ("проектор", "OK", "192.168.1.50:4352, питание: включён"),
              ("сервер", "OK", "http://ibc-server.local:8470: порт 8470 открыт"),
              ("база данных", "OK", "sqlite:///var/lib/ibc/ibc.sqlite3, схема 0006"),
              ("диск", "OK", "/var/lib/ibc: свободно 41.7 ГБ")]
    figures = {"period": "3-я четверть 2024/25 уч. г., по 05.03.2025", "first": "2025-01-09",
               "last": "2025-03-05", "titles": 4127, "copies": 9864, "readers": 612,
               "active_readers": 287, "visits": 1934, "loans": 1210, "returns": 1105,
               "renewals": 143, "searches": 2671, "zero_searches": 198, "plays": 64,
               "on_loan": 402, "overdue": 37}
    conflicts = [{"op": "checkout", "barcode": "200004", "code": "item_on_loan"}]
    return ServiceInfo(checks=lambda: checks, figures=lambda: figures,
                       conflicts=lambda: conflicts)
