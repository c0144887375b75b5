"""A scripted term of activity on the demo library over simulated dates in 2026Q3.

The circulation service takes the simulated day through its `today=` callable; the rows a
simulated moment writes (events, loans, readers, records) carry the real clock's time from
their column defaults, so `Term.at()` re-stamps exactly those rows — new ids, and loans that
were open before and are returned after — with the simulated instant. Nothing else is patched.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from config.settings import load_settings
from library.circulation.errors import CirculationError
from library.circulation.rules import Policy
from library.circulation.service import CirculationService
from library.demo.loader import load_demo
from library.marc.importer import import_files
from library.marc.iso2709 import encode_record
from library.marc.model import ControlField, DataField, MarcRecord
from library.reports.events import record_visit
from library.search.events import record_search_event
from library.storage.models import Copy, Event, Loan, MediaItem, Reader, Record

MSK = ZoneInfo("Europe/Moscow")
UTC = dt.timezone.utc
D = dt.date
NEW_READERS = [("Зарецкая", "Ульяна", "2А", "pupil", "9000000001"),
               ("Ковальчук", "Остап", None, "teacher", "9000000002")]
STAMPED = ((Event, Event.ts), (Loan, Loan.issued_at), (Reader, Reader.created_at),
           (Record, Record.created_at))


def instant(day: dt.date, hour: int = 12, minute: int = 0) -> dt.datetime:
    """A Moscow wall-clock time as UTC (SQLite keeps naive UTC)."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=MSK).astimezone(UTC)


def rusmarc(n: int, title: str, author: str, bbk: str, received: list[str]) -> bytes:
    """A small ИРБИС-like RUSMARC record with one 910 per copy (^c = date received)."""
    fields = [ControlField("001", f"RU\\REPORT\\{n}"),
              DataField("200", "1", " ", [("a", title)]),
              DataField("700", " ", "1", [("a", author)]),
              DataField("621", " ", " ", [("a", bbk)])]
    for k, date in enumerate(received):
        sub = [("a", "0"), ("b", f"R{n}-{k}"), ("h", f"29{n:05d}{k:02d}")]
        fields.append(DataField("910", " ", " ", sub + ([("c", date)] if date else [])))
    return encode_record(MarcRecord("00000nam  2200000 i 450 ", fields), "utf-8")


@dataclass
class Term:
    """The demo library plus a clock; `at(day)` runs a block at a simulated moment."""

    db: object
    tmp: object
    today: dt.date = D(2026, 6, 20)
    readers: dict = field(default_factory=dict)
    titles: list = field(default_factory=list)
    media: list = field(default_factory=list)

    @contextmanager
    def at(self, day: dt.date, hour: int = 12, minute: int = 0):
        """Run a block 'on' day at hour:minute Moscow time and stamp what it wrote."""
        when = instant(day, hour, minute)
        self.today = day
        with self.db.session() as s:
            last = {m: s.scalar(select(func.max(m.id))) or 0 for m, _ in STAMPED}
            open_ids = set(s.scalars(select(Loan.id).where(Loan.returned_at.is_(None))))
        yield
        with self.db.transaction() as s:
            for model, col in STAMPED:
                s.execute(update(model).where(model.id > last[model]).values({col.key: when}))
            if open_ids:
                s.execute(update(Loan).where(Loan.id.in_(open_ids), Loan.returned_at.is_not(None))
                          .values(returned_at=when))

    def visit(self, who: str) -> None:
        """A reader session starts at the kiosk."""
        r = self.readers[who]
        with self.db.transaction() as s:
            record_visit(s, sigla="ИБЦ", terminal="kiosk-1", reader_category=r.category,
                         reader_class=r.class_name)

    def search(self, query: str, total: int) -> None:
        """A catalogue search with `total` hits."""
        with self.db.transaction() as s:
            record_search_event(s, query, total, terminal="kiosk-1")

    def play(self, n: int, who: str) -> None:
        """The n-th demo media item is played (the media module's event, inserted directly)."""
        r = self.readers[who]
        with self.db.transaction() as s:
            s.add(Event(kind="play", sigla="ИБЦ", terminal="kiosk-1", media_id=self.media[n],
                        reader_category=r.category, reader_class=r.class_name, payload={}))


def _pick(db) -> tuple[dict, list, list]:
    """Borrowers by role and lendable titles (first available copy barcode each)."""
    with db.session() as s:
        def first(**kw):
            q = select(Reader).where(*[getattr(Reader, k) == v for k, v in kw.items()])
            return s.scalars(q.order_by(Reader.id)).first()
        readers = {"A": first(class_name="5А"), "B": first(class_name="7В"),
                   "C": first(category="teacher"), "D": first(class_name="9А")}
        rows = s.execute(
            select(Record.id, func.min(Copy.barcode)).join(Copy, Copy.record_id == Record.id)
            .where(Record.item_type == "book", Copy.status == "available",
                   func.coalesce(Record.age_min, 0) <= 6)
            .group_by(Record.id).having(func.count(Copy.id) >= 2).order_by(Record.id)).all()
        media = list(s.scalars(select(MediaItem.id).order_by(MediaItem.id)))
    return readers, [bc for _, bc in rows[:12]], media


def script_term(db, tmp_path) -> Term:  # noqa: C901
    """Demo library loaded before the quarter, then July–September 2026 and a little of October."""
    term = Term(db, tmp_path)
    with term.at(D(2026, 6, 20)):
        load_demo(db)
    with db.transaction() as s:  # demo copies count as received before the quarter
        s.execute(update(Copy).values(updated_at=instant(D(2026, 6, 20))))
    term.readers, term.titles, term.media = _pick(db)
    T = term.titles  # noqa: N806
    svc = CirculationService(db, Policy.from_settings(load_settings(environ={}).circulation),
                             sigla="ИБЦ", today=lambda: term.today)
    txn = iter(range(1, 10_000))

    def out(who: str, t: int) -> None:
        svc.checkout(term.readers[who].card_number, T[t], f"t{next(txn)}", terminal="kiosk-1")

    def back(t: int) -> None:
        svc.checkin(T[t], f"t{next(txn)}", terminal="kiosk-1")

    def renew(who: str, t: int) -> None:
        svc.renew(term.readers[who].card_number, T[t], f"t{next(txn)}", terminal="kiosk-1")

    with term.at(D(2026, 6, 25)):                       # before the quarter
        out("B", 7)
    with term.at(D(2026, 7, 6)):
        term.visit("A"), out("A", 1), out("A", 2)
        term.visit("B"), out("B", 3)
        term.search("гарри поттер", 0), term.search("Пушкин", 5)
    with term.at(D(2026, 7, 8)):
        back(7)                                         # on time (due 9 July)
    src = tmp_path / "new.iso"
    src.write_bytes(rusmarc(1, "Юный робототехник", "Кулибин, Пётр", "32.97",
                            ["20260710", "20260710"])
                    + rusmarc(2, "Сказки леса", "Бианкина, Вера", "84(2Рос=Рус)6", [""])
                    + rusmarc(3, "Старый атлас", "Меркатор, Герард", "26.8", ["20250301"]))
    with term.at(D(2026, 7, 10)):
        import_files(db, [src], sigla="ИБЦ")
    with term.at(D(2026, 7, 20)):
        term.visit("A"), back(1), renew("A", 2)
        term.search("Гарри  Поттер", 0), term.search("робототехника", 0)
    with term.at(D(2026, 8, 3)):
        term.visit("C"), out("C", 1)
        term.visit("B")
        try:
            out("B", 4)                                 # B has 3 overdue: refused
        except CirculationError:
            pass
        else:
            raise AssertionError("the overdue reader was allowed a checkout")
        renew("A", 2)
    with term.at(D(2026, 8, 15)), db.transaction() as s:  # two copies written off
        for c in s.scalars(select(Copy).where(Copy.barcode.in_(_copies(s, T[10])[:2]))):
            c.status = "written_off"
        s.flush()
        s.execute(update(Copy).where(Copy.status == "written_off")
                  .values(updated_at=instant(D(2026, 8, 15))))
    with term.at(D(2026, 8, 17)):
        back(2)
    with term.at(D(2026, 9, 2)):
        term.visit("B"), back(3)                        # late: due 20 July
        term.visit("D"), out("D", 5), out("B", 4)
        term.search("пушкин", 3), term.search("робототехника", 0)
        with db.transaction() as s:
            for last, first, cls, cat, card in NEW_READERS:
                s.add(Reader(card_number=card, last_name=last, first_name=first,
                             class_name=cls, category=cat, sigla="ИБЦ"))
    with db.session() as s:
        term.readers["E"] = s.scalar(select(Reader).where(Reader.card_number == "9000000001"))
    with term.at(D(2026, 9, 10)):
        term.visit("E"), out("E", 6)
        term.play(0, "E"), term.play(0, "E"), term.play(0, "D")
    with term.at(D(2026, 9, 20)), db.transaction() as s:  # one copy lost
        c = s.scalar(select(Copy).where(Copy.barcode == _copies(s, T[11])[0]))
        c.status = "lost"
        s.flush()
        s.execute(update(Copy).where(Copy.id == c.id).values(updated_at=instant(D(2026, 9, 20))))
    with term.at(D(2026, 9, 28)):
        back(1)                                         # teacher, late: due 2 September
        term.visit("A"), out("A", 3)
    with term.at(D(2026, 9, 30), 23, 30):               # late evening, still September in Moscow
        term.play(1, "A")
    with term.at(D(2026, 10, 1), 0, 30):                # 30 September in UTC, October in Moscow
        term.search("шахматы", 0), term.play(1, "A")
    with term.at(D(2026, 10, 5)):
        back(5), out("A", 2)
    return term


def _copies(s, barcode: str) -> list[str]:
    """Barcodes of every copy of the title that holds `barcode`."""
    rid = s.scalar(select(Copy.record_id).where(Copy.barcode == barcode))
    return list(s.scalars(select(Copy.barcode).where(Copy.record_id == rid).order_by(Copy.id)))
