"""PJLink class 2 over UDP: search for projectors (SRCH/ACKN) and listen for status notifications.

The spec uses UDP 4352 both ways: the controller broadcasts ``%2SRCH`` to port 4352 and
projectors answer ``%2ACKN=<MAC>``; projectors send ``%2LKUP``/``%2POWR``/``%2INPT``/``%2ERST``
to the controller's port 4352. Projectors are identified by MAC, not by address (convention 6).
Addresses and ports are parameters so tests run on 127.0.0.1 with unprivileged ports.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from device.projector.errors import ProjectorConnectionError, ProjectorError, ProjectorTimeout
from device.projector.protocol import (
    DEFAULT_PORT,
    encode_search,
    normalize_mac,
    parse_ackn,
    parse_notification,
)
from device.projector.values import parse_errors, parse_input, parse_power

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DiscoveredProjector:
    """A projector that answered SRCH: its MAC (stable id) and IP address."""

    mac: str
    address: str


class _Collector(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.found: dict[str, DiscoveredProjector] = {}

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            mac = parse_ackn(data)
        except ProjectorError:
            return  # our own broadcast echoed back, or noise from other devices
        self.found.setdefault(mac, DiscoveredProjector(mac, addr[0]))


async def discover(timeout: float = 2.0, address: str = "255.255.255.255",
                   port: int = DEFAULT_PORT, bind: tuple[str, int] = ("0.0.0.0", 0),
                   ) -> list[DiscoveredProjector]:
    """Send ``%2SRCH`` to ``address:port`` and collect ACKN replies for ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    try:
        transport, collector = await loop.create_datagram_endpoint(
            _Collector, local_addr=bind, family=socket.AF_INET, allow_broadcast=True)
    except OSError as exc:
        raise ProjectorConnectionError(f"cannot open UDP {bind[0]}:{bind[1]}: {exc}") from exc
    try:
        try:
            transport.sendto(encode_search(), (address, port))
        except OSError as exc:
            raise ProjectorConnectionError(f"cannot send SRCH to {address}:{port}: {exc}") from exc
        await asyncio.sleep(timeout)
        return sorted(collector.found.values(), key=lambda p: p.mac)
    finally:
        transport.close()


@dataclass(frozen=True)
class ProjectorEvent:
    """A parsed notification: kind is "link_up", "power", "input" or "errors"."""

    address: str
    kind: str
    value: Any


_KINDS = {
    "LKUP": ("link_up", normalize_mac),
    "POWR": ("power", parse_power),
    "INPT": ("input", parse_input),
    "ERST": ("errors", parse_errors),
}


def parse_event(data: bytes, address: str) -> ProjectorEvent:
    """Turn a notification datagram into an event (ProjectorProtocolError if it is not one)."""
    note = parse_notification(data)
    kind, parse = _KINDS[note.command]
    return ProjectorEvent(address, kind, parse(note.value))


class _Listener(asyncio.DatagramProtocol):
    def __init__(self, owner: NotificationListener) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            event = parse_event(data, addr[0])
        except ProjectorError:
            self.owner.ignored += 1
            return
        self.owner._deliver(event)


class NotificationListener:
    """Receives class 2 notifications on UDP ``host:port``: ``async with`` it, then ``get()``."""

    def __init__(self, host: str = "0.0.0.0", port: int = DEFAULT_PORT,
                 callback: Callable[[ProjectorEvent], object] | None = None) -> None:
        self.host = host
        self.port = port
        self.callback = callback
        self.ignored = 0
        self._queue: asyncio.Queue[ProjectorEvent] = asyncio.Queue()
        self._transport: asyncio.DatagramTransport | None = None

    async def __aenter__(self) -> NotificationListener:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        self.close()

    async def start(self) -> None:
        """Bind the UDP socket; ``port`` is updated when 0 was asked for."""
        loop = asyncio.get_running_loop()
        try:
            self._transport, _ = await loop.create_datagram_endpoint(
                lambda: _Listener(self), local_addr=(self.host, self.port), family=socket.AF_INET)
        except OSError as exc:
            raise ProjectorConnectionError(
                f"cannot listen on UDP {self.host}:{self.port}: {exc}") from exc
        self.port = self._transport.get_extra_info("sockname")[1]

    def close(self) -> None:
        """Stop listening."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def _deliver(self, event: ProjectorEvent) -> None:
        self._queue.put_nowait(event)
        if self.callback is not None:
            try:
                self.callback(event)
            except Exception:  # a bad callback must not kill the listener
                log.exception("projector notification callback failed")

    async def get(self, timeout: float | None = None) -> ProjectorEvent:
        """Next event; raises ProjectorTimeout after ``timeout`` seconds."""
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError as exc:
            raise ProjectorTimeout(f"no projector notification within {timeout} s") from exc
