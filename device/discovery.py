"""DNS-SD on the school network, the browsing edge: terminals find ``_ibc._tcp.local.`` servers
(the advertiser is server/discovery.py).

One AsyncZeroconf per process is created by the caller and injected (convention 6). Servers are
identified by the school id in TXT, not by address: when a server comes back on another address
or port the locator follows it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from zeroconf import IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

SERVICE_TYPE = "_ibc._tcp.local."


@dataclass(frozen=True)
class SeenServer:
    """One advertised school server."""

    name: str
    school_id: str
    school_name: str
    api: str
    address: str
    port: int
    path: str
    fingerprint: str = ""  # TXT fp: the server's certificate (SHA-256); empty = plain HTTP

    @property
    def url(self) -> str:
        """Base URL of its API (https when it announces a certificate)."""
        scheme = "https" if self.fingerprint else "http"
        return f"{scheme}://{self.address}:{self.port}"


def make_zeroconf(interfaces: list[str] | None = None) -> AsyncZeroconf:
    """The process's AsyncZeroconf, bound to `interfaces` (empty = all)."""
    from zeroconf import InterfaceChoice

    return AsyncZeroconf(interfaces=interfaces or InterfaceChoice.All, ip_version=IPVersion.V4Only)


def _txt(info: AsyncServiceInfo, key: str) -> str:
    value = (info.properties or {}).get(key.encode())
    return value.decode("utf-8", "replace") if value else ""


class ServerLocator:
    """Browses for school servers and keeps the latest address of each school id."""

    def __init__(self, aiozc: AsyncZeroconf, school_id: str | None = None,
                 fingerprint: str | None = None):
        self.aiozc, self.school_id = aiozc, school_id
        # A terminal enrolled over TLS looks only for the server with its certificate: another
        # machine announcing the same school id is not even tried.
        self.fingerprint = fingerprint or None
        self.seen: dict[str, SeenServer] = {}
        self._browser: AsyncServiceBrowser | None = None
        self._tasks: set[asyncio.Task] = set()
        self._changed = asyncio.Event()

    async def start(self) -> None:
        """Begin browsing (call on the zeroconf loop)."""
        self._changed = asyncio.Event()
        self._browser = AsyncServiceBrowser(self.aiozc.zeroconf, SERVICE_TYPE,
                                            handlers=[self._on_change])

    def _on_change(self, zeroconf: Zeroconf, service_type: str, name: str,
                   state_change: ServiceStateChange) -> None:
        if state_change is ServiceStateChange.Removed:
            self.seen.pop(name, None)
            self._changed.set()
            return
        task = asyncio.ensure_future(self._resolve(name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resolve(self, name: str) -> None:
        info = AsyncServiceInfo(SERVICE_TYPE, name)
        if not await info.async_request(self.aiozc.zeroconf, 3000):
            return
        addresses = info.parsed_addresses(IPVersion.V4Only)
        if not addresses or not info.port:
            return
        self.seen[name] = SeenServer(name, _txt(info, "id"), _txt(info, "school"), _txt(info, "api"),
                                     addresses[0], info.port, _txt(info, "path") or "/api/v1",
                                     _txt(info, "fp"))
        self._changed.set()

    def current(self) -> SeenServer | None:
        """The chosen server: the configured school id (and certificate) when set, else the
        only one seen."""
        servers = list(self.seen.values())
        if self.school_id:
            servers = [s for s in servers if s.school_id == self.school_id]
        if self.fingerprint:
            servers = [s for s in servers if s.fingerprint.upper() == self.fingerprint.upper()]
        return servers[0] if len(servers) == 1 else (sorted(servers, key=lambda s: s.name)[0]
                                                     if servers else None)

    async def wait(self, timeout: float, not_url: str | None = None) -> SeenServer | None:
        """Wait until a server (other than `not_url`) is chosen, or the timeout passes."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            cur = self.current()
            if cur is not None and cur.url != not_url:
                return cur
            left = end - loop.time()
            if left <= 0:
                return None
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(left, 0.5))
            except asyncio.TimeoutError:
                # Re-ask: a server that changed port re-announces, but a lost packet is possible.
                for name in list(self.seen):
                    await self._resolve(name)

    async def close(self) -> None:
        """Stop browsing."""
        if self._browser is not None:
            await self._browser.async_cancel()
            self._browser = None
        for task in list(self._tasks):
            task.cancel()
