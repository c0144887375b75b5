"""The report's figures: SQL aggregations (SQLAlchemy Core) over the event log and the catalogue.

Every query runs unchanged on SQLite and PostgreSQL. Time limits are bound as UTC datetimes
(SQLite keeps naive UTC text, PostgreSQL timestamptz), and months are bucketed with a CASE over
the period's month boundaries computed in Python, so no dialect date function is needed and a
month means the school's local month. PostgreSQL cannot match a parametrised CASE in SELECT to
the same CASE in GROUP BY, so bucketed queries group an inner select's labelled column.

Labels (ББК sections, letter case of queries, first authors) are folded in Python after SQL has
counted: SQLite's lower() does not fold Cyrillic, and ББК sections follow library.search.facets.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, distinct, func, literal, or_, select
from sqlalchemy.orm import Session

from library.reports.period import Period
from library.search.facets import bbk_section
from library.storage.models import Copy, Event, Loan, MediaItem, Reader, Record

if TYPE_CHECKING:
    from typing import Unpack  # Python 3.11+; annotations only

E, R, C = Event.__table__, Record.__table__, Copy.__table__
RD, L, M = Reader.__table__, Loan.__table__, MediaItem.__table__
NO_SECTION = "—"
TOP = 10
_Select = TypeVar("_Select", bound="Select[Unpack[tuple[Any, ...]]]")


@dataclass(frozen=True)
class Scope:
    """What a figure is about: a period and, for a union catalogue, one school's sigla."""

    period: Period
    sigla: str | None = None

    def in_period(self, col: ColumnElement[dt.datetime]) -> ColumnElement[bool]:
        """col within [start, end)."""
        return and_(col >= self.period.start, col < self.period.end)

    def events(self, *kinds: str) -> ColumnElement[bool]:
        """Conditions on events of these kinds in the period (and school, untagged included)."""
        cond = [E.c.kind.in_(kinds), self.in_period(E.c.ts)]
        if self.sigla is not None:
            cond.append(or_(E.c.sigla == self.sigla, E.c.sigla.is_(None)))
        return and_(*cond)

    def month_bucket(self, col: ColumnElement[dt.datetime]) -> ColumnElement[str | None]:
        """A CASE giving the 'YYYY-MM' key of the period month that contains col."""
        whens = [(and_(col >= m.start, col < m.end), literal(m.key)) for m in self.period.months()]
        return case(*whens, else_=None)


def _rows(s: Session, stmt: Select[Unpack[tuple[Any, ...]]]) -> list:
    return list(s.execute(stmt).all())


# --- the event log --------------------------------------------------------------------------
def event_counts(s: Session, scope: Scope) -> dict[str, int]:
    """How many events of each kind the period has."""
    cond = [scope.in_period(E.c.ts)]
    if scope.sigla is not None:
        cond.append(or_(E.c.sigla == scope.sigla, E.c.sigla.is_(None)))
    stmt = select(E.c.kind, func.count()).where(*cond).group_by(E.c.kind)
    return {kind: int(n) for kind, n in _rows(s, stmt)}


def monthly(s: Session, scope: Scope, kinds: tuple[str, ...]) -> dict[str, dict[str, int]]:
    """{month key: {kind: count}} for every month of the period (zeros included)."""
    inner = select(E.c.kind.label("kind"), scope.month_bucket(E.c.ts).label("month")).where(
        scope.events(*kinds)).subquery()
    stmt = select(inner.c.month, inner.c.kind, func.count()).group_by(inner.c.month, inner.c.kind)
    out = {m.key: dict.fromkeys(kinds, 0) for m in scope.period.months()}
    for month, kind, n in _rows(s, stmt):
        if month in out:
            out[month][kind] = int(n)
    return out


Group = tuple[str | None, str | None, int]  # (class, category, count)


def by_reader_group(s: Session, scope: Scope, kind: str) -> list[Group]:
    """(class, category, count) of one event kind, as recorded on the events."""
    stmt = (select(E.c.reader_class, E.c.reader_category, func.count())
            .where(scope.events(kind)).group_by(E.c.reader_class, E.c.reader_category))
    return [(cls, cat, int(n)) for cls, cat, n in _rows(s, stmt)]


def refusals(s: Session, scope: Scope) -> dict[str, int]:
    """Refused checkouts/renewals/returns by refusal code."""
    kinds = ("checkout_refused", "renew_refused", "checkin_refused")
    inner = select(E.c.kind.label("kind"), E.c.payload["code"].as_string().label("code")).where(
        scope.events(*kinds)).subquery()
    stmt = select(inner.c.kind, inner.c.code, func.count()).group_by(inner.c.kind, inner.c.code)
    out: Counter = Counter()
    for kind, code, n in _rows(s, stmt):
        out[f"{kind.removesuffix('_refused')}:{code or '?'}"] += int(n)
    return dict(out)


HOLD_KINDS = ("hold_placed", "hold_waiting", "hold_fulfilled", "hold_expired", "hold_cancelled")


def holds(s: Session, scope: Scope) -> dict[str, Any]:
    """Holds in the period (library/circulation/holds.py), from the event log: placed, set aside
    for a reader (waiting), fulfilled, expired, cancelled, and the median wait — days from
    placing a hold to its copy being set aside (``hold_waiting`` events' ``wait_days``)."""
    counts = dict.fromkeys(HOLD_KINDS, 0)
    stmt = select(E.c.kind, func.count()).where(scope.events(*HOLD_KINDS)).group_by(E.c.kind)
    for kind, n in _rows(s, stmt):
        counts[kind] = int(n)
    waits = sorted(int(w) for (w,) in _rows(s, select(E.c.payload["wait_days"].as_integer())
                                            .where(scope.events("hold_waiting")))
                   if w is not None)
    median: float | None = None
    if waits:
        mid = len(waits) // 2
        median = float(waits[mid]) if len(waits) % 2 else (waits[mid - 1] + waits[mid]) / 2
    return {"placed": counts["hold_placed"], "waiting": counts["hold_waiting"],
            "fulfilled": counts["hold_fulfilled"], "expired": counts["hold_expired"],
            "cancelled": counts["hold_cancelled"], "median_wait_days": median}


def overrides(s: Session, scope: Scope) -> dict[str, int]:
    """Librarian overrides (events 'override') by 'action:refusal code', e.g. 'checkout:has_overdue'.

    Only the counts: the override's reason and the librarian's name stay out of the report.
    """
    inner = select(E.c.payload["action"].as_string().label("action"),
                   E.c.payload["refusal"].as_string().label("refusal")).where(
        scope.events("override")).subquery()
    stmt = (select(inner.c.action, inner.c.refusal, func.count())
            .group_by(inner.c.action, inner.c.refusal))
    out: Counter = Counter()
    for action, refusal, n in _rows(s, stmt):
        out[f"{action or '?'}:{refusal or '?'}"] += int(n)
    return dict(out)


def late_returns(s: Session, scope: Scope) -> int:
    """Returns in the period of copies that were already overdue."""
    stmt = select(func.count()).where(scope.events("return"),
                                      E.c.payload["overdue"].as_boolean().is_(True))
    return int(s.scalar(stmt) or 0)


def read_titles(s: Session, scope: Scope) -> list[dict]:
    """Checkouts per title in the period, most read first: id, title, authors, count."""
    counted = (select(E.c.record_id.label("rid"), func.count().label("n"))
               .where(scope.events("checkout")).group_by(E.c.record_id).subquery())
    stmt = (select(R.c.id, R.c.title, R.c.authors, R.c.year, counted.c.n)  # JSON has no GROUP BY
            .join(counted, counted.c.rid == R.c.id).order_by(counted.c.n.desc(), R.c.title, R.c.id))
    return [{"record_id": rid, "title": title, "authors": list(authors or []), "year": year,
             "loans": int(cnt)} for rid, title, authors, year, cnt in _rows(s, stmt)]


def top_authors(titles: list[dict], top: int = TOP) -> list[dict]:
    """Checkouts per first author, from read_titles."""
    counts: Counter = Counter()
    for t in titles:
        if t["authors"]:
            counts[t["authors"][0]] += t["loans"]
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return [{"author": a, "loans": n} for a, n in ranked]


def searches(s: Session, scope: Scope, kind: str, top: int = 30) -> list[dict]:
    """The most frequent queries of one kind ('search' or 'search_zero'), case folded."""
    stmt = select(E.c.query, func.count()).where(scope.events(kind)).group_by(E.c.query)
    folded: Counter = Counter()
    shown: dict[str, str] = {}
    for q, n in _rows(s, stmt):
        key = " ".join((q or "").casefold().split())
        if key:
            folded[key] += int(n)
            spelled = " ".join((q or "").split())
            shown[key] = min(shown.get(key, spelled), spelled)  # deterministic spelling
    ranked = sorted(folded.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return [{"query": shown[k], "count": n} for k, n in ranked]


def plays(s: Session, scope: Scope, top: int = TOP) -> tuple[dict[str, int], list[dict]]:
    """Media plays by media kind, and the most played items."""
    n = func.count().label("n")
    stmt = (select(E.c.media_id, M.c.title, M.c.kind, n)
            .select_from(E.outerjoin(M, E.c.media_id == M.c.id))
            .where(scope.events("play")).group_by(E.c.media_id, M.c.title, M.c.kind)
            .order_by(n.desc(), M.c.title))
    kinds: Counter = Counter()
    items = []
    for mid, title, kind, cnt in _rows(s, stmt):
        kinds[kind or "other"] += int(cnt)
        items.append({"media_id": mid, "title": title or f"#{mid}", "kind": kind,
                      "plays": int(cnt)})
    return dict(kinds), items[:top]


# --- loans ------------------------------------------------------------------------------------
def _loan_scope(scope: Scope, stmt: _Select) -> _Select:
    if scope.sigla is None:
        return stmt
    return stmt.where(L.c.copy_id.in_(select(C.c.id).where(C.c.sigla == scope.sigla)))


def loans_at_end(s: Session, scope: Scope) -> tuple[int, int]:
    """(open, overdue) loans at the end of the period (or now, if sooner): out, and past due."""
    p = scope.period
    now = dt.datetime.now(dt.timezone.utc)
    end = min(p.end, now)
    as_of = min(p.last + dt.timedelta(days=1), now.astimezone(p.tz).date())  # overdue: due < as_of
    is_open = and_(L.c.issued_at < end, or_(L.c.returned_at.is_(None), L.c.returned_at >= end))
    overdue = func.coalesce(func.sum(case((L.c.due_date < as_of, 1), else_=0)), 0)
    stmt = _loan_scope(scope, select(func.count(), overdue).where(is_open))
    n_open, n_overdue = s.execute(stmt).one()
    return int(n_open), int(n_overdue)


def active_readers(s: Session, scope: Scope) -> tuple[list[Group], int]:
    """Distinct borrowers per (class, category) in the period, and loans no longer linked.

    Loans are anonymised some days after return, so a distinct count is exact only while no
    loan of the period has lost its reader link; the second value says how many have.
    """
    base = scope.in_period(L.c.issued_at)
    stmt = _loan_scope(scope, select(L.c.reader_class, L.c.reader_category,
                                     func.count(distinct(L.c.reader_id)))
                       .where(base, L.c.reader_id.is_not(None))
                       .group_by(L.c.reader_class, L.c.reader_category))
    groups = [(cls, cat, int(n)) for cls, cat, n in _rows(s, stmt)]
    unlinked = s.scalar(_loan_scope(scope, select(func.count())
                                    .where(base, L.c.reader_id.is_(None))))
    return groups, int(unlinked or 0)


# --- readers ----------------------------------------------------------------------------------
def registered_readers(s: Session, scope: Scope) -> list[tuple[str | None, str, int, int]]:
    """(class, category, registered by the end, of whom new in the period) for active readers."""
    p = scope.period
    new = func.coalesce(func.sum(case((RD.c.created_at >= p.start, 1), else_=0)), 0)
    stmt = (select(RD.c.class_name, RD.c.category, func.count(), new)
            .where(RD.c.active.is_(True), RD.c.created_at < p.end)
            .group_by(RD.c.class_name, RD.c.category))
    if scope.sigla is not None:
        stmt = stmt.where(RD.c.sigla == scope.sigla)
    return [(cls, cat, int(n), int(k)) for cls, cat, n, k in _rows(s, stmt)]


# --- the fund ---------------------------------------------------------------------------------
def _copy_join(scope: Scope, *extra: ColumnElement[bool]) -> ColumnElement[bool]:
    cond = [C.c.record_id == R.c.id, *extra]
    if scope.sigla is not None:
        cond.append(C.c.sigla == scope.sigla)
    return and_(*cond)


def fund(s: Session, scope: Scope) -> dict:
    """Titles and copies at the end of the period by ББК section and by item type.

    Titles count by creation date; copies are the current ones not written off (a copy has no
    date of its own beyond the optional 910^c, so a later write-off is not undone here).
    """
    p = scope.period
    live = C.c.status != "written_off"
    j = (R.join(C, _copy_join(scope, live)) if scope.sigla is not None
         else R.outerjoin(C, _copy_join(scope, live)))
    stmt = (select(R.c.bbk, R.c.item_type, func.count(distinct(R.c.id)), func.count(C.c.id))
            .select_from(j).where(R.c.deleted.is_(False), R.c.created_at < p.end)
            .group_by(R.c.bbk, R.c.item_type))
    sections: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    types: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for bbk, item_type, titles, copies in _rows(s, stmt):
        for key, acc in ((bbk_section(bbk) or NO_SECTION, sections), (item_type or "book", types)):
            acc[key][0] += int(titles)
            acc[key][1] += int(copies)
    return {"sections": {k: tuple(v) for k, v in sections.items()},
            "types": {k: tuple(v) for k, v in types.items()}}


def _yyyymmdd(d: dt.date) -> str:
    return f"{d:%Y%m%d}"


def fund_movement(s: Session, scope: Scope) -> dict[str, int]:
    """Titles added, copies received, written off and lost in the period.

    A copy is received in the period by its 910^c date (YYYYMMDD); a copy without that date
    counts when its record was created in the period. Write-offs and losses count copies whose
    status is now written_off/lost and whose row last changed in the period.
    """
    p = scope.period
    titles_added = s.scalar(
        select(func.count(distinct(R.c.id)))
        .select_from(R.join(C, _copy_join(scope)) if scope.sigla is not None else R)
        .where(R.c.deleted.is_(False), scope.in_period(R.c.created_at)))
    dated = and_(func.length(C.c.received) == 8, C.c.received >= _yyyymmdd(p.first),
                 C.c.received <= _yyyymmdd(p.last))
    undated = and_(or_(C.c.received.is_(None), C.c.received == ""), scope.in_period(R.c.created_at))
    copies_added = s.scalar(select(func.count()).select_from(R.join(C, _copy_join(scope)))
                            .where(R.c.deleted.is_(False), or_(dated, undated)))
    gone = {}
    for status in ("written_off", "lost"):
        gone[status] = s.scalar(select(func.count()).select_from(R.join(C, _copy_join(scope)))
                                .where(C.c.status == status, scope.in_period(C.c.updated_at)))
    return {"titles_added": int(titles_added or 0), "copies_added": int(copies_added or 0),
            "written_off": int(gone["written_off"] or 0), "lost": int(gone["lost"] or 0)}


def catalogue_growth(s: Session, scope: Scope) -> list[dict]:
    """Per month: titles created and the catalogue's size at the month's end."""
    p = scope.period
    base = [R.c.deleted.is_(False)]
    if scope.sigla is not None:
        base.append(R.c.id.in_(select(C.c.record_id).where(C.c.sigla == scope.sigla)))
    before = int(s.scalar(select(func.count()).where(*base, R.c.created_at < p.start)) or 0)
    inner = (select(scope.month_bucket(R.c.created_at).label("month"))
             .where(*base, scope.in_period(R.c.created_at)).subquery())
    stmt = select(inner.c.month, func.count()).group_by(inner.c.month)
    added = {m: int(n) for m, n in _rows(s, stmt)}
    out, total = [], before
    for m in p.months():
        total += added.get(m.key, 0)
        out.append({"month": m.key, "label": m.label, "added": added.get(m.key, 0), "total": total})
    return out


def imports(s: Session, scope: Scope) -> tuple[int, int]:
    """(import runs, records added or updated by them) in the period."""
    n, recs = s.execute(select(func.count(), func.coalesce(func.sum(E.c.count), 0))
                        .where(scope.events("import"))).one()
    return int(n), int(recs)


def siglas(s: Session) -> list[str]:
    """The schools holding copies (more than one: a union catalogue)."""
    return sorted(x for x in s.scalars(select(C.c.sigla).distinct()) if x is not None)
