"""The receipt printer port over `device.printer` (IPP): the receipt's PDF is sent as one job.

Printing runs on the UI thread when the reader taps «Печатать чек» (an IPP job is a single
short request, bounded by the printer timeout); any printer error means "not printed" and the
screen says so («Чек не напечатан: принтер недоступен»).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from library.circulation.receipts import Receipt

if TYPE_CHECKING:  # device.printer is imported when a printer is configured
    from device.printer import Printer

log = logging.getLogger("ibc.kiosk")


class DevicePrinter:
    """`ReceiptPrinter` over a `device.printer.Printer` (IPP backend or its fake)."""

    available = True  # configured; a failed job is told on the done page

    def __init__(self, printer: Printer) -> None:
        self.printer = printer
        self.jobs: list[int] = []

    def print_receipt(self, receipt: Receipt) -> bool:
        """Render the PDF and send it; False on any printer failure."""
        from device.printer import PrinterError

        with tempfile.TemporaryDirectory(prefix="ibc-receipt-") as tmp:
            data = receipt.pdf(Path(tmp) / "receipt.pdf").read_bytes()
        try:
            self.jobs.append(asyncio.run(self.printer.print_pdf(data, "ibc-receipt")))
        except (PrinterError, OSError) as exc:
            log.warning("receipt not printed: %s", exc)
            return False
        return True


def make_receipt_printer(settings):  # noqa: ANN001, ANN201 - config PrinterSettings
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
