"""The OPAC's catalogue pages (anonymous): search, a record with its copies per school and
place, new arrivals — docs/OPAC.md «Catalogue pages».

Every page is a GET that reads only (it works on a read-only server) and shows what a pupil
may see (library.access: teachers-only media are never listed nor shown, whoever is signed
in: the OPAC is public). The search is the kiosk's engine (library.search.search, with its
wrong-layout and typo corrections and facets); holdings per school are library.schools', the
places the places module's (server.places_api). No page names a reader or records a search.

In a city (several schools) a visitor chooses «my school» (``school=SIGLA``): its holdings come
first, a filter shows only its copies, and the choice is kept in the cookie ``ibc_opac_school``
so a parent sets it once. A single school shows no school choice at all.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from library.access import Action, may
from library.schools import GONE, SchoolView, holdings, home_of, list_schools, scope
from library.search.facets import BBK_SECTIONS, bbk_label, decade_label
from library.storage.models import Copy, Loan, MediaItem, Record
from library.text import has_controls
from server.desk.i18n import N_, _
from server.opac.errors import OpacError, OpacNotFound
from server.opac.sessions import signed_in
from server.opac.web import PREFIX, is_opac_path, render, set_cookie, state

router = APIRouter(prefix=PREFIX, include_in_schema=False)

AUDIENCE = "pupil"  # the OPAC is public: a pupil's share of the catalogue, whoever is signed in
PER_PAGE = 20
PAGE_MAX = 500
QUERY_MAX = 500
VALUE_MAX = 200  # an author's or subject's name in a facet link
BACK_MAX = 600
NEW_DAYS = (7, 30, 90)
NEW_ON_HOME = 6
SCHOOL_COOKIE = "ibc_opac_school"
SCHOOL_COOKIE_AGE = 365 * 86400

# The facets a search may be narrowed by: query parameter → the check of its value (whole).
_FACET_CHECKS: dict[str, re.Pattern[str] | None] = {
    "author": None, "subject": None,  # free text, bounded and without control characters
    "bbk": None,  # a key of library.search.facets.BBK_SECTIONS
    "decade": re.compile(r"[12][0-9]{2}0"),
    "type": re.compile(r"[a-z_]{1,16}"),
    "language": re.compile(r"[a-z]{2,3}"),
    "age": re.compile(r"[0-9]{1,2}\+"),
}
FACET_ORDER = ("type", "author", "subject", "decade", "language", "age", "bbk")
FACET_TITLES = {"author": N_("Author"), "subject": N_("Subject"), "bbk": N_("Section"),
                "decade": N_("Published"), "type": N_("Kind of item"), "language": N_("Language"),
                "age": N_("Age")}
TYPE_NAMES = {"book": N_("Book"), "textbook": N_("Textbook"), "reference": N_("Reference book"),
              "media": N_("Electronic resource")}
LANGUAGE_NAMES = {"rus": N_("Russian"), "eng": N_("English"), "ger": N_("German"),
                  "fre": N_("French"), "spa": N_("Spanish"), "chi": N_("Chinese"),
                  "tat": N_("Tatar"), "bak": N_("Bashkir")}  # the desk's words (the same msgids)
# What a copy's status means to a visitor (never who has it).
STATUS_TEXT = {"available": N_("on the shelf now"), "reserved": N_("on the hold shelf"),
               "in_transit": N_("in transit"), "in_process": N_("being processed"),
               "ordered": N_("being processed"), "bindery": N_("being processed"),
               "not_for_loan": N_("for reading in the library")}
ON_LOAN = N_("lent out until %(date)s")


class BadRequest(OpacError):
    """An address the catalogue cannot answer (a query too long, a control character, a page
    or filter out of bounds): HTTP 422 with a page that says so."""

    def __init__(self, msgid: str) -> None:
        super().__init__("opac_bad_request", msgid, 422)


# --- request values ----------------------------------------------------------------------------
def _text(value: str | None, limit: int, what: str) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise BadRequest(what)
    if has_controls(value):
        raise BadRequest(N_("The search contains characters that cannot be searched for"))
    return value


def _number(value: str) -> bool:
    """ASCII digits only (str.isdigit also takes «²» and other scripts' digits)."""
    return value.isascii() and value.isdigit()


def _page(value: str | None) -> int:
    if value in (None, ""):
        return 1
    if not _number(value) or not 1 <= int(value) <= PAGE_MAX:
        raise BadRequest(N_("There is no such page of results"))
    return int(value)


def _facets(request: Request) -> dict[str, str]:
    """The facet filters of the address, each checked (a bad one is a 422 page)."""
    out: dict[str, str] = {}
    for key, check in _FACET_CHECKS.items():
        raw = request.query_params.get(key)
        if raw is None or raw == "":
            continue
        value = _text(raw, VALUE_MAX, N_("This filter is not valid"))
        ok = (value in BBK_SECTIONS if key == "bbk" else
              bool(check.fullmatch(value)) if check is not None else bool(value))
        if not ok:
            raise BadRequest(N_("This filter is not valid"))
        out[key] = value
    return out


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "") in ("1", "on", "true")


def safe_back(value: str | None, default: str = PREFIX + "/search") -> str:
    """`value` when it is an address of the OPAC (no other site, no scheme), else `default`."""
    if not value or len(value) > BACK_MAX or has_controls(value):
        return default
    path = value.split("?", 1)[0]
    if not is_opac_path(path) or "//" in value or "\\" in value or "/." in path:
        return default
    return value


# --- schools -----------------------------------------------------------------------------------
@dataclass
class Schools:
    """The schools of the server and the visitor's chosen one (None: not chosen or one school)."""

    all: list[SchoolView]
    default: str
    chosen: str | None = None
    set_cookie: str | None = None  # a new choice to remember
    forget: bool = False

    @property
    def city(self) -> bool:
        return len(self.all) > 1

    @property
    def siglas(self) -> set[str]:
        return {v.sigla for v in self.all}

    def name(self, sigla: str) -> str:
        return next((v.name for v in self.all if v.sigla == sigla), sigla)


def _schools(request: Request, session: Session) -> Schools:
    """The schools and the chosen one: ``school=`` in the address (checked; an empty value
    forgets the choice), else the cookie; a single school has no choice."""
    default = state(request).settings.school.sigla
    found = Schools(list_schools(session, default), default)
    if not found.city:
        return found
    asked = request.query_params.get("school")
    if asked is not None:
        if asked == "":
            found.forget = bool(request.cookies.get(SCHOOL_COOKIE))
            return found
        if asked not in found.siglas:
            raise BadRequest(N_("There is no such school"))
        found.chosen = asked
        if _kept_school(request) != asked:
            found.set_cookie = asked
        return found
    kept = _kept_school(request)
    found.chosen = kept if kept in found.siglas else None
    return found


def _kept_school(request: Request) -> str | None:
    """The sigla in the school cookie (percent-encoded: siglas are often Cyrillic)."""
    raw = request.cookies.get(SCHOOL_COOKIE)
    return unquote(raw) if raw and len(raw) <= 200 else None


def _finish(response: HTMLResponse, request: Request, schools: Schools) -> HTMLResponse:
    if schools.set_cookie:
        set_cookie(response, request, SCHOOL_COOKIE, quote(schools.set_cookie, safe=""),
                   max_age=SCHOOL_COOKIE_AGE)
    elif schools.forget:
        response.delete_cookie(SCHOOL_COOKIE, path=PREFIX)
    return response


# --- what a pupil may see ----------------------------------------------------------------------
def _visible(session: Session, rec: Record | None) -> bool:
    """A record the public catalogue shows: not deleted, and a media record only when a pupil
    may see its item (library.access; a media record without an item fails closed)."""
    if rec is None or rec.deleted:
        return False
    if rec.item_type != "media":
        return True
    level = session.scalar(select(MediaItem.access).where(MediaItem.record_id == rec.id).limit(1))
    return may(AUDIENCE, level, Action.SEE)


def _visible_clause() -> Any:
    """`_visible` as an SQL condition on records (for lists)."""
    from library.access import permitted

    media_ok = exists().where(and_(MediaItem.record_id == Record.id,
                                   permitted(MediaItem.access, AUDIENCE, Action.SEE)))
    return and_(Record.deleted.is_(False), or_(Record.item_type != "media", media_ok))


ALL_LENT = N_("all on loan")
NOT_ON_SHELF = N_("not on the shelf now")


def _why_not(statuses: set[str]) -> str:
    """Why none of these copies (their statuses) is on the shelf, in a visitor's words."""
    if "on_loan" in statuses:
        return _(ALL_LENT)
    if statuses == {"not_for_loan"}:
        return _(STATUS_TEXT["not_for_loan"])
    return _(NOT_ON_SHELF)


def _statuses(session: Session, record_ids: list[int], schools: Schools) -> dict:
    """{record_id: {school sigla: {status}}} of the copies that count (one grouped query)."""
    out: dict[int, dict[str, set[str]]] = {}
    if not record_ids:
        return out
    rows = session.execute(select(Copy.record_id, Copy.sigla, Copy.status)
                           .where(Copy.record_id.in_(record_ids), Copy.status.not_in(GONE))
                           .distinct()).all()
    siglas = schools.siglas
    for rid, sigla, status in rows:
        out.setdefault(rid, {}).setdefault(home_of(sigla, schools.default, siglas), set()).add(status)
    return out


def _availability(item: dict, per_school: list[dict], statuses: dict[str, set[str]],
                  schools: Schools) -> dict:
    """What a card says of a record's copies: how many are on the shelf, else why none is;
    in a city the same per school (`per_school`: library.schools.holdings's entries)."""
    every = set().union(*statuses.values()) if statuses else set()
    lines = [{**e, "why": _why_not(statuses.get(e["sigla"], set()))} for e in per_school]
    return {"available": item["available"], "copies": item["copies"], "why": _why_not(every),
            "schools": lines if schools.city else []}


def _hit_dicts(request: Request, session: Session, hits: list, schools: Schools) -> list[dict]:
    from server.places_api import hit_places

    out = [h.to_dict() for h in hits]
    if not schools.city:  # in a city the first copy's place may be another school's
        hit_places(request, session, out)
    return out


# --- pages -------------------------------------------------------------------------------------
@router.get("")
def home(request: Request) -> HTMLResponse:
    """The first page: the search field, a few newest arrivals, short help."""
    st = state(request)
    with st.db.transaction(write=False) as s:
        schools = _schools(request, s)
        newest, _total = _new_records(request, s, schools, 30, 0, NEW_ON_HOME, count=False)
    return _finish(render("home.html", title=_("Search the catalogue"), section="search",
                          reader=signed_in(request), newest=newest, schools=schools,
                          type_names=TYPE_NAMES), request, schools)


@dataclass
class Query:
    """A search as the address gives it (checked) and the addresses derived from it."""

    q: str = ""
    page: int = 1
    available: bool = False
    only: bool = False
    facets: dict[str, str] = field(default_factory=dict)
    school: str | None = None

    def params(self, **change: Any) -> dict[str, str]:
        items: dict[str, Any] = {"q": self.q, **self.facets}
        if self.available:
            items["available"] = "1"
        if self.only:
            items["only"] = "1"
        if self.page > 1:
            items["page"] = str(self.page)
        items.update(change)
        return {k: str(v) for k, v in items.items() if v not in (None, "")}

    def url(self, **change: Any) -> str:
        return f"{PREFIX}/search?{urlencode(self.params(**change))}"

    def plain_url(self) -> str:
        """The same words without any filter."""
        return f"{PREFIX}/search?{urlencode({'q': self.q})}"


@router.get("/search")
def search_page(request: Request) -> HTMLResponse:
    """Results of a search with the correction line, facets, paging and availability."""
    from library.search import search

    st = state(request)
    reader = signed_in(request)
    try:
        query = Query(q=_text(request.query_params.get("q"), QUERY_MAX,
                              N_("The search is too long: at most 500 characters")),
                      page=_page(request.query_params.get("page")),
                      available=_flag(request, "available"), only=_flag(request, "only"),
                      facets=_facets(request))
    except BadRequest as exc:
        with st.db.transaction(write=False) as s:
            schools = _schools_quiet(request, s)
        return render("search.html", exc.status, title=_("Search"), section="search",
                      reader=reader, problem=str(exc), query=Query(), schools=schools,
                      result=None, hits=[], pages=0)
    with st.db.transaction(write=False) as s:
        schools = _schools(request, s)
        query.school = schools.chosen
        query.only = query.only and schools.chosen is not None
        filters: dict[str, Any] = {}
        for key, value in query.facets.items():
            if key == "type":
                filters["types"] = [value]
            else:
                filters[key] = int(value) if key == "decade" else value
        if query.available:
            filters["available"] = True
        if query.only and schools.chosen:
            filters["school"] = scope(s, schools.chosen, schools.default)
        result = None
        hits: list[dict] = []
        if query.q or query.facets:
            result = search(s, query.q, limit=PER_PAGE, offset=(query.page - 1) * PER_PAGE,
                            facets=True, filters=filters or None, audience=AUDIENCE,
                            school=schools.chosen or schools.default, default_school=schools.default)
            hits = _hit_dicts(request, s, result.hits, schools)
            states = _statuses(s, [h["id"] for h in hits], schools)
            for h in hits:
                h["availability"] = _availability(h, h.get("schools", []), states.get(h["id"], {}),
                                                  schools)
    total = result.total if result else 0
    pages = min(PAGE_MAX, math.ceil(total / PER_PAGE))
    title = _("Search: %(q)s") % {"q": query.q} if query.q else _("Search")
    return _finish(render("search.html", title=title, section="search", reader=reader,
                          robots="noindex, follow", problem=None, query=query, schools=schools,
                          result=result, hits=hits,
                          pages=pages, facet_groups=_facet_groups(result, query),
                          type_names=TYPE_NAMES, facet_titles=FACET_TITLES, value_label=_value_label,
                          here_back=query.url()), request, schools)


def _schools_quiet(request: Request, session: Session) -> Schools:
    """The schools for a refusal page (a bad ``school=`` is ignored there)."""
    try:
        return _schools(request, session)
    except BadRequest:
        default = state(request).settings.school.sigla
        return Schools(list_schools(session, default), default)


def _value_label(key: str, value: str, default: str) -> str:
    """A facet value's label in the page's language where the OPAC has one (kinds, languages)."""
    if key == "decade" and _number(value):
        return decade_label(int(value))
    if key == "bbk" and value in BBK_SECTIONS:
        return bbk_label(value)
    names = TYPE_NAMES if key == "type" else LANGUAGE_NAMES if key == "language" else {}
    return _(names[value]) if value in names else default


def _facet_groups(result: Any, query: Query) -> list[dict]:
    """The facets as links: each value's address adds it to the search (page 1); a chosen
    value's address removes it."""
    groups = []
    facets = (result.facets or {}) if result else {}
    for key in FACET_ORDER:
        chosen = query.facets.get(key)
        values = []
        for item in facets.get(key, []):
            value = str(item["value"])
            if key == "bbk" and value not in BBK_SECTIONS:
                continue
            label = _value_label(key, value, item["label"])
            on = chosen == value
            values.append({"label": label, "count": item["count"], "on": on,
                           "url": query.url(page="", **{key: "" if on else value})})
        if chosen and not any(v["on"] for v in values):
            label = _value_label(key, chosen, chosen)
            values.insert(0, {"label": label, "count": None, "on": True,
                              "url": query.url(page="", **{key: ""})})
        if values and (len(values) > 1 or chosen):
            groups.append({"key": key, "title": FACET_TITLES[key], "values": values})
    return groups


@router.get("/record/{record_id}")
def record_page(request: Request, record_id: str) -> HTMLResponse:
    """One record: its description, a cover if the server has one, and its copies per school
    with their place and status; then the hold block (server/opac/account_pages.py)."""
    if not _number(record_id) or not 1 <= int(record_id) <= 2**62:
        raise OpacNotFound(N_("There is no such book in the catalogue"))
    st = state(request)
    reader = signed_in(request)
    back = safe_back(request.query_params.get("back"))
    with st.db.transaction(write=False) as s:
        rec = s.get(Record, int(record_id))
        if not _visible(s, rec):
            raise OpacNotFound(N_("There is no such book in the catalogue"))
        assert rec is not None
        schools = _schools(request, s)
        per_school = _copies(request, s, rec, schools)
        record = {"id": rec.id, "title": rec.title, "subtitle": rec.subtitle,
                  "authors": list(rec.authors or []), "publisher": rec.publisher,
                  "place": rec.place, "year": rec.year, "isbn": rec.isbn,
                  "annotation": rec.annotation, "subjects": list(rec.subjects or []),
                  "item_type": rec.item_type or "book", "age_rating": rec.age_rating,
                  "pages": rec.pages,
                  "cover": _cover_path(request, s, rec) is not None}
    # the school a hold would be picked up at: the reader's, else the visitor's chosen one, else
    # the default school; a copy on its shelf answers instead of a hold (library.circulation.holds)
    from library.circulation.holds import shelf_answers

    pickup = (reader.sigla if reader is not None and reader.sigla else None) or schools.chosen \
        or schools.default
    here = next((g for g in per_school if g["sigla"] == pickup), None) if schools.city else \
        (per_school[0] if per_school else None)
    on_shelf = shelf_answers(st.circulation.hold_rules, here["available"] if here else 0)
    return _finish(render("record.html", title=record["title"], section="search", reader=reader,
                          record=record, per_school=per_school, schools=schools,
                          city=schools.city, chosen=schools.chosen, back=back,
                          type_names=TYPE_NAMES, on_shelf=on_shelf,
                          on_shelf_at=here["name"] if here and schools.city else ""),
                   request, schools)


def _copies(request: Request, session: Session, rec: Record, schools: Schools) -> list[dict]:
    """The record's copies per school — ``[{sigla, name, available, total, copies: [{place,
    status, count, available}]}]`` (one line per place and status),
    the chosen school first, then schools with a copy on the shelf: place (the places module,
    else the shelf mark) and status (a loan's due date, never its reader)."""
    from server.places_api import copy_place, place_map

    copies = [c for c in rec.copies if c.status not in GONE]
    due = dict(session.execute(select(Loan.copy_id, Loan.due_date).where(
        Loan.copy_id.in_([c.id for c in copies]), Loan.returned_at.is_(None))).all()) if copies else {}
    pm = place_map(request, session)
    siglas = schools.siglas
    groups: dict[str, dict] = {}
    for c in copies:
        home = home_of(c.sigla, schools.default, siglas)
        group = groups.setdefault(home, {"sigla": home, "name": schools.name(home),
                                         "available": 0, "total": 0, "copies": []})
        label = copy_place(pm, c, rec.bbk)[0] or c.shelf_mark or rec.bbk or ""
        if c.status == "on_loan":
            day = due.get(c.id)
            status = _(ON_LOAN) % {"date": day.strftime("%d.%m")} if day else _("lent out")
        else:
            status = _(STATUS_TEXT.get(c.status, N_("being processed")))
        group["available"] += c.status == "available"
        group["total"] += 1
        same = next((e for e in group["copies"] if (e["place"], e["status"]) == (label, status)),
                    None)
        if same is None:
            group["copies"].append({"place": label, "status": status, "count": 1,
                                    "available": c.status == "available"})
        else:  # copies in one place with one status are one line («5 copies»)
            same["count"] += 1
    for group in groups.values():  # the copies on the shelf first
        group["copies"].sort(key=lambda c: not c["available"])
        group["why"] = _why_not({c.status for c in copies
                                 if home_of(c.sigla, schools.default, siglas) == group["sigla"]})
    return sorted(groups.values(), key=lambda g: (g["sigla"] != schools.chosen,
                                                  g["available"] == 0, g["name"]))


def _cover_path(request: Request, session: Session, rec: Record) -> Any:
    from library.covers import covers_folder, find_cover

    st = state(request)
    lib = st.settings.library
    barcodes = [c.barcode for c in rec.copies if c.barcode]
    return find_cover(covers_folder(lib.covers_dir, st.settings.data_dir or None),
                      [rec.isbn, *(rec.isbns or [])], barcodes, max_bytes=lib.covers_max_kb * 1024)


@router.get("/cover/{record_id}")
def cover(request: Request, record_id: str) -> Response:
    """The cover image of a public record (same origin: the pages' CSP allows only 'self')."""
    from library.covers import media_type

    if not _number(record_id) or not 1 <= int(record_id) <= 2**62:
        raise OpacNotFound()
    st = state(request)
    with st.db.transaction(write=False) as s:
        rec = s.get(Record, int(record_id))
        if not _visible(s, rec):
            raise OpacNotFound()
        assert rec is not None
        path = _cover_path(request, s, rec)
    if path is None:
        raise OpacNotFound()
    limit = st.settings.library.covers_max_kb * 1024
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError:
        raise OpacNotFound() from None
    kind = media_type(data[:8])
    if kind is None or len(data) > limit:
        raise OpacNotFound()
    return Response(data, media_type=kind, headers={"cache-control": "public, max-age=86400"})


def _new_records(request: Request, session: Session, schools: Schools, days: int, offset: int,
                 limit: int, only: bool = False, count: bool = True) -> tuple[list[dict], int]:
    """Records added in the last `days` days that have a copy (newest first), with their
    holdings per school: (page, total; 0 without `count`)."""
    from sqlalchemy import func

    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    copy_ok = [Copy.record_id == Record.id, Copy.status.not_in(GONE)]
    if only and schools.chosen:
        copy_ok.append(scope(session, schools.chosen, schools.default).clause(Copy.sigla))
    where = and_(_visible_clause(), Record.created_at >= since, exists().where(and_(*copy_ok)))
    total = (session.scalar(select(func.count()).select_from(Record).where(where)) or 0) if count else 0
    rows = session.execute(
        select(Record.id, Record.title, Record.authors, Record.year, Record.item_type)
        .where(where).order_by(Record.created_at.desc(), Record.id.desc())
        .offset(offset).limit(limit)).all()
    held = holdings(session, [r.id for r in rows], own=schools.chosen or schools.default,
                    default_sigla=schools.default)
    states = _statuses(session, [r.id for r in rows], schools)
    out = []
    for r in rows:
        per = held.get(r.id, [])
        counts = {"available": sum(e["available"] for e in per), "copies": sum(e["total"] for e in per)}
        out.append({"id": r.id, "title": r.title, "authors": list(r.authors or []), "year": r.year,
                    "type": r.item_type,
                    "availability": _availability(counts, per, states.get(r.id, {}), schools)})
    return out, total


@router.get("/new")
def new_page(request: Request) -> HTMLResponse:
    """New arrivals of the last 7, 30 or 90 days, newest first, with availability; paging."""
    st = state(request)
    raw_days = request.query_params.get("days", "30")
    if raw_days not in {str(d) for d in NEW_DAYS}:
        raise BadRequest(N_("Choose 7, 30 or 90 days"))
    days = int(raw_days)
    page = _page(request.query_params.get("page"))
    only = _flag(request, "only")
    with st.db.transaction(write=False) as s:
        schools = _schools(request, s)
        only = only and schools.chosen is not None
        items, total = _new_records(request, s, schools, days, (page - 1) * PER_PAGE, PER_PAGE,
                                    only=only)
    pages = min(PAGE_MAX, math.ceil(total / PER_PAGE))

    def url(**change: Any) -> str:
        params = {"days": str(days), "only": "1" if only else "", "page": str(page) if page > 1 else ""}
        params.update({k: str(v) for k, v in change.items()})
        return f"{PREFIX}/new?{urlencode({k: v for k, v in params.items() if v})}"

    return _finish(render("new.html", title=_("New arrivals"), section="new",
                          reader=signed_in(request), items=items, total=total, page=page,
                          pages=pages, days=days, day_choices=NEW_DAYS, only=only, url=url,
                          schools=schools, type_names=TYPE_NAMES,
                          here_back=url()), request, schools)
