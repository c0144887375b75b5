"""Loan receipts as plain text and PDF: school, the reader's first name and initial, titles, due dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ReceiptLine:
    """One book on a receipt."""

    title: str
    authors: str
    due_date: dt.date | None


@dataclass(frozen=True)
class Receipt:
    """What a reader took; never more personal data than a first name and an initial."""

    school: str
    reader: str
    when: dt.datetime
    lines: list[ReceiptLine]

    def text(self, width: int = 40) -> str:
        """The receipt for a narrow printer or the screen (Russian)."""
        out = [self.school.center(width).rstrip(), "", f"Читатель: {self.reader}",
               f"Дата: {self.when:%d.%m.%Y %H:%M}", "-" * width]
        for i, line in enumerate(self.lines, 1):
            out.append(f"{i}. {line.title}")
            if line.authors:
                out.append(f"   {line.authors}")
            if line.due_date:
                out.append(f"   Вернуть до {line.due_date:%d.%m.%Y}")
        out += ["-" * width, f"Всего книг: {len(self.lines)}", "Спасибо! Приходите ещё."]
        return "\n".join(out) + "\n"

    def pdf(self, path: str | Path) -> Path:
        """Write an A6-sized PDF receipt with a Cyrillic font; returns the path."""
        from reportlab.lib.pagesizes import A6
        from reportlab.pdfgen import canvas

        from library.pdf import cyrillic_font

        path = Path(path)
        font = cyrillic_font()
        c = canvas.Canvas(str(path), pagesize=A6)
        width, height = A6
        y = height - 30
        for i, text in enumerate(self.text(48).splitlines()):
            size = 11 if i == 0 else 9
            c.setFont(font, size)
            if y < 30:
                c.showPage()
                y = height - 30
            c.drawString(18, y, text)
            y -= size + 4
        c.save()
        return path
