"""PDF output (reportlab) with charts (matplotlib, Agg canvas): the report for the authorities.

Page 1 has the key figures and the relative indicators, then the loans-by-month chart; each
section follows with its tables and charts (fund by ББК section, loans by class, catalogue
growth). The school's name and the period head every page. matplotlib is imported here only,
through the object-oriented API (Figure + FigureCanvasAgg), so no GUI backend or pyplot global
state is involved.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from library.pdf import cyrillic_font, font_path
from library.reports.tables import Ratio, Table, header_lines, sections

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.container import BarContainer
    from matplotlib.figure import Figure
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import SimpleDocTemplate

TOP_SECTIONS = 10
BLUE, ORANGE, GREEN = "#3b6ea8", "#e08a2c", "#4f9a5a"


def _bold_font(regular: str) -> str:
    """DejaVu Sans Bold beside the regular font, when installed; else the regular one."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    name = regular + "-Bold"
    if name in pdfmetrics.getRegisteredFontNames():
        return name
    bold = font_path().with_name("DejaVuSans-Bold.ttf")
    if not bold.is_file():
        return regular
    pdfmetrics.registerFont(TTFont(name, str(bold)))
    return name


# --- charts -----------------------------------------------------------------------------------
def _figure(width: float = 7.0, height: float = 3.0) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=150)
    FigureCanvasAgg(fig)
    fig.set_layout_engine("constrained")
    return fig


def _png(fig: Figure) -> io.BytesIO:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    buf.seek(0)
    return buf


def _style(ax: Axes, title: str) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title, fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)


def _label_bars(ax: Axes, bars: BarContainer) -> None:
    ax.bar_label(bars, fontsize=7, padding=1, labels=[f"{int(b.get_height()) or ''}" for b in bars])


def chart_loans_by_month(r: dict) -> io.BytesIO:
    """Grouped bars: loans, returns and visits per month."""
    months = r["circulation"]["by_month"]
    fig = _figure()
    ax = fig.add_subplot()
    xs = list(range(len(months)))
    for k, (key, label, color) in enumerate((("checkout", "Выдачи", BLUE),
                                             ("return", "Возвраты", ORANGE),
                                             ("visit", "Посещения", GREEN))):
        bars = ax.bar([x + (k - 1) * 0.27 for x in xs], [m[key] for m in months], 0.27,
                      label=label, color=color)
        _label_bars(ax, bars)
    ax.set_xticks(xs, [m["label"] for m in months], fontsize=8)
    fig.legend(fontsize=8, frameon=False, loc="outside right upper")
    _style(ax, "Выдачи, возвраты и посещения по месяцам")
    return _png(fig)


def chart_loans_by_class(r: dict) -> io.BytesIO:
    """Bars: loans per class, and per category for readers without a class."""
    rows = [(x["class"], x["loans"]) for x in r["readers"]["by_class"]]
    rows += [(x["label"], x["loans"]) for x in r["readers"]["by_category"]
             if x["category"] != "pupil" and x["loans"]]
    fig = _figure()
    ax = fig.add_subplot()
    bars = ax.bar([a for a, _ in rows], [b for _, b in rows], color=BLUE)
    _label_bars(ax, bars)
    ax.tick_params(axis="x", labelsize=8)
    _style(ax, "Выдачи по классам и категориям читателей")
    return _png(fig)


def chart_fund_by_section(r: dict) -> io.BytesIO:
    """Horizontal bars: copies by ББК section (the largest sections, the rest summed)."""
    rows = sorted(r["fund"]["by_section"], key=lambda x: -x["copies"])
    shown = [(x["label"], x["copies"]) for x in rows[:TOP_SECTIONS]]
    rest = sum(x["copies"] for x in rows[TOP_SECTIONS:])
    if rest:
        shown.append(("Прочие разделы", rest))
    shown.reverse()
    fig = _figure(7.0, 0.32 * len(shown) + 1.0)
    ax = fig.add_subplot()
    bars = ax.barh([_short(a) for a, _ in shown], [b for _, b in shown], color=BLUE)
    ax.bar_label(bars, fontsize=7, padding=2)
    ax.tick_params(axis="y", labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title("Фонд по разделам ББК, экземпляров", fontsize=11)
    return _png(fig)


def chart_growth(r: dict) -> io.BytesIO:
    """Line: catalogue size at each month's end, with bars of records added."""
    g = r["catalogue"]["growth"]
    fig = _figure(7.0, 2.6)
    ax = fig.add_subplot()
    bars = ax.bar([x["label"] for x in g], [x["added"] for x in g], 0.5, color=ORANGE,
                  label="Добавлено записей")
    _label_bars(ax, bars)
    ax2 = ax.twinx()
    ax2.plot([x["label"] for x in g], [x["total"] for x in g], color=BLUE, marker="o",
             label="Всего записей")
    ax2.set_ylim(bottom=0)
    ax.tick_params(axis="x", labelsize=8)
    fig.legend(fontsize=8, frameon=False, loc="outside lower center", ncols=2)
    _style(ax, "Рост электронного каталога")
    return _png(fig)


def _short(label: str, n: int = 42) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


CHARTS = {"summary": [chart_loans_by_month], "fund": [chart_fund_by_section],
          "readers": [chart_loans_by_class], "catalogue": [chart_growth]}


# --- document ---------------------------------------------------------------------------------
def render_pdf(report: dict, path: str | Path) -> Path:
    """Write the report as a PDF with charts; returns the path."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer

    font = cyrillic_font()
    bold = _bold_font(font)
    st = {
        "title": ParagraphStyle("t", fontName=bold, fontSize=16, leading=20, spaceAfter=4),
        "sub": ParagraphStyle("s", fontName=font, fontSize=10, leading=13, spaceAfter=8),
        "h1": ParagraphStyle("h1", fontName=bold, fontSize=13, leading=16, spaceBefore=8,
                             spaceAfter=4, textColor=colors.HexColor("#1f3f66")),
        "h2": ParagraphStyle("h2", fontName=bold, fontSize=10, leading=13, spaceBefore=6,
                             spaceAfter=3),
        "cell": ParagraphStyle("c", fontName=font, fontSize=8, leading=10),
        "head": ParagraphStyle("hd", fontName=bold, fontSize=7.5, leading=9),
        "note": ParagraphStyle("n", fontName=font, fontSize=8, leading=10,
                               textColor=colors.HexColor("#555555")),
    }
    school, period = header_lines(report)
    width = A4[0] - 36 * mm

    def on_page(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#444444"))
        top = A4[1] - 11 * mm
        canvas.drawString(18 * mm, top, _short(school, 70))
        canvas.drawRightString(A4[0] - 18 * mm, top, period)
        canvas.setStrokeColor(colors.HexColor("#999999"))
        canvas.line(18 * mm, top - 2 * mm, A4[0] - 18 * mm, top - 2 * mm)
        canvas.drawRightString(A4[0] - 18 * mm, 9 * mm, f"Стр. {doc.page}")
        canvas.drawString(18 * mm, 9 * mm, f"Сформировано {report['generated_at'][:10]}; все "
                          "показатели рассчитаны по журналу событий и каталогу")
        canvas.restoreState()

    def image(buf: io.BytesIO) -> Image:
        from reportlab.lib.utils import ImageReader

        w, h = ImageReader(buf).getSize()
        buf.seek(0)
        return Image(buf, width=width, height=width * h / w)

    story = [Paragraph("Отчёт о работе информационно-библиотечного центра", st["title"]),
             Paragraph(f"{_esc(school)}<br/>{_esc(period)}", st["sub"])]
    for section in sections(report):
        heading = [] if section.key == "summary" else [Paragraph(_esc(section.title), st["h1"])]
        for table in section.tables:
            story.append(KeepTogether(heading + _table(table, st, width)))
            heading = []
        for chart in CHARTS.get(section.key, []):
            story += [Spacer(1, 4 * mm), image(chart(report))]
    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                            topMargin=18 * mm, bottomMargin=16 * mm, title=f"Отчёт ИБЦ — {period}",
                            author=school, subject="Мониторинг работы ИБЦ")
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return Path(path)


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _widths(table: Table, width: float) -> list[float]:
    """Numbers get narrow columns, '№' narrower; text columns share the rest (60/40 for two)."""
    mm = 72 / 25.4
    n = len(table.headers)
    text = [i for i in range(n) if any(isinstance(r[i], str) and r[i] for r in table.rows)] or [0]
    col = [10 * mm if h == "№" else 0.0 for h in table.headers]
    numeric = [i for i in range(n) if i not in text and not col[i]]
    narrow = min(26 * mm, width * 0.75 / max(1, len(numeric)))
    for i in numeric:
        col[i] = narrow
    spare = width - sum(col)
    shares = list(table.shares) if len(table.shares) == len(text) else (
        [0.6, 0.4] if len(text) == 2 else [1 / len(text)] * len(text))
    for i, share in zip(text, shares):
        col[i] = spare * share
    return col


def _table(table: Table, st: dict, width: float) -> list:
    """A titled reportlab table; the first column takes the spare width."""
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, TableStyle
    from reportlab.platypus import Table as RLTable

    out = [Paragraph(_esc(table.title), st["h2"])]
    if not table.rows:
        return [*out, Paragraph("нет данных за период", st["note"])]
    col = _widths(table, width)
    data = [[Paragraph(_esc(h), st["head"]) for h in table.headers]]
    data += [[Paragraph(_esc(v), st["cell"]) if isinstance(v, str)
              else str(v) if isinstance(v, Ratio) else v for v in row] for row in table.rows]
    t = RLTable(data, colWidths=col, repeatRows=1)
    t.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), st["cell"].fontName, 8),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dce6f1")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#a0a0a0")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f5f7fa")]),
    ]))
    out.append(t)
    if table.note:
        out.append(Paragraph(_esc(table.note), st["note"]))
    return out


__all__ = ["chart_fund_by_section", "chart_growth", "chart_loans_by_class",
           "chart_loans_by_month", "render_pdf"]
