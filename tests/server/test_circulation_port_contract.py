"""One contract for every implementation of library.circulation.ports.CirculationPort.

The same scenarios run against the database itself (CirculationService), a terminal through the
real school server's API (kiosk.terminal.circulation_port.RemoteCirculation, the app served in
process) and the kiosk's fake (kiosk.fakes.FakeCirculation): the same refusal codes, exactly-once
transaction ids, the same values. The way httpx runs one test suite over its transports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from library.circulation import errors as E
from library.circulation.ports import CirculationPort
from library.circulation.values import LoanOutcome, ReaderView
from tests.server.conftest import TODAY


@dataclass
class World:
    """A back end and the cards and barcodes its library holds."""

    port: CirculationPort
    today: dt.date
    card: str          # a pupil who may borrow, no PIN
    blocked: str       # a blocked reader
    pin_card: str      # a reader with a PIN of their own
    pin: str
    books: tuple[str, str]  # two copies on the shelf
    self_set_off: Callable[[], None]  # [circulation] pin_self_set = false from now on
    unknown: str = "NO-SUCH-CODE-42"


def _service(db, settings) -> World:
    from library.circulation.service import CirculationService
    from tests.server.conftest import populate

    populate(db)
    port = CirculationService.from_settings(db, settings.circulation, today=lambda: TODAY)
    return World(port, TODAY, "C5A", "CBLK", "CPIN", "4321", ("2001", "2002"),
                 lambda: setattr(settings.circulation, "pin_self_set", False))


def _remote(api, enrol, tmp_path, settings) -> World:
    from kiosk.terminal import ApiClient
    from kiosk.terminal.circulation import TerminalCirculation
    from kiosk.terminal.circulation_port import RemoteCirculation
    from kiosk.terminal.offline import OfflineQueue
    from kiosk.terminal.replica import Replica
    from library.storage.database import open_database

    test_client, _db = api
    token = enrol("contract")["Authorization"].removeprefix("Bearer ")
    client = ApiClient("http://testserver", token, transport=test_client._transport)
    queue = OfflineQueue(tmp_path / "queue.sqlite3")
    replica = open_database(f"sqlite:///{tmp_path / 'replica.sqlite3'}")
    assert Replica(replica, client).sync().records == 3  # the terminal tells books from cards
    port = RemoteCirculation(TerminalCirculation("contract", client, queue), replica)
    return World(port, TODAY, "C5A", "CBLK", "CPIN", "4321", ("2001", "2002"),
                 lambda: setattr(settings.circulation, "pin_self_set", False))


def _fake() -> World:
    from kiosk.fakes import FakeCirculation

    port = FakeCirculation()
    return World(port, port.lib.today, "100001", "100002", "100004", "4321",
                 ("200001", "200003"), lambda: setattr(port, "pin_self_set", False))


@pytest.fixture(params=["service", "remote", "fake"])
def world(request, db, tmp_path):
    if request.param == "fake":
        return _fake()
    settings = request.getfixturevalue("settings")
    if request.param == "service":
        return _service(db, settings)
    return _remote(request.getfixturevalue("api"), request.getfixturevalue("enrol"), tmp_path,
                   settings)


def _identified(w: World, card: str, pin: str | None = None) -> ReaderView:
    """The flows' order: the card, the PIN when asked, then the reader as identified."""
    reader = w.port.find_reader(card)
    if w.port.pin_required(reader):
        assert w.port.check_pin(card, pin or "")
    return w.port.identified_reader(reader)


def test_implements_the_port(world):
    assert isinstance(world.port, CirculationPort)


def test_unknown_card_and_book(world):
    w = world
    with pytest.raises(E.ReaderNotFound) as err:
        w.port.find_reader(w.unknown)
    assert err.value.code == "reader_not_found"
    assert w.port.is_reader_card(w.card) and not w.port.is_reader_card(w.books[0])
    with pytest.raises(E.BookNotCard) as book:  # a book where the card is expected: one call
        w.port.find_reader(w.books[0])
    assert book.value.code == "book_not_card"
    _identified(w, w.card)
    with pytest.raises(E.ItemNotFound) as err:
        w.port.checkout(w.card, w.unknown, "t-unknown")
    assert err.value.code == "item_not_found"
    w.port.end_session()


def test_checkout_renew_return_exactly_once(world):
    w = world
    reader = _identified(w, w.card)
    assert reader.first_name and reader.category == "pupil" and reader.restriction is None
    first = w.port.checkout(w.card, w.books[0], "t-out-1")
    assert isinstance(first, LoanOutcome) and first.action == "checkout"
    assert first.barcode == w.books[0] and first.title
    assert first.due_date is not None and first.due_date > w.today
    again = w.port.checkout(w.card, w.books[0], "t-out-1")  # the same transaction: replayed
    assert again.loan_id == first.loan_id and again.due_date == first.due_date
    assert [ln.barcode for ln in w.port.loans(w.card)].count(w.books[0]) == 1
    with pytest.raises(E.ItemAlreadyYours) as err:  # a new transaction for a copy I hold
        w.port.checkout(w.card, w.books[0], "t-out-2")
    assert err.value.code == "already_yours"

    renewed = w.port.renew(w.card, w.books[0], "t-renew-1")
    assert renewed.action == "renew" and renewed.renewals == 1
    assert renewed.due_date is not None and renewed.due_date >= first.due_date
    assert w.port.renew(w.card, w.books[0], "t-renew-1").renewals == 1  # replayed, not twice
    w.port.end_session()

    back = w.port.checkin(w.books[0], "t-in-1")
    assert back.action == "checkin" and back.barcode == w.books[0]
    assert w.port.checkin(w.books[0], "t-in-1").loan_id == back.loan_id  # replayed
    with pytest.raises(E.NotOnLoan) as err:
        w.port.checkin(w.books[0], "t-in-2")
    assert err.value.code == "not_on_loan"
    _identified(w, w.card)
    assert w.books[0] not in [ln.barcode for ln in w.port.loans(w.card)]
    w.port.end_session()


def test_a_blocked_reader_is_told_at_the_card_and_refused(world):
    w = world
    reader = w.port.find_reader(w.blocked)
    assert reader.restriction == "reader_blocked"
    with pytest.raises(E.ReaderBlocked) as err:
        _identified(w, w.blocked)
        w.port.checkout(w.blocked, w.books[1], "t-blocked")
    assert err.value.code == "reader_blocked"
    w.port.end_session()


def test_a_pin_is_asked_and_checked(world):
    w = world
    reader = w.port.find_reader(w.pin_card)
    assert w.port.pin_required(reader)
    assert not w.port.check_pin(w.pin_card, "0000")
    assert w.port.check_pin(w.pin_card, w.pin)
    w.port.end_session()
    free = w.port.find_reader(w.card)
    assert not w.port.pin_required(free)
    w.port.end_session()


# --- a reader's own PIN (issue 16) -----------------------------------------------------------
def test_a_reader_changes_their_pin_and_identifies_with_the_new_one(world):
    w = world
    _identified(w, w.pin_card, w.pin)
    w.port.change_pin(w.pin_card, w.pin, "5830")
    w.port.end_session()
    assert w.port.pin_required(w.port.find_reader(w.pin_card))
    assert not w.port.check_pin(w.pin_card, w.pin)
    assert w.port.check_pin(w.pin_card, "5830")
    assert w.port.identified_reader(w.port.find_reader(w.pin_card)).card == w.pin_card
    w.port.end_session()


def test_a_wrong_current_pin_or_a_bad_new_one_is_refused(world):
    w = world
    _identified(w, w.pin_card, w.pin)
    for current in ("9075", None):
        with pytest.raises(E.WrongPin) as wrong:
            w.port.change_pin(w.pin_card, current, "5830")
        assert wrong.value.code == "wrong_pin"
    with pytest.raises(E.PinTrivial) as trivial:
        w.port.change_pin(w.pin_card, w.pin, "1111")
    assert trivial.value.code == "pin_trivial"
    with pytest.raises(E.PinFormat) as short:
        w.port.change_pin(w.pin_card, w.pin, "58")
    assert short.value.code == "pin_format"
    assert (str(short.value.params["min"]), str(short.value.params["max"])) == ("4", "8")
    w.port.end_session()
    w.port.find_reader(w.pin_card)
    assert w.port.check_pin(w.pin_card, w.pin)  # nothing changed
    w.port.end_session()


def test_a_first_pin_where_the_policy_allows(world):
    w = world
    _identified(w, w.card)
    assert w.port.may_set_first_pin()
    w.port.change_pin(w.card, None, "5830")
    w.port.end_session()
    reader = w.port.find_reader(w.card)
    assert w.port.pin_required(reader)  # from now on the card needs the PIN
    assert w.port.check_pin(w.card, "5830")
    w.port.end_session()


def test_no_first_pin_when_the_policy_says_no(world):
    w = world
    w.self_set_off()
    _identified(w, w.card)
    assert not w.port.may_set_first_pin()
    with pytest.raises(E.PinSelfSetOff) as off:
        w.port.change_pin(w.card, None, "5830")
    assert off.value.code == "pin_self_set_off"
    w.port.end_session()
    assert not w.port.pin_required(w.port.find_reader(w.card))
    w.port.end_session()
