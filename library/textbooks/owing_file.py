"""Who still owes which textbook, as a file (CSV or XLSX) the school hands on: one row a copy —
class, pupil, title, barcode, inventory number, the day it was issued, «выбыл» for a pupil who
has left. Written by library.reports.tables' list writers (the overdue list's), in Russian like
the report files. The desk's collection page and ``ibc textbooks owing`` call it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from library.reports.tables import list_csv, list_xlsx

if TYPE_CHECKING:
    from library.textbooks.issue import Owing

STEM = "Не сдали учебники"
HEADER = ["Класс", "Ученик", "Учебник", "Штрихкод", "Инв. номер", "Выдан", "Выбыл"]
AS_OF = "Не сдали учебники на {date}"
NO_CLASS = "без класса"
LEFT = "выбыл"
LOST = "утерян"
WIDTHS = (8, 28, 44, 14, 14, 12, 10)
FORMATS = ("csv", "xlsx")


def _day(when: dt.datetime | None) -> str:
    if when is None:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone().strftime("%d.%m.%Y")


def owing_rows(rows: list[Owing]) -> list[list]:
    """The file's rows (a lost copy says so after its title)."""
    return [[o.class_name or NO_CLASS, o.pupil, o.title + (f" ({LOST})" if o.lost else ""), o.barcode,
             o.inventory, _day(o.issued_at), "" if o.active else LEFT] for o in rows]


def owing_file(rows: list[Owing], fmt: str, today: dt.date) -> bytes:
    """The owing list as ``csv`` or ``xlsx`` bytes (ValueError for another format)."""
    if fmt == "csv":
        return list_csv(HEADER, owing_rows(rows))
    if fmt == "xlsx":
        return list_xlsx(STEM, AS_OF.format(date=today.strftime("%d.%m.%Y")), HEADER, owing_rows(rows),
                         WIDTHS)
    raise ValueError(f"unknown format {fmt!r}")
