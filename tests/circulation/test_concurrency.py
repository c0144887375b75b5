"""Races and crashes: one winner per copy, every checkout recorded exactly once."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from library.circulation import errors as E
from library.storage import Copy, Loan, Reader, Record, TransactionLog

WORKER = Path(__file__).with_name("worker.py")
ROOT = Path(__file__).resolve().parents[2]


def make_library(db, n_copies: int, readers: list[str], max_items: int = 10_000) -> list[str]:
    barcodes = [f"B{i:05d}" for i in range(n_copies)]
    with db.transaction() as s:
        for start in range(0, n_copies, 50):
            rec = Record(key=f"r{start}", title=f"Книга {start}")
            for bc in barcodes[start:start + 50]:
                rec.copies.append(Copy(sigla="S", barcode=bc))
            s.add(rec)
        for card in readers:
            s.add(Reader(card_number=card, first_name="Т", last_name="Т", category="teacher"))
    return barcodes


def run_worker(url, card, prefix, barcodes, **kw):
    env = dict(os.environ, PYTHONPATH=str(ROOT), IBC_CIRCULATION__TEACHER__MAX_ITEMS="500")
    return subprocess.Popen(
        [sys.executable, str(WORKER), url, card, prefix, *barcodes],
        stdout=subprocess.PIPE, text=True, env=env, **kw,
    )


def audit(db):
    """Every copy on loan has exactly one open loan and vice versa; every loan has its txn."""
    with db.session() as s:
        open_loans = s.execute(select(Loan.copy_id).where(Loan.returned_at.is_(None))).scalars().all()
        assert len(open_loans) == len(set(open_loans)), "a copy is lent twice"
        on_loan = set(s.scalars(select(Copy.id).where(Copy.status == "on_loan")))
        assert on_loan == set(open_loans), "copy status and open loans disagree"
        txns = set(s.scalars(select(TransactionLog.txn_id).where(TransactionLog.kind == "checkout")))
        loan_txns = s.scalars(select(Loan.checkout_txn)).all()
        assert len(loan_txns) == len(set(loan_txns))
        assert set(loan_txns) <= txns
        return len(open_loans)


def test_two_processes_race_on_sqlite(tmp_path):
    from library.storage.database import open_database

    url = f"sqlite:///{tmp_path / 'race.sqlite3'}"
    db = open_database(url)
    barcodes = make_library(db, 60, ["T1", "T2"])
    procs = [run_worker(url, "T1", "a", barcodes), run_worker(url, "T2", "b", barcodes)]
    outs = [p.communicate(timeout=120)[0].split("\n") for p in procs]
    assert all(p.returncode == 0 for p in procs)
    wins = [sum(1 for line in out if line.startswith("ok ")) for out in outs]
    losses = [line for out in outs for line in out if line.startswith("no ")]
    assert sum(wins) == 60
    assert all(line.endswith(("item_on_loan",)) for line in losses), losses[:3]
    assert audit(db) == 60
    db.dispose()


@pytest.mark.postgres
def test_twenty_clients_race_on_postgres(pg_url):
    from config.settings import load_settings
    from library.circulation.rules import Policy
    from library.circulation.service import CirculationService
    from library.storage.database import Database

    policy = Policy.from_settings(
        load_settings(environ={"IBC_CIRCULATION__TEACHER__MAX_ITEMS": "500"}).circulation)

    db = Database(pg_url)
    cards = [f"T{i}" for i in range(20)]
    barcodes = make_library(db, 40, cards)
    svc = CirculationService(db, policy)
    wins: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(card):
        for bc in barcodes:
            try:
                svc.checkout(card, bc, f"{card}-{bc}")
                with lock:
                    wins.append(bc)
            except E.CirculationError as exc:
                with lock:
                    errors.append(exc.code)

    threads = [threading.Thread(target=client, args=(c,)) for c in cards]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(wins) == sorted(barcodes)
    assert set(errors) <= {"item_on_loan"}
    assert audit(db) == 40
    db.dispose()


def test_kill_9_mid_checkout_loses_nothing(tmp_path):
    from library.storage.database import open_database

    url = f"sqlite:///{tmp_path / 'crash.sqlite3'}"
    db = open_database(url)
    barcodes = make_library(db, 400, ["T1"])
    proc = run_worker(url, "T1", "k", barcodes)
    seen = 0
    deadline = time.monotonic() + 60
    while seen < 40 and time.monotonic() < deadline:
        if proc.stdout.readline().startswith("ok "):
            seen += 1
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()
    lent = audit(db)
    assert lent >= 40
    # The terminal retries everything with the same transaction ids: nothing doubles.
    again = run_worker(url, "T1", "k", barcodes)
    out = again.communicate(timeout=120)[0].split("\n")
    assert again.returncode == 0
    assert sum(1 for line in out if line.startswith("ok ")) == 400
    assert audit(db) == 400
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Loan)) == 400
    db.dispose()
