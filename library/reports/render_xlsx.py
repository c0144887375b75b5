"""XLSX output (openpyxl): one sheet per section, the school and the period atop each sheet."""

from __future__ import annotations

from pathlib import Path

from library.reports.tables import Ratio, header_lines, sections, xlsx_text_cells

MAX_WIDTH = 60


def render_xlsx(report: dict, path: str | Path) -> Path:
    """Write the report as an Excel workbook; returns the path."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    bold, title_font = Font(bold=True), Font(bold=True, size=13)
    head_fill = PatternFill("solid", fgColor="DCE6F1")
    school, period = header_lines(report)
    wb = Workbook()
    wb.remove(wb.active)
    for section in sections(report):
        ws = wb.create_sheet(section.title[:31])
        ws.append([school])
        xlsx_text_cells(ws[1])
        ws["A1"].font = title_font
        ws.append([period])
        widths: dict[int, int] = {}
        for table in section.tables:
            ws.append([])
            ws.append([table.title])
            ws.cell(ws.max_row, 1).font = bold
            ws.append(table.headers)
            for i in range(1, len(table.headers) + 1):
                cell = ws.cell(ws.max_row, i)
                cell.font, cell.fill = bold, head_fill
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            for row in table.rows or [["нет данных"]]:
                ws.append([_cell(v) for v in row])
                xlsx_text_cells(ws[ws.max_row])
                _ratio_formats(ws[ws.max_row], row)
            if table.note:
                ws.append([table.note])
                ws.cell(ws.max_row, 1).font = Font(italic=True)
            for row in [table.headers, *table.rows]:
                for i, v in enumerate(row, 1):  # str(Ratio) is its shown text
                    widths[i] = max(widths.get(i, 8), min(MAX_WIDTH, len(str(v)) + 2))
        for i, w in widths.items():
            ws.column_dimensions[ws.cell(1, i).column_letter].width = w
        ws.oddHeader.center.text = f"{school} — {period}"
        ws.page_setup.orientation = "landscape"
    wb.properties.title = f"Отчёт ИБЦ: {report['period']['title']}"
    path = Path(path)
    wb.save(path)
    return path


def _cell(value: object) -> object:
    """A cell's stored value: an indicator's number (or «—» for a division by zero)."""
    if isinstance(value, Ratio):
        return str(value) if value.value is None else value.value
    return value


def _ratio_formats(cells: tuple, row: list) -> None:
    """Show an indicator's number with its decimals (and « %» for a percentage)."""
    for cell, value in zip(cells, row):
        if isinstance(value, Ratio) and value.value is not None:
            fmt = "0." + "0" * value.decimals if value.decimals else "0"
            cell.number_format = fmt + ('" %"' if value.percent else "")
