"""Printable reader cards: an A4 PDF of ID-1 cards (85.6 × 54 mm), ten to a page, with cut marks.

Each card carries the school name, the reader's surname and first name, the class (or the
category for staff), a Code 128 barcode of the card number with the number printed under it
(left out for a number that is not ASCII: Code 128 cannot hold Cyrillic), and a QR code of the
same number, so both the kiosk's barcode scanner and a camera can read it.
The cards abut in a 2 × 5 grid so one straight cut separates two cards; thin marks outside the
grid and small crosses at the inner corners show where to cut.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from library.pdf import cyrillic_font

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

MM = 72 / 25.4  # points per millimetre
CARD_W, CARD_H = 85.6 * MM, 54 * MM
PAGE_W, PAGE_H = 210 * MM, 297 * MM
COLS, ROWS = 2, 5
PER_PAGE = COLS * ROWS
MARGIN_X = (PAGE_W - COLS * CARD_W) / 2
MARGIN_Y = (PAGE_H - ROWS * CARD_H) / 2
PAD = 3 * MM
MARK = 4 * MM  # length of a cut mark outside the grid
CATEGORY_LABELS = {"teacher": "Учитель", "staff": "Сотрудник"}


def _get(reader: Any, name: str) -> str:
    """An attribute of a Reader row or a key of a mapping, as a stripped string."""
    value = reader.get(name) if isinstance(reader, Mapping) else getattr(reader, name, None)
    return "" if value is None else str(value).strip()


def _fit(canvas: Canvas, text: str, font: str, size: float, width: float, minimum: float = 5) -> float:
    """The largest font size <= size at which text fits into width."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    while size > minimum and stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def _cut_marks(c: Canvas) -> None:
    """Thin marks on the margins at every grid line and small crosses at inner corners."""
    c.saveState()
    c.setLineWidth(0.25)
    c.setStrokeGray(0.4)
    left, right = MARGIN_X, MARGIN_X + COLS * CARD_W
    bottom, top = MARGIN_Y, MARGIN_Y + ROWS * CARD_H
    for i in range(COLS + 1):
        x = left + i * CARD_W
        c.line(x, top + 1 * MM, x, top + 1 * MM + MARK)
        c.line(x, bottom - 1 * MM, x, bottom - 1 * MM - MARK)
    for j in range(ROWS + 1):
        y = bottom + j * CARD_H
        c.line(left - 1 * MM, y, left - 1 * MM - MARK, y)
        c.line(right + 1 * MM, y, right + 1 * MM + MARK, y)
    for i in range(1, COLS):
        for j in range(1, ROWS):
            x, y = left + i * CARD_W, bottom + j * CARD_H
            c.line(x - 1.5 * MM, y, x + 1.5 * MM, y)
            c.line(x, y - 1.5 * MM, x, y + 1.5 * MM)
    c.restoreState()


def _code128(c: Canvas, number: str, x: float, y: float, width: float, height: float) -> float:
    """A Code 128 barcode (with quiet zones) of at most `width` at (x, y); returns its width."""
    from reportlab.graphics.barcode.code128 import Code128

    probe = Code128(number, barWidth=1, barHeight=height, quiet=1, humanReadable=False)
    bar = min(0.4 * MM, width / probe.width)  # modules no wider than 0.4 mm, never overflowing
    code = Code128(number, barWidth=bar, barHeight=height, quiet=1, humanReadable=False)
    code.drawOn(c, x, y)
    return code.width


def _qr(c: Canvas, number: str, x: float, y: float, size: float) -> None:
    """A QR code of `number` in a size × size square at (x, y)."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    widget = QrCodeWidget(number, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, c, x, y)


def _card(c: Canvas, reader: Any, x: float, y: float, school_name: str, font: str) -> None:
    """One card with its lower-left corner at (x, y)."""
    inner = CARD_W - 2 * PAD
    top = y + CARD_H - PAD
    c.setFillGray(0)
    size = _fit(c, school_name, font, 8, inner)
    c.setFont(font, size)
    c.drawCentredString(x + CARD_W / 2, top - size, school_name)
    c.setFont(font, 6.5)
    c.setFillGray(0.35)
    c.drawCentredString(x + CARD_W / 2, top - size - 8, "ЧИТАТЕЛЬСКИЙ БИЛЕТ")
    c.setStrokeGray(0.6)
    c.setLineWidth(0.4)
    c.line(x + PAD, top - size - 11, x + CARD_W - PAD, top - size - 11)

    qr_size = 24 * MM
    text_w = inner - qr_size - 2 * MM
    name_top = top - size - 13
    c.setFillGray(0)
    last, first = _get(reader, "last_name"), _get(reader, "first_name")
    s1 = _fit(c, last, font, 13, text_w)
    c.setFont(font, s1)
    c.drawString(x + PAD, name_top - s1, last)
    s2 = _fit(c, first, font, 11, text_w)
    c.setFont(font, s2)
    c.drawString(x + PAD, name_top - s1 - s2 - 2, first)
    klass = _get(reader, "class_name")
    label = f"Класс: {klass}" if klass else CATEGORY_LABELS.get(_get(reader, "category"), "")
    if label:
        c.setFont(font, 9)
        c.drawString(x + PAD, name_top - s1 - s2 - 15, label)

    number = _get(reader, "card_number")
    qr_y = y + PAD
    _qr(c, number, x + CARD_W - PAD - qr_size, qr_y, qr_size)
    bar_h = 10 * MM
    # Code 128 holds ASCII only (reportlab silently drops other characters, which would scan as
    # someone else's card): a number with Cyrillic letters gets the QR code alone.
    ascii_ok = number.isascii() and number.isprintable()
    bar_w = _code128(c, number, x + PAD, y + PAD + 9, text_w, bar_h) if ascii_ok else text_w / 2
    c.setFont(font, 8 if ascii_ok else 11)
    c.drawCentredString(x + PAD + bar_w / 2, y + PAD + 1, number)


def render_cards(readers: Iterable[Any], path: str | Path, *, school_name: str) -> int:
    """Write reader cards (Reader rows or mappings) to an A4 PDF at path; returns the page count."""
    from reportlab.pdfgen.canvas import Canvas

    readers = list(readers)
    if not readers:
        raise ValueError("no readers to print")
    font = cyrillic_font()
    c = Canvas(str(path), pagesize=(PAGE_W, PAGE_H))
    c.setTitle("Читательские билеты")
    c.setAuthor(school_name)
    pages = 0
    for start in range(0, len(readers), PER_PAGE):
        pages += 1
        _cut_marks(c)
        for k, reader in enumerate(readers[start:start + PER_PAGE]):
            col, row = k % COLS, k // COLS
            x = MARGIN_X + col * CARD_W
            y = MARGIN_Y + (ROWS - 1 - row) * CARD_H
            _card(c, reader, x, y, school_name, font)
        c.showPage()
    c.save()
    return pages
