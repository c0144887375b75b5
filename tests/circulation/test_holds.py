"""Holds against the database, on SQLite and PostgreSQL: the whole story of two readers queueing
for a book that is out, exactly-once placing, cancel, expiry, limits, privacy, the report."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select, update

from library.circulation import errors as E
from library.circulation.holds import HoldRules
from library.circulation.overrides import Override
from library.circulation.service import CirculationService
from library.reports.period import Period
from library.reports.report import build_report
from library.reports.tables import sections
from library.storage import Copy, Event, Hold, Reader, Record
from tests.circulation.conftest import TODAY, populate

UTC = dt.timezone.utc


class Clock:
    """The service's `today`, moved by the test."""

    def __init__(self, day: dt.date):
        self.day = day

    def __call__(self) -> dt.date:
        return self.day


@pytest.fixture
def clock():
    return Clock(TODAY)


@pytest.fixture
def lib(db):
    """The circulation test library plus a record with one copy and Анна Кузнецова, 5А."""
    populate(db)
    with db.transaction() as s:
        rec = Record(key="timur", title="Тимур и его команда", authors=["Гайдар, Аркадий Петрович"])
        rec.copies.append(Copy(sigla="ИБЦ", barcode="9001", inventory_number="i9001",
                               status="available"))
        two = Record(key="dva", title="Два капитана", authors=["Каверин, Вениамин"])
        for bc in ("9101", "9102"):
            two.copies.append(Copy(sigla="ИБЦ", barcode=bc, status="available"))
        s.add_all([rec, two, Reader(card_number="CAK", first_name="Анна", last_name="Кузнецова",
                                    class_name="5А", category="pupil")])
    return db


def make(lib, policy, clock, **rules) -> CirculationService:
    return CirculationService(lib, policy, sigla="ИБЦ", today=clock, hold_rules=HoldRules(**rules))


@pytest.fixture
def svc(lib, policy, clock):
    return make(lib, policy, clock)


def rid(db, key: str) -> int:
    with db.session() as s:
        return s.scalar(select(Record.id).where(Record.key == key))


def status(db, barcode: str) -> str:
    with db.session() as s:
        return s.scalar(select(Copy.status).where(Copy.barcode == barcode))


def hold_row(db, hold_id: int) -> Hold:
    with db.session() as s:
        h = s.get(Hold, hold_id)
        s.expunge(h)
        return h


def placed_on(db, hold_id: int, day: dt.date) -> None:
    """Back-date a hold (the service stamps the real time; the tests move `today`)."""
    with db.transaction() as s:
        s.execute(update(Hold).where(Hold.id == hold_id).values(
            placed_at=dt.datetime.combine(day, dt.time(9, 0), tzinfo=UTC)))


def events(db) -> dict[str, int]:
    with db.session() as s:
        rows = s.execute(select(Event.kind, func.count()).where(Event.kind.like("hold%"))
                         .group_by(Event.kind)).all()
    return {k: int(n) for k, n in rows}


def test_two_readers_queue_and_the_book_finds_them(svc, lib, clock):
    timur = rid(lib, "timur")
    svc.checkout("CT", "9001", "lend")
    anna = svc.place_hold("CAK", timur, "h-anna", terminal="kiosk-1")
    vanya = svc.place_hold("C1B", timur, "h-vanya", by="desk:marina")
    assert (anna.state, anna.position, vanya.position) == ("queued", 1, 2)
    assert anna.title == "Тимур и его команда" and anna.authors == "Гайдар"
    assert hold_row(lib, anna.hold_id).placed_by == "kiosk-1"
    assert hold_row(lib, vanya.hold_id).placed_by == "desk:marina"
    placed_on(lib, anna.hold_id, dt.date(2026, 10, 1))
    placed_on(lib, vanya.hold_id, dt.date(2026, 10, 2))
    assert [h.position for h in svc.holds("C1B")] == [2]

    # the teacher's renewal is refused while the pupils queue, allowed with a desk override
    with pytest.raises(E.RenewalHeld):
        svc.renew("CT", "9001", "renew-1")
    out = svc.renew("CT", "9001", "renew-2", override=Override.make("последний урок", "marina"))
    assert out.renewals == 1

    # the copy comes back at a kiosk: it is set aside for Анна until the 5th open day
    back = svc.checkin("9001", "ret-1", terminal="kiosk-1")
    assert (back.hold_id, back.hold_for, back.hold_until) == (
        anna.hold_id, "Анна К., 5А", dt.date(2026, 10, 10))
    assert status(lib, "9001") == "reserved"
    assert svc.checkin("9001", "ret-1", terminal="kiosk-1") == \
        type(back)(**{**back.__dict__, "replayed": True})
    # scanned again (another transaction): the same notice, nothing changes
    again = svc.checkin("9001", "ret-2")
    assert (again.hold_id, again.hold_for, again.hold_until, again.loan_id) == (
        anna.hold_id, "Анна К., 5А", dt.date(2026, 10, 10), 0)
    [mine] = svc.holds("CAK")
    assert (mine.state, mine.position, mine.barcode, mine.pickup_until, mine.where) == (
        "waiting", 0, "9001", dt.date(2026, 10, 10), None)
    shelf = svc.hold_shelf()
    assert [(e.barcode, e.reader, e.card, e.offline) for e in shelf.waiting] == [
        ("9001", "Анна К., 5А", "CAK", False)]
    queue = svc.hold_queue(timur)
    assert [(q.position, q.reader, q.state) for q in queue] == [
        (0, "Анна К., 5А", "waiting"), (1, "Ваня С., 1Б", "queued")]

    # the second reader cannot take it, nor anyone else, not even with an override
    with pytest.raises(E.ReservedForAnother):
        svc.checkout("C1B", "9001", "take-1")
    with pytest.raises(E.ReservedForAnother) as refused:
        svc.checkout("C5A", "9001", "take-2", override=Override.make("очень нужно", "marina"))
    assert refused.value.code == "reserved"
    assert status(lib, "9001") == "reserved"

    # not picked up by Saturday: Monday's expiry passes it to Ваня (Sunday is closed)
    clock.day = dt.date(2026, 10, 12)
    report = svc.expire_holds()
    assert report.expired_waiting == [anna.hold_id] and report.take_off == []
    assert [(e.reader, e.pickup_until) for e in report.passed_on] == [
        ("Ваня С., 1Б", dt.date(2026, 10, 17))]
    again_report = svc.expire_holds()
    assert not again_report.changed and again_report.passed_on == []
    assert status(lib, "9001") == "reserved"
    assert svc.holds("CAK") == []
    with pytest.raises(E.ReservedForAnother):
        svc.checkout("CAK", "9001", "take-3")

    # Ваня takes it: the hold is fulfilled, the copy on loan
    lent = svc.checkout("C1B", "9001", "take-4")
    assert lent.barcode == "9001" and status(lib, "9001") == "on_loan"
    assert hold_row(lib, vanya.hold_id).state == "fulfilled"
    assert svc.hold_queue(timur) == [] and svc.hold_shelf().waiting == []

    assert events(lib) == {"hold_placed": 2, "hold_waiting": 2, "hold_expired": 1,
                           "hold_fulfilled": 1}
    now = dt.datetime.now(UTC).date()
    period = Period(now - dt.timedelta(days=1), now + dt.timedelta(days=1), "test")
    figures = build_report(lib, period)["circulation"]["holds"]
    # waits: Анна placed 1 Oct, set aside 5 Oct (4 days); Ваня placed 2 Oct, 12 Oct (10 days)
    assert figures == {"placed": 2, "waiting": 2, "fulfilled": 1, "expired": 1, "cancelled": 0,
                       "median_wait_days": 7.0}
    report = build_report(lib, period)
    assert report["circulation"]["refusals"]["renew:renewal_held"] == 1
    # the PDF/XLSX/CSV tables show them too
    [table] = [t for sec in sections(report) for t in sec.tables if t.title.startswith("Заказы")]
    assert table.rows == [["Поставлено в очередь", 2], ["Отложено для читателя", 2],
                          ["Выдано по заказу", 1], ["Не забрали вовремя", 1], ["Отменено", 0],
                          ["Ожидание, медиана (дней)", "7"]]


def test_a_hold_for_a_copy_nobody_else_wants_goes_back_to_the_shelf(svc, lib, clock):
    timur = rid(lib, "timur")
    svc.checkout("CT", "9001", "lend")
    anna = svc.place_hold("CAK", timur, "h1")
    svc.checkin("9001", "ret", terminal="server", offline=True)
    [entry] = svc.hold_shelf().waiting
    assert entry.offline and hold_row(lib, anna.hold_id).offline
    clock.day = dt.date(2026, 10, 12)
    report = svc.expire_holds()
    assert [e.barcode for e in report.take_off] == ["9001"] and report.passed_on == []
    assert status(lib, "9001") == "available"
    assert [e.barcode for e in svc.hold_shelf(clock.day).take_off] == ["9001"]
    tomorrow = dt.datetime.now().date() + dt.timedelta(days=1)
    assert svc.hold_shelf(tomorrow).take_off == []  # a day later it is no longer news
    assert svc.hold_shelf(clock.day).waiting == []


def test_place_is_exactly_once(svc, lib):
    timur = rid(lib, "timur")
    svc.checkout("CT", "9001", "lend")
    first = svc.place_hold("CAK", timur, "same")
    again = svc.place_hold("CAK", timur, "same")
    assert again.hold_id == first.hold_id and again.replayed and not first.replayed
    with pytest.raises(E.TransactionMismatch):
        svc.place_hold("C1B", timur, "same")
    with pytest.raises(E.AlreadyQueued):
        svc.place_hold("CAK", timur, "other")
    with pytest.raises(E.AlreadyQueued):  # a refusal replays as the refusal
        svc.place_hold("CAK", timur, "other")
    with lib.session() as s:
        assert s.scalar(select(func.count()).select_from(Hold)) == 1


def test_parallel_places_of_one_reader_make_one_hold(svc, lib):
    timur = rid(lib, "timur")
    svc.checkout("CT", "9001", "lend")
    results: list[object] = []
    start = threading.Barrier(4)

    def place(n: int) -> None:
        start.wait()
        try:
            results.append(svc.place_hold("CAK", timur, f"par-{n}"))
        except E.CirculationError as exc:
            results.append(exc.code)

    threads = [threading.Thread(target=place, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r if isinstance(r, str) else "ok" for r in results) == [
        "already_queued", "already_queued", "already_queued", "ok"]
    with lib.session() as s:
        assert s.scalar(select(func.count()).select_from(Hold)) == 1


def test_two_copies_returned_at_once_go_to_the_first_two_readers(svc, lib):
    dva = rid(lib, "dva")
    svc.checkout("CT", "9101", "l1")
    svc.checkout("C5A", "9102", "l2")
    first = svc.place_hold("CAK", dva, "h1")
    second = svc.place_hold("C1B", dva, "h2")
    outcomes: dict[str, object] = {}
    start = threading.Barrier(2)

    def back(barcode: str) -> None:
        start.wait()
        outcomes[barcode] = svc.checkin(barcode, f"r-{barcode}").hold_id

    threads = [threading.Thread(target=back, args=(bc,)) for bc in ("9101", "9102")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == [first.hold_id, second.hold_id]
    assert status(lib, "9101") == status(lib, "9102") == "reserved"
    assert {e.card for e in svc.hold_shelf().waiting} == {"CAK", "C1B"}


def test_cancel_own_not_own_librarian_and_pass_on(svc, lib, clock):
    timur = rid(lib, "timur")
    svc.checkout("CT", "9001", "lend")
    anna = svc.place_hold("CAK", timur, "h1")
    vanya = svc.place_hold("C1B", timur, "h2")
    anya = svc.place_hold("C5A", timur, "h3")
    with pytest.raises(E.NotYourHold):
        svc.cancel_hold(vanya.hold_id, "c0", card="CAK")
    with pytest.raises(E.HoldNotFound):
        svc.cancel_hold(99999, "c00")
    assert hold_row(lib, vanya.hold_id).state == "queued"
    own = svc.cancel_hold(anya.hold_id, "c1", card="C5A")
    assert own.state == "cancelled" and hold_row(lib, anya.hold_id).close_reason == "reader"
    assert svc.cancel_hold(anya.hold_id, "c1", card="C5A").replayed
    with pytest.raises(E.HoldClosed):
        svc.cancel_hold(anya.hold_id, "c2")
    # the copy comes back for Анна; the librarian cancels her waiting hold: it passes to Ваня
    assert svc.checkin("9001", "ret").hold_id == anna.hold_id
    gone = svc.cancel_hold(anna.hold_id, "c3", by="desk:marina")
    assert gone.state == "cancelled" and hold_row(lib, anna.hold_id).close_reason == "librarian"
    assert status(lib, "9001") == "reserved"
    [now_waiting] = svc.holds("C1B")
    assert (now_waiting.state, now_waiting.barcode, now_waiting.pickup_until) == (
        "waiting", "9001", dt.date(2026, 10, 10))
    # Ваня cancels too: nobody is left, the copy goes back to the shelves
    svc.cancel_hold(vanya.hold_id, "c4", card="C1B")
    assert status(lib, "9001") == "available"
    assert [e.barcode for e in svc.hold_shelf().take_off] == ["9001"]
    assert events(lib)["hold_cancelled"] == 3


def test_checkout_of_another_copy_fulfils_and_frees_the_one_set_aside(svc, lib):
    dva = rid(lib, "dva")
    svc.checkout("CT", "9101", "l1")
    svc.checkout("C5A", "9102", "l2")
    anna = svc.place_hold("CAK", dva, "h1")
    assert svc.checkin("9101", "r1").hold_id == anna.hold_id
    assert svc.checkin("9102", "r2").hold_id == 0  # nobody else queues: back to the shelf
    assert status(lib, "9102") == "available"
    svc.checkout("CAK", "9102", "take")  # she takes the copy from the shelf instead
    assert hold_row(lib, anna.hold_id).state == "fulfilled"
    assert status(lib, "9101") == "available"  # the copy set aside is free again


def test_place_refusals(lib, policy, clock):
    svc = make(lib, policy, clock)
    with pytest.raises(E.HoldOnShelf) as shelf:
        svc.place_hold("CAK", rid(lib, "kid"), "p1")
    assert shelf.value.params["title"] == "Денискины рассказы"
    with pytest.raises(E.NoLoanableCopy):
        svc.place_hold("CAK", rid(lib, "dict"), "p2")
    with pytest.raises(E.RecordNotFound):
        svc.place_hold("CAK", 99999, "p3")
    with pytest.raises(E.ReaderNotFound):
        svc.place_hold("NOPE", rid(lib, "kid"), "p4")
    with pytest.raises(E.ReaderBlocked):
        svc.place_hold("CBLK", rid(lib, "kid"), "p5")
    svc.checkout("CAK", "9001", "mine")
    with pytest.raises(E.AlreadyHaveIt):
        svc.place_hold("CAK", rid(lib, "timur"), "p6")
    with pytest.raises(E.HoldsOff):
        make(lib, policy, clock, enabled=False).place_hold("C1B", rid(lib, "timur"), "p7")
    with lib.session() as s:
        assert s.scalar(select(func.count()).select_from(Hold)) == 0
        refused = s.scalars(select(Event.payload).where(Event.kind == "hold_place_refused")).all()
    assert [p["code"] for p in refused] == ["hold_on_shelf", "no_loanable_copy", "record_not_found",
                                            "reader_not_found", "reader_blocked", "already_have_it",
                                            "holds_off"]


def test_on_shelf_setting_and_the_limit(lib, policy, clock):
    svc = make(lib, policy, clock, on_shelf=True)
    with pytest.raises(E.AgeRestricted):  # «Война и мир» is 12+: a first-grader may not queue
        svc.place_hold("C1B", rid(lib, "war"), "p8")
    for n, key in enumerate(("kid", "dva", "misc")):
        assert svc.place_hold("C1B", rid(lib, key), f"p{n}").state == "queued"
    with pytest.raises(E.HoldLimitReached) as limit:
        svc.place_hold("C1B", rid(lib, "timur"), "p9")
    assert limit.value.params["count"] == 3
    assert len(svc.holds("C1B")) == 3
    assert len(svc.all_holds()) == 3


def test_expiry_of_old_queued_holds_and_readers_who_left(lib, policy, clock):
    svc = make(lib, policy, clock, queue_days=30)
    timur = rid(lib, "timur")
    svc.checkout("CT", "9001", "lend")
    old = svc.place_hold("CAK", timur, "h1")
    fresh = svc.place_hold("C1B", timur, "h2")
    left = svc.place_hold("C5A", timur, "h3")
    placed_on(lib, old.hold_id, TODAY - dt.timedelta(days=31))
    placed_on(lib, fresh.hold_id, TODAY - dt.timedelta(days=30))
    with lib.transaction() as s:
        s.execute(update(Reader).where(Reader.card_number == "C5A").values(active=False))
    report = svc.expire_holds()
    assert report.expired_queued == [old.hold_id] and report.cancelled_inactive == [left.hold_id]
    assert report.to_dict()["expired_queued"] == [old.hold_id]
    assert [v.hold_id for v, _, _ in svc.all_holds()] == [fresh.hold_id]
    assert not svc.expire_holds().changed


def test_holds_are_anonymised_like_loans(svc, lib, clock):
    timur = rid(lib, "timur")
    svc.checkout("CT", "9001", "lend")
    gone = svc.place_hold("CAK", timur, "h1")
    svc.cancel_hold(gone.hold_id, "c1")
    kept = svc.place_hold("C1B", timur, "h2")
    later = dt.datetime.now(UTC) + dt.timedelta(days=31)
    assert svc.anonymise_holds(later - dt.timedelta(days=2)) == 0  # not 30 days yet
    svc.anonymise_returned(later)
    row = hold_row(lib, gone.hold_id)
    assert (row.reader_id, row.anonymised, row.reader_category, row.reader_class) == (
        None, True, "pupil", "5А")
    assert hold_row(lib, kept.hold_id).reader_id is not None  # an active hold keeps its reader
    assert svc.anonymise_holds(later) == 0


def test_shelf_note_and_holds_switched_off(lib, policy, clock):
    svc = make(lib, policy, clock, shelf_note="шкаф у окна")
    timur = rid(lib, "timur")
    svc.checkout("CT", "9001", "lend")
    anna = svc.place_hold("CAK", timur, "h1")
    svc.checkin("9001", "r1")
    assert [h.where for h in svc.holds("CAK")] == ["шкаф у окна"]
    svc.checkout("CAK", "9001", "take")
    svc.place_hold("C1B", timur, "h2")
    off = make(lib, policy, clock, enabled=False)
    assert off.renew("CAK", "9001", "renew").renewals == 1  # no queue is kept while switched off
    back = off.checkin("9001", "r2")
    assert back.hold_id == 0 and status(lib, "9001") == "available"
    assert hold_row(lib, anna.hold_id).state == "fulfilled"
