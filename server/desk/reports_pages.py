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

import datetime as dt
import re
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from library.reports import Period, PeriodError, build_report, key_figures, parse_period
from library.reports.indicators import INDICATORS, PUPILS_FROM_SETTING, value_text
from library.reports.overdue import (
    STAFF,
    OverdueLoan,
    by_group,
    group_label,
    overdue_loans,
)
from library.reports.period import QUARTER_NAMES
from library.reports.report import NO_CLASS, override_counts, override_events
from library.reports.tables import list_csv, list_xlsx
from library.text import printable
from server.desk.audit import audit
from server.desk.errors import DeskError, DeskInvalid
from server.desk.i18n import N_, _, language
from server.desk.sessions import DeskUser
from server.desk.web import (
    PREFIX,
    client_ip,
    desk_user,
    local_date,
    local_time,
    page_school,
    page_scope,
    render,
    school_choices,
    school_name,
    state,
    today,
)

router = APIRouter(prefix=PREFIX + "/reports", include_in_schema=False)

CHOICES = [("month", N_("This month")), ("last-month", N_("Last month")), ("quarter", N_("This quarter")),
           ("last-quarter", N_("Last quarter")), ("school-year", N_("School year")),
           ("year", N_("Calendar year"))]
CUSTOM = "custom"
DEFAULT = "quarter"
MAX_DAYS = 3 * 366  # a longer period is refused: nobody reports on it, and it costs minutes
FIRST_YEAR = 2000
# The figures' names: the same words as the report's summary (library.reports.tables.SUMMARY_ROWS,
# which stays Russian in the report's files); tests/desk/test_reports.py checks they agree.
LABELS = {
    "titles": N_("Titles in the collection"),
    "copies": N_("Copies in the collection"),
    "readers": N_("Registered readers"),
    "active_readers": N_("Active readers (borrowed books)"),
    "visits": N_("Visits"),
    "loans": N_("Copies lent"),
    "returns": N_("Returned"),
    "renewals": N_("Renewals"),
    "on_loan": N_("On loan at the end of the period"),
    "overdue": N_("Overdue at the end of the period"),
    "searches": N_("Searches"),
    "zero_searches": N_("Searches with no result"),
    "plays": N_("Media library views"),
    "overrides": N_("Librarian's decisions against the rules"),
}
MEANING = {
    "loans": N_("how many times books were lent (at the desk and on the terminals)"),
    "returns": N_("how many books were returned"),
    "renewals": N_("how many times a loan was renewed"),
    "visits": N_("readers signing in to a terminal with their card"),
    "active_readers": N_("different readers who borrowed books in this period"),
    "readers": N_("all readers registered by the end of the period"),
    "on_loan": N_("books with readers on the last day of the period"),
    "overdue": N_("of them, not returned in time"),
    "overrides": N_("loans and renewals the librarian allowed against a rule"),
    "searches": N_("catalogue searches on the terminals"),
    "zero_searches": N_("searches that found nothing"),
    "plays": N_("openings of videos, audio and other media"),
    "titles": N_("titles in the catalogue at the end of the period"),
    "copies": N_("copies not written off"),
}
# Actions and rules of the overrides, as the report's tables name them (library.reports.tables
# ACTIONS and REFUSALS; checked to agree in tests/desk/test_reports.py).
ACTION_NAMES = {"checkout": N_("Loan"), "renew": N_("Renewal"), "checkin": N_("Return of a book")}
RULE_NAMES = {
    "reader_not_found": N_("card not registered"), "reader_blocked": N_("reader blocked"),
    "wrong_pin": N_("wrong PIN"), "limit_reached": N_("book limit exceeded"),
    "has_overdue": N_("has overdue books"), "has_lost": N_("has a lost book"),
    "item_not_found": N_("barcode not found"), "not_for_loan": N_("reading room only"),
    "item_unavailable": N_("copy unavailable"), "item_on_loan": N_("copy already on loan"),
    "already_yours": N_("the reader already has the book"), "age_restricted": N_("age restriction"),
    "not_on_loan": N_("book not on loan"), "renewal_not_allowed": N_("renewal not allowed"),
    "renewal_limit": N_("renewal limit used up"), "overdue_no_renew": N_("overdue, no renewal"),
    "not_your_loan": N_("the book is with another reader"), "txn_mismatch": N_("repeated operation"),
    "reserved": N_("the book is set aside for another reader"),
    "renewal_held": N_("readers queue for the book"),
}
# The relative indicators (library.reports.indicators; the report's names in Russian, checked to
# agree in tests/desk/test_reports.py) and their definitions with the period's numbers.
INDICATOR_LABELS = {
    "loans_per_reader": N_("Loans per reader"),
    "visits_per_reader": N_("Visits per reader"),
    "loans_per_copy": N_("Collection turnover"),
    "copies_per_reader": N_("Copies per reader"),
    "copies_per_pupil": N_("Copies per pupil"),
    "coverage": N_("Pupil coverage"),
}
INDICATOR_MEANING = {
    "loans_per_reader": N_("loans in the period ÷ readers registered by its end: %(a)s ÷ %(b)s"),
    "visits_per_reader": N_("visits in the period ÷ readers registered by its end: %(a)s ÷ %(b)s"),
    "loans_per_copy": N_("loans in the period ÷ copies not written off: %(a)s ÷ %(b)s"),
    "copies_per_reader": N_("copies not written off ÷ registered readers: %(a)s ÷ %(b)s"),
    "copies_per_pupil": N_("copies not written off ÷ pupils of the school: %(a)s ÷ %(b)s"),
    "coverage": N_("pupils registered as readers ÷ pupils of the school × 100: %(a)s ÷ %(b)s × 100"),
}
# The period's holds (docs/HOLDS.md): the same words as the report's «Заказы» table
# (library.reports.tables), which stays Russian in the report's files.
HOLD_LABELS = {
    "placed": N_("Holds placed"),
    "waiting": N_("Set aside for a reader"),
    "fulfilled": N_("Lent on hold"),
    "expired": N_("Not picked up in time"),
    "cancelled": N_("Holds cancelled"),
    "median_wait_days": N_("Wait, median (days)"),
}
HOLD_MEANING = {
    "placed": N_("readers who queued for a book that was out"),
    "waiting": N_("returned books put on the hold shelf for the first in the queue"),
    "fulfilled": N_("held books the reader took"),
    "expired": N_("holds that ended: the reader did not come in time, or queued too long"),
    "cancelled": N_("by the reader, the librarian, or because the reader left"),
    "median_wait_days": N_("from placing the hold to the book being set aside"),
}
MONTH_NAMES = [N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
               N_("July"), N_("August"), N_("September"), N_("October"), N_("November"),
               N_("December")]
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


def action_words(action: str) -> str:
    """'checkout' → «Выдача» (the report's word for it) in the request's language."""
    return _(ACTION_NAMES[action]) if action in ACTION_NAMES else action


def rule_words(code: str) -> str:
    """A refusal code in short words ('has_overdue' → «есть просроченные книги»)."""
    return _(RULE_NAMES[code]) if code in RULE_NAMES else code


def group_name(key: str) -> str:
    """An overdue group's name on the page: the class, «без класса» or «Педагоги и сотрудники»."""
    if key == STAFF:
        return _("Teachers and staff")
    if key == NO_CLASS:
        return _("no class")
    return key


def hold_figures(db: Any, period: Period, sigla: str | None = None) -> list[dict[str, Any]]:
    """The period's holds (library.reports.figures.holds, the report's «Заказы» table) with
    the desk's words; the median wait «—» when no book was set aside in the period."""
    from library.reports.figures import Scope
    from library.reports.figures import holds as holds_of

    with db.session() as s:
        h = holds_of(s, Scope(period, sigla))
    wait = h.get("median_wait_days")
    comma = language() == "ru"
    wait_text = "—" if wait is None else f"{wait:g}".replace(".", "," if comma else ".")
    return [{"key": k, "label": _(HOLD_LABELS[k]), "meaning": _(HOLD_MEANING[k]),
             "value": wait_text if k == "median_wait_days" else h.get(k, 0)} for k in HOLD_LABELS]


def indicator_cards(figures: dict) -> list[dict[str, str]]:
    """The relative indicators of key_figures as cards: name, value («0,17» in Russian, «0.17»
    in English, «—» for a division by zero) and the definition with the period's numbers."""
    comma = language() == "ru"
    return [{"key": x.key, "label": _(INDICATOR_LABELS[x.key]),
             "value": value_text(x, figures[x.key], comma=comma),
             "meaning": _(INDICATOR_MEANING[x.key]) % {"a": figures[x.numerator],
                                                       "b": figures[x.denominator]}}
            for x in INDICATORS]


# --- the period ---------------------------------------------------------------------------------
def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)


def period_title(choice: str, period: Period) -> str:
    """The period's title for the page header in the request's language (in Russian the same
    words as Period.title: «IV квартал 2026 г., по 06.12.2026 (01.10.2026–06.12.2026)»)."""
    first = period.first
    if choice in ("month", "last-month"):
        label = _("%(month)s %(year)s") % {"month": _(MONTH_NAMES[first.month - 1]), "year": first.year}
        end = _last_day(first.year, first.month)
    elif choice in ("quarter", "last-quarter"):
        q = (first.month - 1) // 3 + 1
        label = _("Quarter %(q)s %(year)s") % {"q": QUARTER_NAMES[q], "year": first.year}
        end = _last_day(first.year, 3 * q)
    elif choice == "year":
        label = _("Year %(year)s") % {"year": first.year}
        end = dt.date(first.year, 12, 31)
    elif choice == "school-year":
        label = _("School year %(years)s") % {"years": f"{first.year}/{(first.year + 1) % 100:02d}"}
        end = dt.date(first.year + 1, 8, 31)
    else:
        return period.title
    if period.last < end:
        label = _("%(period)s, to %(date)s") % {"period": label, "date": local_date(period.last)}
    return f"{label} ({period.dates})"


def _day(text: str, what: str, errors: dict[str, str], key: str, now: dt.date) -> dt.date | None:
    """A typed date «дд.мм.гггг» (or ISO); None with the error said in words."""
    text = text.strip()
    if not text:
        errors[key] = _("Type the date “%(what)s” as dd.mm.yyyy") % {"what": what}
        return None
    m = DATE.fullmatch(text)
    if not m:
        errors[key] = (_("The date “%(what)s” is not clear: type it as dd.mm.yyyy, for example "
                         "01.09.2026") % {"what": what})
        return None
    d, mo, y = (m[1], m[2], m[3]) if m[1] else (m[6], m[5], m[4])
    try:
        day = dt.date(int(y), int(mo), int(d))
    except ValueError:
        errors[key] = _("There is no such date: %(date)s") % {"date": text[:10]}
        return None
    if not FIRST_YEAR <= day.year <= now.year + 1:
        errors[key] = (_("The date “%(what)s” must be between the years %(first)s and %(last)s")
                       % {"what": what, "first": FIRST_YEAR, "last": now.year + 1})
        return None
    return day


def resolve(choice: str, start: str, end: str, now: dt.date) -> tuple[Period | None, dict[str, str]]:
    """The period the page asks for, or None with the errors in words ({'period'|'from'|'to': text})."""
    errors: dict[str, str] = {}
    if choice != CUSTOM:
        if choice not in dict(CHOICES):
            return None, {"period": _("There is no such period: choose one with a button or type the dates")}
        return parse_period(choice, today=now), errors
    first = _day(start, _("from"), errors, "from", now)
    last = _day(end, _("to"), errors, "to", now)
    if first is None or last is None:
        return None, errors
    if first > last:
        return None, {"to": _("The date “to” (%(last)s) is before the date “from” (%(first)s): swap them")
                      % {"last": local_date(last), "first": local_date(first)}}
    if first > now:
        return None, {"from": _("The period has not begun yet: today is %(date)s")
                      % {"date": local_date(now)}}
    if (last - first).days + 1 > MAX_DAYS:
        return None, {"to": _("The period is too long: three years at most. Take the school year "
                              "or several reports")}
    try:
        return parse_period(f"{first.isoformat()}..{last.isoformat()}"), errors
    except PeriodError:  # cannot happen after the checks above; said in words all the same
        return None, {"to": _("These dates do not make a period")}


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
    ascii_name = f"ibc-{'report' if stem == REPORT_STEM else 'overdue'}-{span}.{ext}"
    russian = f"{stem} {span}.{ext}"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(russian)}"


# --- the reports page ---------------------------------------------------------------------------
@router.get("")
def reports_page(request: Request, period: str = Query(DEFAULT),
                 start: str = Query("", alias="from"),
                 end: str = Query("", alias="to"),
                 school: str = Query("", max_length=MAX_TEXT),
                 user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """Choose a period (and, for an account of every school, a school); its key figures,
    overrides and the report's downloads. A school's librarian sees their school's only."""
    st = state(request)
    now = today(request)
    sigla = page_school(request, user, school)
    period, start, end = period[:MAX_TEXT], start[:MAX_TEXT], end[:MAX_TEXT]
    chosen, errors = resolve(period, start, end, now)
    context: dict[str, Any] = {
        "title": _("Reports"), "section": "reports", "user": user, "choices": CHOICES,
        "choice": period if period in dict(CHOICES) or period == CUSTOM else "",
        "start": start if period == CUSTOM else "", "end": end if period == CUSTOM else "",
        "errors": errors, "today": local_date(now), "max_days": MAX_DAYS, "formats": list(FORMATS),
        "schools": school_choices(request, user), "school": sigla or "",
        "school_name": school_name(request, sigla),
    }
    if chosen is None:
        return render("reports_index.html", 400, **context)
    figures = key_figures(st.db, chosen, sigla=sigla, pupils=_pupils(request, sigla))
    context["period"] = period_title(period, chosen)
    context["figures"] = [{"key": k, "label": _(LABELS[k]), "value": figures[k], "meaning": _(MEANING[k])}
                          for k in FIGURE_ORDER]
    context["indicators"] = indicator_cards(figures)
    context["holds"] = hold_figures(st.db, chosen, sigla)
    context["pupils"] = figures["pupils"]
    context["pupils_set"] = figures["pupils_source"] == PUPILS_FROM_SETTING
    counts = override_counts(st.db, chosen, sigla=sigla)
    context["overrides"] = [
        {"label": f"{action_words(action)}: {rule_words(code)}", "count": n}
        for (action, _, code), n in ((key.partition(":"), n) for key, n in sorted(counts.items()))]
    context["query"] = _query(period, start, end, **({"school": sigla} if sigla else {}))
    if user.role == "admin":
        context["override_list"] = [
            {**x, "when": local_time(x["ts"]), "action": action_words(x["action"]),
             "rule": rule_words(x["refusal"])} for x in override_events(st.db, chosen, sigla=sigla)]
    return render("reports_index.html", **context)


@router.get("/download")
def download(request: Request, period: str = Query(DEFAULT),
             start: str = Query("", alias="from"),
             end: str = Query("", alias="to"),
             fmt: str = Query("pdf", alias="format"),
             school: str = Query("", max_length=MAX_TEXT),
             user: DeskUser = Depends(desk_user)) -> Response:
    """The full report of the period as a file (PDF with charts, XLSX or CSV): one school's
    (a school's librarian's own, or the one an account of every school chose) or every
    school's — `ibc report --school`'s report."""
    if fmt not in FORMATS:
        raise DeskInvalid(N_("File format: pdf, xlsx or csv"))
    sigla = page_school(request, user, school)
    chosen = _period_or_refuse(request, period, start, end)
    st = state(request)
    if not _generating.acquire(timeout=GENERATOR_WAIT_S):
        raise DeskError("desk_busy", N_("Other reports are being made now: try again in a minute"), 503)
    try:
        name = school_name(request, sigla) if sigla else st.settings.school.name
        report = build_report(st.db, chosen, sigla=sigla, school_name=name,
                              pupils=_pupils(request, sigla))
        data = _render(report, fmt)
    finally:
        _generating.release()
    return Response(data, media_type=FORMATS[fmt],
                    headers={"Content-Disposition": _filename(REPORT_STEM, chosen, today(request), fmt)})


def _pupils(request: Request, sigla: str | None) -> int:
    """The pupil count of the report's school: ``[school] pupils`` is the default school's (as
    `ibc report --school`: another school's report has none)."""
    school = state(request).settings.school
    return school.pupils if sigla in (None, school.sigla) else 0


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
                 school: str = Query("", max_length=MAX_TEXT),
                 user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """Overdue loans grouped by class (teachers and staff apart), printable one class a page:
    the readers of the librarian's school (an account of every school: every school's, or the
    school it chose)."""
    st = state(request)
    now = today(request)
    readers_of = page_scope(request, user, school)
    with st.db.session() as s:
        loans = overdue_loans(s, now, school=readers_of)
    groups = by_group(loans)
    options = [(g.key, group_name(g.key)) for g in groups]
    wanted = _group_param(group[:MAX_TEXT])
    error = ""
    if wanted is not None:
        shown = [g for g in groups if g.key == wanted]
        if not shown:
            error = (_("No overdue readers in the group “%(group)s” on %(date)s")
                     % {"group": printable(wanted), "date": local_date(now)})
    else:
        shown = groups
    chosen = readers_of.school if readers_of is not None and user.school is None else ""
    return render("reports_overdue.html", 200, title=_("Overdue by class"), section="reports",
                  user=user, groups=[{"key": g.key, "label": group_name(g.key), "loans": g.loans,
                                      "readers": g.readers} for g in shown],
                  options=options, wanted=wanted or "", error=error,
                  today=local_date(now), total=sum(len(g.loans) for g in shown),
                  query=urlencode({k: v for k, v in (("class", wanted), ("school", chosen)) if v}),
                  formats=OVERDUE_FORMATS, staff=STAFF, schools=school_choices(request, user),
                  school=chosen)


@router.get("/overdue/download")
def overdue_download(request: Request, group: str = Query("", alias="class"),
                     fmt: str = Query("csv", alias="format"),
                     school: str = Query("", max_length=MAX_TEXT),
                     user: DeskUser = Depends(desk_user)) -> Response:
    """The overdue list (one class, or all; the page's school) as CSV or XLSX; the export is
    written to the audit log."""
    if fmt not in OVERDUE_FORMATS:
        raise DeskInvalid(N_("File format: csv or xlsx"))
    st = state(request)
    now = today(request)
    wanted = _group_param(group[:MAX_TEXT])
    readers_of = page_scope(request, user, school)
    with st.db.transaction() as s:
        loans = overdue_loans(s, now, group=wanted, school=readers_of)
        audit(s, user.name, "overdue_exported", ip=client_ip(request), format=fmt,
              group=wanted or ALL_GROUPS, rows=len(loans))
    data = _overdue_csv(loans, now) if fmt == "csv" else _overdue_xlsx(loans, now)
    stem = OVERDUE_STEM + (f" {group_label(wanted)}" if wanted else "")
    return Response(data, media_type=FORMATS[fmt],
                    headers={"Content-Disposition": _filename(stem, None, now, fmt)})


# The files stay Russian (as the report's files do: the school hands them on as they are); the
# audit log's words are Russian too. Only the desk's pages switch language.
REPORT_STEM = "Отчёт ИБЦ"  # not UI text
OVERDUE_STEM = "Должники"  # not UI text
ALL_GROUPS = "все"  # not UI text
OVERDUE_HEADER = [  # the files' column names
    "Класс", "Читатель", "Карта", "Книга", "Штрихкод", "Вернуть до", "Дней просрочки"]  # not UI text
OVERDUE_AS_OF = "Должники на {date}"  # not UI text


def _overdue_rows(loans: list[OverdueLoan]) -> list[list]:
    return [[group_label(x.group), x.reader, x.card, x.title, x.barcode, local_date(x.due_date), x.days]
            for x in loans]


def _overdue_csv(loans: list[OverdueLoan], now: dt.date) -> bytes:
    """Semicolon-separated UTF-8 with a BOM (library.reports.tables.list_csv)."""
    return list_csv(OVERDUE_HEADER, _overdue_rows(loans))


def _overdue_xlsx(loans: list[OverdueLoan], now: dt.date) -> bytes:
    return list_xlsx(OVERDUE_STEM, OVERDUE_AS_OF.format(date=local_date(now)), OVERDUE_HEADER,
                     _overdue_rows(loans), (12, 24, 12, 50, 14, 14, 10))
