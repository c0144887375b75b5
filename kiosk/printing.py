"""The receipt printer port over `device.printer` (IPP): the receipt's PDF is sent as one job.

When the reader taps «Печатать чек» the checkout screen awaits `print_receipt` on the kiosk
bridge's loop (`kiosk.bridge`): the PDF is drawn in the loop's executor, the IPP job is sent
asynchronously; the UI thread never waits. Any printer error means "not printed" and the screen
says so («Чек не напечатан: принтер недоступен»).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from library.circulation.receipts import Receipt

if TYPE_CHECKING:  # device.printer is imported when a printer is configured
    from config.settings import PrinterSettings
    from device.printer import Printer
    from kiosk.services import ReceiptPrinter

log = logging.getLogger("ibc.kiosk")


class DevicePrinter:
    """`ReceiptPrinter` over a `device.printer.Printer` (IPP backend or its fake)."""

    available = True  # configured; a failed job is told on the done page

    def __init__(self, printer: Printer) -> None:
        self.printer = printer
        self.jobs: list[int] = []

    async def print_receipt(self, receipt: Receipt) -> bool:
        """Render the PDF and send it; False on any printer failure."""
        from device.printer import PrinterError

        def render() -> bytes:
            with tempfile.TemporaryDirectory(prefix="ibc-receipt-") as tmp:
                return receipt.pdf(Path(tmp) / "receipt.pdf").read_bytes()

        data = await asyncio.get_running_loop().run_in_executor(None, render)
        try:
            self.jobs.append(await self.printer.print_pdf(data, "ibc-receipt"))
        except (PrinterError, OSError) as exc:
            log.warning("receipt not printed: %s", exc)
            return False
        return True


def make_receipt_printer(settings: PrinterSettings) -> ReceiptPrinter:
    """The configured printer, or `NoPrinter` when none is set up (printing then says so)."""
    from kiosk.services import NoPrinter

    if not settings.enabled or not settings.uri:
        return NoPrinter()
    try:
        from device.printer import make_printer

        return DevicePrinter(make_printer(settings))
    except Exception:  # noqa: BLE001 - a broken printer must not stop the kiosk
        log.warning("receipt printer unavailable", exc_info=True)
        return NoPrinter()
