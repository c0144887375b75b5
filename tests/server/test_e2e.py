"""The real thing: `ibc serve` as a process over TLS, two enrolled terminals found through
zeroconf (the server's certificate pinned, found by its fingerprint in TXT), a local replica,
the server killed mid-run, queued operations forwarded exactly once."""

from __future__ import annotations

import json
import subprocess
import sys

from sqlalchemy import func, select

from library.storage.database import open_database
from library.storage.models import Loan, TransactionLog


def test_terminals_survive_a_server_crash(tmp_path, zc_loop, serve, library_fill):
    from device.discovery import ServerLocator
    from kiosk.terminal import ApiClient, ApiRefused
    from kiosk.terminal.circulation import OfflineRefused, TerminalCirculation
    from kiosk.terminal.offline import OfflineQueue
    from kiosk.terminal.replica import Replica
    from server import security

    url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    db = open_database(url)
    library_fill(db)
    codes = [security.create_enrol_code(db, 5) for _ in range(2)]
    librarian = security.create_librarian_token(db, "anna")
    proc = serve(url, "sch-1", tls="on")
    assert proc.url.startswith("https://")
    from library.tls import fingerprint

    pem = proc.cert_pem

    aiozc, run = zc_loop
    locator = ServerLocator(aiozc, school_id="sch-1", fingerprint=fingerprint(pem))
    run(locator.start())
    assert run(locator.wait(10)).url == proc.url
    base = lambda: locator.current().url if locator.current() else None  # noqa: E731

    clients, terms, queues = [], [], []
    try:
        for i, code in enumerate(codes, 1):
            c = ApiClient(base, timeout=3, server_cert=pem)
            c.enrol(code, f"kiosk-{i}")
            q = OfflineQueue(tmp_path / f"kiosk-{i}" / "queue.sqlite3")
            clients.append(c)
            queues.append(q)
            terms.append(TerminalCirculation(f"kiosk-{i}", c, q))
        t1, t2 = terms

        # A local replica on terminal 1: searches run locally.
        local = open_database(f"sqlite:///{tmp_path / 'kiosk-1' / 'replica.sqlite3'}")
        replica = Replica(local, clients[0])
        first = replica.sync()
        assert first.records == 3 and first.copies == 6

        # Online: both terminals see their readers (cards remembered for offline use).
        t1.identify("C5A")
        assert t1.checkout("1001")["due_date"]
        t1.finish()
        t2.identify("C1B")
        t2.finish()

        # The server dies (SIGKILL). Terminals keep working from the queue.
        old_url = proc.url
        proc.kill()
        t1.identify("C5A")
        assert t1.offline
        q1 = t1.checkout("1002")
        q2 = t1.checkout("2001")
        t1.finish()
        t2.identify("C1B")
        q3 = t2.checkout("2001")  # conflict: terminal 1 took 2001 first
        t2.finish()
        q4 = t2.checkin("1001")
        try:
            t2.identify("CT")  # never seen on this terminal: refused offline
            raise AssertionError("an unseen card must be refused offline")
        except OfflineRefused:
            pass
        assert all(q.get("queued") for q in (q1, q2, q3, q4))
        with local.transaction(write=False) as s:
            from library.search import search

            assert search(s, "война").hits[0].title == "Война и мир"  # replica answers offline

        # The server comes back on another port; the terminals follow it through zeroconf.
        proc2 = serve(url, "sch-1", tls="on")  # the same data dir: the same certificate
        assert proc2.url != old_url
        assert run(locator.wait(15, not_url=old_url)).url == proc2.url
        r1 = t1.flush()
        r2 = t2.flush()
        assert r1.done == [q1["txn_id"], q2["txn_id"]] and not r1.conflicts
        assert r2.done == [q4["txn_id"]] and r2.conflicts == [q3["txn_id"]]
        # Forwarding again (a lost reply) changes nothing: the txn id makes it a replay.
        again = clients[0].forward("checkout", "C5A", "1002", q1["txn_id"])
        assert again["replayed"] is True
        try:
            clients[1].forward("checkout", "C1B", "2001", q3["txn_id"])
        except ApiRefused as exc:
            assert exc.code == "item_on_loan"

        # Audit: every queued operation applied exactly once.
        queued = [q1["txn_id"], q2["txn_id"], q3["txn_id"], q4["txn_id"]]
        with db.session() as s:
            for txn in queued:
                assert s.scalar(select(func.count()).select_from(TransactionLog)
                                .where(TransactionLog.txn_id == txn)) == 1
            assert s.scalar(select(func.count()).select_from(Loan)
                            .where(Loan.checkout_txn.in_(queued))) == 2
            assert s.scalar(select(func.count()).select_from(Loan)
                            .where(Loan.return_txn == q4["txn_id"])) == 1
        assert [c["txn_id"] for c in queues[1].conflicts()] == [q3["txn_id"]]

        # The librarian sees the conflict (API and CLI).
        import httpx

        from kiosk.terminal.tls import pinned_context

        rows = httpx.get(f"{proc2.url}/api/v1/admin/conflicts", verify=pinned_context(pem),
                         headers={"Authorization": f"Bearer {librarian}"}).json()
        assert [(c["txn_id"], c["code"], c["terminal"]) for c in rows] == \
            [(q3["txn_id"], "item_on_loan", "kiosk-2")]
        out = subprocess.run([sys.executable, "-m", "ibc", "--db", url, "queue", "list", "--json"],
                             capture_output=True, text=True, timeout=60, check=True)
        assert [c["txn_id"] for c in json.loads(out.stdout)] == [q3["txn_id"]]

        # Incremental replica sync sees the new loans.
        inc = replica.sync()
        assert inc.copies == 3 and inc.seconds < 1
        with local.session() as s:
            from library.storage.models import Copy

            status = dict(s.execute(select(Copy.barcode, Copy.status)).all())
        assert status["1001"] == "available" and status["1002"] == "on_loan" and status["2001"] == "on_loan"

        # A revoked terminal gets 401.
        security.revoke(db, "kiosk-2")
        try:
            clients[1].search("мир")
            raise AssertionError("a revoked terminal must be refused")
        except ApiRefused as exc:
            assert exc.status == 401
        local.dispose()
    finally:
        run(locator.close())
        for c in clients:
            c.close()
        for q in queues:
            q.close()
        db.dispose()
