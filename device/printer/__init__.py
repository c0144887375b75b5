"""IPP printer: Protocol, real pyipp backend, in-memory fake, DNS-SD discovery.

Pick a backend at start-up from configuration with ``make_printer`` (never at import time):

    printer = make_printer(settings.printer)                 # IppPrinter at [printer] uri
    printer = make_printer(settings.printer, backend="fake")
    printer = await find_printer(settings.printer, aiozc)    # uri, else DNS-SD by name/first

Layout: base.py (Printer Protocol, PrinterState, Russian reason texts), ipp.py (pyipp),
fake.py, discovery.py (_ipp._tcp/_ipps._tcp browser keyed by UUID), errors.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from device.printer.base import Printer, PrinterState, reason_text
from device.printer.errors import PrinterError, PrinterNotFound, PrinterUnavailable, PrintJobFailed

if TYPE_CHECKING:  # zeroconf is imported when browsing starts
    from zeroconf.asyncio import AsyncZeroconf

    from device.printer.discovery import DiscoveredPrinter

__all__ = ["Printer", "PrintJobFailed", "PrinterError", "PrinterNotFound", "PrinterState",
           "PrinterUnavailable", "find_printer", "make_printer", "reason_text"]


class PrinterConfig(Protocol):
    """What the builders read of the configuration (config.settings.PrinterSettings)."""

    @property
    def uri(self) -> str:
        """``ipp://host:port/path``; empty to discover the printer with DNS-SD."""
        ...

    @property
    def name(self) -> str:
        """The printer to pick among those discovered (instance name, make and model or
        UUID); empty for the first that answers."""
        ...


def make_printer(settings: PrinterConfig | None = None, *, backend: str = "ipp", uri: str = "",
                 timeout: float = 10.0) -> Printer:
    """Build the configured backend: "ipp" (needs a URI) or "fake"."""
    if backend == "fake":
        from device.printer.fake import FakePrinter

        return FakePrinter(name=getattr(settings, "name", "") or "Fake Printer")
    if backend != "ipp":
        raise PrinterError(f"unknown printer backend {backend!r}: use ipp or fake")
    uri = uri or getattr(settings, "uri", "")
    if not uri:
        raise PrinterNotFound("[printer] uri is not set: use find_printer() to discover one")
    from device.printer.ipp import IppPrinter

    return IppPrinter(uri, timeout=timeout)


async def find_printer(settings: PrinterConfig, aiozc: AsyncZeroconf | None, *,
                       timeout: float = 3.0) -> Printer:
    """The configured URI, else the printer named [printer] name (or the first that answers).

    `aiozc` may be None when the settings carry a URI (nothing is discovered then).
    """
    if getattr(settings, "uri", ""):
        return make_printer(settings)
    if aiozc is None:
        raise PrinterNotFound("[printer] uri is not set and no zeroconf to discover a printer with")
    from device.printer.discovery import choose_printer
    from device.printer.ipp import IppPrinter

    async def probe(found: DiscoveredPrinter) -> None:
        await IppPrinter(found.uri, timeout=min(timeout, 3.0)).state()

    found = await choose_printer(aiozc, getattr(settings, "name", ""), timeout, probe=probe)
    return IppPrinter(found.uri)
