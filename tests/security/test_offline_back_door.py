"""Attack: use POST /offline (a terminal forwarding what it queued while the server was away)
as a back door. Before: a checkout for a reader WITH a PIN was applied on a terminal token
alone, the `seen_cards` policy was not checked on the server, and the refusals told which cards
exist (50 probes → 9 cards confirmed) without counting toward any limit.

Now: a forwarded checkout is applied only for an active reader identified online at that very
terminal before and needing no PIN; an unknown card gets exactly the answer of a known card
the policy refuses; every forwarded card counts toward the terminal's probe limit; the
terminal itself never lends offline to a reader who typed a PIN."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

V = "/api/v1"


def _fwd(client, auth, card, barcode="2001", txn="off-1"):
    return client.post(f"{V}/offline", json={"op": "checkout", "card": card, "barcode": barcode,
                                             "txn_id": txn}, headers=auth)


def _loans(db) -> int:
    from library.storage.models import Loan

    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Loan))


def test_a_pin_readers_checkout_is_never_applied_offline(api, enrol):
    client, db = api
    auth = enrol("k1")
    # The reader identified at this terminal with the PIN (so "seen"), then the "offline" forward.
    assert client.post(f"{V}/session", json={"card": "CPIN", "pin": "4321"}, headers=auth).status_code == 200
    for _ in range(3):  # repeated: the same clear refusal, nothing lent
        r = _fwd(client, auth, "CPIN")
        assert r.status_code == 409 and r.json()["code"] == "offline_pin_required"
    assert _loans(db) == 0
    conflicts = client.get(f"{V}/admin/conflicts", headers=_librarian(db))
    assert [(c["code"], c["attempts"]) for c in conflicts.json()] == [("offline_pin_required", 3)]


def _librarian(db):
    from server.security import create_librarian_token

    return {"Authorization": f"Bearer {create_librarian_token(db, 'lib-' + uuid.uuid4().hex[:8])}"}


def test_seen_cards_is_enforced_on_the_server(api, enrol):
    client, db = api
    k1, k2 = enrol("k1"), enrol("k2")
    assert client.post(f"{V}/session", json={"card": "C5A"}, headers=k1).status_code == 200
    # Never identified at k2: refused there, with the same answer as a card that does not exist.
    seen_elsewhere = _fwd(client, k2, "C5A", txn="k2-1")
    never_seen = _fwd(client, k1, "C1B", txn="k1-1")
    ghost = _fwd(client, k1, "NO-SUCH-CARD", txn="k1-2")
    for r in (seen_elsewhere, never_seen, ghost):
        assert r.status_code == 409 and r.json()["code"] == "offline_card_refused"
    assert seen_elsewhere.json() == never_seen.json() == ghost.json()
    assert _loans(db) == 0
    # Identified at k1 without a PIN: the forward is applied, once.
    ok = _fwd(client, k1, "C5A", txn="k1-3")
    assert ok.status_code == 200 and not ok.json()["replayed"]
    assert _fwd(client, k1, "C5A", txn="k1-3").json()["replayed"]
    assert _loans(db) == 1


def test_a_request_that_reached_the_server_online_is_replayed(api, enrol):
    """Exactly once still holds: the online checkout of a PIN reader got through, its answer was
    lost, the terminal forwards the same transaction: the stored outcome, no second loan."""
    client, db = api
    auth = enrol("k1")
    r = client.post(f"{V}/session", json={"card": "CPIN", "pin": "4321"}, headers=auth)
    h = {**auth, "X-Reader-Session": r.json()["session"]}
    assert client.post(f"{V}/checkout", json={"barcode": "2001", "txn_id": "k1-9"}, headers=h).status_code == 200
    again = _fwd(client, auth, "CPIN", txn="k1-9")
    assert again.status_code == 200 and again.json()["replayed"]
    assert _loans(db) == 1


def test_offline_probes_count_and_reveal_nothing(api, enrol):
    """50 forwards with made-up cards (and the real ones among them): the answers are identical
    and the terminal is stopped after 5 distinct cards (these settings' limit)."""
    client, db = api
    auth = enrol("k1")
    cards = [f"G{i:03d}" for i in range(48)] + ["C1B", "CT"]
    answers = [_fwd(client, auth, c, txn=f"p-{i}") for i, c in enumerate(cards)]
    codes = [r.json()["code"] for r in answers]
    assert codes[:5] == ["offline_card_refused"] * 5
    assert set(codes[5:]) == {"too_many_attempts"} and answers[-1].status_code == 429
    assert len({r.text for r in answers[:5]}) == 1  # nothing tells one card from another
    assert _loans(db) == 0
    # A librarian's credential is not a terminal's: no forwarding with it.
    assert _fwd(client, _librarian(db), "C5A").status_code == 401
    assert _fwd(client, {}, "C5A").status_code == 401


# --- the terminal side ---------------------------------------------------------------------------
class _Api:
    """An ApiClient stand-in: the server answers, or it is away."""

    def __init__(self):
        self.up, self.session, self.sent = True, None, []

    def _call(self, out):
        from kiosk.terminal.api import ServerUnreachable

        if not self.up:
            raise ServerUnreachable("away")
        return out

    def open_session(self, card, pin=None):
        return self._call({"session": "s", "idle_s": 60, "pin_required": pin is not None,
                           "reader": {"first_name": "Оля"}})

    def end_session(self):
        self.session = None

    def checkout(self, barcode, txn):
        self.sent.append(txn)
        return self._call({"action": "checkout", "txn_id": txn})


def test_the_terminal_never_offers_offline_checkout_to_a_pin_reader(tmp_path):
    from kiosk.terminal.circulation import OfflineRefused, TerminalCirculation
    from kiosk.terminal.offline import OfflineQueue

    api = _Api()
    queue = OfflineQueue(tmp_path / "q.sqlite3")
    term = TerminalCirculation("k1", api, queue)
    term.identify("CPIN", "4321")  # online, with a PIN
    term.finish()
    term.identify("C5A")  # online, no PIN
    term.finish()
    api.up = False
    with pytest.raises(OfflineRefused):
        term.identify("CPIN")  # offline: refused at the card
    term.identify("C5A")
    assert term.checkout("2001")["queued"]
    term.finish()
    # The server goes away in the middle of a PIN reader's visit: nothing is queued for them.
    api.up = True
    term.identify("CPIN", "4321")
    api.up = False
    for _ in range(2):
        with pytest.raises(OfflineRefused):
            term.checkout("2002")
    assert [op["card"] for op in queue.pending()] == ["C5A"]
    queue.close()


def test_a_queue_from_before_knows_no_pins_and_trusts_no_card(tmp_path):
    import sqlite3

    from kiosk.terminal.offline import OfflineQueue, _card_hash

    path = tmp_path / "old.sqlite3"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE seen_cards (hash TEXT PRIMARY KEY, seen_at TEXT NOT NULL)")
    con.execute("INSERT INTO seen_cards VALUES (?, '2026-01-01')", (_card_hash("C5A"),))
    con.commit()
    con.close()
    queue = OfflineQueue(path)
    assert queue.seen("C5A") and not queue.offline_trusted("C5A")
    queue.remember_card("C5A", pin=False)
    assert queue.offline_trusted("C5A")
    queue.close()
