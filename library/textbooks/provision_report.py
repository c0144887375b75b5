"""The textbook-provision report «Обеспеченность учебниками» (PDF, XLSX, CSV) and the order list.

The files are Russian, like the other reports (the school hands them on as they are); the
figures come from library/textbooks/provision.py and the definitions it uses are written out at
the top of the report. Percentages are whole per cent rounded down and capped at 100 in the
«%» column; the exact pupils and copies stand beside them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

from library.pdf import cyrillic_font, font_path
from library.reports.tables import csv_safe, xlsx_text_cells
from library.textbooks.provision import OrderLine, Provision, Total

TITLE = "Обеспеченность учебниками"
ORDER_TITLE = "Заказ учебников"
FORMATS = ("pdf", "xlsx", "csv")
DEFINITIONS = [
    "Обеспеченность = годные экземпляры ÷ ученики × 100 % по каждому классу и предмету "
    "(округляется вниз до целого процента; больше 100 % не показывается, точные числа — рядом).",
    "Ученики — активные читатели категории «ученик» с классом вида «5А»; ученики, выбывшие из "
    "школы, не считаются.",
    "Учебники класса — его комплекты на учебный год, если они заданы; иначе все учебники, "
    "параллели которых включают параллель класса. Учебники одного предмета взаимозаменяемы.",
    "Годный экземпляр — любой, кроме утерянных и списанных: выданные, в ремонте, заказанные "
    "и в обработке считаются.",
    "Экземпляры одной группы учебников делятся между классами: сначала классу — те, что на руках "
    "у его учеников; остальные — по порядку (5А, затем 5Б), каждому сколько не хватает, остаток — "
    "последнему; экземпляр не считается дважды.",
    "По параллели, школе и сводному каталогу: обеспечено ÷ нужно × 100 %, где нужно — сумма "
    "учеников по всем классам и предметам, обеспечено — сумма меньшего из (ученики, экземпляры).",
    "Следующий год: классы переходят в следующую параллель (5А → 6А), выпускники уходят, "
    "первые классы — по заданному числу учеников, иначе как в этом году. Заказ — недостающие "
    "экземпляры на следующий год.",
]


def year_title(year: int) -> str:
    """2026 → «2026/27 учебный год»."""
    return f"{year}/{(year + 1) % 100:02d} учебный год"


def shown_percent(value: int | None) -> str:
    """A percentage for the files: «—» for no pupils, at most «100 %»."""
    return "—" if value is None else f"{min(100, value)} %"


@dataclass
class Sheet:
    """A titled table of the report."""

    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    note: str = ""


def _total_row(label: list, t: Total) -> list:
    return [*label, t.needed, t.provided, t.shortfall, shown_percent(t.percent)]


TOTAL_HEAD = ["Нужно (ученик × предмет)", "Обеспечено", "Недостаёт", "Обеспеченность"]


def provision_sheets(prov: Provision, nxt: Provision, order: list[OrderLine]) -> list[Sheet]:
    """The report's tables, in order."""
    schools = Sheet("Итого по школам и сводному каталогу", ["Школа (сигла)", *TOTAL_HEAD])
    for sigla, t in prov.by_school().items():
        schools.rows.append(_total_row([sigla], t))
    schools.rows.append(_total_row(["Сводный каталог"], prov.total()))
    grades = Sheet("По параллелям", ["Школа", "Параллель", *TOTAL_HEAD])
    for (sigla, grade), t in prov.by_grade().items():
        grades.rows.append(_total_row([sigla, grade], t))
    classes = Sheet("По классам и предметам",
                    ["Школа", "Класс", "Предмет", "Учеников", "Годных экз.", "Недостаёт", "Обеспеченность"])
    for n in prov.needs:
        classes.rows.append([n.sigla, n.class_name, n.subject, n.pupils, n.copies, n.shortfall,
                             shown_percent(n.percent)])
    if prov.no_textbooks:
        classes.note = ("Классы без известных учебников: "
                        + ", ".join(f"{c} ({s})" for s, c in prov.no_textbooks))
    needs = Sheet(f"Потребность на {year_title(nxt.year)}",
                  ["Школа", "Параллель", "Предмет", "Учеников", "Годных экз.", "Недостаёт"])
    for (sigla, grade, subject), t in nxt.by_subject_grade().items():
        needs.rows.append([sigla, grade, subject, t.needed, t.copies, t.shortfall])
    first = ("первые классы — как в этом году" if nxt.first_grade is None
             else f"первых классов — {nxt.first_grade} учеников")
    needs.note = f"Классы переходят в следующую параллель; {first}."
    return [schools, grades, classes, needs, order_sheet(order, nxt.year)]


def order_sheet(order: list[OrderLine], year: int) -> Sheet:
    """The order list as a table."""
    sheet = Sheet(f"{ORDER_TITLE} на {year_title(year)}",
                  ["Школа", "Предмет", "Параллели", "Учебник", "Авторы", "№ ФПУ", "Купить экз.", "Классы"])
    for x in order:
        sheet.rows.append([x.sigla, x.subject, x.grades, x.title or "(учебник не указан)", x.authors,
                           x.fpu_number, x.copies, ", ".join(x.classes)])
    sheet.note = f"Всего купить: {sum(x.copies for x in order)} экз."
    return sheet


def _head(school: str, year: int, day: dt.date) -> list[str]:
    return [school, f"{year_title(year)}; на {day:%d.%m.%Y}"]


# --- files ------------------------------------------------------------------------------------
def render(sheets: list[Sheet], fmt: str, *, title: str, school: str, year: int, day: dt.date,
           definitions: list[str] | None = None) -> bytes:
    """The tables as a PDF, XLSX or CSV file's bytes."""
    if fmt == "pdf":
        return _pdf(sheets, title, _head(school, year, day), definitions or [])
    if fmt == "xlsx":
        return _xlsx(sheets, title, _head(school, year, day), definitions or [])
    if fmt == "csv":
        return _csv(sheets, title, _head(school, year, day))
    raise ValueError(f"format {fmt!r}: pdf, xlsx or csv")


def provision_file(prov: Provision, nxt: Provision, order: list[OrderLine], fmt: str, *,
                   school: str, day: dt.date) -> bytes:
    """The whole report «Обеспеченность учебниками»."""
    return render(provision_sheets(prov, nxt, order), fmt, title=TITLE, school=school, year=prov.year,
                  day=day, definitions=DEFINITIONS)


def order_file(order: list[OrderLine], year: int, fmt: str, *, school: str, day: dt.date) -> bytes:
    """The order list alone (`year`: the school year it buys for)."""
    return render([order_sheet(order, year)], fmt, title=ORDER_TITLE, school=school, year=year, day=day)


def write(data: bytes, path: str | Path) -> Path:
    """Write a file's bytes."""
    path = Path(path)
    path.write_bytes(data)
    return path


def _csv(sheets: list[Sheet], title: str, head: list[str]) -> bytes:
    """Semicolon-separated UTF-8 with a BOM; each table under its title, an empty line between."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow([title])
    for line in head:
        w.writerow([csv_safe(line)])
    for sheet in sheets:
        w.writerow([])
        w.writerow([csv_safe(sheet.title)])
        w.writerow(sheet.headers)
        for row in sheet.rows:
            w.writerow([csv_safe(v) for v in row])
        if sheet.note:
            w.writerow([csv_safe(sheet.note)])
    return buf.getvalue().encode("utf-8-sig")


def _xlsx(sheets: list[Sheet], title: str, head: list[str], definitions: list[str]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DCE6F1")
    wb = Workbook()
    wb.remove(wb.active)
    if definitions:
        ws = wb.create_sheet("Определения")
        ws.append([title])
        ws["A1"].font = Font(bold=True, size=13)
        for line in [*head, "", *definitions]:
            ws.append([line])
            xlsx_text_cells(ws[ws.max_row])
        ws.column_dimensions["A"].width = 120
    for n, sheet in enumerate(sheets, 1):
        name = "".join("-" if c in "/\\?*[]:" else c for c in f"{n}. {sheet.title}")
        ws = wb.create_sheet(name[:31])
        ws.append([sheet.title])
        ws["A1"].font = Font(bold=True, size=13)
        for line in head:
            ws.append([line])
            xlsx_text_cells(ws[ws.max_row])
        ws.append([])
        ws.append(sheet.headers)
        for cell in ws[ws.max_row]:
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in sheet.rows:
            ws.append(row)
            xlsx_text_cells(ws[ws.max_row])
        if sheet.note:
            ws.append([sheet.note])
            ws.cell(ws.max_row, 1).font = Font(italic=True)
        for i, h in enumerate(sheet.headers, 1):
            width = max([len(str(h)) // 2 + 2, *(len(str(r[i - 1])) + 2 for r in sheet.rows)])
            ws.column_dimensions[ws.cell(1, i).column_letter].width = min(50, max(9, width))
        ws.page_setup.orientation = "landscape"
    wb.properties.title = title
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _esc(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _pdf(sheets: list[Sheet], title: str, head: list[str], definitions: list[str]) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
    from reportlab.platypus import Table as RLTable

    font = cyrillic_font()
    bold = font + "-Bold"
    if bold not in pdfmetrics.getRegisteredFontNames():
        path = font_path().with_name("DejaVuSans-Bold.ttf")
        if path.is_file():
            pdfmetrics.registerFont(TTFont(bold, str(path)))
        else:
            bold = font
    st = {
        "title": ParagraphStyle("t", fontName=bold, fontSize=16, leading=20, spaceAfter=4),
        "sub": ParagraphStyle("s", fontName=font, fontSize=10, leading=13, spaceAfter=6),
        "h2": ParagraphStyle("h2", fontName=bold, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4,
                             textColor=colors.HexColor("#1f3f66")),
        "cell": ParagraphStyle("c", fontName=font, fontSize=8, leading=10),
        "head": ParagraphStyle("hd", fontName=bold, fontSize=8, leading=10),
        "def": ParagraphStyle("d", fontName=font, fontSize=8.5, leading=11, spaceAfter=2),
        "note": ParagraphStyle("n", fontName=font, fontSize=8, leading=10,
                               textColor=colors.HexColor("#444444")),
    }
    pagesize = landscape(A4)
    width = pagesize[0] - 30 * mm
    story: list = [Paragraph(_esc(title), st["title"]),
                   Paragraph("<br/>".join(_esc(x) for x in head), st["sub"])]
    if definitions:
        story.append(Paragraph("Определения", st["h2"]))
        story += [Paragraph("• " + _esc(x), st["def"]) for x in definitions]
    for sheet in sheets:
        story.append(Paragraph(_esc(sheet.title), st["h2"]))
        if not sheet.rows:
            story.append(Paragraph("нет данных", st["note"]))
        else:
            text_cols = [i for i in range(len(sheet.headers))
                         if any(isinstance(r[i], str) and not r[i].endswith("%") and r[i] != "—"
                                for r in sheet.rows)]
            narrow = 31 * mm
            spare = width - narrow * (len(sheet.headers) - len(text_cols))
            cols = [spare / max(1, len(text_cols)) if i in text_cols else narrow
                    for i in range(len(sheet.headers))]
            data = [[Paragraph(_esc(h), st["head"]) for h in sheet.headers]]
            data += [[Paragraph(_esc(v), st["cell"]) if isinstance(v, str) else v for v in row]
                     for row in sheet.rows]
            t = RLTable(data, colWidths=cols, repeatRows=1)
            t.setStyle(TableStyle([
                ("FONT", (0, 0), (-1, -1), font, 8),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dce6f1")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#a0a0a0")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f5f7fa")]),
                *[("ALIGN", (i, 1), (i, -1), "RIGHT")
                  for i in range(len(sheet.headers)) if i not in text_cols],
            ]))
            story.append(t)
        if sheet.note:
            story += [Spacer(1, 2 * mm), Paragraph(_esc(sheet.note), st["note"])]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=pagesize, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=15 * mm, title=title, author=head[0])
    doc.build(story)
    return buf.getvalue()
