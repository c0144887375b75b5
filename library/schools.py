"""Schools of the service: one home for what a school is and which copies are whose.

One `ibc serve` can serve a whole city's schools. A school is a row of ``schools`` (sigla
unique, name, address); copies, readers, places and terminals name their school by sigla. The
default school is ``[school] sigla`` + ``name`` from the settings: it is added on first use
(`ensure_default`), so a single-school install never types anything. A copy or reader with an
empty sigla (imported before schools existed) belongs to the default school (`own_siglas`).

    add_school(session, sigla, name, address=None) -> SchoolView   (SchoolExists, BadSchoolValue)
    get_school(session, sigla) -> SchoolView | None
    require_school(session, sigla) -> SchoolView                  (SchoolNotFound)
    list_schools(session, default=None) -> list[SchoolView]       the default school first
    ensure_default(session, sigla, name) -> SchoolView | None     get or add the default school
    scope(session, sigla, default_sigla) -> Scope                 whose copies/readers are a school's
    own_siglas(sigla, default_sigla) -> tuple[str, ...]           the siglas surely a school's
    home_of(sigla, default_sigla, siglas) -> str                   Scope's rule as one school's sigla
    mirror_schools(session, [(sigla, name)]) -> int               a terminal's replica of them
    holdings(session, record_ids, own=None) -> {record_id: [{sigla, name, available, total}]}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import QueryableAttribute, Session

from library.errors import RuleError
from library.storage.models import CopyStatus, School, as_utc
from library.text import has_controls

N_ = str  # marks msgids for extraction; translation happens in front ends
Translate = Callable[[str], str]

SIGLA_MAX = 32
NAME_MAX = 200
ADDRESS_MAX = 500
# Copies that count in holdings: the same as the search index's "copies" (library/search/indexer.py)
GONE = (CopyStatus.LOST.value, CopyStatus.WRITTEN_OFF.value)
_AVAILABLE = CopyStatus.AVAILABLE.value
assert all(v.replace("_", "").isalnum() for v in (*GONE, _AVAILABLE))  # safe as SQL literals


class SchoolError(RuleError):
    """A school cannot be added as asked; ``params`` fill the English message template
    (library.errors.RuleError)."""

    code = "school"
    template = N_("The school is not valid")


class SchoolExists(SchoolError):
    code, template = "school_exists", N_("A school with sigla {sigla} already exists")


class SchoolNotFound(SchoolError):
    code, template = "school_not_found", N_("There is no school with sigla {sigla}: ibc schools list")


class BadSchoolValue(SchoolError):
    """A sigla, name or address that is empty, too long or holds control characters."""

    code, template = "bad_school_value", N_("School {key}: {reason}")

    def message(self, translate: Translate | None = None) -> str:
        """«School sigla: must not be empty», the reason translated too."""
        tr = translate or (lambda s: s)
        reason = tr(str(self.params.get("reason", ""))).format(**self.params)
        return tr(self.template).format(key=tr(str(self.params.get("key", ""))), reason=reason)


EMPTY = N_("must not be empty")
TOO_LONG = N_("is too long (at most {n} characters)")
CONTROLS = N_("must not contain control characters")
KEYS = (N_("sigla"), N_("name"), N_("address"))


@dataclass(frozen=True)
class SchoolView:
    """A school as every front end shows it."""

    sigla: str
    name: str
    address: str | None
    created: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``ibc schools list --json``)."""
        return {"sigla": self.sigla, "name": self.name, "address": self.address,
                "created": self.created.isoformat()}


def _view(row: School) -> SchoolView:
    return SchoolView(row.sigla, row.name, row.address, as_utc(row.created))


def _clean(key: str, value: str | None, limit: int, *, required: bool = True) -> str | None:
    """`value` stripped, or BadSchoolValue (empty when required, too long, control characters)."""
    text = (value or "").strip()
    if not text:
        if required:
            raise BadSchoolValue(key=key, reason=EMPTY)
        return None
    if has_controls(text):
        raise BadSchoolValue(key=key, reason=CONTROLS)
    if len(text) > limit:
        raise BadSchoolValue(key=key, reason=TOO_LONG, n=limit)
    return text


def check_sigla(sigla: str) -> str:
    """The sigla as stored (stripped), or BadSchoolValue."""
    return _clean("sigla", sigla, SIGLA_MAX) or ""


def add_school(session: Session, sigla: str, name: str, address: str | None = None) -> SchoolView:
    """Add a school (SchoolExists for a sigla already taken; BadSchoolValue)."""
    code = check_sigla(sigla)
    title = _clean("name", name, NAME_MAX) or ""
    where = _clean("address", address, ADDRESS_MAX, required=False)
    if session.scalar(select(School.id).where(School.sigla == code)) is not None:
        raise SchoolExists(sigla=code)
    row = School(sigla=code, name=title, address=where)
    try:
        with session.begin_nested():  # a twin adding the same sigla at once: the unique key
            session.add(row)
            session.flush()
    except IntegrityError:
        raise SchoolExists(sigla=code) from None
    return _view(row)


def get_school(session: Session, sigla: str) -> SchoolView | None:
    """The school with this sigla, or None."""
    row = session.scalar(select(School).where(School.sigla == sigla.strip()))
    return _view(row) if row is not None else None


def require_school(session: Session, sigla: str) -> SchoolView:
    """The school with this sigla, or SchoolNotFound (a terminal enrolled for a school)."""
    found = get_school(session, sigla)
    if found is None:
        raise SchoolNotFound(sigla=sigla.strip())
    return found


def ensure_default(session: Session, sigla: str, name: str) -> SchoolView | None:
    """The default school (``[school]``), added when it is not there yet (first use); None when
    the settings give no usable sigla (empty, too long): nothing to add, nothing refused."""
    found = get_school(session, sigla)
    if found is not None:
        return found
    try:
        return add_school(session, sigla, (name or "").strip()[:NAME_MAX] or sigla)
    except SchoolExists:  # another process added it just now
        return get_school(session, sigla)
    except BadSchoolValue:
        return None


def list_schools(session: Session, default: str | None = None) -> list[SchoolView]:
    """Every school: the `default` sigla first, then by name."""
    rows = [_view(r) for r in session.scalars(select(School).order_by(School.name, School.sigla))]
    return sorted(rows, key=lambda v: v.sigla != default)


def mirror_schools(session: Session, rows: Iterable[tuple[str, str]]) -> int:
    """Make the schools table hold exactly `rows` (sigla, name) — a terminal's replica keeps
    the server's schools so its record page names them; returns how many rows changed."""
    wanted = {code: name for code, name in rows if code}
    have = {r.sigla: r for r in session.scalars(select(School))}
    changed = 0
    for code, row in have.items():
        if code not in wanted:
            session.delete(row)
            changed += 1
        elif row.name != wanted[code]:
            row.name = wanted[code]
            changed += 1
    for code, name in wanted.items():
        if code not in have:
            session.add(School(sigla=code, name=name))
            changed += 1
    return changed


@dataclass(frozen=True)
class Scope:
    """Whose copies and readers are one school's (`scope`). A sigla that names no school of the
    schools table — an empty one (imported before schools), a department code an ИРБИС export
    put in 910^d («АБ», «ЧЗ») — is the default school's: a single-school install, whose only
    school is the default, lends everything exactly as before."""

    school: str
    only: tuple[str, ...] = ()  # non-empty: exactly these siglas (a school other than the default)
    exclude: tuple[str, ...] = ()  # else: any sigla but these (the other schools; () = all)

    def owns(self, sigla: str | None) -> bool:
        """True when a copy or reader with this sigla is the school's."""
        code = sigla or ""
        return code in self.only if self.only else code not in self.exclude

    def clause(self, column: ColumnElement[Any] | QueryableAttribute[Any]) -> ColumnElement[bool]:
        """`owns` as an SQL condition on a sigla column (a reader's, a copy's): a list or a
        filter of a page shows the school's rows only."""
        code = func.coalesce(column, "")
        if self.only:
            return code.in_(self.only)
        return code.not_in(self.exclude) if self.exclude else true()


def scope(session: Session, sigla: str | None, default_sigla: str) -> Scope:
    """The Scope of school `sigla` (None: the default school)."""
    code = sigla or default_sigla
    if code != default_sigla:
        return Scope(code, only=(code,))
    others = tuple(sorted(c for c in session.scalars(select(School.sigla)) if c != code))
    return Scope(code, exclude=others)


def home_of(sigla: str | None, default_sigla: str, siglas: Iterable[str]) -> str:
    """The school a copy, reader or hold pickup with this sigla belongs to, as a sigla: the
    sigla itself when it names a school of the table (`siglas`), else the default school (the
    rule of `Scope`). With one school (or none) every sigla is the default school's."""
    names = siglas if isinstance(siglas, (set, frozenset)) else set(siglas)
    code = sigla or ""
    return code if len(names) > 1 and code in names else default_sigla


def own_siglas(sigla: str | None, default_sigla: str) -> tuple[str, ...]:
    """The siglas a school's copies carry for sure (None: the default school, which also owns an
    empty sigla); `scope` says the whole rule."""
    code = sigla or default_sigla
    return (code, "") if code == default_sigla else (code,)


def holdings(session: Session, record_ids: Iterable[int], own: str | None = None,
             default_sigla: str | None = None) -> dict[int, list[dict[str, Any]]]:
    """Each record's copies per school: ``[{"sigla", "name", "available", "total"}]``, school
    `own` first, then schools with a copy on the shelf, then by name. One grouped query for the
    whole page (plus the schools' names); copies lost or written off do not count. A copy whose
    sigla names no school (empty, a department code) counts for `default_sigla` when given (as
    `Scope` says); without it such a sigla stands alone, named by itself."""
    ids = sorted({int(i) for i in record_ids})
    if not ids:
        return {}
    # A page of integer ids and constant statuses: plain SQL on the connection, as the search
    # engine's own page queries (library/search/engine.py), not an ORM statement per search.
    conn = session.connection()
    rows = conn.exec_driver_sql(
        f"SELECT record_id, sigla, SUM(CASE WHEN status = '{_AVAILABLE}' THEN 1 ELSE 0 END), "
        f"COUNT(*) FROM copies WHERE record_id IN ({', '.join(str(i) for i in ids)}) "
        f"AND status NOT IN ({', '.join(repr(g) for g in GONE)}) GROUP BY record_id, sigla").all()
    names: dict[str, str] = dict(conn.exec_driver_sql("SELECT sigla, name FROM schools").all())
    per: dict[int, dict[str, list[int]]] = {}
    for rid, sigla, n_avail, n_total in rows:
        code = sigla if sigla in names or not default_sigla else default_sigla
        counts = per.setdefault(rid, {}).setdefault(code, [0, 0])
        counts[0] += int(n_avail or 0)
        counts[1] += int(n_total or 0)
    out: dict[int, list[dict[str, Any]]] = {}
    for rid, by_school in per.items():
        entries = [{"sigla": code, "name": names.get(code) or code, "available": a, "total": t}
                   for code, (a, t) in by_school.items()]
        entries.sort(key=lambda e: (e["sigla"] != own, e["available"] == 0, e["name"], e["sigla"]))
        out[rid] = entries
    return out

