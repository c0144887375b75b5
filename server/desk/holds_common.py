"""Holds (issue 19, docs/HOLDS.md) as the desk shows them on several pages: the librarian's
words for a hold refusal, a hold's state in words, the transaction ids of the hold forms and
the hold slip (a PDF for the network printer).

Not a section: the circulation page, the catalogue's record page and the holds page
(server/desk/holds_pages.py) all use it. The rules live in library/circulation/holds.py; this
module only says them.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path

from library.circulation import errors as E
from library.circulation.values import HoldView, QueueEntry
from library.i18n import translator
from server.desk import i18n
from server.desk.i18n import N_, _
from server.desk.web import local_date

MAX_CARD = 64
MAX_REASON = 200
# The librarian's words for each hold refusal (the kiosk's texts speak to the reader).
REFUSALS = {
    "holds_off": N_("Holds are switched off in this library (the [holds] settings)"),
    "reader_not_found": N_("Card %(card)s is not registered or not valid"),
    "reader_blocked": N_("The reader is blocked"),
    "hold_limit": N_("The reader already has %(count)s holds: that is the limit"),
    "already_queued": N_("The reader is already in the queue for this book"),
    "already_have_it": N_("The reader already has this book"),
    "no_loanable_copy": N_("No copy of this book can be lent to this reader: there is nothing to wait for"),
    "record_not_found": N_("No such record in the catalogue"),
    "hold_on_shelf": N_("A copy is on the shelf: give the reader that copy, no hold is needed"),
    "hold_not_found": N_("No such hold"),
    "not_your_hold": N_("This hold is another reader's"),
    "hold_closed": N_("This hold is already closed"),
    "txn_mismatch": N_("The form is out of date: do it again"),
}
STATES = {"queued": N_("in the queue"), "waiting": N_("waiting on the hold shelf"),
          "fulfilled": N_("lent"), "expired": N_("not picked up"), "cancelled": N_("cancelled")}
SHELF_DEFAULT = N_("the hold shelf at the librarian's desk")


def clean(value: str | None, limit: int) -> str:
    """A typed or scanned value: control characters dropped, trimmed, cut to `limit`."""
    return "".join(c for c in (value or "") if c.isprintable()).strip()[:limit]


def new_txn() -> str:
    """The transaction id of one hold form (≤ 64 characters): a repeat of the form is a replay."""
    return "desk-hold-" + secrets.token_hex(16)


def txn_ok(txn: str) -> bool:
    return 0 < len(txn) <= 64 and txn.isprintable() and not any(c.isspace() for c in txn)


def refusal_text(error: E.CirculationError) -> str:
    """A hold refusal in the librarian's words (the request's language)."""
    template = REFUSALS.get(error.code)
    if template is None:
        return error.message(translator(i18n.language()))
    try:
        return _(template) % dict(error.params)
    except (KeyError, TypeError, ValueError):
        return _(template)


def state_text(hold: HoldView | QueueEntry) -> str:
    """«в очереди: 2-й» / «ждёт на полке заказов до 12.12.2026» / the state's word."""
    if hold.state == "queued" and hold.position:
        return _("in the queue: no. %(n)s") % {"n": hold.position}
    if hold.state == "waiting" and hold.pickup_until:
        return _("waiting on the hold shelf until %(date)s") % {"date": local_date(hold.pickup_until)}
    return _(STATES[hold.state]) if hold.state in STATES else hold.state


@dataclass(frozen=True)
class Slip:
    """A hold slip: put into the book on the hold shelf (the reader's short name only)."""

    school: str
    reader: str
    title: str
    barcode: str
    until: dt.date | None
    when: dt.datetime

    def lines(self) -> list[str]:
        """The slip's text lines in the request's language."""
        out = [self.school, "", _("HOLD"), _("For: %(who)s") % {"who": self.reader}, "",
               self.title, _("Barcode: %(code)s") % {"code": self.barcode}]
        if self.until:
            out.append(_("Waits until %(date)s") % {"date": local_date(self.until)})
        out.append(_("Printed: %(date)s") % {"date": self.when.strftime("%d.%m.%Y %H:%M")})
        return out

    def pdf(self, path: Path) -> Path:
        """An A6 PDF with a Cyrillic font (the receipt's printer path prints it)."""
        import textwrap

        from reportlab.lib.pagesizes import A6
        from reportlab.pdfgen import canvas

        from library.pdf import cyrillic_font

        font = cyrillic_font()
        c = canvas.Canvas(str(path), pagesize=A6)
        _width, height = A6
        y = height - 30
        for i, text in enumerate(self.lines()):
            size = 16 if i in (2, 3) else 10
            for part in textwrap.wrap(text, 44 if size == 10 else 28) or [""]:
                if y < 30:
                    c.showPage()
                    y = height - 30
                c.setFont(font, size)
                c.drawString(18, y, part)
                y -= size + 5
        c.save()
        return path


PRINT_TIMEOUT_S = 8.0


async def print_slip(printer_settings: object, slip: Slip) -> tuple[bool, str]:
    """The slip's PDF to the configured IPP printer (device.printer, a short timeout), as the
    circulation page prints its receipt: (sent, the words to show)."""
    import asyncio
    import tempfile

    from fastapi.concurrency import run_in_threadpool

    from device.printer import PrinterError, make_printer

    def pdf() -> bytes:
        with tempfile.TemporaryDirectory(prefix="ibc-desk-slip-") as tmp:
            return slip.pdf(Path(tmp) / "slip.pdf").read_bytes()

    try:
        data = await run_in_threadpool(pdf)
        printer = make_printer(printer_settings, timeout=PRINT_TIMEOUT_S)  # type: ignore[arg-type]
        await asyncio.wait_for(printer.print_pdf(data, "ibc-desk-hold-slip"), PRINT_TIMEOUT_S + 1)
    except (TimeoutError, asyncio.TimeoutError):
        return False, _("The printer did not answer in time: the slip was not printed. "
                        "Check that it is switched on")
    except (PrinterError, OSError):
        return False, _("The printer cannot be reached: the slip was not printed. "
                        "Check that it is switched on")
    return True, _("The slip was sent to the printer")
