"""Circulation against ИРБИС64 (``[circulation] backend = "irbis"``), end to end against the
emulator on loopback, on SQLite and PostgreSQL (the `db` fixture): what the kiosk's flows, the
terminal API and ``ibc irbis push`` write into RDR field 40 and 910^a is read back by the
independent client cbsvibpyirbis, not by our own codec."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from irbis_fixtures import HOST, PASSWORD, USER, free_port
from sqlalchemy import select, update

from ils.irbis import IrbisClient, IrbisRecord
from ils.irbis.circulation import IrbisCirculationService, circulation_service
from ils.irbis.emulator import IrbisEmulator
from ils.irbis.ledger import DONE, FAILED, OUTBOX, PENDING, IrbisConfig, IrbisLedger
from library.circulation import errors as E
from library.circulation.flows import FlowHooks, MyLoans, SelfCheckoutFlow, SelfReturnFlow
from library.circulation.service import CirculationService
from library.storage.models import Copy, Event, Loan, Reader, Record

irbis = pytest.importorskip("cbsvibpyirbis")

TODAY = dt.date(2026, 10, 5)  # a Monday
YMD = TODAY.strftime("%Y%m%d")


# --- the ИРБИС side: a small catalogue and readers -----------------------------------------------
def _book(key: str, title: str, author: str, *copies: tuple[str, str, str]) -> IrbisRecord:
    rec = IrbisRecord()
    surname, _, initials = author.partition(" ")
    rec.add_field(700, subfields=[("a", surname), ("b", initials)])
    rec.add_field(200, subfields=[("a", title), ("f", author)])
    rec.add_field(903, key)
    for status, inventory, barcode in copies:
        rec.add_field(910, subfields=[("a", status), ("b", inventory), ("d", "ФБ"), ("h", barcode)])
    return rec


def _reader(card: str, surname: str, name: str, category: str, *loans: list) -> IrbisRecord:
    rec = IrbisRecord()
    rec.add_field(10, surname)
    rec.add_field(11, name)
    rec.add_field(30, card)
    rec.add_field(50, category)
    for subfields in loans:
        rec.add_field(40, subfields=subfields)
    return rec


def catalogue() -> list[IrbisRecord]:
    return [
        _book("84(2)1/Т53", "Война и мир", "Толстой Л. Н.", ("0", "1001", "E1001"),
              ("0", "1002", "E1002")),
        _book("84(2)1/П91", "Капитанская дочка", "Пушкин А. С.", ("0", "2001", "E2001")),
        _book("84(2)6/И20", "Мир приключений", "Иванов И. И.", ("1", "3001", "E3001")),
        _book("84(2)6/Б43", "Потерянная книга", "Белов Б. Б.", ("4", "4001", "E4001")),
    ]


def readers() -> list[IrbisRecord]:
    lent_in_irbis = [("a", "84(2)6/И20"), ("b", "3001"), ("h", "E3001"), ("c", "Мир приключений"),
                     ("d", "20260928"), ("e", "20261012"), ("f", "******"), ("g", "IBIS"),
                     ("v", "АБ"), ("i", "Иванова")]
    return [
        _reader("C5A", "Петрова", "Аня", "учащийся 7А"),
        _reader("C1B", "Сидоров", "Ваня", "учащийся 1Б", lent_in_irbis),
        _reader("CT", "Иванова", "Мария", "учитель"),
        _reader("CNEW", "Новикова", "Оля", "учащийся 5В"),
    ]


def numbered(records: list[IrbisRecord]) -> list[IrbisRecord]:
    for mfn, rec in enumerate(records, 1):
        rec.mfn, rec.version = mfn, 1
    return records


def make_emulator(port: int, store) -> IrbisEmulator:
    emu = IrbisEmulator({USER: (PASSWORD, "ABC")}, port=port, store=store)
    emu.add_database("IBIS", numbered(catalogue()))
    emu.add_database("RDR", numbered(readers()))
    return emu


class Irbis:
    """The emulator on a fixed port with a SQLite store: it can be killed and started again."""

    def __init__(self, tmp_path):
        self.port = free_port()
        self.store = tmp_path / "irbis.sqlite"
        self.emu: IrbisEmulator | None = None

    def start(self) -> None:
        self.emu = make_emulator(self.port, self.store)
        self.emu.start()

    def stop(self) -> None:
        if self.emu is not None:
            self.emu.stop()
            self.emu = None

    # what the independent client reads
    def connect(self, database: str):
        conn = irbis.Connection(HOST, self.port, USER, PASSWORD, database, workstation="C")
        conn.connect()
        assert conn.connected and conn.last_error == 0
        return conn

    def loans(self, card: str) -> list[dict[str, str]]:
        """RDR field 40 of the reader, as cbsvibpyirbis reads it."""
        conn = self.connect("RDR")
        try:
            [mfn] = conn.search(f'"RI={card}"')
            record = conn.read_record(mfn)
            return [{sf.code.lower(): sf.value for sf in f.subfields} for f in record.all(40)]
        finally:
            conn.disconnect()

    def status(self, barcode: str) -> str:
        """910^a of the copy, as cbsvibpyirbis reads it."""
        conn = self.connect("IBIS")
        try:
            [mfn] = conn.search(f'"H={barcode}"')
            record = conn.read_record(mfn)
            [status] = [f.first_value("a") for f in record.all(910) if f.first_value("h") == barcode]
            return status
        finally:
            conn.disconnect()


@pytest.fixture
def irbis_server(tmp_path):
    server = Irbis(tmp_path)
    server.start()
    yield server
    server.stop()


# --- the local side ------------------------------------------------------------------------------
def local_catalogue(db) -> None:
    """The same copies in the local catalogue (what `ibc irbis sync` makes); C5A, C1B local."""
    with db.transaction() as s:
        for key, title, codes in (("war", "Война и мир", ["E1001", "E1002"]),
                                  ("dau", "Капитанская дочка", ["E2001"]),
                                  ("adv", "Мир приключений", ["E3001"]),
                                  ("lost", "Потерянная книга", ["E4001"]),
                                  ("loc", "Только у нас", ["L9001"])):
            r = Record(key=key, title=title, authors=["Толстой, Лев Николаевич"], version=1)
            for code in codes:  # E3001: 910^a = 1 copied by the sync, no local loan
                r.copies.append(Copy(sigla="ИБЦ", barcode=code, inventory_number=code[1:],
                                     status="on_loan" if code == "E3001" else "available",
                                     shelf_mark="84(2Рос=Рус)1", version=1))
            s.add(r)
        s.add_all([Reader(card_number="C5A", first_name="Аня", last_name="Петрова"),
                   Reader(card_number="C1B", first_name="Ваня", last_name="Сидоров"),
                   Reader(card_number="CLOCAL", first_name="Лев", last_name="Тихий")])


def app_settings(port: int):
    from pydantic import SecretStr

    from config.settings import load_settings

    st = load_settings(environ={})
    st.circulation.backend = "irbis"
    st.irbis.host, st.irbis.port, st.irbis.user = HOST, port, USER
    st.irbis.password = SecretStr(PASSWORD)
    st.irbis.timeout_s = 3
    return st


def make_service(db, port: int, *, password: str = PASSWORD, pupil_max: int | None = None):
    st = app_settings(port)
    if pupil_max is not None:
        st.circulation.pupil.max_items = pupil_max
    config = IrbisConfig(HOST, port, USER, password, timeout=3)
    ledger = IrbisLedger(db, config, lock_tries=2, lock_wait=0.05)
    return IrbisCirculationService.from_app_settings(db, st, today=lambda: TODAY, ledger=ledger)


@pytest.fixture
def service(db, irbis_server):
    local_catalogue(db)
    svc = make_service(db, irbis_server.port)
    yield svc
    svc.ledger.close()


def outbox(db) -> list[dict]:
    with db.session() as s:
        return [dict(r) for r in s.execute(select(OUTBOX).order_by(OUTBOX.c.id)).mappings()]


class Hooks(FlowHooks):
    def __init__(self):
        self.items, self.refused, self.reader = [], [], None

    def reader_identified(self, reader):
        self.reader = reader

    def reader_refused(self, error):
        self.refused.append(error.code)

    def item_done(self, result):
        self.items.append(result)


def open_loans(loans: list[dict[str, str]], barcode: str) -> list[dict[str, str]]:
    return [f for f in loans if f.get("h") == barcode and f.get("f") == "******"]


# --- tests ---------------------------------------------------------------------------------------
def test_the_backend_setting_chooses_the_service(db):
    from config.settings import load_settings

    local = load_settings(environ={})
    assert local.circulation.backend == "local"
    assert type(circulation_service(db, local)) is CirculationService
    st = load_settings(environ={"IBC_CIRCULATION__BACKEND": "irbis", "IBC_IRBIS__HOST": HOST})
    svc = circulation_service(db, st)
    assert isinstance(svc, IrbisCirculationService) and svc.ledger.config.host == HOST
    with pytest.raises(Exception, match="backend"):
        load_settings(environ={"IBC_CIRCULATION__BACKEND": "koha"})


def test_a_self_checkout_at_the_kiosk_lends_into_irbis_and_the_return_restores_it(
        db, service, irbis_server):
    hooks = Hooks()
    flow = SelfCheckoutFlow(service, hooks, terminal="kiosk-1")
    flow.scan("C5A")
    assert hooks.reader is not None and hooks.reader.class_name == "7А"  # RDR 50 «учащийся 7А»
    flow.scan("E1001")
    [item] = hooks.items
    assert item.ok, item.error
    due = item.outcome.due_date
    assert due > TODAY
    [loan] = irbis_server.loans("C5A")
    assert loan == {"a": "84(2)1/Т53", "b": "1001", "h": "E1001", "k": "ФБ",
                    "c": loan["c"], "d": YMD, "e": due.strftime("%Y%m%d"), "f": "******",
                    "g": "IBIS", "v": "kiosk-1", "i": "kiosk-1", "1": loan["1"]}
    assert loan["c"].startswith("Толстой") and "Война и мир" in loan["c"]  # @brief
    assert len(loan["1"]) == 6 and loan["1"].isdigit()
    assert irbis_server.status("E1001") == "1" and irbis_server.status("E1002") == "0"
    [row] = outbox(db)
    assert row["state"] == DONE and row["action"] == "checkout" and row["card"] == "C5A"
    assert row["attempts"] == 1 and row["last_error"] is None
    # the same copy again: ИРБИС says it is this reader's
    flow.scan("E1001")  # the flow ignores a book taken in this session
    with pytest.raises(E.ItemAlreadyYours):
        service.checkout("C5A", "E1001", "again-1")

    back = Hooks()
    returns = SelfReturnFlow(service, back, terminal="kiosk-2")
    returns.scan("E1001")
    [result] = back.items
    assert result.ok and result.outcome.due_date == due
    [loan] = irbis_server.loans("C5A")
    assert loan["f"] == YMD and len(loan["2"]) == 6 and loan["r"] == "kiosk-2"
    assert irbis_server.status("E1001") == "0"
    assert [r["state"] for r in outbox(db)] == [DONE, DONE]
    with db.session() as s:
        assert s.scalar(select(Loan.returned_at).where(Loan.checkout_txn == row["txn_id"]))


def test_a_renewal_writes_the_new_due_date_into_the_rdr_loan(db, service, irbis_server):
    first = service.checkout("C5A", "E2001", "t-renew-1", terminal="kiosk-1")
    mine = MyLoans(service, "C5A", terminal="kiosk-1")
    mine.refresh()
    later = dt.date(2026, 10, 15)
    service.today = lambda: later
    result = mine.renew("E2001")
    assert result.ok, result.error
    assert result.outcome.due_date > first.due_date
    [loan] = irbis_server.loans("C5A")
    assert loan["f"] == "******" and loan["e"] == result.outcome.due_date.strftime("%Y%m%d")
    assert loan["4"] == "1" and loan["l"] == "20261015" and loan["d"] == YMD
    assert [r["action"] for r in outbox(db)] == ["checkout", "renew"]
    assert {r["state"] for r in outbox(db)} == {DONE}


def test_refusals_come_from_irbis_live(db, service, irbis_server):
    # on loan in ИРБИС to another reader (lent at the librarian's «Книговыдача»)
    with pytest.raises(E.ItemOnLoan) as on_loan:
        service.checkout("C5A", "E3001", "t-r1")
    assert on_loan.value.params["title"] == "Мир приключений"
    with pytest.raises(E.ItemUnavailable):  # 910^a = 4: lost
        service.checkout("C5A", "E4001", "t-r2")
    with pytest.raises(E.ItemNotFound):  # a local copy ИРБИС does not know
        service.checkout("C5A", "L9001", "t-r3")
    with pytest.raises(E.ReaderNotFound):  # a local reader RDR does not have
        service.find_reader("CLOCAL")
    with pytest.raises(E.ReaderNotFound):
        service.checkout("CLOCAL", "E1001", "t-r4")
    with pytest.raises(E.BookNotCard):
        service.find_reader("E1002")
    assert outbox(db) == [] and irbis_server.status("E1001") == "0"
    with db.session() as s:
        assert s.scalar(select(Loan.id)) is None


def _record_id(db, key: str) -> int:
    with db.session() as s:
        return s.scalar(select(Record.id).where(Record.key == key))


def test_a_copy_returned_at_the_librarians_irbis_lends_although_the_sync_said_out(
        db, service, irbis_server):
    with db.transaction() as s:  # the sync copied 910^a = 1; ИРБИС has had it back since
        s.execute(update(Copy).where(Copy.barcode == "E2001").values(status="on_loan"))
    assert service.checkout("C5A", "E2001", "t-stale-1").title == "Капитанская дочка"
    assert irbis_server.status("E2001") == "1"
    with db.session() as s:
        assert s.scalar(select(Copy.status).where(Copy.barcode == "E2001")) == "on_loan"
        assert s.scalar(select(Loan.id).where(Loan.checkout_txn == "t-stale-1"))


def test_a_reader_only_in_rdr_is_added_locally_with_category_and_class(db, service):
    assert service.is_reader_card("CNEW") and not service.is_reader_card("NOBODY")
    view = service.find_reader("CNEW")
    assert (view.first_name, view.class_name, view.category) == ("Оля", "5В", "pupil")
    teacher = service.find_reader("CT")
    assert teacher.category == "teacher"
    with db.session() as s:
        r = s.scalar(select(Reader).where(Reader.card_number == "CNEW"))
        assert (r.last_name, r.active) == ("Новикова", True)
    out = service.checkout("CNEW", "E1002", "t-new-1")
    assert out.title == "Война и мир"
    # what RDR does not say keeps the local value (a class from the school's class list)
    with db.transaction() as s:
        s.execute(update(Reader).where(Reader.card_number == "CT").values(class_name="5Б"))
    assert service.find_reader("CT").class_name == "5Б"
    assert service.find_reader("CT").category == "teacher"


def test_the_server_killed_after_the_local_write_then_push_writes_the_loan_once(
        db, service, irbis_server, tmp_path, capsys):
    def kill(_s, _outcome):  # inside the local write's transaction: ИРБИС goes away now
        irbis_server.stop()

    out = service.checkout("C5A", "E1001", "t-kill-1", terminal="kiosk-1", record=kill)
    assert out.title == "Война и мир" and not out.replayed  # the pupil has the book
    [row] = outbox(db)
    assert row["state"] == PENDING and row["attempts"] == 1 and "не отвечает" not in row["last_error"]
    assert "does not answer" in row["last_error"]

    irbis_server.start()  # its store kept what it had; the loan is not there yet
    assert irbis_server.loans("C5A") == [] and irbis_server.status("E1001") == "0"
    from ibc.cli import main

    config = tmp_path / "ibc.toml"
    config.write_text(f'[circulation]\nbackend = "irbis"\n[irbis]\nhost = "{HOST}"\n'
                      f'port = {irbis_server.port}\nuser = "{USER}"\npassword = "{PASSWORD}"\n',
                      encoding="utf-8")
    url = db.url.render_as_string(hide_password=False)
    assert main(["--config", str(config), "--db", url, "irbis", "push", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["done"] == ["t-kill-1"] and report["pending"] == [] and report["failed"] == []
    assert len(open_loans(irbis_server.loans("C5A"), "E1001")) == 1
    assert irbis_server.status("E1001") == "1"

    # the push's answer lost (the row not marked done): the retry reads field 40 back
    with db.transaction() as s:
        s.execute(update(OUTBOX).values(state=PENDING))
    assert main(["--config", str(config), "--db", url, "irbis", "push"]) == 0
    assert "записано 1" in capsys.readouterr().out
    assert len(irbis_server.loans("C5A")) == 1
    assert irbis_server.status("E1001") == "1"
    # a repeat of the checkout is replayed: ИРБИС is not asked, nothing new
    assert service.checkout("C5A", "E1001", "t-kill-1", terminal="kiosk-1").replayed
    assert len(outbox(db)) == 1 and len(irbis_server.loans("C5A")) == 1


KILLED_AFTER_COMMIT = """
import os, signal, sys
sys.path.insert(0, {tests!r})
from test_irbis_circulation import local_catalogue, make_service
from library.storage.database import open_database

db = open_database({url!r})
svc = make_service(db, {port})
svc._push_now = lambda: os.kill(os.getpid(), signal.SIGKILL)  # after the commit, before the push
svc.checkout("C5A", "E1001", "t-kill9", terminal="kiosk-1")
"""


def test_a_process_killed_between_the_local_write_and_the_push_leaves_the_row(
        db, service, irbis_server, tmp_path, capsys):
    """kill -9 of the process that lent the book, after its transaction committed and before it
    pushed: the outbox row survives, `ibc irbis push` writes the loan once."""
    import subprocess
    import sys
    from pathlib import Path

    url = db.url.render_as_string(hide_password=False)
    script = KILLED_AFTER_COMMIT.format(tests=str(Path(__file__).parent), url=url,
                                        port=irbis_server.port)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).parents[2])
    assert proc.returncode == -9, proc.stderr[-2000:]
    [row] = outbox(db)
    assert (row["txn_id"], row["state"], row["attempts"]) == ("t-kill9", PENDING, 0)
    with db.session() as s:
        assert s.scalar(select(Loan.id).where(Loan.checkout_txn == "t-kill9"))
    assert irbis_server.loans("C5A") == [] and irbis_server.status("E1001") == "0"
    report = service.ledger.push_pending()  # what the timer's `ibc irbis push` runs
    assert report.done == ["t-kill9"]
    assert service.ledger.push_pending().done == []
    assert len(open_loans(irbis_server.loans("C5A"), "E1001")) == 1
    assert irbis_server.status("E1001") == "1"


def test_a_row_held_by_a_pusher_is_left_to_it_until_its_lease_runs_out(db, service, irbis_server):
    from library.storage.models import utcnow

    def away(_s, _outcome):
        irbis_server.stop()

    service.checkout("C5A", "E1001", "t-lease-1", record=away)
    irbis_server.start()
    with db.transaction() as s:  # another pusher took it and is (or died) writing it
        s.execute(update(OUTBOX).values(state="pushing", claimed_at=utcnow()))
    report = service.ledger.push_pending()
    assert report.pending == ["t-lease-1"] and report.done == []
    assert irbis_server.loans("C5A") == []
    with db.transaction() as s:  # it died: after the lease the row is anyone's again
        s.execute(update(OUTBOX).values(claimed_at=utcnow() - dt.timedelta(minutes=6)))
    assert service.ledger.push_pending().done == ["t-lease-1"]
    assert len(open_loans(irbis_server.loans("C5A"), "E1001")) == 1
    [row] = outbox(db)
    assert row["state"] == DONE


def test_a_record_locked_by_another_workstation_waits_and_a_retry_succeeds(
        db, service, irbis_server):
    assert service.checkout("C5A", "E1001", "t-lock-0", terminal="kiosk-1").title
    assert irbis_server.status("E1001") == "1"
    other = IrbisClient(HOST, irbis_server.port, USER, PASSWORD, workstation="C", timeout=3)
    with other:
        [mfn] = other.search("RDR", '"RI=C5A"')
        other.read_record("RDR", mfn, lock=True)  # the librarian edits the reader's record
        out = service.checkout("C5A", "E1002", "t-lock-1", terminal="kiosk-1")
        assert out.due_date is not None  # lent locally: the pupil is not kept waiting
        row = outbox(db)[-1]
        assert row["state"] == PENDING and "locked" in row["last_error"]
        assert irbis_server.status("E1002") == "0"
        # a return of the first book waits behind it (the same reader's record: order kept)
        assert service.checkin("E1001", "t-lock-2", terminal="kiosk-1").title == "Война и мир"
        assert [r["state"] for r in outbox(db)] == [DONE, PENDING, PENDING]
        assert irbis_server.status("E1001") == "1"  # ИРБИС does not know it is back yet
        # … and the next reader may take it: the pending return, not 910^a, decides
        assert service.checkout("C1B", "E1001", "t-lock-3").title == "Война и мир"
        report = service.ledger.push_pending()
        assert report.pending == ["t-lock-1", "t-lock-2", "t-lock-3"] and report.done == []
        stale = service.ledger.rows()  # what a second pusher (the timer) listed just now
        other.unlock("RDR", [mfn])
    report = service.ledger.push_pending()
    assert report.done == ["t-lock-1", "t-lock-2", "t-lock-3"]
    mine = irbis_server.loans("C5A")
    assert [(f["h"], f["f"]) for f in mine] == [("E1001", YMD), ("E1002", "******")]
    assert len(open_loans(irbis_server.loans("C1B"), "E1001")) == 1
    assert irbis_server.status("E1001") == "1" and irbis_server.status("E1002") == "1"
    # the second pusher goes on from its stale list: it must not lend the returned book again
    timer = IrbisLedger(db, service.ledger.config)
    timer.rows = lambda *args, **kwargs: [dict(r) for r in stale]  # type: ignore[method-assign]
    try:
        assert timer.push_pending().to_dict()["done"] == []
    finally:
        timer.close()
    assert irbis_server.loans("C5A") == mine
    assert len(open_loans(irbis_server.loans("C1B"), "E1001")) == 1
    # the rows behind the locked one waited untried; the stale pusher claimed none
    assert [r["attempts"] for r in outbox(db)][2:] == [1, 1]


def test_a_loan_made_in_irbis_counts_for_the_limit_and_is_returned_at_the_kiosk(
        db, irbis_server):
    local_catalogue(db)
    svc = make_service(db, irbis_server.port, pupil_max=1)  # one book at a time for pupils
    with pytest.raises(E.LoanLimitReached):  # C1B has E3001 from the librarian's ИРБИС
        svc.checkout("C1B", "E2001", "t-lim-1")
    [shown] = svc.loans("C1B")  # «my loans» lists it (renewed at the librarian's ИРБИС)
    assert (shown.loan_id, shown.barcode, shown.title) == (0, "E3001", "Мир приключений")
    assert (shown.issued, shown.due_date, shown.overdue) == (
        dt.date(2026, 9, 28), dt.date(2026, 10, 12), False)
    renewal = MyLoans(svc, "C1B").renew("E3001")  # renewed at the librarian's ИРБИС
    assert isinstance(renewal.error, E.RenewalNotAllowed) and renewal.error.params["title"]
    # C5A queues for it (out, as the sync copied it): the kiosk's return sets it aside
    assert svc.place_hold("C5A", _record_id(db, "adv"), "t-lim-h").state == "queued"

    back = Hooks()
    SelfReturnFlow(svc, back, terminal="kiosk-2").scan("E3001")
    [result] = back.items
    assert result.ok, result.error
    assert result.outcome.title == "Мир приключений" and result.outcome.due_date == dt.date(2026, 10, 12)
    assert result.outcome.hold_for == "Аня П." and result.outcome.hold_id
    assert svc.loans("C1B") == []
    [loan] = irbis_server.loans("C1B")
    assert loan["f"] == YMD and loan["b"] == "3001" and loan["i"] == "Иванова"
    assert irbis_server.status("E3001") == "0"
    with db.session() as s:
        event = s.scalars(select(Event).where(Event.kind == "return")).one()
        assert event.payload["irbis_only"] and event.reader_class == "1Б"  # the reports count it
    # the limit is free again, the copy set aside lends to its reader only
    assert svc.checkout("C1B", "E2001", "t-lim-2").title == "Капитанская дочка"
    with pytest.raises(E.ReservedForAnother):
        svc.checkout("C1B", "E3001", "t-lim-4")
    assert svc.checkout("C5A", "E3001", "t-lim-3").title == "Мир приключений"
    assert irbis_server.status("E3001") == "1"
    svc.ledger.close()


def test_an_overdue_loan_written_directly_in_irbis_blocks_the_kiosk(db, service, irbis_server):
    conn = irbis_server.connect("RDR")  # the librarian's workstation, another client
    try:
        [mfn] = conn.search('"RI=C5A"')
        reader = conn.read_record(mfn)
        reader.add(40).add("b", "1002").add("h", "E1002").add("d", "20260901") \
            .add("e", "20260915").add("f", "******").add("g", "IBIS")
        assert conn.write_record(reader) > 0
    finally:
        conn.disconnect()
    conn = irbis_server.connect("IBIS")  # and marks the copy issued, as «Книговыдача» does
    try:
        [mfn] = conn.search('"H=E1002"')
        book = conn.read_record(mfn)
        [copy] = [f for f in book.all(910) if f.first_value("h") == "E1002"]
        copy.set_subfield("a", "1")
        assert conn.write_record(book) > 0
    finally:
        conn.disconnect()
    assert irbis_server.status("E1002") == "1"
    assert service.find_reader("C5A").restriction == "has_overdue"
    with pytest.raises(E.HasOverdue):
        service.checkout("C5A", "E2001", "t-od-1")
    # returned at the kiosk: closed in ИРБИС, and the reader may borrow again
    assert service.checkin("E1002", "t-od-2", terminal="kiosk-1").due_date == dt.date(2026, 9, 15)
    assert open_loans(irbis_server.loans("C5A"), "E1002") == []
    assert service.checkout("C5A", "E2001", "t-od-3").title == "Капитанская дочка"


def test_irbis_away_the_terminal_api_answers_503_and_the_offline_forward_lands_once(
        db, irbis_server, tmp_path):
    """A real terminal (kiosk.terminal: its API client, offline queue and forwarding) against
    the server app: ИРБИС away → 503 → the terminal queues; ИРБИС back → forwarded once."""
    from fastapi.testclient import TestClient

    from kiosk.terminal.api import ApiClient
    from kiosk.terminal.circulation import TerminalCirculation
    from kiosk.terminal.offline import OfflineQueue
    from server.app import create_app
    from server.security import create_enrol_code

    local_catalogue(db)
    app = create_app(app_settings(irbis_server.port), db, today=lambda: TODAY)
    with TestClient(app, raise_server_exceptions=False) as client:
        code = create_enrol_code(db, 5)
        token = client.post("/api/v1/terminals/enrol", json={"code": code, "name": "k1"}).json()
        auth = {"Authorization": f"Bearer {token['token']}"}
        api = ApiClient("http://testserver", token["token"], transport=client._transport)
        queue = OfflineQueue(tmp_path / "queue.sqlite3")
        terminal = TerminalCirculation("k1", api, queue, "seen_cards")
        terminal.identify("C5A")  # online: the card is seen at this terminal
        assert terminal.checkout("E2001")["title"] == "Капитанская дочка"
        assert irbis_server.status("E2001") == "1"

        irbis_server.stop()
        r = client.post("/api/v1/checkout", json={"barcode": "E1001", "txn_id": "k1:t-raw"},
                        headers={**auth, "X-Reader-Session": api.session})
        assert r.status_code == 503 and r.headers["retry-after"] == "60"
        assert r.json()["code"] == "irbis_unavailable" and "ИРБИС" in r.json()["message"]
        assert terminal.checkout("E1001")["queued"]  # 503 = unreachable: kept offline
        assert terminal.checkin("E2001")["queued"]
        assert [op["op"] for op in queue.pending()] == ["checkout", "checkin"]
        with db.session() as s:  # nothing was done while ИРБИС was away
            assert s.scalar(select(Loan.id).where(Loan.returned_at.is_not(None))) is None
            assert s.scalar(select(Copy.status).where(Copy.barcode == "E1001")) == "available"
        report = terminal.flush()  # still away: kept, in order
        assert report.done == [] and report.left == 2

        irbis_server.start()
        report = terminal.flush()
        assert len(report.done) == 2 and report.conflicts == [] and queue.pending() == []
        assert terminal.flush().done == []
        # the forward of an operation that did land (a lost answer) is replayed, not redone
        body = {"op": "checkout", "card": "C5A", "barcode": "E1001", "txn_id": report.done[0]}
        assert client.post("/api/v1/offline", json=body, headers=auth).json()["replayed"]
        api.close()
        queue.close()
    loans = irbis_server.loans("C5A")
    assert len(open_loans(loans, "E1001")) == 1 and open_loans(loans, "E2001") == []
    assert [f["f"] for f in loans if f["h"] == "E2001"] == [YMD]
    assert irbis_server.status("E1001") == "1" and irbis_server.status("E2001") == "0"
    assert [(r["action"], r["state"]) for r in outbox(db)] == [
        ("checkout", DONE), ("checkout", DONE), ("return", DONE)]
    app.state.ibc.circulation.ledger.close()


def test_a_silent_irbis_is_remembered_as_away_for_a_while(db):
    """A server that lets a request time out (a cable pulled) costs one timeout: for the next
    30 s the live checks answer «away» at once (a terminal then queues without waiting)."""
    import socket
    import time

    local_catalogue(db)
    shift = [0.0]
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind((HOST, 0))
        silent.listen(16)
        config = IrbisConfig(HOST, silent.getsockname()[1], USER, PASSWORD, timeout=1.0)
        ledger = IrbisLedger(db, config, clock=lambda: time.monotonic() + shift[0])
        svc = IrbisCirculationService.from_app_settings(db, app_settings(config.port),
                                                        today=lambda: TODAY, ledger=ledger)
        started = time.monotonic()
        assert svc.find_reader("C5A").card == "C5A"  # the local row, as last seen
        assert time.monotonic() - started >= 0.9
        started = time.monotonic()
        with pytest.raises(E.CirculationError) as away:
            svc.checkout("C5A", "E1001", "t-silent-1")
        assert away.value.code == "irbis_unavailable"
        assert time.monotonic() - started < 0.5  # remembered: no second timeout
        shift[0] += 31  # later: asked again (and it still does not answer)
        started = time.monotonic()
        with pytest.raises(E.CirculationError):
            svc.checkout("C5A", "E1001", "t-silent-2")
        assert time.monotonic() - started >= 0.9
    with db.session() as s:
        assert s.scalar(select(Loan.id)) is None
    assert outbox(db) == []


def test_irbis_refusing_the_account_is_a_clear_refusal(db, irbis_server):
    local_catalogue(db)
    svc = make_service(db, irbis_server.port, password="wrong")
    with pytest.raises(E.CirculationError) as refused:
        svc.checkout("C5A", "E1001", "t-pw-1")
    assert refused.value.code == "irbis_refused" and refused.value.params["reason"] == "irbis_auth"
    from server.errors import circulation_status

    assert circulation_status(refused.value) == 409
    with db.session() as s:
        assert s.scalar(select(Loan.id)) is None


def test_a_row_that_can_never_be_written_is_failed_and_listed(db, service, irbis_server, capsys):
    service.checkout("C5A", "E1001", "t-fail-1")
    with db.transaction() as s:  # a reader removed from RDR since: the row cannot be written
        s.execute(update(OUTBOX).values(state=PENDING, card="GONE"))
    report = service.ledger.push_pending()
    assert report.failed == ["t-fail-1"] and report.codes["t-fail-1"] == "irbis_not_in_irbis"
    [row] = outbox(db)
    assert row["state"] == FAILED and "GONE" in row["last_error"]
    # a return whose reader is no longer found by card: the loan found by HIN=, closed anyway
    service.checkout("C5A", "E1002", "t-fail-2")
    assert irbis_server.status("E1002") == "1"

    def away(_s, _outcome):
        irbis_server.stop()

    service.checkin("E1002", "t-fail-3", record=away)
    irbis_server.start()
    with db.transaction() as s:
        s.execute(update(OUTBOX).where(OUTBOX.c.txn_id == "t-fail-3").values(card="GONE"))
    assert service.ledger.push_pending().done == ["t-fail-3"]
    assert open_loans(irbis_server.loans("C5A"), "E1002") == []
    assert irbis_server.status("E1002") == "0"


def test_push_is_a_usage_error_without_irbis_circulation(db, capsys):
    from ibc.cli import main

    url = db.url.render_as_string(hide_password=False)
    assert main(["--db", url, "irbis", "push"]) == 2
    assert "backend" in capsys.readouterr().err
    assert main(["--db", url, "irbis", "push", "--if-configured"]) == 0


def test_the_push_timer_runs_every_2_minutes_on_the_server_only():
    """ibc-irbis-push.timer starts `ibc irbis push --if-configured` every 2 minutes as the ibc
    user; exit 1 (rows still pending) is not a failed unit; install.sh enables and starts it
    with the server's units."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    timer = (root / "systemd/ibc-irbis-push.timer").read_text()
    service = (root / "systemd/ibc-irbis-push.service").read_text()
    assert "OnCalendar=*:0/2" in timer and "WantedBy=timers.target" in timer
    assert "ExecStart=/opt/ibc/bin/ibc irbis push --if-configured" in service
    assert "User=ibc" in service and "SuccessExitStatus=1" in service
    script = (root / "install.sh").read_text()
    assert "ibc-irbis-push.service ibc-irbis-push.timer" in script.split("UNITS=(", 1)[1].split(")")[0]
    enable = script.split("install_units ibc-server.service", 1)[1].split("else", 1)[0]
    assert "ibc-irbis-push.timer" in enable
    assert "systemctl start ibc-irbis-push.timer" in script


def test_the_circulation_errors_have_russian_texts():
    """The refusals and the outbox's error read in Russian (ils/irbis/locale irbis.po; the
    server's answers for irbis_unavailable/irbis_refused in server/errors.py MESSAGES)."""
    import re

    from ils.irbis.circulation import IrbisAway, IrbisRefused
    from ils.irbis.errors import translator
    from ils.irbis.ledger import IrbisNotInIrbis
    from server.errors import MESSAGES

    ru = translator("ru")
    for cls in (IrbisAway, IrbisRefused, IrbisNotInIrbis):
        text = ru(cls.template)
        assert text != cls.template and re.search("[а-яё]", text), cls.template
        assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", cls.template))
    assert issubclass(IrbisAway, E.CirculationError) and issubclass(IrbisRefused, E.CirculationError)
    assert {"irbis_unavailable", "irbis_refused"} <= set(MESSAGES)
