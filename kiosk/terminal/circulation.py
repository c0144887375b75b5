"""A terminal's circulation front: online through the API, queued while the server is away.

Policies (``[server] offline_policy``): ``seen_cards`` — checkouts for cards this terminal saw
accepted online before without a PIN (a reader who types a PIN is never lent to offline: the
server would refuse the forward, ``offline_pin_required``), and returns; ``return_only`` —
returns only; ``disabled`` — nothing.
An operation keeps its transaction id from the first online attempt to the last forward, so a
request that reached the server before the network failed is applied once, not twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.terminal.api import ApiClient, ApiRefused, ServerUnreachable
from kiosk.terminal.offline import OfflineQueue, new_txn_id
from library.circulation.errors import N_, CirculationError


class OfflineRefused(CirculationError):
    """The server is unreachable and the offline policy does not allow this operation (the
    kiosk says it by its code, in its own language)."""

    code, template = "offline_refused", N_("The server is unreachable: please see the librarian")


@dataclass
class FlushReport:
    """What one forwarding pass did."""

    done: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    left: int = 0


class TerminalCirculation:
    """Checkout/return for one terminal with the offline queue behind the API client."""

    def __init__(self, name: str, client: ApiClient, queue: OfflineQueue, policy: str = "seen_cards"):
        self.name, self.client, self.queue, self.policy = name, client, queue, policy
        self.card: str | None = None
        self.offline = False
        self.pin_card = False  # the current reader typed a PIN online: no offline checkout

    def identify(self, card: str, pin: str | None = None) -> dict:
        """Start a reader's visit; offline only for cards seen before (policy seen_cards)."""
        try:
            out = self.client.open_session(card, pin)
        except ServerUnreachable:
            if self.policy != "seen_cards" or not self.queue.offline_trusted(card):
                raise OfflineRefused() from None
            self.card, self.offline, self.pin_card = card, True, False
            return {"online": False}
        needs_pin = bool(out.get("pin_required", pin is not None))
        self.queue.remember_card(card, pin=needs_pin)
        self.card, self.offline, self.pin_card = card, False, needs_pin
        return {"online": True, **out}

    def finish(self) -> None:
        """End the reader's visit."""
        if not self.offline:
            try:
                self.client.end_session()
            except (ServerUnreachable, ApiRefused):
                self.client.session = None
        self.card, self.offline, self.pin_card = None, False, False

    def txn(self, caller_txn: str | None = None) -> str:
        """The transaction id sent to the server: the caller's (a flow's, so that its retry is
        replayed, never done twice) named with this terminal, or a fresh one."""
        if caller_txn is None:
            return new_txn_id(self.name)
        return caller_txn if caller_txn.startswith(f"{self.name[:24]}:") \
            else f"{self.name[:24]}:{caller_txn}"

    def checkout(self, barcode: str, txn_id: str | None = None) -> dict:
        """Lend a copy to the current reader: online, else queued."""
        if self.card is None:
            raise ValueError("identify a reader first")
        txn = self.txn(txn_id)
        if not self.offline:
            try:
                return self.client.checkout(barcode, txn)
            except ServerUnreachable:
                self.offline = True  # same txn id goes into the queue
        if self.policy != "seen_cards" or self.pin_card:
            # A reader with a PIN is never lent to offline (if the request did reach the server,
            # the loan is there, recorded with the PIN's session).
            raise OfflineRefused()
        self.queue.add("checkout", self.card, barcode, txn)
        return {"queued": True, "txn_id": txn, "barcode": barcode}

    def checkin(self, barcode: str, txn_id: str | None = None) -> dict:
        """Take a copy back: online, else queued (unless the policy is disabled)."""
        txn = self.txn(txn_id)
        try:
            return self.client.checkin(barcode, txn)
        except ServerUnreachable:
            if self.policy == "disabled":
                raise OfflineRefused() from None
        self.queue.add("checkin", None, barcode, txn)
        return {"queued": True, "txn_id": txn, "barcode": barcode}

    def flush(self) -> FlushReport:
        """Forward queued operations in order; stop at the first network failure."""
        report = FlushReport()
        pending = self.queue.pending()
        for i, op in enumerate(pending):
            try:
                out = self.client.forward(op["op"], op["card"], op["barcode"], op["txn_id"],
                                          op["queued_at"])
            except ServerUnreachable:
                self.queue.attempted(op["txn_id"])
                report.left = len(pending) - i
                return report
            except ApiRefused as exc:
                if exc.status in (401, 403, 429):  # revoked, policy, probe limit: kept for later
                    report.left = len(pending) - i
                    return report
                self.queue.finish(op["txn_id"], "conflict", exc.data)
                report.conflicts.append(op["txn_id"])
                continue
            self.queue.finish(op["txn_id"], "done", out)
            report.done.append(op["txn_id"])
        return report
