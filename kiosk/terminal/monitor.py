"""A terminal's connection to the school server, watched in the background.

`ConnectionMonitor` runs as one task on the kiosk bridge's event loop (`kiosk.bridge`): every
``interval_s`` (every ``retry_s`` until the server first answers) it checks the server's health,
forwards the offline queue, syncs the catalogue replica and fetches wanted covers. Those calls
are blocking (httpx, SQLite), so each round runs in the loop's executor; the loop itself never
waits on the network. The state reaches the UI only through ``post`` (the app passes a hop to
the Kivy thread).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from library.errors import IbcError

if TYPE_CHECKING:
    from kiosk.bridge import Bridge
    from kiosk.terminal.catalogue import CoverFetcher
    from kiosk.terminal.offline import OfflineQueue
    from kiosk.terminal.replica import SyncReport
    from library.storage.database import Database

log = logging.getLogger("ibc.kiosk")


class MonitorStopped(IbcError):
    """The monitor was stopped in the middle of a long replica sync."""

    code = "monitor_stopped"


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
    error_code: str = ""  # the ClientError's code (server_certificate_changed, …)


class ConnectionMonitor:
    """Background health check, replica sync and queue forwarding for a terminal."""

    def __init__(self, name: str, base_url: Callable[[], str | None], token: str,
                 queue: OfflineQueue, replica_db: Database | None = None, *, bridge: Bridge,
                 policy: str = "seen_cards", interval_s: float = 10.0,
                 post: Callable[[ConnectionState], None] | None = None,
                 replica_ready: bool = False, retry_s: float = 1.0,
                 server_cert: str | None = None, write_url: str | None = None) -> None:
        from kiosk.terminal import ApiClient
        from kiosk.terminal.circulation import TerminalCirculation

        # its own connection pool, trusting the same enrolled certificate; the offline queue
        # is forwarded to `write_url` (the primary) when the server is a read-only replica
        self.client = ApiClient(base_url, token, timeout=5.0, server_cert=server_cert,
                                write_url=write_url)
        self.forwarder = TerminalCirculation(name, self.client, queue, policy)
        self.queue, self.replica_db, self.policy = queue, replica_db, policy
        self.base_url, self.interval_s, self.post = base_url, interval_s, post
        self.state = ConnectionState(policy=policy, pending=len(queue.pending()),
                                     conflicts=len(queue.conflicts()), replica_ready=replica_ready)
        # Until the server has answered once, retry every `retry_s` (zeroconf may take a moment
        # to find it at start-up); then every `interval_s`.
        self.retry_s = retry_s
        self.covers: CoverFetcher | None = None  # terminal mode: covers asked of the server
        self.bridge = bridge
        self._stopped = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._task: concurrent.futures.Future | None = None

    def start(self) -> None:
        """Start watching: one long task on the bridge's loop."""
        self._stopped = False
        self._task = self.bridge.submit(self._run())

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching (waits for a round in progress, up to ``timeout``); closes the client."""
        self._stopped = True
        self.poke()
        if self._task is not None:
            try:
                self._task.result(timeout)
            except Exception as exc:  # noqa: BLE001 - stopping on exit: say it, go on closing
                log.warning("the connection monitor did not stop cleanly: %r", exc)
        self.client.close()

    def poke(self) -> None:
        """Check now (after an operation failed, or from service mode); from any thread."""
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            loop.call_soon_threadsafe(wake.set)

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        started = time.monotonic()
        while not self._stopped:
            await self._loop.run_in_executor(None, self.check_once)
            early = not self.state.online and time.monotonic() - started < 60
            try:
                await asyncio.wait_for(self._wake.wait(), self.retry_s if early else self.interval_s)
            except asyncio.TimeoutError:
                pass
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

                def progress(rep: SyncReport) -> None:  # a first sync: tell service mode
                    if self._stopped:  # the kiosk is closing: the next sync goes on from here
                        raise MonitorStopped()
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
                                    replica_ready=state.replica_ready, error_code=exc.code)
        except MonitorStopped:
            return self.state  # the replica keeps every page it applied; nothing to publish
        except Exception as exc:  # noqa: BLE001 - the monitor must survive a bad page
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
