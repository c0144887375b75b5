"""The monitoring report as one JSON-safe dict, and the key figures for the kiosk's service mode.

`build_report` gathers every figure from library.reports.figures for a period (and, for a
union catalogue, once more per school). Nothing is typed in; the dict holds counts, titles,
authors, media titles and search queries only — never a reader's name or card.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from library.reports import figures as F
from library.reports import indicators as ind
from library.reports.period import Period, parse_period
from library.search.facets import TYPE_LABELS, bbk_label
from library.storage.models import Event, Record

if TYPE_CHECKING:
    from library.storage.database import Database

CATEGORY_LABELS = {"pupil": "Учащиеся", "teacher": "Педагоги", "staff": "Сотрудники"}
NO_CLASS = "без класса"
MONTH_KINDS = ("checkout", "return", "renew", "visit", "search", "search_zero", "play")


def category_label(cat: str | None) -> str:
    """'Учащиеся' for pupil."""
    return CATEGORY_LABELS.get(cat or "", cat or "не указана")


def class_key(name: str) -> tuple:
    """Sort classes naturally: 1А, 2Б, …, 10А, 11Б, then 'без класса'."""
    m = re.match(r"(\d+)\s*(.*)", name)
    return (0, int(m[1]), m[2]) if m else (1, 0, name)


def _by_class(rows: Iterable[F.Group], field: str, acc: dict[str, dict[str, int]]) -> None:
    for cls, cat, n in rows:
        if cat in (None, "pupil") or cls:
            acc[cls or NO_CLASS][field] += n


def _by_category(rows: Iterable[F.Group], field: str, acc: dict[str, dict[str, int]]) -> None:
    for _cls, cat, n in rows:
        acc[cat or "unknown"][field] += n


def _readers(s: Session, scope: F.Scope, visits: list[F.Group], loans: list[F.Group]) -> dict:
    registered = F.registered_readers(s, scope)
    active, unlinked = F.active_readers(s, scope)
    fields = ("registered", "new", "active", "visits", "loans")
    classes: dict = defaultdict(lambda: dict.fromkeys(fields, 0))
    cats: dict = defaultdict(lambda: dict.fromkeys(fields, 0))
    reg = [(c, cat, n) for c, cat, n, _ in registered]
    new = [(c, cat, k) for c, cat, _, k in registered]
    for field, rows in (("registered", reg), ("new", new), ("active", active),
                        ("visits", visits), ("loans", loans)):
        _by_class(rows, field, classes)
        _by_category(rows, field, cats)
    return {
        "registered": sum(n for *_, n in reg), "new": sum(n for *_, n in new),
        "active": sum(n for *_, n in active), "active_exact": unlinked == 0,
        "unlinked_loans": unlinked,
        "by_class": [{"class": k, **classes[k]} for k in sorted(classes, key=class_key)],
        "by_category": [{"category": k, "label": category_label(k), **cats[k]}
                        for k in sorted(cats, key=lambda c: (c not in CATEGORY_LABELS, c))],
    }


def _fund(s: Session, scope: F.Scope) -> dict:
    raw = F.fund(s, scope)
    sections = sorted(raw["sections"].items(), key=lambda kv: (kv[0] == F.NO_SECTION, kv[0]))
    return {
        "titles": sum(t for t, _ in raw["types"].values()),
        "copies": sum(c for _, c in raw["types"].values()),
        "by_section": [{"section": k, "label": "Без ББК" if k == F.NO_SECTION else bbk_label(k),
                        "titles": t, "copies": c} for k, (t, c) in sections],
        "by_type": [{"type": k, "label": TYPE_LABELS.get(k, k), "titles": t, "copies": c}
                    for k, (t, c) in sorted(raw["types"].items(), key=lambda kv: -kv[1][0])],
        "movement": F.fund_movement(s, scope),
    }


def _pupil_readers(s: Session, scope: F.Scope) -> int:
    """Pupils among the readers registered by the end of the period."""
    return sum(n for _cls, cat, n, _new in F.registered_readers(s, scope) if cat == "pupil")


def _summary(s: Session, scope: F.Scope) -> dict:
    """The headline numbers (also one row of the per-school table)."""
    counts = F.event_counts(s, scope)
    fund = F.fund(s, scope)
    n_open, n_overdue = F.loans_at_end(s, scope)
    active, unlinked = F.active_readers(s, scope)
    return {
        "titles": sum(t for t, _ in fund["types"].values()),
        "copies": sum(c for _, c in fund["types"].values()),
        "readers": sum(n for _, _, n, _ in F.registered_readers(s, scope)),
        "active_readers": sum(n for *_, n in active),
        "visits": counts.get("visit", 0),
        "loans": counts.get("checkout", 0), "returns": counts.get("return", 0),
        "renewals": counts.get("renew", 0),
        "searches": counts.get("search", 0) + counts.get("search_zero", 0),
        "zero_searches": counts.get("search_zero", 0),
        "plays": counts.get("play", 0), "overrides": counts.get("override", 0),
        "on_loan": n_open, "overdue": n_overdue,
    }


def build_report(db: Database, period: Period, *, sigla: str | None = None,
                 school_name: str = "", now: dt.datetime | None = None, pupils: int = 0) -> dict:
    """Every figure of the monitoring report for `period` (one school when `sigla` is given).

    `pupils` is the school's pupil count (settings `[school] pupils`) for the relative
    indicators; 0 counts the pupils among the registered readers (library.reports.indicators).
    """
    scope = F.Scope(period, sigla)
    with db.session() as s:
        summary = _summary(s, scope)
        visits = F.by_reader_group(s, scope, "visit")
        loans = F.by_reader_group(s, scope, "checkout")
        months = F.monthly(s, scope, MONTH_KINDS)
        titles = F.read_titles(s, scope)
        play_kinds, top_media = F.plays(s, scope)
        n_imports, n_imported = F.imports(s, scope)
        schools = F.siglas(s) if sigla is None else [sigla]
        readers = _readers(s, scope, visits, loans)
        pupil_readers = sum(x["registered"] for x in readers["by_category"]
                            if x["category"] == "pupil")
        report = {
            "school": school_name, "sigla": sigla,
            "period": {"label": period.label, "title": period.title,
                       "first": period.first.isoformat(), "last": period.last.isoformat()},
            "generated_at": (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds"),
            "summary": summary,
            "indicators": ind.compute({**summary, "pupil_readers": pupil_readers}, pupils),
            "fund": _fund(s, scope),
            "readers": readers,
            "circulation": {
                "loans": summary["loans"], "returns": summary["returns"],
                "renewals": summary["renewals"], "late_returns": F.late_returns(s, scope),
                "on_loan_at_end": summary["on_loan"], "overdue_at_end": summary["overdue"],
                "refusals": F.refusals(s, scope),
                "overrides": F.overrides(s, scope),
                "holds": F.holds(s, scope),
                "by_month": [{"month": m.key, "label": m.label, **months[m.key]}
                             for m in period.months()],
            },
            "reading": {"top_titles": titles[:F.TOP], "top_authors": F.top_authors(titles)},
            "searches": {"total": summary["searches"], "zero": summary["zero_searches"],
                         "top": F.searches(s, scope, "search", F.TOP),
                         "zero_list": F.searches(s, scope, "search_zero", 50)},
            "media": {"plays": summary["plays"], "by_kind": play_kinds, "top": top_media},
            "catalogue": {"growth": F.catalogue_growth(s, scope), "imports": n_imports,
                          "imported_records": n_imported},
            "schools": ([{"sigla": x, **_summary(s, F.Scope(period, x))} for x in schools]
                        if len(schools) > 1 else []),
        }
    return report


def key_figures(db: Database, period: Period | str | None = None, *, sigla: str | None = None,
                today: dt.date | None = None, pupils: int = 0) -> dict:
    """The service mode's headline numbers; period None (or 'term') is the current school term.

    The current term is clipped to today. Returns {'period': label, 'first', 'last', the
    counts: titles, copies, readers, active_readers, visits, loans, returns, renewals,
    searches, zero_searches, plays, overrides, on_loan, overdue, pupil_readers, pupils, and
    the relative indicators (library.reports.indicators.KEYS: loans_per_reader,
    visits_per_reader, loans_per_copy, copies_per_reader, copies_per_pupil, coverage; None
    where the divisor is 0) with pupils_source}. `pupils` as in build_report.
    """
    if period is None or isinstance(period, str):
        period = parse_period(period or "term", today=today)
    scope = F.Scope(period, sigla)
    with db.session() as s:
        figures = _summary(s, scope)
        indicators = ind.compute({**figures, "pupil_readers": _pupil_readers(s, scope)}, pupils)
    return {"period": period.title, "first": period.first.isoformat(),
            "last": period.last.isoformat(), **figures, **indicators}


def override_counts(db: Database, period: Period, *, sigla: str | None = None) -> dict[str, int]:
    """Librarian overrides in the period by 'action:refusal code' (as in the report)."""
    with db.session() as s:
        return F.overrides(s, F.Scope(period, sigla))


def override_events(db: Database, period: Period, *, limit: int = 200,
                    sigla: str | None = None) -> list[dict]:
    """The period's overrides one by one, newest first (at most `limit`): ts, action, refusal,
    reason, by and the book's title (of one school when `sigla` is given, as override_counts).
    For an administrator's eyes: the report itself carries counts only."""
    scope = F.Scope(period, sigla)
    with db.session() as s:
        rows = s.execute(
            select(Event.ts, Event.payload, Record.title)
            .outerjoin(Record, Event.record_id == Record.id)
            .where(scope.events("override")).order_by(Event.ts.desc(), Event.id.desc())
            .limit(limit)).all()
    out = []
    for ts, payload, title in rows:
        p = payload if isinstance(payload, dict) else {}
        out.append({"ts": ts, "action": str(p.get("action") or "?"),
                    "refusal": str(p.get("refusal") or "?"), "reason": str(p.get("reason") or ""),
                    "by": str(p.get("by") or ""), "title": title or ""})
    return out
