"""Holds with a pickup school and the inter-school request, on SQLite and PostgreSQL
(docs/HOLDS.md «Pickup school and inter-school requests»): a pupil of Школа № 2 asks for a book
only Гимназия № 5 has; the gymnasium's desk sends it, the school's desk receives it, the
school's terminal lends it to that pupil only, the return there sends it home."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from library.circulation import errors as E
from library.circulation import holds as H
from library.circulation.holds import HoldRules
from library.circulation.service import CirculationService
from library.schools import add_school, home_of, scope
from library.storage import Copy, Hold, Reader, Record
from library.storage.models import Transfer
from tests.circulation.conftest import TODAY

A, B, DEFAULT = "ГИМН5", "ШК2", "ШК1"


class Clock:
    def __init__(self, day: dt.date):
        self.day = day

    def __call__(self) -> dt.date:
        return self.day


@pytest.fixture
def clock():
    return Clock(TODAY)


@pytest.fixture
def city(db):
    """Three schools; «Тимур» only at the gymnasium (one copy), «Два капитана» at Школа № 2."""
    with db.transaction() as s:
        add_school(s, DEFAULT, "Школа № 1")
        add_school(s, A, "Гимназия № 5")
        add_school(s, B, "Школа № 2")
        timur = Record(key="timur", title="Тимур и его команда", authors=["Гайдар, Аркадий"])
        timur.copies.append(Copy(sigla=A, barcode="A1", status="available", shelf_mark="84Р"))
        two = Record(key="dva", title="Два капитана", authors=["Каверин, Вениамин"])
        two.copies.append(Copy(sigla=B, barcode="B1", status="available"))
        s.add_all([timur, two,
                   Reader(card_number="CB1", first_name="Боря", last_name="Ершов", class_name="5Б",
                          category="pupil", sigla=B),
                   Reader(card_number="CB2", first_name="Вера", last_name="Жукова", class_name="6Б",
                          category="pupil", sigla=B),
                   Reader(card_number="CA1", first_name="Аня", last_name="Зуева", class_name="5А",
                          category="pupil", sigla=A),
                   Reader(card_number="CA2", first_name="Гоша", last_name="Ильин", class_name="7А",
                          category="pupil", sigla=A)])
    return db


@pytest.fixture
def svc(city, policy, clock):
    service = CirculationService(city, policy, today=clock, hold_rules=HoldRules())
    service.default_school = DEFAULT
    return service


def rid(db, key: str) -> int:
    with db.session() as s:
        return s.scalar(select(Record.id).where(Record.key == key))


def status(db, barcode: str) -> str:
    with db.session() as s:
        return s.scalar(select(Copy.status).where(Copy.barcode == barcode))


def at(db, sigla: str):
    with db.session() as s:
        return scope(s, sigla, DEFAULT)


def open_transfers(db) -> list[tuple[str, str, str]]:
    with db.session() as s:
        return [(c, f, t) for c, f, t in s.execute(
            select(Copy.barcode, Transfer.from_sigla, Transfer.to_sigla)
            .join(Copy, Transfer.copy_id == Copy.id).where(Transfer.received_at.is_(None)))]


def test_the_whole_story(svc, city):
    # B's pupil asks: the only copy is on the gymnasium's shelf, not hers — a request, no refusal
    hold = svc.place_hold("CB1", rid(city, "timur"), "p1", terminal="kiosk-b")
    assert (hold.state, hold.request, hold.pickup, hold.pickup_name) == ("queued", True, B, "Школа № 2")
    assert hold.from_school == "Гимназия № 5"
    # only the owning school's desk sees it (and names no reader)
    asks = svc.school_requests(A)
    assert [(r.title, r.pickup_name, r.on_shelf, r.shelf) for r in asks] == [
        ("Тимур и его команда", "Школа № 2", 1, "84Р")]
    assert svc.school_requests(B) == [] and svc.school_requests(DEFAULT) == []
    # B cannot send A's copy; A sends it
    with pytest.raises(E.NotOurCopy):
        svc.send_copy("A1", B, "s0")
    sent = svc.send_copy("A1", A, "s1", by="lib-a")
    assert (sent.outcome, sent.from_name, sent.to_name, sent.hold_id) == (
        "sent", "Гимназия № 5", "Школа № 2", hold.hold_id)
    assert status(city, "A1") == "in_transit"
    assert open_transfers(city) == [("A1", A, B)]
    mine = svc.holds("CB1")[0]
    assert (mine.state, mine.from_school) == ("transit", "Гимназия № 5")
    assert svc.school_requests(A) == []
    assert [t.barcode for t in svc.transfers(B)] == ["A1"] == [t.barcode for t in svc.transfers(A)]
    assert svc.transfers(DEFAULT) == []
    # the gymnasium cannot «receive» its own copy; Школа № 2 does: it waits for Боря
    with pytest.raises(E.NotInTransit):
        svc.receive_copy("A1", A, "r0")
    got = svc.receive_copy("A1", B, "r1", by="lib-b")
    assert (got.outcome, got.reader) == ("waiting", "Боря Е., 5Б")
    assert got.pickup_until == H.pickup_until(svc.policy.calendar, TODAY, 5)
    assert status(city, "A1") == "reserved" and open_transfers(city) == []
    mine = svc.holds("CB1")[0]
    assert (mine.state, mine.pickup_until, mine.from_school) == ("waiting", got.pickup_until,
                                                                 "Гимназия № 5")
    # B's terminal: another B pupil is refused, a gymnasium terminal too, Боря gets it
    with pytest.raises(E.ReservedForAnother) as refused:
        svc.checkout("CB2", "A1", "c0", school=at(city, B))
    assert refused.value.params["title"] == "Тимур и его команда"
    with pytest.raises(E.OtherSchoolReader):
        svc.checkout("CB1", "A1", "c1", school=at(city, A))
    with pytest.raises(E.ReservedForAnother):
        svc.checkout("CA1", "A1", "c2", school=at(city, A))
    lent = svc.checkout("CB1", "A1", "c3", school=at(city, B), terminal="kiosk-b")
    assert lent.title == "Тимур и его команда" and status(city, "A1") == "on_loan"
    assert svc.holds("CB1") == []
    # the return at B (any terminal of B): set aside to be sent home
    back = svc.checkin("A1", "b1", school=at(city, B))
    assert (back.send_to, back.hold_id) == ("Гимназия № 5", 0)
    assert status(city, "A1") == "in_transit" and open_transfers(city) == [("A1", B, A)]
    again = svc.checkin("A1", "b2", school=at(city, B))
    assert again.send_to == "Гимназия № 5" and open_transfers(city) == [("A1", B, A)]
    with pytest.raises(E.NotInTransit):
        svc.receive_copy("A1", B, "r2")
    home = svc.receive_copy("A1", A, "r3")
    assert home.outcome == "shelf" and status(city, "A1") == "available"
    assert open_transfers(city) == [] and len(svc.transfers(open_only=False)) == 2


def test_a_return_at_the_owner_does_not_fill_another_schools_hold(svc, city):
    svc.checkout("CA1", "A1", "c1", school=at(city, A))
    b_hold = svc.place_hold("CB1", rid(city, "timur"), "p1")
    a_hold = svc.place_hold("CA2", rid(city, "timur"), "p2")
    assert b_hold.request and not a_hold.request and a_hold.pickup == A
    assert svc.school_requests(A)[0].on_shelf == 0  # all out: sent when it comes back
    out = svc.checkin("A1", "b1", school=at(city, A))
    # the gymnasium's own reader gets it although Школа № 2 queued first
    assert (out.hold_id, out.hold_for, out.send_to, out.wanted_by) == (
        a_hold.hold_id, "Гоша И., 7А", None, None)
    svc.cancel_hold(a_hold.hold_id, "x1", card="CA2")
    assert status(city, "A1") == "available"  # B's hold is not filled directly by the return
    with city.session() as s:
        assert s.get(Hold, b_hold.hold_id).state == "queued"
    assert svc.school_requests(A)[0].on_shelf == 1


def test_a_return_at_the_owner_says_which_school_asks_for_it(svc, city):
    svc.checkout("CA1", "A1", "c1", school=at(city, A))
    svc.place_hold("CB1", rid(city, "timur"), "p1")
    out = svc.checkin("A1", "b1", school=at(city, A))
    assert (out.hold_id, out.send_to, out.wanted_by) == (0, None, "Школа № 2")
    assert status(city, "A1") == "available"  # the desk sends it (/desk/requests)
    svc.send_copy("A1", A, "s1")
    assert svc.school_requests(A) == []


def test_a_desk_return_without_a_school_fills_only_the_copys_school(svc, city):
    svc.checkout("CA1", "A1", "c1", school=at(city, A))
    b_hold = svc.place_hold("CB1", rid(city, "timur"), "p1")
    out = svc.checkin("A1", "b1")  # the desk or the CLI: no school said
    assert (out.hold_id, out.send_to) == (0, None) and status(city, "A1") == "available"
    assert svc.holds("CB1")[0].hold_id == b_hold.hold_id


def test_cancel_in_transit_sends_the_copy_home(svc, city):
    hold = svc.place_hold("CB1", rid(city, "timur"), "p1")
    svc.send_copy("A1", A, "s1")
    gone = svc.cancel_hold(hold.hold_id, "x1", card="CB1")
    assert gone.state == "cancelled" and status(city, "A1") == "in_transit"
    got = svc.receive_copy("A1", B, "r1")
    assert (got.outcome, got.from_sigla, got.to_sigla, got.to_name) == (
        "send_back", B, A, "Гимназия № 5")
    assert open_transfers(city) == [("A1", B, A)]
    assert svc.receive_copy("A1", A, "r2").outcome == "shelf"
    assert status(city, "A1") == "available"


def test_expiry_of_a_waiting_request_sends_the_copy_home(svc, city, clock):
    svc.place_hold("CB1", rid(city, "timur"), "p1")
    svc.send_copy("A1", A, "s1")
    got = svc.receive_copy("A1", B, "r1")
    clock.day = got.pickup_until + dt.timedelta(days=1)
    report = svc.expire_holds()
    assert len(report.expired_waiting) == 1 and [e.barcode for e in report.take_off] == ["A1"]
    assert status(city, "A1") == "in_transit" and open_transfers(city) == [("A1", B, A)]
    assert svc.expire_holds().changed is False


def test_a_librarian_cancel_of_a_waiting_request_sends_it_home(svc, city):
    hold = svc.place_hold("CB1", rid(city, "timur"), "p1")
    svc.send_copy("A1", A, "s1")
    svc.receive_copy("A1", B, "r1")
    svc.cancel_hold(hold.hold_id, "x1", by="lib-b")
    assert open_transfers(city) == [("A1", B, A)]


def test_a_copy_travelling_for_a_request_is_not_taken_back_by_a_return(svc, city):
    svc.place_hold("CB1", rid(city, "timur"), "p1")
    svc.send_copy("A1", A, "s1")
    with pytest.raises(E.NotOnLoan):  # scanned at B's return slot: B's desk receives it
        svc.checkin("A1", "b1", school=at(city, B))
    assert status(city, "A1") == "in_transit" and open_transfers(city) == [("A1", A, B)]


def test_two_desks_sending_for_one_request_at_once_send_one_copy(svc, city):
    import threading

    with city.transaction() as s:
        s.add(Copy(record_id=rid(city, "timur"), sigla=A, barcode="A2", status="available"))
    svc.place_hold("CB1", rid(city, "timur"), "p1")
    start, results = threading.Barrier(2), []

    def send(code: str) -> None:
        start.wait()
        try:
            results.append(svc.send_copy(code, A, f"s-{code}").barcode)
        except E.CirculationError as exc:
            results.append(exc.code)

    threads = [threading.Thread(target=send, args=(c,)) for c in ("A1", "A2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r for r in results if r.startswith("A")) in (["A1"], ["A2"])
    assert results.count("no_request") == 1
    assert len(open_transfers(city)) == 1
    with city.session() as s:
        assert [h.state for h in s.scalars(select(Hold))] == ["transit"]


def test_send_and_receive_refusals_and_exactly_once(svc, city):
    with pytest.raises(E.ItemNotFound):
        svc.send_copy("nope", A, "s0")
    with pytest.raises(E.NoRequest) as none:
        svc.send_copy("A1", A, "s1")
    assert none.value.params["title"] == "Тимур и его команда"
    with pytest.raises(E.NoRequest):  # the refusal is stored: a repeat answers it again
        svc.send_copy("A1", A, "s1")
    svc.place_hold("CB1", rid(city, "timur"), "p1")
    first = svc.send_copy("A1", A, "s2")
    again = svc.send_copy("A1", A, "s2")
    assert again.replayed and again.transfer_id == first.transfer_id
    with pytest.raises(E.NotOurCopy):  # in transit now: not on the shelf
        svc.send_copy("A1", A, "s3")
    with pytest.raises(E.TransactionMismatch):
        svc.receive_copy("A1", B, "s2")
    svc.receive_copy("A1", B, "r1")
    assert svc.receive_copy("A1", B, "r1").replayed
    with city.session() as s:
        assert s.scalar(select(func.count()).select_from(Transfer)) == 1


def test_an_unrequested_copy_of_another_school_stays_other_school(svc, city):
    with pytest.raises(E.OtherSchool):
        svc.checkout("CB1", "A1", "c1", school=at(city, B))


def test_a_hold_with_copies_at_the_pickup_school_is_not_a_request(svc, city):
    svc.checkout("CB2", "B1", "c1", school=at(city, B))
    hold = svc.place_hold("CB1", rid(city, "dva"), "p1")
    assert (hold.request, hold.pickup, hold.from_school) == (False, B, None)
    with pytest.raises(E.HoldOnShelf):  # a B copy on B's shelf: take it
        svc.place_hold("CA1", rid(city, "timur"), "p2")
    with pytest.raises(E.BadPickup):
        svc.place_hold("CA2", rid(city, "dva"), "p3", pickup="НЕТ")
    # another pickup school may be chosen: the gymnasium's pupil picks it up at Школа № 2
    there = svc.place_hold("CA2", rid(city, "dva"), "p4", pickup=B)
    assert (there.pickup, there.request) == (B, False)


def test_the_default_school_keeps_a_null_pickup(svc, city):
    with city.transaction() as s:
        s.add(Reader(card_number="CD1", first_name="Дима", last_name="Котов", class_name="3В",
                     category="pupil", sigla=""))
    hold = svc.place_hold("CD1", rid(city, "timur"), "p1")
    with city.session() as s:
        assert s.get(Hold, hold.hold_id).pickup_sigla is None
    assert (hold.pickup, hold.pickup_name, hold.request) == (DEFAULT, "Школа № 1", True)
    assert svc.send_copy("A1", A, "s1").to_sigla == DEFAULT
    assert svc.receive_copy("A1", DEFAULT, "r1").outcome == "waiting"
    assert svc.checkout("CD1", "A1", "c1", school=at(city, DEFAULT)).title


def test_one_school_behaves_as_before(db, policy, clock):
    """A single school: no pickup stored, no request, a return fills the first hold."""
    with db.transaction() as s:
        add_school(s, DEFAULT, "Школа № 1")
        rec = Record(key="one", title="Один")
        rec.copies.append(Copy(sigla="ЧЗ", barcode="X1", status="available"))
        s.add_all([rec, Reader(card_number="R1", first_name="Ира", category="pupil", sigla="ЧЗ"),
                   Reader(card_number="R2", first_name="Оля", category="pupil")])
    svc = CirculationService(db, policy, today=clock)
    svc.default_school = DEFAULT
    svc.checkout("R1", "X1", "c1", school=at(db, DEFAULT))
    hold = svc.place_hold("R2", rid(db, "one"), "p1")
    assert (hold.pickup, hold.request, hold.from_school) == (DEFAULT, False, None)
    with db.session() as s:
        assert s.get(Hold, hold.hold_id).pickup_sigla is None
    out = svc.checkin("X1", "b1", school=at(db, DEFAULT))
    assert out.hold_id == hold.hold_id and out.send_to is None
    assert svc.school_requests(DEFAULT) == [] and svc.transfers() == []


def test_pure_rules():
    assert H.fills(A, A) and not H.fills(A, B)
    assert H.is_request(0, 1) and not H.is_request(1, 1) and not H.is_request(0, 0)
    assert H.may_send(A, "available", B, "queued")
    assert not H.may_send(A, "on_loan", B, "queued") and not H.may_send(A, "available", A, "queued")
    assert not H.may_send(A, "available", B, "transit")
    assert H.lend_across(B, A, B, 7, 7)
    assert not H.lend_across(B, A, A, 7, 7) and not H.lend_across(B, B, B, 7, 7)
    with pytest.raises(E.ReservedForAnother):
        H.lend_across(B, A, B, 7, 8)
    assert H.destination(A, B) == A and H.destination(A, A) is None and H.destination(A, None) is None
    assert H.hold_transition("queued", "send") == "transit"
    assert H.hold_transition("transit", "arrive") == "waiting"
    with pytest.raises(E.HoldClosed):
        H.hold_transition("waiting", "send")
    with pytest.raises(E.HoldClosed):
        H.hold_transition("transit", "trap")
    assert home_of("ЧЗ", DEFAULT, {DEFAULT, A}) == DEFAULT and home_of(A, DEFAULT, {DEFAULT, A}) == A
    assert home_of(A, DEFAULT, {A}) == DEFAULT  # one school: everything is the default's


def test_the_command_line_names_the_pickup_school_and_lists_transfers(svc, city, db_url, tmp_path,
                                                                     monkeypatch, capsys):
    import json

    from ibc.cli import main

    conf = tmp_path / "city.toml"
    conf.write_text(f'[school]\nsigla = "{DEFAULT}"\nname = "Школа № 1"\n', encoding="utf-8")
    monkeypatch.setenv("IBC_DATABASE_URL", db_url)
    monkeypatch.setenv("IBC_CONFIG", str(conf))
    capsys.readouterr()
    assert main(["holds", "place", "CB1", str(rid(city, "timur")), "--txn", "p1"]) == 0
    out = capsys.readouterr().out
    assert "«Тимур и его команда» — в очереди 1-й; забрать: Школа № 2 " \
           "(запрос в другую школу: Гимназия № 5)" in out
    assert main(["holds", "place", "CA2", str(rid(city, "dva")), "--pickup", "НЕТ", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["code"] == "bad_pickup"
    svc.send_copy("A1", A, "s1")
    assert main(["holds", "list", "--card", "CB1"]) == 0
    assert "едет из: Гимназия № 5; забрать: Школа № 2" in capsys.readouterr().out
    assert main(["holds", "transfers"]) == 0
    out = capsys.readouterr().out
    assert "A1  «Тимур и его команда»: Гимназия № 5 → Школа № 2 (для: Боря Е., 5Б; в пути)" in out
    assert out.rstrip().endswith("Книг в пути: 1")
    assert main(["holds", "transfers", "--school", DEFAULT, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    svc.receive_copy("A1", B, "r1")
    assert main(["holds", "transfers", "--all", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["barcode"], r["from_sigla"], r["to_sigla"], r["received_at"] is not None)
            for r in rows] == [("A1", A, B, True)]
