"""PDF, XLSX and CSV of the scripted term: they open, hold the expected figures, and no names."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys

import pytest
from scripted_term import MSK
from sqlalchemy import select

from library.reports import build_report, parse_period
from library.reports.render_csv import render_csv
from library.reports.render_pdf import render_pdf
from library.reports.render_xlsx import render_xlsx
from library.storage.models import MediaItem, Reader, Record

SCHOOL = "МБОУ «Средняя школа № 7»"
PERIOD = "III квартал 2026 г. (01.07.2026–30.09.2026)"
needs_poppler = pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils missing")


@pytest.fixture(scope="module")
def report(sqlite_term):
    """The III quarter report of the scripted term."""
    return build_report(sqlite_term.db, parse_period("2026Q3", tz=MSK), school_name=SCHOOL)


@pytest.fixture(scope="module")
def outputs(report, tmp_path_factory):
    """The report written in every format."""
    d = tmp_path_factory.mktemp("out")
    return {"pdf": render_pdf(report, d / "r.pdf"), "xlsx": render_xlsx(report, d / "r.xlsx"),
            "csv": render_csv(report, d / "r.csv")}


def pdf_pages(path) -> list[str]:
    """The text of each page (pdftotext)."""
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                         check=True).stdout
    return [p for p in out.split("\f") if p.strip()]


def xlsx_text(path) -> dict[str, list[tuple]]:
    """Every sheet's rows as tuples of values."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    return {ws.title: [tuple(c for c in row) for row in ws.iter_rows(values_only=True)]
            for ws in wb.worksheets}


@needs_poppler
def test_pdf_opens_and_renders(outputs, tmp_path):
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(outputs["pdf"]), str(tmp_path / "p")],
                   check=True, capture_output=True)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert len(pngs) >= 4
    assert all(p.stat().st_size > 5000 for p in pngs)
    pages = pdf_pages(outputs["pdf"])
    assert len(pages) == len(pngs)
    for page in pages:  # the school and the period head every page
        assert SCHOOL in page and PERIOD in page
    first = " ".join(pages[0].split())
    assert "Отчёт о работе информационно-библиотечного центра" in first
    assert re.search(r"Выдано экземпляров\s+8\b", first)
    assert re.search(r"Читаемость\s+0,17\b", first) and re.search(r"Посещаемость\s+0,19\b", first)
    text = " ".join("\n".join(pages).split())
    for heading in ("Фонд по разделам ББК", "Читатели по классам", "Искали, но не нашли",
                    "Самые читаемые книги", "Просмотры по видам", "Рост электронного каталога"):
        assert heading in text


def test_xlsx_reopens_with_the_expected_cells(outputs):
    sheets = xlsx_text(outputs["xlsx"])
    assert list(sheets) == ["Основные показатели", "Фонд", "Читатели", "Обслуживание", "Чтение",
                            "Поиск", "Медиатека", "Каталог"]
    for rows in sheets.values():
        assert rows[0][0] == SCHOOL and rows[1][0] == f"Период: {PERIOD}"
    summary = {r[0]: r[1] for r in sheets["Основные показатели"] if len(r) > 1 and r[1] is not None}
    assert summary["Выдано экземпляров"] == 8 and summary["Посещений"] == 9
    assert summary["Запросов без результата"] == 4 and summary["Просмотров медиатеки"] == 4
    assert summary["Читаемость"] == 0.17 and summary["Обращаемость фонда"] == 0.01
    assert summary["Книгообеспеченность на одного читателя"] == 18.9
    assert ("Итого", 333, 888) in [r[:3] for r in sheets["Фонд"]]
    assert ("Гарри Поттер", 2) in [r[:2] for r in sheets["Поиск"]]
    months = [r[:4] for r in sheets["Обслуживание"] if r[0] in ("июл 2026", "авг 2026", "сен 2026")]
    assert months == [("июл 2026", 3, 2, 1), ("авг 2026", 1, 1, 1), ("сен 2026", 4, 2, 0)]
    assert ("5А", 7, 0, 1, 3, 3) in [r[:6] for r in sheets["Читатели"]]


def test_csv_parses(outputs):
    with open(outputs["csv"], encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    assert rows[0] == ["Раздел", "Таблица", "Строка", "Показатель", "Значение"]
    assert all(len(r) == 5 for r in rows)
    cells = {tuple(r[:4]): r[4] for r in rows}
    assert cells[("Основные показатели", "Основные показатели", "Выдано экземпляров",
                  "Значение")] == "8"
    assert cells[("Фонд", "Движение фонда за период", "Списано экземпляров", "Значение")] == "2"
    assert cells[("Обслуживание", "По месяцам", "сен 2026", "Медиа")] == "4"
    assert cells[("Отчёт", "", "", "Учреждение")] == SCHOOL
    where = ("Основные показатели", "Относительные показатели")
    assert cells[(*where, "Читаемость", "Значение")] == "0,17"
    assert cells[(*where, "Посещаемость", "Значение")] == "0,19"
    assert cells[(*where, "Охват учащихся библиотечным обслуживанием", "Значение")] == "100,0 %"
    assert cells[(*where, "Читаемость", "Как считается")].endswith(": 8 ÷ 47")


def test_no_personal_names_anywhere(sqlite_term, report, outputs):
    with sqlite_term.db.session() as s:
        readers = s.execute(select(Reader.last_name, Reader.first_name, Reader.card_number)).all()
        catalogue = " ".join(f"{t} {a}" for t, a in s.execute(select(Record.title, Record.authors)))
        catalogue += " ".join(s.scalars(select(MediaItem.title)))
    texts = {"json": json.dumps(report, ensure_ascii=False),
             "csv": outputs["csv"].read_text("utf-8-sig"),
             "xlsx": json.dumps(xlsx_text(outputs["xlsx"]), ensure_ascii=False, default=str)}
    if shutil.which("pdftotext"):
        texts["pdf"] = "\n".join(pdf_pages(outputs["pdf"]))
    # names that are also a catalogue author or title word (Лев Толстой) may appear as such
    own = [n for last, first, _ in readers for n in (last, first)
           if not re.search(rf"\b{re.escape(n)}\b", catalogue)]
    assert "Зарецкая" in own and "Ковальчук" in own and len(own) > 20
    for kind, text in texts.items():
        for last, first, card in readers:
            assert f"{last} {first}" not in text and f"{first} {last}" not in text, kind
            assert card not in text, kind
        for name in own:
            assert not re.search(rf"\b{re.escape(name)}\b", text), (kind, name)


def test_matplotlib_and_renderers_load_lazily():
    code = ("import sys, library.reports, library.reports.figures, library.reports.tables\n"
            "print(','.join(m for m in ('matplotlib', 'reportlab', 'openpyxl', 'kivy', 'cv2',"
            " 'vlc', 'zeroconf') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
