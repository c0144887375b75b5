"""Terminal mode: the kiosk through the school server (`ibc serve`).

* `RemoteCirculation` is the `CirculationPort` the library flows drive on a terminal: reader
  sessions, checkout, renew and loans through the API (`kiosk.terminal`), returns and checkouts
  queued in the durable offline queue while the server is unreachable (policy from settings,
  `kiosk.terminal.circulation.TerminalCirculation`).
* `ConnectionMonitor` is the one background thread: health check, replica sync (searches run on
  the local replica), forwarding of the queue. It hands its state to the UI only through the
  ``post`` callable (the app passes a `Clock.schedule_once` hop).
* The terminal's credentials live in ``<data_dir>/terminal.json`` (mode 0600), written by
  ``ibc terminals join CODE``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypeVar

from kiosk.services import RecordView, SearchPage
from library.circulation import errors as E
from library.circulation.values import LoanOutcome, LoanView, ReaderView

if TYPE_CHECKING:  # imported where they are built (terminal_mode), for start-up time
    from kiosk.terminal import ApiClient
    from kiosk.terminal.circulation import TerminalCirculation
    from kiosk.terminal.offline import OfflineQueue
    from library.storage.database import Database

_T = TypeVar("_T")
log = logging.getLogger("ibc.kiosk")
TERMINAL_FILE = "terminal.json"
QUEUE_FILE = "queue.sqlite3"
REPLICA_FILE = "replica.sqlite3"


# --- credentials ---------------------------------------------------------------------------------
def terminal_path(data_dir: str | Path) -> Path:
    """Where the terminal's name, token and server URL are kept."""
    return Path(data_dir) / TERMINAL_FILE


def load_terminal(data_dir: str | Path) -> dict | None:
    """The enrolment ({name, token, url}), or None when this terminal is not enrolled."""
    try:
        data = json.loads(terminal_path(data_dir).read_text(encoding="utf-8"))
    except (FileNotFoundError, PermissionError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("token") else None


def save_terminal(data_dir: str | Path, name: str, token: str, url: str = "") -> Path:
    """Write terminal.json readable by its owner only (0600), atomically."""
    path = terminal_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{TERMINAL_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"name": name, "token": token, "url": url,
                   "enrolled_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")},
                  out, ensure_ascii=False)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


# --- circulation ---------------------------------------------------------------------------------
class ServerOffline(E.CirculationError):
    """The server is unreachable and the offline policy does not allow this."""

    code, template = "offline_refused", "The server is unreachable: please see the librarian"


def _refusal(exc) -> E.CirculationError:  # noqa: ANN001 - kiosk.terminal.ApiRefused
    cls = E.ERRORS.get(exc.code)
    params = exc.data.get("params") or {}
    if cls is not None:
        try:
            return cls(**params)
        except TypeError:
            return cls()
    err = E.CirculationError()
    err.code = exc.code  # e.g. session_expired, too_many_attempts: texts fall back to a default
    return err


class RemoteCirculation:
    """`CirculationPort` over the school server, with the offline queue behind it."""

    def __init__(self, terminal: TerminalCirculation, replica_db: Database | None = None) -> None:
        self.terminal = terminal
        self.client = terminal.client
        self.replica = replica_db
        self.policy = SimpleNamespace(require_pin=False)  # the server decides per reader
        self._pin_card: str | None = None
        self._reader: ReaderView | None = None

    # --- identification -------------------------------------------------------------------------
    def _view(self, card: str, out: dict) -> ReaderView:
        r = out.get("reader") or {}
        return ReaderView(0, card, r.get("first_name", ""), r.get("initial", ""),
                          r.get("class_name"), r.get("category") or "pupil",
                          r.get("patronymic") or "", r.get("restriction"),
                          r.get("restriction_note"))

    def _open(self, card: str, pin: str | None = None) -> ReaderView:
        from kiosk.terminal import ApiRefused
        from kiosk.terminal.circulation import OfflineRefused

        try:
            out = self.terminal.identify(card, pin)
        except OfflineRefused:
            raise ServerOffline() from None
        except ApiRefused as exc:
            raise _refusal(exc) from None
        self._reader = self._view(card, out)
        return self._reader

    def find_reader(self, card: str) -> ReaderView:
        """Open the reader session (without a PIN first); the server says when a PIN is due.
        A copy of the replica is a book, told without asking the server."""
        if self._copy(card) is not None:
            raise E.BookNotCard()
        self.end_session()
        try:
            return self._open(card)
        except E.CirculationError as exc:
            if exc.code != "pin_required":
                raise
        self._pin_card = card
        return ReaderView(0, card, "", "", None, "pupil")

    def pin_required(self, reader: ReaderView) -> bool:
        """The server asked for this reader's PIN."""
        return reader.card == self._pin_card

    def check_pin(self, card: str, pin: str) -> bool:
        """Open the session with the PIN; False for a wrong one."""
        try:
            self._open(card, pin)
        except E.WrongPin:
            return False
        self._pin_card = None
        return True

    def identified_reader(self, reader: ReaderView) -> ReaderView:
        """The server's view of the reader once the session is open (name after the PIN)."""
        if self._reader is not None and self._reader.card == reader.card:
            return self._reader
        return reader

    def is_reader_card(self, code: str) -> bool:
        """A copy barcode of the replica is a book; with no session open anything else is
        tried as a card (the server answers reader_not_found)."""
        if self.terminal.card is not None and code == self.terminal.card:
            return True
        if self._copy(code) is not None:
            return False
        return self.terminal.card is None

    def end_session(self) -> None:
        """«Готово» / idle: DELETE /session."""
        if self.terminal.card is not None:
            self.terminal.finish()
        self._pin_card, self._reader = None, None

    # --- circulation ----------------------------------------------------------------------------
    def _copy(self, barcode: str) -> tuple[str, str] | None:
        """(title, authors) of a copy in the local replica."""
        if self.replica is None:
            return None
        from sqlalchemy import select

        from library.storage.models import Copy, Record

        with self.replica.session() as s:
            row = s.execute(select(Record.title, Record.authors).join(Copy, Copy.record_id == Record.id)
                            .where(Copy.barcode == barcode)).first()
        return (row[0], ", ".join(row[1] or ())) if row else None

    def _outcome(self, action: str, out: dict, barcode: str) -> LoanOutcome:
        if out.get("queued"):
            title, authors = self._copy(barcode) or ("", "")
            return LoanOutcome(action, out["txn_id"], 0, barcode, title, authors, None)
        due = out.get("due_date")
        return LoanOutcome(out["action"], out["txn_id"], int(out["loan_id"]), out["barcode"],
                           out["title"], out.get("authors", ""),
                           dt.date.fromisoformat(due) if due else None, out.get("shelf"),
                           int(out.get("renewals", 0)), bool(out.get("replayed", False)),
                           place=out.get("place"))

    def _call(self, fn: Callable[[], _T]) -> _T:
        from kiosk.terminal import ApiRefused, ServerUnreachable
        from kiosk.terminal.circulation import OfflineRefused

        try:
            return fn()
        except (OfflineRefused, ServerUnreachable):
            raise ServerOffline() from None
        except ApiRefused as exc:
            raise _refusal(exc) from None

    def checkout(self, card: str, barcode: str, txn_id: str, *,
                 terminal: str | None = None) -> LoanOutcome:
        """Lend to the session reader (queued when offline and the policy allows)."""
        if self.terminal.card != card:
            raise E.FinishFirst()
        return self._outcome("checkout",
                             self._call(lambda: self.terminal.checkout(barcode, txn_id)), barcode)

    def checkin(self, barcode: str, txn_id: str, *, terminal: str | None = None) -> LoanOutcome:
        """Return (queued when offline unless the policy is disabled)."""
        return self._outcome("checkin",
                             self._call(lambda: self.terminal.checkin(barcode, txn_id)), barcode)

    def loans(self, card: str) -> list[LoanView]:
        """The session reader's loans (online only)."""
        if self.terminal.card != card or self.terminal.offline:
            raise ServerOffline()
        rows = self._call(self.client.loans)
        return [LoanView(r["loan_id"], r["barcode"], r["title"], r.get("authors", ""),
                         dt.date.fromisoformat(r["issued"]), dt.date.fromisoformat(r["due_date"]),
                         int(r["renewals"]), bool(r["overdue"])) for r in rows]

    def renew(self, card: str, barcode: str, txn_id: str, *,
              terminal: str | None = None) -> LoanOutcome:
        """Renew one of the session reader's loans (online only)."""
        if self.terminal.card != card or self.terminal.offline:
            raise ServerOffline()
        txn = self.terminal.txn(txn_id)
        return self._outcome("renew", self._call(lambda: self.client.renew(barcode, txn)), barcode)


# --- connection state ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ConnectionState:
    """What service mode and the offline banner show."""

    online: bool | None = None  # None: not checked yet
    url: str = ""
    policy: str = "seen_cards"
    pending: int = 0
    conflicts: int = 0
    last_sync: dt.datetime | None = None
    records: int = 0
    error: str = ""
    checked: dt.datetime | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    replica_ready: bool = False  # a full catalogue copy is here: searches run locally
    syncing: bool = False  # a sync is running (service mode shows its progress)


class ConnectionMonitor:
    """Background health check, replica sync and queue forwarding for a terminal."""

    def __init__(self, name: str, base_url: Callable[[], str | None], token: str, queue,  # noqa: ANN001
                 replica_db=None, *, policy: str = "seen_cards", interval_s: float = 10.0,  # noqa: ANN001
                 post: Callable[[ConnectionState], None] | None = None,
                 replica_ready: bool = False, retry_s: float = 1.0):
        from kiosk.terminal import ApiClient
        from kiosk.terminal.circulation import TerminalCirculation

        self.client = ApiClient(base_url, token, timeout=5.0)  # its own connection pool
        self.forwarder = TerminalCirculation(name, self.client, queue, policy)
        self.queue, self.replica_db, self.policy = queue, replica_db, policy
        self.base_url, self.interval_s, self.post = base_url, interval_s, post
        self.state = ConnectionState(policy=policy, pending=len(queue.pending()),
                                     conflicts=len(queue.conflicts()), replica_ready=replica_ready)
        # Until the server has answered once, retry every `retry_s` (zeroconf may take a moment
        # to find it at start-up); then every `interval_s`.
        self.retry_s = retry_s
        self.covers: CoverFetcher | None = None  # terminal mode: covers asked of the server
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the daemon thread."""
        self._thread = threading.Thread(target=self._run, name="kiosk-connection", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop and join the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
        self.client.close()

    def poke(self) -> None:
        """Check now (after an operation failed, or from service mode)."""
        self._wake.set()

    def _run(self) -> None:
        started = time.monotonic()
        while not self._stop.is_set():
            self.check_once()
            early = not self.state.online and time.monotonic() - started < 60
            self._wake.wait(self.retry_s if early else self.interval_s)
            self._wake.clear()

    @property
    def replica_ready(self) -> bool:
        """The local replica holds the catalogue (read from any thread)."""
        return self.state.replica_ready

    def check_once(self) -> ConnectionState:
        """One round: health, forward the queue, sync the replica; posts the state."""
        from kiosk.terminal.api import ClientError

        now = dt.datetime.now()
        state = self.state
        try:
            self.client.health()
            report = self.forwarder.flush() if self.queue.pending() else None
            synced = state.last_sync
            records = state.records
            ready = state.replica_ready
            if self.replica_db is not None:
                from kiosk.terminal.replica import Replica

                base_records = state.records

                def progress(rep) -> None:  # noqa: ANN001 - a first sync: tell service mode
                    self._publish(replace(self.state, online=True, syncing=True,
                                          records=base_records + rep.records))

                rep = Replica(self.replica_db, self.client).sync(progress)
                synced, records, ready = dt.datetime.now(), base_records + rep.records, True
            if self.covers is not None:
                self.covers.fetch_some()
            notes = tuple(report.conflicts) if report else ()
            state = ConnectionState(True, self.base_url() or "", self.policy,
                                    len(self.queue.pending()), len(self.queue.conflicts()),
                                    synced, records, "", now, notes, ready)
        except ClientError as exc:
            state = ConnectionState(False, self.base_url() or "", self.policy,
                                    len(self.queue.pending()), len(self.queue.conflicts()),
                                    state.last_sync, state.records, str(exc)[:200], now,
                                    replica_ready=state.replica_ready)
        except Exception as exc:  # noqa: BLE001 - the thread must survive a bad page
            log.exception("terminal sync failed")
            state = ConnectionState(state.online, state.url, self.policy, state.pending,
                                    state.conflicts, state.last_sync, state.records,
                                    f"{type(exc).__name__}: {exc}"[:200], now,
                                    replica_ready=state.replica_ready)
        self._publish(state)
        return state

    def _publish(self, state: ConnectionState) -> None:
        self.state = state
        if self.post is not None:
            self.post(state)


# --- discovery -----------------------------------------------------------------------------------
class ZeroconfUrl:
    """The server URL from zeroconf (`_ibc._tcp`), followed when it moves; a daemon loop thread."""

    def __init__(self, school_id: str | None = None, interfaces: list[str] | None = None):
        import asyncio

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="kiosk-zeroconf",
                                        daemon=True)
        self._thread.start()
        self.locator = asyncio.run_coroutine_threadsafe(
            self._start(school_id, interfaces), self._loop).result(10)

    async def _start(self, school_id, interfaces):  # noqa: ANN001, ANN202
        from device.discovery import ServerLocator, make_zeroconf

        self._aiozc = make_zeroconf(interfaces)
        locator = ServerLocator(self._aiozc, school_id=school_id)
        await locator.start()
        return locator

    def __call__(self) -> str | None:
        seen = self.locator.current()
        return seen.url if seen else None

    def close(self) -> None:
        """Stop browsing."""
        import asyncio

        async def _close() -> None:
            await self.locator.close()
            await self._aiozc.async_close()

        try:
            asyncio.run_coroutine_threadsafe(_close(), self._loop).result(5)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            if not self._thread.is_alive():
                self._loop.close()


# --- catalogue while the replica is not ready -----------------------------------------------------
class RemoteCatalogue:
    """`CatalogueService` through the server's API: a terminal's first minutes, before its
    replica holds the catalogue (no facets but «на полке», no room plans, no covers)."""

    def __init__(self, client):  # noqa: ANN001 - kiosk.terminal.ApiClient
        self.client = client

    def search(self, query: str, *, limit: int = 20, offset: int = 0,
               facets: dict[str, str] | None = None) -> SearchPage:
        """The server's search; ``available`` is the one filter it takes."""
        from kiosk.services import FacetValue, Hit

        body = self._call(lambda: self.client.search(
            query, limit=limit, offset=offset, facets=True,
            available=bool((facets or {}).get("available"))))
        hits = tuple(Hit(h["id"], h["title"], tuple(h.get("authors") or ()), h.get("year"),
                         h.get("isbn"), int(h.get("available") or 0), int(h.get("copies") or 0),
                         h.get("shelf"), h.get("type") or "book", _place(h))
                     for h in body.get("hits", []))
        chips = []
        for v in (body.get("facets") or {}).get("available", []):
            if v.get("value") == "yes":
                chips.append(FacetValue("available", "yes", int(v.get("count") or 0)))
        return SearchPage(query, hits, int(body.get("total") or 0),
                          body.get("corrected_query"), tuple(chips))

    def record(self, record_id: int) -> RecordView:
        """One record with its copies' status and place."""
        from kiosk.services import CopyView
        from kiosk.terminal import ApiRefused
        from library.errors import NotFound

        try:
            r = self._call(lambda: self.client.record(record_id))
        except ApiRefused as exc:
            if exc.status == 404:
                raise NotFound(f"record {record_id}") from exc
            raise
        copies = tuple(CopyView(c.get("barcode") or "", c.get("status") or "available",
                                c.get("shelf"), None, None, _place(c))
                       for c in r.get("copies", []))
        return RecordView(r["id"], r["title"], tuple(r.get("authors") or ()), r.get("subtitle"),
                          r.get("annotation"), r.get("year"), r.get("publisher"), None, None,
                          r.get("isbn"), r.get("age_rating"), None, copies,
                          r.get("item_type") or "book")

    def new_arrivals(self, limit: int = 6) -> list:
        """None before the replica is here (the home screen just shows fewer things)."""
        return []

    def room(self, room: str | None) -> list:
        """No plans without the replica."""
        return []

    def cover(self, isbns: tuple[str, ...], barcodes: tuple[str, ...] = ()) -> None:
        """Generated covers only, until the replica is here."""
        return None

    @staticmethod
    def _call(fn):  # noqa: ANN001, ANN205
        from kiosk.terminal import ServerUnreachable

        try:
            return fn()
        except ServerUnreachable as exc:
            raise ServerOffline() from exc


def _place(item: dict):  # noqa: ANN202 - library.places.PlaceView | None
    from library.places import PlaceView

    if not item.get("place"):
        return None
    name, _sep, note = str(item["place"]).partition(" — ")
    return PlaceView(int(item.get("place_id") or 0), name, note or None, None, None)


class CoverFetcher:
    """Covers for a terminal: the librarian drops them on the server (`GET /covers/{key}`); the
    kiosk asks for the ones it wanted to show, on the connection thread, a few per round, and
    keeps them in its own folder, where the catalogue finds them next time. The UI never waits
    for a cover: a row shows its generated cover until the file is here."""

    PER_ROUND = 20
    MAX_WANTED = 200
    RETRY_S = 3600.0  # a key the server has no cover for is asked again after an hour

    def __init__(self, folder: Path, client: Any):
        self.folder = Path(folder)
        self.client = client
        self._wanted: dict[str, None] = {}  # insertion-ordered set
        self._missing: dict[str, float] = {}
        self._lock = threading.Lock()

    def want(self, keys: list[str]) -> None:
        """Ask for these keys (any thread); a full list drops the request, not the UI."""
        now = time.monotonic()
        with self._lock:
            for key in keys:
                if len(self._wanted) >= self.MAX_WANTED:
                    break
                if now - self._missing.get(key, -self.RETRY_S) >= self.RETRY_S:
                    self._wanted.setdefault(key, None)

    def fetch_some(self) -> int:
        """Fetch up to PER_ROUND wanted covers (the connection thread); returns how many came."""
        from library.covers import media_type

        with self._lock:
            keys = list(self._wanted)[: self.PER_ROUND]
        got = 0
        for key in keys:
            data = self.client.cover(key)  # ServerUnreachable: the round stops, keys stay
            with self._lock:
                self._wanted.pop(key, None)
                if data is None or media_type(data) is None:
                    self._missing[key] = time.monotonic()
                    continue
            ext = ".png" if media_type(data) == "image/png" else ".jpg"
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f".{key}{ext}.part"
            tmp.write_bytes(data)
            os.replace(tmp, self.folder / f"{key}{ext}")  # atomic: never a half-written cover
            got += 1
        return got


class TerminalCatalogue:
    """The local replica once it holds the catalogue, the server's API until then: a terminal
    starts at once and its first search never waits for the first sync. Covers come from the
    terminal's cover folder; missing ones are asked of the server in the background."""

    def __init__(self, local, remote: RemoteCatalogue, ready: Callable[[], bool],  # noqa: ANN001
                 covers: CoverFetcher | None = None):
        self.local, self.remote, self.ready, self.covers = local, remote, ready, covers

    def _pick(self):  # noqa: ANN202
        return self.local if self.ready() else self.remote

    def search(self, query: str, **kwargs) -> SearchPage:  # noqa: ANN003
        """Search where the catalogue is."""
        return self._pick().search(query, **kwargs)

    def record(self, record_id: int) -> RecordView:
        """One record."""
        return self._pick().record(record_id)

    def new_arrivals(self, limit: int = 6) -> list:
        """The newest titles (the replica's)."""
        return self._pick().new_arrivals(limit)

    def room(self, room: str | None) -> list:
        """The places of a room."""
        return self._pick().room(room)

    def cover(self, isbns: tuple[str, ...], barcodes: tuple[str, ...] = ()):  # noqa: ANN201
        """A cover file from the terminal's folder; else the server is asked for it later."""
        found = self.local.cover(isbns, barcodes)
        if found is None and self.covers is not None:
            from library.covers import isbn_keys, valid_key

            self.covers.want(isbn_keys(isbns)[:1] + [b for b in barcodes[:1] if valid_key(b)])
        return found


# --- wiring --------------------------------------------------------------------------------------
@dataclass
class TerminalMode:
    """Everything a terminal-mode kiosk needs; `close()` on exit."""

    name: str
    catalogue: TerminalCatalogue
    circulation: RemoteCirculation
    monitor: ConnectionMonitor
    client: ApiClient
    queue: OfflineQueue
    replica: Database
    locator: ZeroconfUrl | None = None

    def close(self) -> None:
        """Stop the thread, close files and connections."""
        self.monitor.stop()
        self.client.close()
        self.queue.close()
        self.replica.dispose()
        if self.locator is not None:
            self.locator.close()


def terminal_mode(data_dir: Path, enrolment: dict, settings, *,  # noqa: ANN001
                  interval_s: float = 10.0) -> TerminalMode:
    """Build the terminal-mode services: API client, offline queue, local replica, monitor.

    Nothing here waits for the network: the monitor thread (started with the app) finds the
    server, forwards the queue and syncs the replica; until the replica holds the catalogue,
    searches and record pages go through the server's API (`TerminalCatalogue`).
    """
    from kiosk.local import LocalCatalogue
    from kiosk.terminal import ApiClient
    from kiosk.terminal.circulation import TerminalCirculation
    from kiosk.terminal.offline import OfflineQueue
    from library.storage.database import open_database

    url = settings.server.url or enrolment.get("url") or ""
    locator = None
    if url:
        base: Callable[[], str | None] = lambda: url  # noqa: E731
    else:
        locator = ZeroconfUrl(settings.school.id or None, settings.server.interfaces)
        base = locator
    name = enrolment["name"]
    policy = settings.server.offline_policy
    client = ApiClient(base, enrolment["token"], timeout=5.0)
    queue = OfflineQueue(Path(data_dir) / QUEUE_FILE)
    replica = open_database(f"sqlite:///{Path(data_dir) / REPLICA_FILE}")
    circulation = RemoteCirculation(TerminalCirculation(name, client, queue, policy), replica)
    from kiosk.terminal.replica import Replica

    ready = Replica(replica, client).cursor()[0] > 0  # a restart: the replica is already here
    monitor = ConnectionMonitor(name, base, enrolment["token"], queue, replica, policy=policy,
                                interval_s=interval_s, replica_ready=ready)
    from library.covers import covers_folder

    folder = covers_folder(settings.library.covers_dir, data_dir)
    monitor.covers = CoverFetcher(folder, monitor.client)  # fetched on the monitor's thread
    local = LocalCatalogue(replica, settings.school.sigla, folder,
                           settings.library.covers_max_kb * 1024)
    catalogue = TerminalCatalogue(local, RemoteCatalogue(client), lambda: monitor.replica_ready,
                                  monitor.covers)
    return TerminalMode(name, catalogue, circulation, monitor, client, queue, replica, locator)
