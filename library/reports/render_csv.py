"""CSV output: one line per cell (Раздел; Таблица; Строка; Показатель; Значение).

The long format keeps every table in one file that any spreadsheet or script can filter.
Semicolon-separated UTF-8 with a BOM, the way Russian Excel opens CSV without asking.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from library.reports.tables import csv_safe, header_lines, sections

HEADER = ["Раздел", "Таблица", "Строка", "Показатель", "Значение"]


def csv_text(report: dict) -> str:
    """The report as CSV text."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    school, period = header_lines(report)
    w.writerow(HEADER)
    w.writerow(["Отчёт", "", "", "Учреждение", school])
    w.writerow(["Отчёт", "", "", "Период", period.removeprefix("Период: ")])
    for section in sections(report):
        for table in section.tables:
            for row in table.rows:
                label = str(row[0])
                for head, value in zip(table.headers[1:], row[1:]):
                    w.writerow([csv_safe(x) for x in (section.title, table.title, label, head, value)])
    return buf.getvalue()


def render_csv(report: dict, path: str | Path) -> Path:
    """Write the report as CSV; returns the path."""
    path = Path(path)
    path.write_text(csv_text(report), encoding="utf-8-sig", newline="")
    return path
