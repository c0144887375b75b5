"""The self-service flows driven by scripted hooks."""

import pytest

from library.circulation import errors as E
from library.circulation.flows import FlowHooks, MyLoans, SelfCheckoutFlow, SelfReturnFlow, Step


class Script(FlowHooks):
    def __init__(self, receipt=True):
        self.log = []
        self.receipt = receipt

    def need_card(self):
        self.log.append(("need_card",))

    def need_pin(self, reader):
        self.log.append(("need_pin", reader.first_name))

    def reader_identified(self, reader):
        self.log.append(("hello", reader.greeting_name))

    def reader_refused(self, error):
        self.log.append(("refused", error.code))

    def item_done(self, result):
        self.log.append(("item", result.code, result.ok, result.error.code if result.error else None))

    def want_receipt(self, receipt):
        self.log.append(("receipt?", len(receipt.lines)))
        return self.receipt

    def session_ended(self, reason, receipt):
        self.log.append(("end", reason, receipt is not None))


@pytest.fixture
def clock():
    class Clock:
        t = 0.0

        def __call__(self):
            return self.t
    return Clock()


def test_full_checkout(service, clock):
    hooks = Script()
    flow = SelfCheckoutFlow(service, hooks, school="Школа №1", clock=clock, idle_timeout=30)
    flow.scan("1001")  # book before card
    flow.scan("C5A")
    flow.scan("4001")  # reference: refused
    flow.scan("1001")  # the same book again: ignored
    receipt = flow.finish()
    assert hooks.log == [
        ("need_card",),
        ("hello", "Аня П."),
        ("item", "1001", True, None),
        ("item", "4001", False, "not_for_loan"),
        ("receipt?", 1),
        ("end", "finished", True),
    ]
    text = receipt.text()
    assert "Аня П." in text and "Война и мир" in text and "Петрова" not in text
    assert "19.10.2026" in text
    assert flow.step == Step.ENDED and flow.reader is None


def test_unknown_card_and_other_card(service, clock):
    hooks = Script()
    flow = SelfCheckoutFlow(service, hooks, clock=clock)
    flow.scan("C5A")
    flow.scan("CT")
    assert ("refused", "finish_first") in hooks.log


def test_idle_timeout_clears_session(service, clock):
    hooks = Script()
    flow = SelfCheckoutFlow(service, hooks, clock=clock, idle_timeout=30)
    flow.scan("C5A")
    flow.scan("1001")
    clock.t = 29
    flow.tick()
    assert flow.step == Step.WAIT_ITEMS
    clock.t = 31
    flow.tick()
    assert hooks.log[-1] == ("end", "idle", False)
    assert flow.reader is None and flow.results == []


def test_pin(service, lib, clock):
    from sqlalchemy import update

    from library.circulation.pins import hash_pin
    from library.storage import Reader

    with lib.transaction() as s:
        s.execute(update(Reader).where(Reader.card_number == "C5A").values(pin_hash=hash_pin("1234")))
    hooks = Script()
    flow = SelfCheckoutFlow(service, hooks, clock=clock, require_pin=True)
    flow.scan("C5A")
    flow.enter_pin("0000")
    flow.enter_pin("1234")
    assert hooks.log == [("need_pin", "Аня"), ("refused", "wrong_pin"), ("hello", "Аня П.")]


def test_return_flow_and_my_loans(service, clock):
    service.checkout("C5A", "1001", "a")
    service.checkout("C5A", "2001", "b")
    mine = MyLoans(service, "C5A")
    assert len(mine.refresh()) == 2
    res = mine.renew("1001")
    assert res.ok and res.outcome.renewals == 1
    hooks = Script()
    ret = SelfReturnFlow(service, hooks, clock=clock)
    ret.scan("1001")
    ret.scan("1002")
    ret.finish()
    assert hooks.log == [("item", "1001", True, None), ("item", "1002", False, "not_on_loan"),
                         ("end", "finished", False)]
    assert [v.barcode for v in mine.refresh()] == ["2001"]


def test_receipt_pdf(service, tmp_path, clock):
    pytest.importorskip("reportlab", reason="reportlab is in the reports extra")
    flow = SelfCheckoutFlow(service, Script(), school="Школа", clock=clock)
    flow.scan("C5A")
    flow.scan("1001")
    path = flow.receipt().pdf(tmp_path / "r.pdf")
    assert path.read_bytes().startswith(b"%PDF")
    assert E  # errors module imported for readability of the log codes


def test_reader_with_own_pin_is_asked_even_when_policy_does_not_require(service, lib, clock):
    from sqlalchemy import update

    from library.circulation.pins import hash_pin
    from library.storage import Reader

    with lib.transaction() as s:
        s.execute(update(Reader).where(Reader.card_number == "C5A").values(pin_hash=hash_pin("7777")))
    hooks = Script()
    flow = SelfCheckoutFlow(service, hooks, clock=clock)
    flow.scan("CT")  # no PIN of her own: straight in
    assert hooks.log[-1] == ("hello", "Мария И.")
    flow.cancel()
    hooks = Script()
    flow = SelfCheckoutFlow(service, hooks, clock=clock)
    flow.scan("C5A")
    assert hooks.log == [("need_pin", "Аня")]
    flow.scan("1001")  # a book before the PIN waits
    flow.enter_pin("7777")
    assert hooks.log[-2:] == [("hello", "Аня П."), ("item", "1001", True, None)]


def test_identify_only_flow_never_lends(service, clock):
    hooks = Script()
    flow = SelfCheckoutFlow(service, hooks, clock=clock, lend=False)
    flow.scan("C5A")
    flow.scan("1001")
    assert hooks.log == [("hello", "Аня П."), ("need_card",)]
    assert service.loans("C5A") == []


def test_a_quiet_checkout_one_database_session_per_scan(service, lib, clock):
    """One card scan, one book, a book before the card, another reader's card: each one
    database session (the port tells cards from books in the same call)."""
    opened = []
    session, transaction = lib.session, lib.transaction

    def counting(real):
        def open_(*args, **kwargs):
            opened.append(real.__name__)
            return real(*args, **kwargs)
        return open_

    lib.session, lib.transaction = counting(session), counting(transaction)
    try:
        hooks = Script()
        flow = SelfCheckoutFlow(service, hooks, clock=clock)
        steps = []
        for code in ("2001", "C5A", "2002", "CT"):  # a book first, the card, a book, a card
            before = len(opened)
            flow.scan(code)
            steps.append(len(opened) - before)
    finally:
        lib.session, lib.transaction = session, transaction
    # the card also lends the book shown before it: 1 (card) + 1 (that book); a refusal (the
    # other card) is recorded for exactly-once in a second short transaction after the rollback
    assert steps == [1, 2, 1, 2], (steps, opened)
    assert ("hello", "Аня П.") in hooks.log and ("refused", "finish_first") in hooks.log
    assert [e for e in hooks.log if e[0] == "item"] == [("item", "2001", True, None),
                                                        ("item", "2002", True, None)]
