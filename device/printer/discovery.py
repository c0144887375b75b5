"""Find IPP printers with DNS-SD (``_ipp._tcp`` and ``_ipps._tcp``) over an injected AsyncZeroconf.

Printers are keyed by the TXT ``UUID`` (IPP Everywhere requires it), not by address: a printer
that gets a new DHCP lease or advertises both ipp and ipps stays one entry. The TXT keys used
are ``ty`` (make and model), ``rp`` (resource path, e.g. ``ipp/print``), ``UUID`` and ``pdl``
(document formats). The AsyncZeroconf belongs to the caller (one per process).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from device.printer.errors import PrinterNotFound

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # zeroconf is imported when browsing starts
    from zeroconf import ServiceInfo, ServiceStateChange, Zeroconf
    from zeroconf.asyncio import AsyncServiceBrowser, AsyncZeroconf

SERVICE_TYPES = ("_ipp._tcp.local.", "_ipps._tcp.local.")


@dataclass(frozen=True)
class DiscoveredPrinter:
    """One printer seen on the network."""

    uuid: str
    name: str
    host: str
    port: int
    resource: str = "ipp/print"
    secure: bool = False
    make_and_model: str = ""
    pdl: tuple[str, ...] = ()
    service: str = ""
    txt: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def uri(self) -> str:
        """ipp(s)://host:port/rp."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'ipps' if self.secure else 'ipp'}://{host}:{self.port}/{self.resource}"

    @property
    def accepts_pdf(self) -> bool:
        """The TXT pdl lists application/pdf (or does not say)."""
        return not self.pdl or "application/pdf" in self.pdl

    def to_dict(self) -> dict:
        """JSON-friendly form."""
        return {"uuid": self.uuid, "name": self.name, "uri": self.uri,
                "make_and_model": self.make_and_model, "pdl": list(self.pdl)}


def _decode_txt(properties: dict) -> dict[str, str]:
    out = {}
    for key, value in properties.items():
        k = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
        v = value.decode("utf-8", "replace") if isinstance(value, bytes) else (value or "")
        out[k] = v
    return out


def printer_from_info(info: ServiceInfo, service_type: str) -> DiscoveredPrinter | None:
    """Build a DiscoveredPrinter from a resolved zeroconf ServiceInfo (None if unusable)."""
    addresses = info.parsed_addresses()
    if not addresses or not info.port:
        return None
    txt = _decode_txt(info.properties or {})
    lower = {k.lower(): v for k, v in txt.items()}
    instance = info.name[: -len(service_type) - 1] if info.name.endswith(service_type) else info.name
    uuid = lower.get("uuid", "").removeprefix("urn:uuid:").lower() or f"name:{instance}"
    ipv4 = [a for a in addresses if ":" not in a]
    return DiscoveredPrinter(
        uuid=uuid, name=instance, host=(ipv4 or addresses)[0], port=info.port,
        resource=lower.get("rp", "ipp/print").lstrip("/"),
        secure=service_type.startswith("_ipps."),
        make_and_model=lower.get("ty", ""),
        pdl=tuple(p for p in lower.get("pdl", "").split(",") if p),
        service=info.name, txt=txt)


class PrinterBrowser:
    """Keeps ``printers`` (uuid -> DiscoveredPrinter) up to date while started."""

    def __init__(self, aiozc: AsyncZeroconf, *, on_change: Callable[[], None] | None = None,
                 resolve_timeout: float = 3.0) -> None:
        self.aiozc = aiozc
        self.printers: dict[str, DiscoveredPrinter] = {}
        self._by_service: dict[str, str] = {}
        self._browser: AsyncServiceBrowser | None = None
        self._tasks: set[asyncio.Task] = set()
        self._on_change = on_change
        self._resolve_ms = int(resolve_timeout * 1000)
        self.changed = asyncio.Event()

    async def start(self) -> None:
        """Start browsing both service types."""
        from zeroconf.asyncio import AsyncServiceBrowser

        self._browser = AsyncServiceBrowser(self.aiozc.zeroconf, list(SERVICE_TYPES),
                                            handlers=[self._handle])

    async def close(self) -> None:
        """Stop browsing and cancel pending resolutions."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._browser is not None:
            await self._browser.async_cancel()
            self._browser = None

    async def __aenter__(self) -> PrinterBrowser:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    def _handle(self, zeroconf: Zeroconf, service_type: str, name: str,
                state_change: ServiceStateChange) -> None:
        from zeroconf import ServiceStateChange

        if state_change is ServiceStateChange.Removed:
            uuid = self._by_service.pop(name, None)
            if uuid and uuid not in self._by_service.values():
                self.printers.pop(uuid, None)
                self._notify()
            return
        task = asyncio.ensure_future(self._resolve(service_type, name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resolve(self, service_type: str, name: str) -> None:
        from zeroconf.asyncio import AsyncServiceInfo

        info = AsyncServiceInfo(service_type, name)
        if not await info.async_request(self.aiozc.zeroconf, self._resolve_ms):
            return
        printer = printer_from_info(info, service_type)
        if printer is None:
            return
        known = self.printers.get(printer.uuid)
        # Prefer plain ipp over ipps for the same device: pyipp verifies TLS and printers
        # ship self-signed certificates.
        if known is not None and not known.secure and printer.secure:
            self._by_service[name] = printer.uuid
            return
        self._by_service[name] = printer.uuid
        self.printers[printer.uuid] = printer
        self._notify()

    def _notify(self) -> None:
        self.changed.set()
        if self._on_change is not None:
            self._on_change()


def _matches(printer: DiscoveredPrinter, name: str) -> bool:
    wanted = name.casefold()
    return wanted in (printer.name.casefold(), printer.make_and_model.casefold(),
                      printer.uuid.casefold())


async def discover_printers(aiozc: AsyncZeroconf, timeout: float = 3.0) -> list[DiscoveredPrinter]:
    """Browse for ``timeout`` seconds; every printer found, by name."""
    async with PrinterBrowser(aiozc) as browser:
        await asyncio.sleep(timeout)
        return sorted(browser.printers.values(), key=lambda p: p.name.casefold())


async def choose_printer(aiozc: AsyncZeroconf, name: str = "", timeout: float = 3.0,
                         probe: Callable[[DiscoveredPrinter], Awaitable[object]] | None = None,
                         ) -> DiscoveredPrinter:
    """The printer called ``name`` (instance name, ty or UUID), or the first that answers.

    ``probe`` is an async callable taking a DiscoveredPrinter that raises if it does not answer
    (the CLI passes an IPP Get-Printer-Attributes); without it the first one resolved wins.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    tried: set[str] = set()
    async with PrinterBrowser(aiozc) as browser:
        while True:
            for printer in list(browser.printers.values()):
                if printer.uuid in tried or (name and not _matches(printer, name)):
                    continue
                tried.add(printer.uuid)
                if probe is None:
                    return printer
                try:
                    await probe(printer)
                except Exception as exc:  # noqa: BLE001  (try the next printer)
                    log.info("printer %s did not answer the probe (%r): trying the next", printer.uuid, exc)
                    continue
                return printer
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            browser.changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(browser.changed.wait(), remaining)
    if name:
        raise PrinterNotFound(f"no printer named {name!r} answered within {timeout:g} s")
    raise PrinterNotFound(f"no IPP printer answered within {timeout:g} s")
