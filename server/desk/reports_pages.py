"""The desk's section /reports: Отчёты — the period's key figures, the full report as PDF, XLSX
or CSV, and the overdue lists for class teachers (printable, and as CSV or XLSX).

Every figure comes from library.reports (the same functions as `ibc report` and `ibc overdue`);
this module only reads the period from the address and lays the numbers out. Librarians and
administrators alike may run reports and print the overdue lists; the overrides one by one
(with the reason and who decided) are shown to an administrator only.

Reports are built in the request's worker thread (the routes are plain `def`, so FastAPI runs
them off the event loop); at most GENERATORS files are rendered at once, the rest wait up to
GENERATOR_WAIT_S seconds and are then told to try again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from library.reports import Period, PeriodError, build_report, key_figures, parse_period
from library.reports.overdue import (
    STAFF,
    OverdueLoan,
    by_group,
    group_label,
    overdue_loans,
)
from library.reports.report import override_counts, override_events
from library.reports.tables import ACTIONS, SUMMARY_ROWS, csv_safe, refusal_words, xlsx_text_cells
from library.text import printable
from server.desk.audit import audit
from server.desk.errors import DeskError, DeskInvalid
from server.desk.sessions import DeskUser
from server.desk.web import (
    PREFIX,
    client_ip,
    desk_user,
    local_date,
    local_time,
    render,
    state,
    today,
)

router = APIRouter(prefix=PREFIX + "/reports", include_in_schema=False)

CHOICES = [("month", "Этот месяц"), ("last-month", "Прошлый месяц"), ("quarter", "Этот квартал"),
           ("last-quarter", "Прошлый квартал"), ("school-year", "Учебный год"),
           ("year", "Календарный год")]
CUSTOM = "custom"
DEFAULT = "quarter"
MAX_DAYS = 3 * 366  # a longer period is refused: nobody reports on it, and it costs minutes
FIRST_YEAR = 2000
MEANING = {
    "loans": "сколько раз книги выдали (у стойки и в терминалах)",
    "returns": "сколько книг вернули",
    "renewals": "сколько раз продлили срок",
    "visits": "входы читателей в терминал по карте",
    "active_readers": "разные читатели, бравшие книги в этот период",
    "readers": "все читатели, записанные к концу периода",
    "on_loan": "книги у читателей в последний день периода",
    "overdue": "из них не вернули в срок",
    "overrides": "выдачи и продления, разрешённые библиотекарем вопреки правилу",
    "searches": "поиски в каталоге на терминалах",
    "zero_searches": "поиски, которые ничего не нашли",
    "plays": "открытия видео, аудио и других материалов",
    "titles": "названий в каталоге к концу периода",
    "copies": "экземпляров, не списанных",
}
FIGURE_ORDER = ["loans", "returns", "renewals", "visits", "active_readers", "readers", "on_loan",
                "overdue", "overrides", "searches", "zero_searches", "plays", "titles", "copies"]
FORMATS = {"pdf": "application/pdf",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "csv": "text/csv; charset=utf-8"}
OVERDUE_FORMATS = ("csv", "xlsx")
GENERATORS = 2
GENERATOR_WAIT_S = 60
_generating = threading.BoundedSemaphore(GENERATORS)
MAX_TEXT = 40  # longer query values are cut before use (and never echoed at length)
DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})|(\d{4})-(\d{2})-(\d{2})")


# --- the period ---------------------------------------------------------------------------------
def _day(text: str, what: str, errors: dict[str, str], key: str, now: dt.date) -> dt.date | None:
    """A typed date «дд.мм.гггг» (or ISO); None with the error said in words."""
    text = text.strip()
    if not text:
        errors[key] = f"Введите дату «{what}» в виде дд.мм.гггг"
        return None
    m = DATE.fullmatch(text)
    if not m:
        errors[key] = f"Дата «{what}» не понятна: введите её в виде дд.мм.гггг, например 01.09.2026"
        return None
    d, mo, y = (m[1], m[2], m[3]) if m[1] else (m[6], m[5], m[4])
    try:
        day = dt.date(int(y), int(mo), int(d))
    except ValueError:
        errors[key] = f"Такой даты нет: {text[:10]}"
        return None
    if not FIRST_YEAR <= day.year <= now.year + 1:
        errors[key] = f"Дата «{what}» должна быть между {FIRST_YEAR} и {now.year + 1} годом"
        return None
    return day


def resolve(choice: str, start: str, end: str, now: dt.date) -> tuple[Period | None, dict[str, str]]:
    """The period the page asks for, or None with the errors in words ({'period'|'from'|'to': text})."""
    errors: dict[str, str] = {}
    if choice != CUSTOM:
        if choice not in dict(CHOICES):
            return None, {"period": "Такого периода нет: выберите период кнопкой или введите даты"}
        return parse_period(choice, today=now), errors
    first = _day(start, "с", errors, "from", now)
    last = _day(end, "по", errors, "to", now)
    if first is None or last is None:
        return None, errors
    if first > last:
        return None, {"to": f"Дата «по» ({local_date(last)}) раньше даты «с» ({local_date(first)}): "
                            "поменяйте их местами"}
    if first > now:
        return None, {"from": f"Период ещё не начался: сегодня {local_date(now)}"}
    if (last - first).days + 1 > MAX_DAYS:
        return None, {"to": "Период слишком длинный: не больше трёх лет. Возьмите учебный год "
                            "или несколько отчётов"}
    try:
        return parse_period(f"{first.isoformat()}..{last.isoformat()}"), errors
    except PeriodError:  # cannot happen after the checks above; said in words all the same
        return None, {"to": "Эти даты не составляют период"}


def _query(choice: str, start: str, end: str, **extra: str) -> str:
    params = {"period": choice, **({"from": start, "to": end} if choice == CUSTOM else {}), **extra}
    return urlencode(params)


def _period_or_refuse(request: Request, choice: str, start: str, end: str) -> Period:
    period, errors = resolve(choice[:MAX_TEXT], start[:MAX_TEXT], end[:MAX_TEXT], today(request))
    if period is None:
        raise DeskInvalid(" ".join(errors.values()))
    return period


def _filename(stem: str, period: Period | None, day: dt.date, ext: str) -> str:
    """The Content-Disposition value: an ASCII name and the Russian one (RFC 6266 / 5987)."""
    span = (f"{period.first:%Y-%m-%d}_{period.last:%Y-%m-%d}" if period else f"{day:%Y-%m-%d}")
    ascii_name = f"ibc-{'report' if stem == 'Отчёт ИБЦ' else 'overdue'}-{span}.{ext}"
    russian = f"{stem} {span}.{ext}"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(russian)}"


# --- the reports page ---------------------------------------------------------------------------
@router.get("")
def reports_page(request: Request, period: str = Query(DEFAULT),
                 start: str = Query("", alias="from"),
                 end: str = Query("", alias="to"),
                 user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """Choose a period; its key figures, overrides and the report's downloads."""
    st = state(request)
    now = today(request)
    period, start, end = period[:MAX_TEXT], start[:MAX_TEXT], end[:MAX_TEXT]
    chosen, errors = resolve(period, start, end, now)
    context: dict[str, Any] = {
        "title": "Отчёты", "section": "reports", "user": user, "choices": CHOICES,
        "choice": period if period in dict(CHOICES) or period == CUSTOM else "",
        "start": start if period == CUSTOM else "", "end": end if period == CUSTOM else "",
        "errors": errors, "today": local_date(now), "max_days": MAX_DAYS, "formats": list(FORMATS),
    }
    if chosen is None:
        return render("reports_index.html", 400, **context)
    figures = key_figures(st.db, chosen)
    labels = dict(SUMMARY_ROWS)
    context["period"] = chosen.title
    context["figures"] = [{"key": k, "label": labels[k], "value": figures[k], "meaning": MEANING[k]}
                          for k in FIGURE_ORDER]
    counts = override_counts(st.db, chosen)
    context["overrides"] = [
        {"label": f"{ACTIONS.get(action, action)}: {refusal_words(code)}", "count": n}
        for (action, _, code), n in ((key.partition(":"), n) for key, n in sorted(counts.items()))]
    context["query"] = _query(period, start, end)
    if user.role == "admin":
        context["override_list"] = [
            {**x, "when": local_time(x["ts"]), "action": ACTIONS.get(x["action"], x["action"]),
             "rule": refusal_words(x["refusal"])} for x in override_events(st.db, chosen)]
    return render("reports_index.html", **context)


@router.get("/download")
def download(request: Request, period: str = Query(DEFAULT),
             start: str = Query("", alias="from"),
             end: str = Query("", alias="to"),
             fmt: str = Query("pdf", alias="format"),
             user: DeskUser = Depends(desk_user)) -> Response:
    """The full report of the period as a file (PDF with charts, XLSX or CSV)."""
    if fmt not in FORMATS:
        raise DeskInvalid("Формат файла: pdf, xlsx или csv")
    chosen = _period_or_refuse(request, period, start, end)
    st = state(request)
    if not _generating.acquire(timeout=GENERATOR_WAIT_S):
        raise DeskError("desk_busy", "Сейчас готовятся другие отчёты: попробуйте через минуту", 503)
    try:
        report = build_report(st.db, chosen, school_name=st.settings.school.name)
        data = _render(report, fmt)
    finally:
        _generating.release()
    return Response(data, media_type=FORMATS[fmt],
                    headers={"Content-Disposition": _filename("Отчёт ИБЦ", chosen, today(request), fmt)})


def _render(report: dict, fmt: str) -> bytes:
    """The report file's bytes (rendered into a private temporary folder, then removed)."""
    with tempfile.TemporaryDirectory(prefix="ibc-report-") as folder:
        path = Path(folder) / f"report.{fmt}"
        if fmt == "pdf":
            from library.reports.render_pdf import render_pdf

            render_pdf(report, path)
        elif fmt == "xlsx":
            from library.reports.render_xlsx import render_xlsx

            render_xlsx(report, path)
        else:
            from library.reports.render_csv import render_csv

            render_csv(report, path)
        return path.read_bytes()


# --- overdue lists ------------------------------------------------------------------------------
def _group_param(value: str) -> str | None:
    """The class filter: '' for every class, else a class name, NO_CLASS or STAFF."""
    value = value.strip()
    return value or None


@router.get("/overdue")
def overdue_page(request: Request, group: str = Query("", alias="class"),
                 user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """Overdue loans grouped by class (teachers and staff apart), printable one class a page."""
    st = state(request)
    now = today(request)
    with st.db.session() as s:
        loans = overdue_loans(s, now)
    groups = by_group(loans)
    options = [(g.key, g.label) for g in groups]
    wanted = _group_param(group[:MAX_TEXT])
    error = ""
    if wanted is not None:
        shown = [g for g in groups if g.key == wanted]
        if not shown:
            error = f"Должников из группы «{printable(wanted)}» на {local_date(now)} нет"
    else:
        shown = groups
    return render("reports_overdue.html", 200, title="Должники по классам", section="reports",
                  user=user, groups=shown, options=options, wanted=wanted or "", error=error,
                  today=local_date(now), total=sum(len(g.loans) for g in shown),
                  query=urlencode({"class": wanted}) if wanted else "", formats=OVERDUE_FORMATS,
                  staff=STAFF)


@router.get("/overdue/download")
def overdue_download(request: Request, group: str = Query("", alias="class"),
                     fmt: str = Query("csv", alias="format"),
                     user: DeskUser = Depends(desk_user)) -> Response:
    """The overdue list (one class, or all) as CSV or XLSX; the export is written to the audit log."""
    if fmt not in OVERDUE_FORMATS:
        raise DeskInvalid("Формат файла: csv или xlsx")
    st = state(request)
    now = today(request)
    wanted = _group_param(group[:MAX_TEXT])
    with st.db.transaction() as s:
        loans = overdue_loans(s, now, group=wanted)
        audit(s, user.name, "overdue_exported", ip=client_ip(request), format=fmt,
              group=wanted or "все", rows=len(loans))
    data = _overdue_csv(loans, now) if fmt == "csv" else _overdue_xlsx(loans, now)
    stem = "Должники" + (f" {group_label(wanted)}" if wanted else "")
    return Response(data, media_type=FORMATS[fmt],
                    headers={"Content-Disposition": _filename(stem, None, now, fmt)})


OVERDUE_HEADER = ["Класс", "Читатель", "Карта", "Книга", "Штрихкод", "Вернуть до", "Дней просрочки"]


def _overdue_rows(loans: list[OverdueLoan]) -> list[list]:
    return [[group_label(x.group), x.reader, x.card, x.title, x.barcode, local_date(x.due_date), x.days]
            for x in loans]


def _overdue_csv(loans: list[OverdueLoan], now: dt.date) -> bytes:
    """Semicolon-separated UTF-8 with a BOM (how Russian Excel opens CSV without asking)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(OVERDUE_HEADER)
    for row in _overdue_rows(loans):
        w.writerow([csv_safe(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def _overdue_xlsx(loans: list[OverdueLoan], now: dt.date) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Должники"
    ws.append([f"Должники на {local_date(now)}"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(OVERDUE_HEADER)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in _overdue_rows(loans):
        ws.append(row)
        xlsx_text_cells(ws[ws.max_row])
    for letter, width in zip("ABCDEFG", (12, 24, 12, 50, 14, 14, 10)):
        ws.column_dimensions[letter].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
