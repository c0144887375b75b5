"""The class's textbook issue list as a PDF «Ведомость выдачи учебников» (A4 landscape): №,
pupil, each title's barcode and inventory number, a signatures column; the class teacher's copy
carries «Для классного руководителя». Russian, like the other files the school hands on
(library/textbooks/provision_report.py); the data are library/textbooks/issue.py's ClassSheet.
"""

from __future__ import annotations

import io

from library.pdf import cyrillic_font, font_path
from library.textbooks.issue import ClassSheet

TITLE = "Ведомость выдачи учебников"
TEACHER = "Для классного руководителя"


def _esc(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _bold(font: str) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    bold = font + "-Bold"
    if bold in pdfmetrics.getRegisteredFontNames():
        return bold
    path = font_path().with_name("DejaVuSans-Bold.ttf")
    if not path.is_file():
        return font
    pdfmetrics.registerFont(TTFont(bold, str(path)))
    return bold


def issue_list_pdf(sheet: ClassSheet, *, school: str, teacher: bool = False) -> bytes:
    """The PDF of the class's issue list (`teacher`: the class teacher's copy)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
    from reportlab.platypus import Table as RLTable

    font = cyrillic_font()
    bold = _bold(font)
    st = {
        "school": ParagraphStyle("s", fontName=bold, fontSize=10, leading=13),
        "title": ParagraphStyle("t", fontName=bold, fontSize=15, leading=19, spaceAfter=4),
        "teacher": ParagraphStyle("te", fontName=bold, fontSize=12, leading=15, spaceAfter=6),
        "cell": ParagraphStyle("c", fontName=font, fontSize=8.5, leading=10.5),
        "head": ParagraphStyle("h", fontName=bold, fontSize=8.5, leading=10.5),
        "foot": ParagraphStyle("f", fontName=font, fontSize=10, leading=14, spaceBefore=8),
    }
    pagesize = landscape(A4)
    width = pagesize[0] - 24 * mm
    year = f"{sheet.year}/{sheet.year + 1}"
    title = f"{TITLE}: {sheet.class_name} класс, {year}"
    story: list = [Paragraph(_esc(school), st["school"]), Paragraph(_esc(title), st["title"])]
    if teacher:
        story.append(Paragraph(TEACHER, st["teacher"]))
    head = ["№", "Ученик", *[t.title for t in sheet.titles], "Подпись"]
    rows = [[Paragraph(_esc(h), st["head"]) for h in head]]
    for n, p in enumerate(sheet.pupils, 1):
        cells: list = [str(n), Paragraph(_esc(p.name), st["cell"])]
        for t in sheet.titles:
            h = sheet.held.get((p.reader_id, t.record_id))
            if h is None:
                cells.append("—")
            else:
                inv = f"<br/>инв. {_esc(h.inventory)}" if h.inventory and h.inventory != h.barcode else ""
                cells.append(Paragraph(_esc(h.barcode or h.inventory) + inv, st["cell"]))
        cells.append("")
        rows.append(cells)
    num, name, sign = 9 * mm, 48 * mm, 32 * mm
    each = (width - num - name - sign) / max(1, len(sheet.titles))
    table = RLTable(rows, colWidths=[num, name, *[each] * len(sheet.titles), sign], repeatRows=1)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), font, 8.5),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dce6f1")),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#606060")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 1), (-1, -1), 5), ("BOTTOMPADDING", (0, 1), (-1, -1), 5),
    ]))
    story += [table, Spacer(1, 3 * mm)]
    foot = "Вернуть до конца учебного года. Библиотекарь: ____________"
    if teacher:
        foot += "   Классный руководитель: ____________"
    story.append(Paragraph(foot, st["foot"]))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=pagesize, leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=12 * mm, title=title, author=school)
    doc.build(story)
    return buf.getvalue()
