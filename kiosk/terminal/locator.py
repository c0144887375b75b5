"""The school server's URL for a terminal that was not given one: found by zeroconf
(`_ibc._tcp`, `device.discovery.ServerLocator`) and followed when it moves. The browser runs on
the kiosk bridge's event loop (`kiosk.bridge`), like every other piece of async work."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zeroconf.asyncio import AsyncZeroconf

    from device.discovery import ServerLocator
    from kiosk.bridge import Bridge

log = logging.getLogger("ibc.kiosk")


class ZeroconfUrl:
    """The server URL from zeroconf (`_ibc._tcp`), followed when it moves.

    Browsing starts on the bridge's loop without waiting: until the first answer the URL is
    None (the connection monitor retries every second at start-up)."""

    def __init__(self, bridge: Bridge, school_id: str | None = None,
                 interfaces: list[str] | None = None, fingerprint: str | None = None) -> None:
        self.bridge = bridge
        self.locator: ServerLocator | None = None
        self._aiozc: AsyncZeroconf | None = None
        self._started = bridge.submit(self._start(school_id, interfaces, fingerprint))

    async def _start(self, school_id: str | None, interfaces: list[str] | None,
                     fingerprint: str | None) -> None:
        from device.discovery import ServerLocator, make_zeroconf

        self._aiozc = make_zeroconf(interfaces)
        # Enrolled over TLS: only the server announcing the pinned certificate is followed.
        locator = ServerLocator(self._aiozc, school_id=school_id, fingerprint=fingerprint)
        await locator.start()
        self.locator = locator

    def __call__(self) -> str | None:
        seen = self.locator.current() if self.locator is not None else None
        return seen.url if seen else None

    def close(self, timeout: float = 5.0) -> None:
        """Stop browsing (before the bridge closes)."""

        async def _close() -> None:
            if self.locator is not None:
                await self.locator.close()
            if self._aiozc is not None:
                await self._aiozc.async_close()

        try:
            self._started.result(timeout)
        except Exception as exc:  # noqa: BLE001 - a locator that never started has nothing to close
            log.warning("the server locator did not start: %r", exc)
        try:
            self.bridge.submit(_close()).result(timeout)
        except Exception as exc:  # noqa: BLE001 - closing on exit: say it, do not stop the exit
            log.warning("the server locator did not close cleanly: %r", exc)
