"""The receipt printer port over `device.printer` (IPP): the receipt's PDF is sent as one job.

When the reader taps «Печатать чек» the checkout screen awaits `print_receipt` on the kiosk
bridge's loop (`kiosk.bridge`): the PDF is drawn in the loop's executor, the IPP job is sent
asynchronously; the UI thread never waits. Any printer error means "not printed" and the screen
says so («Чек не напечатан: принтер недоступен»).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # device.printer is imported when a printer is configured
    from config.settings import PrinterSettings
    from device.printer import Printer
    from kiosk.services import Printable, ReceiptPrinter

log = logging.getLogger("ibc.kiosk")


@dataclass(frozen=True)
class HoldSlip:
    """The slip put in a returned book that waits on the hold shelf (issue 19): the title, the
    copy's barcode, «для: Анна К., 5А» (the short name only, never the surname) and the last
    day. Printed on the MFP by the return screen when a printer is configured."""

    school: str
    title: str
    barcode: str
    reader: str
    until: dt.date | None
    on: dt.date

    def text(self, width: int = 40) -> str:
        """The slip in Russian (the librarian's shelf speaks Russian whatever the screen)."""
        out = [self.school.center(width).rstrip(), "", "ПОЛКА ЗАКАЗОВ", "-" * width,
               self.title, f"Штрихкод: {self.barcode}", f"Для: {self.reader}"]
        if self.until is not None:
            out.append(f"Ждёт до: {self.until:%d.%m.%Y}")
        out += ["-" * width, f"Отложено {self.on:%d.%m.%Y}"]
        return "\n".join(out) + "\n"

    def pdf(self, path: str | Path) -> Path:
        """An A6 PDF with a Cyrillic font, the reader's name large; returns the path."""
        from reportlab.lib.pagesizes import A6
        from reportlab.pdfgen import canvas

        from library.pdf import cyrillic_font

        path = Path(path)
        font = cyrillic_font()
        c = canvas.Canvas(str(path), pagesize=A6)
        _width, height = A6
        y = height - 30
        for text in self.text(40).splitlines():
            size = 14 if text.startswith(("ПОЛКА", "Для:")) else 9
            c.setFont(font, size)
            for part in _wrap(text, 48 if size == 9 else 30):
                c.drawString(18, y, part)
                y -= size + 4
        c.save()
        return path


def _wrap(text: str, width: int) -> list[str]:
    """Break a long line (a title) at spaces."""
    import textwrap

    return textwrap.wrap(text, width) or [""]


class DevicePrinter:
    """`ReceiptPrinter` over a `device.printer.Printer` (IPP backend or its fake)."""

    available = True  # configured; a failed job is told on the done page

    def __init__(self, printer: Printer) -> None:
        self.printer = printer
        self.jobs: list[int] = []

    async def print_receipt(self, receipt: Printable) -> bool:
        """Render the PDF (a receipt or a hold slip) and send it; False on any printer failure."""
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
