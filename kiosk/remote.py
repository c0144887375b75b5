"""Terminal mode: the kiosk through the school server (`ibc serve`), wired from the pieces of
`kiosk.terminal` (one concern per module):

* `kiosk.terminal.credentials` — the enrolment in ``<data_dir>/terminal.json``;
* `kiosk.terminal.api` — the HTTP client; `kiosk.terminal.circulation` — circulation over it
  with the offline queue (`kiosk.terminal.offline`); `kiosk.terminal.circulation_port` — the
  `CirculationPort` the library flows drive;
* `kiosk.terminal.replica` — the local copy of the catalogue; `kiosk.terminal.catalogue` —
  searches on it (through the API until it is there) and covers;
* `kiosk.terminal.monitor` — health, queue forwarding and replica sync in the background;
  `kiosk.terminal.locator` — the server's URL from zeroconf.

Everything asynchronous (the monitor's rounds, zeroconf) runs on the kiosk's one bridge
(`kiosk.bridge`), which the caller passes in and closes after `TerminalMode.close`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.settings import Settings
    from kiosk.bridge import Bridge
    from kiosk.terminal import ApiClient
    from kiosk.terminal.catalogue import TerminalCatalogue
    from kiosk.terminal.circulation_port import RemoteCirculation
    from kiosk.terminal.locator import ZeroconfUrl
    from kiosk.terminal.monitor import ConnectionMonitor
    from kiosk.terminal.offline import OfflineQueue
    from library.storage.database import Database

QUEUE_FILE = "queue.sqlite3"
REPLICA_FILE = "replica.sqlite3"


@dataclass
class TerminalMode:
    """Everything a terminal-mode kiosk needs; `close()` on exit (before the bridge closes)."""

    name: str
    catalogue: TerminalCatalogue
    circulation: RemoteCirculation
    monitor: ConnectionMonitor
    client: ApiClient
    queue: OfflineQueue
    replica: Database
    locator: ZeroconfUrl | None = None

    def close(self) -> None:
        """Stop the monitor, close files and connections."""
        self.monitor.stop()
        self.client.close()
        self.queue.close()
        self.replica.dispose()
        if self.locator is not None:
            self.locator.close()


def terminal_mode(data_dir: Path, enrolment: dict, settings: Settings, bridge: Bridge, *,
                  interval_s: float = 10.0) -> TerminalMode:
    """Build the terminal-mode services: API client, offline queue, local replica, monitor.

    Nothing here waits for the network: the monitor (started with the app) finds the server,
    forwards the queue and syncs the replica; until the replica holds the catalogue, searches
    and record pages go through the server's API (`TerminalCatalogue`).
    """
    from kiosk.local import LocalCatalogue
    from kiosk.terminal import ApiClient
    from kiosk.terminal.catalogue import CoverFetcher, RemoteCatalogue, TerminalCatalogue
    from kiosk.terminal.circulation import TerminalCirculation
    from kiosk.terminal.circulation_port import RemoteCirculation
    from kiosk.terminal.locator import ZeroconfUrl
    from kiosk.terminal.monitor import ConnectionMonitor
    from kiosk.terminal.offline import OfflineQueue
    from kiosk.terminal.replica import Replica
    from library.covers import covers_folder
    from library.storage.database import open_database

    url = settings.server.url or enrolment.get("url") or ""
    server_cert = enrolment.get("server_cert") or None  # the certificate pinned at enrolment
    locator = None
    base: Callable[[], str | None]
    if url:
        base = lambda: url  # noqa: E731
    else:
        locator = ZeroconfUrl(bridge, settings.school.id or None, settings.server.interfaces,
                              fingerprint=enrolment.get("fingerprint") or None)
        base = locator
    name = enrolment["name"]
    policy = settings.server.offline_policy
    # [server] primary_url: `url` is a read-only replica, writes and sessions go to the primary
    primary = settings.server.primary_url or None
    client = ApiClient(base, enrolment["token"], timeout=5.0, server_cert=server_cert,
                       write_url=primary)
    queue = OfflineQueue(Path(data_dir) / QUEUE_FILE)
    replica = open_database(f"sqlite:///{Path(data_dir) / REPLICA_FILE}")
    circulation = RemoteCirculation(TerminalCirculation(name, client, queue, policy), replica)
    ready = Replica(replica, client).cursor()[0] > 0  # a restart: the replica is already here
    monitor = ConnectionMonitor(name, base, enrolment["token"], queue, replica, bridge=bridge,
                                policy=policy, interval_s=interval_s, replica_ready=ready,
                                server_cert=server_cert, write_url=primary)
    folder = covers_folder(settings.library.covers_dir, data_dir)
    monitor.covers = CoverFetcher(folder, monitor.client)  # fetched on the monitor's rounds
    # the school the server enrolled this terminal for (older enrolments: the settings')
    local = LocalCatalogue(replica, enrolment.get("school") or settings.school.sigla, folder,
                           settings.library.covers_max_kb * 1024)
    catalogue = TerminalCatalogue(local, RemoteCatalogue(client, local.sigla), lambda: monitor.replica_ready,
                                  monitor.covers)
    return TerminalMode(name, catalogue, circulation, monitor, client, queue, replica, locator)
