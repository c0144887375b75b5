"""The desk's section /catalogue: Каталог: поиск, запись с экземплярами, загрузка и выгрузка MARC.

Search is the kiosk's and the API's engine (library.search) with its facets; a scanned barcode
or inventory number of a copy opens its record at once. Copies are added and changed by the
rules of library/copies.py (unique barcode, no status change while on loan, a new change-feed
version, the record re-indexed). MARC files are imported in the background
(server/desk/imports.py, table desk_imports) and exported as a streamed download
(library.marc.export).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import queue
import tempfile
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import anyio
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy import desc, func, or_, select
from starlette.datastructures import UploadFile

from library import copies as copy_rules
from library.circulation.errors import CirculationError as HoldRefused
from library.errors import ImportFormatError, NotFound
from library.marc.formats import IRBIS_TEXT, ISO2709, MARCXML
from library.places.match import PlaceMap
from library.storage.models import Copy, CopyStatus, Loan, Record
from library.text import printable
from server.desk import imports
from server.desk.audit import audit
from server.desk.errors import DeskInvalid, DeskNotFound
from server.desk.holds_common import MAX_CARD
from server.desk.holds_common import clean as hold_clean
from server.desk.holds_common import new_txn as new_hold_txn
from server.desk.holds_common import refusal_text as hold_refusal_text
from server.desk.holds_common import state_text as hold_state_text
from server.desk.holds_common import txn_ok as hold_txn_ok
from server.desk.i18n import N_, _
from server.desk.sessions import DeskUser
from server.desk.web import (
    PREFIX,
    check_form,
    client_ip,
    desk_user,
    local_date,
    local_time,
    render,
    state,
)
from server.models import DeskImport

BASE = PREFIX + "/catalogue"
IMPORT_PATH = BASE + "/import"
router = APIRouter(prefix=BASE, include_in_schema=False)
_log = logging.getLogger("ibc.desk.catalogue")

PAGE = 20
MAX_QUERY = 500
MAX_FILTER = 200
MAX_OFFSET = 10_000
STATUS_NAMES = {  # English msgids, shown translated (_)
    CopyStatus.AVAILABLE.value: N_("on the shelf"), CopyStatus.ON_LOAN.value: N_("on loan"),
    CopyStatus.ORDERED.value: N_("ordered"), CopyStatus.BINDERY.value: N_("at the bindery"),
    CopyStatus.LOST.value: N_("lost"), CopyStatus.NOT_FOR_LOAN.value: N_("library use only"),
    CopyStatus.WRITTEN_OFF.value: N_("written off"), CopyStatus.RESERVED.value: N_("on hold"),
    CopyStatus.IN_PROCESS.value: N_("being processed"),
}
FACETS = ("available", "type", "author", "subject", "bbk", "decade", "language", "age")
# the search engine's facets (library.search.facets) named and labelled in the desk's language
FACET_NAMES = {
    "author": N_("Author"), "subject": N_("Subject"), "bbk": N_("BBK section"),
    "decade": N_("Years published"), "type": N_("Type of publication"), "language": N_("Language"),
    "available": N_("Availability"), "age": N_("Age"),
}
FACET_VALUES = {
    "type": {"book": N_("Book"), "textbook": N_("Textbook"), "reference": N_("Reference book")},
    "language": {"rus": N_("Russian"), "eng": N_("English"), "ger": N_("German"), "fre": N_("French"),
                 "spa": N_("Spanish"), "chi": N_("Chinese"), "tat": N_("Tatar"), "bak": N_("Bashkir")},
    "available": {"yes": N_("On the shelf"), "no": N_("Not on the shelf")},
}
CONTAINERS = {ISO2709: "ISO 2709 (.mrc, .iso)", MARCXML: "MARCXML (.xml)",
              IRBIS_TEXT: N_("IRBIS text (.txt)")}
ENCODINGS = {"utf-8": "UTF-8", "cp1251": N_("Windows-1251 (IRBIS, Windows)"), "cp866": "DOS (cp866)",
             "koi8-r": "KOI8-R", "marc-8": N_("MARC-8 (ISO 2709 only)")}
STATES = {"running": N_("in progress"), "done": N_("finished"), "failed": N_("failed"),
          "interrupted": N_("interrupted")}
EXPORTS = {("iso2709", "rusmarc"): ("rusmarc", "mrc"), ("iso2709", "marc21"): ("marc21", "mrc"),
           ("marcxml", ""): ("marcxml", "xml"), ("marcxml", "rusmarc"): ("marcxml", "xml"),
           ("marcxml", "marc21"): ("marcxml", "xml")}
FIELD_NAMES = {"barcode": N_("Barcode"), "inventory_number": N_("Inventory number"),
               "shelf_mark": N_("Shelf mark"), "collection": N_("Collection (place)"), "status": N_("Status")}
ON_LOAN_REFUSED = {  # a status wanted for a copy on loan: why not (%(date)s: when it is due)
    "written_off": N_("The copy is on loan until %(date)s: it cannot be written off until it comes back. "
                      "Take it back in Circulation first."),
    "lost": N_("The copy is on loan until %(date)s: it cannot be marked lost until it comes back. "
               "Take it back in Circulation first."),
    "available": N_("The copy is on loan until %(date)s: it cannot be put back on the shelf until it comes "
                    "back. Take it back in Circulation first."),
    "bindery": N_("The copy is on loan until %(date)s: it cannot be sent to the bindery until it comes back. "
                  "Take it back in Circulation first."),
}
MULTIPART_SLACK = 64 * 1024  # the form's other fields and the part headers around the file


# ---------------------------------------------------------------- search

def _text(value: str | None, limit: int) -> str:
    """A typed value as searched: printable, trimmed, cut to `limit` characters."""
    return printable((value or "").replace("\t", " ").replace("\n", " ")).strip()[:limit]


def _chosen(request: Request) -> dict[str, str]:
    """The facet values chosen in the address (?author=…&decade=…)."""
    out = {}
    for key in FACETS:
        value = _text(request.query_params.get(key), MAX_FILTER)
        if not value:
            continue
        if key == "decade" and not (value.isdigit() and len(value) <= 4):
            continue
        if key == "available" and value != "yes":
            continue
        out[key] = value
    return out


def _filters(chosen: dict[str, str]) -> dict[str, Any]:
    """The search engine's filters for the chosen facet values."""
    out: dict[str, Any] = {}
    for key, value in chosen.items():
        if key == "available":
            out["available"] = True
        elif key == "type":
            out["types"] = [value]
        elif key == "decade":
            out["decade"] = int(value)
        else:
            out[key] = value
    return out


def _url(path: str, **params: Any) -> str:
    clean = {k: v for k, v in params.items() if v not in (None, "", 0)}
    return path + ("?" + urlencode(clean) if clean else "")


def _copy_by_code(request: Request, code: str) -> tuple[int, int] | None:
    """(record id, copy id) of the one copy with this barcode or inventory number."""
    if not code or len(code) > 64 or any(ch.isspace() for ch in code):
        return None
    with state(request).db.session() as s:
        rows = s.execute(select(Copy.record_id, Copy.id).join(Record, Record.id == Copy.record_id)
                         .where(or_(Copy.barcode == code, Copy.inventory_number == code),
                                Record.deleted.is_(False)).limit(2)).all()
    return (rows[0][0], rows[0][1]) if len(rows) == 1 else None


@router.get("", response_model=None)
def search_page(request: Request, q: str = "", page: int = Query(1, ge=1, le=MAX_OFFSET // PAGE),
                user: DeskUser = Depends(desk_user)) -> Response:
    """Search with facets; a copy's barcode or inventory number opens its record."""
    from library.search import search

    query = _text(q, MAX_QUERY)
    chosen = _chosen(request)
    if query and not chosen and page == 1:
        hit = _copy_by_code(request, query)
        if hit:
            return RedirectResponse(f"{BASE}/record/{hit[0]}#copy-{hit[1]}", status_code=303)
    result = None
    facets: list[dict] = []
    st = state(request)
    if query or chosen:
        with st.db.transaction(write=False) as s:
            # the union catalogue, each hit's copies per school, the librarian's school first
            result = search(s, query, limit=PAGE, offset=(page - 1) * PAGE, facets=True,
                            filters=_filters(chosen), audience="staff",
                            school=user.school or st.settings.school.sigla,
                            default_school=st.settings.school.sigla)
        for key in FACETS:
            values = (result.facets or {}).get(key) or []
            items = []
            for v in values:
                value = str(v["value"])
                if key == "available" and value != "yes":
                    continue
                link = _url(BASE, q=query, **{**chosen, key: value}) if chosen.get(key) != value else ""
                label = FACET_VALUES.get(key, {}).get(value)
                items.append({"label": _(label) if label else v["label"], "count": v["count"],
                              "url": link, "on": chosen.get(key) == value})
            if items:
                facets.append({"key": key, "title": _(FACET_NAMES[key]), "items": items})
    with st.db.session() as s:
        size = s.scalar(select(func.count()).select_from(Record).where(Record.deleted.is_(False)))
    removable = [{"title": _(FACET_NAMES[k]), "value": v,
                  "url": _url(BASE, q=query, **{kk: vv for kk, vv in chosen.items() if kk != k})}
                 for k, v in chosen.items()]
    pages = {}
    if result is not None:
        if page > 1:
            pages["prev"] = _url(BASE, q=query, page=page - 1, **chosen)
        if page * PAGE < result.total and page * PAGE < MAX_OFFSET:
            pages["next"] = _url(BASE, q=query, page=page + 1, **chosen)
    export_params = {"q": query, **chosen}
    return render("catalogue_search.html", title=_("Catalogue"), section="catalogue", user=user,
                  q=query, result=result, suggestion=_suggestion(result), facets=facets,
                  chosen=removable, page=page,
                  pages=pages, first=(page - 1) * PAGE + 1, size=size,
                  export_query=urlencode({k: v for k, v in export_params.items() if v}),
                  typed=bool(q.strip()))


def _suggestion(result: Any) -> str:
    """The engine's «did you mean» (library.search.engine.SUGGEST) in the desk's language."""
    from library.search.engine import SUGGEST

    text = (result.suggestion or "") if result is not None else ""
    head, _sep, tail = SUGGEST.partition("{}")
    if text.startswith(head) and text.endswith(tail) and len(text) >= len(head) + len(tail):
        return _("Did you mean “%(words)s”?") % {"words": text[len(head):len(text) - len(tail)]}
    return text


# ---------------------------------------------------------------- record and copies

def _record(s: Any, record_id: int) -> Record:
    rec = s.get(Record, record_id)
    if rec is None or rec.deleted:
        raise DeskNotFound(N_("No such record in the catalogue"))
    return rec


def _place_options(s: Any, sigla: str) -> tuple[PlaceMap, list[dict]]:
    """The school's places, and the collections (фонды) to choose from: those the places' rules
    name (with the place when the collection alone decides it) and those copies already have."""
    from library.places.store import load_rows

    rows = load_rows(s, sigla)
    pm = PlaceMap(rows, sigla=sigla)
    options: dict[str, str] = {}
    for row in rows:
        for _rule_id, spec in row.rules:
            if not spec.collection:
                continue
            if not (spec.shelf or spec.bbk or spec.letters):
                options[spec.collection] = f"{spec.collection} — {row.view.label}"
            else:
                options.setdefault(spec.collection, spec.collection)
    used = s.scalars(select(Copy.collection).where(Copy.sigla == sigla, Copy.collection.is_not(None))
                     .distinct().order_by(Copy.collection).limit(100))
    for name in used:
        if name:
            options.setdefault(name, name)
    return pm, [{"value": k, "label": options[k]} for k in sorted(options, key=str.casefold)]


def _copy_rows(s: Any, rec: Record, pm: PlaceMap) -> list[dict]:
    dues = dict(s.execute(select(Loan.copy_id, Loan.due_date).join(Copy, Loan.copy_id == Copy.id)
                          .where(Copy.record_id == rec.id, Loan.returned_at.is_(None))).all())
    rows = []
    for c in rec.copies:
        place = pm.resolve(shelf_mark=c.shelf_mark, collection=c.collection, bbk=rec.bbk,
                           sigla=c.sigla) if len(pm) else None
        due = dues.get(c.id)
        status = _(STATUS_NAMES[c.status]) if c.status in STATUS_NAMES else c.status
        if due is not None:
            status = _("on loan until %(date)s") % {"date": local_date(due)}
        rows.append({"id": c.id, "barcode": c.barcode or "", "inventory": c.inventory_number or "",
                     "shelf": c.shelf_mark or "", "collection": c.collection or "",
                     "place": place.label if place else "", "status": status,
                     "status_code": c.status, "sigla": c.sigla})
    return rows


def _record_page(request: Request, user: DeskUser, record_id: int, *, status: int = 200,
                 error: str = "", error_field: str = "", form: copy_rules.CopyFields | None = None,
                 saved: int | None = None, hold_error: str = "", hold_notice: str = "",
                 hold_card: str = "") -> HTMLResponse:
    st = state(request)
    sigla = st.settings.school.sigla
    with st.db.session() as s:
        rec = _record(s, record_id)
        pm, places = _place_options(s, sigla)
        copies = _copy_rows(s, rec, pm)
        info = {"id": rec.id, "title": rec.title, "subtitle": rec.subtitle,
                "responsibility": rec.responsibility, "authors": list(rec.authors or []),
                "publisher": rec.publisher, "place": rec.place, "year": rec.year,
                "isbns": list(rec.isbns or []) or ([rec.isbn] if rec.isbn else []),
                "subjects": list(rec.subjects or []), "annotation": rec.annotation,
                "age_rating": rec.age_rating, "bbk": rec.bbk, "udc": rec.udc, "pages": rec.pages,
                "key": rec.key}
        textbook = _textbook_line(s, rec.id)
    queue = [{"position": q.position, "hold_id": q.hold_id, "reader": q.reader, "card": q.card or "",
              "placed": local_time(q.placed_at), "state": q.state, "words": hold_state_text(q),
              "until": local_date(q.pickup_until), "barcode": q.barcode or ""}
             for q in st.circulation.hold_queue(rec.id)]
    saved_copy = next((c for c in copies if c["id"] == saved), None) if saved else None
    return render("catalogue_record.html", status, title=rec.title[:80] or _("Record"),
                  section="catalogue", user=user, rec=info, copies=copies, places=places,
                  statuses=[(k, _(STATUS_NAMES[k])) for k in copy_rules.HAND_STATUSES],
                  form=form or copy_rules.CopyFields(), error=error, error_field=error_field,
                  saved=saved_copy, many_siglas=len({c["sigla"] for c in copies}) > 1,
                  textbook=textbook, queue=queue, hold_error=hold_error, hold_notice=hold_notice,
                  hold_card=hold_card, hold_txn=new_hold_txn(), max_card=MAX_CARD,
                  autofocus_hold=bool(hold_error or hold_notice))


def _textbook_line(s: Any, record_id: int) -> str | None:
    """«Математика, 5 кл., ФПУ 1.1.2.1.1.1» for a textbook (library.textbooks.titles' rule and
    data, read only), None for a record that is not one."""
    from library.textbooks.titles import textbook_records

    rows = textbook_records(s, record_ids=[record_id])
    if not rows:
        return None
    t = rows[0]
    parts = [t.subject] if t.subject else []
    if t.grades:
        parts.append(_("grade %(g)s") % {"g": t.grades})
    if t.series:
        parts.append(t.series)
    if t.fpu_number:
        parts.append(_("FPU %(n)s") % {"n": t.fpu_number})
    return ", ".join(parts) or _("subject and grades not set")


@router.get("/record/{record_id}")
def record_page(request: Request, record_id: int, saved: int | None = Query(None, ge=1, le=2**62),
                user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """A record and its copies, with the form to add a copy."""
    if not 1 <= record_id <= 2**62:
        raise DeskNotFound(N_("No such record in the catalogue"))
    return _record_page(request, user, record_id, saved=saved)


@router.post("/record/{record_id}/holds")
def place_hold(request: Request, record_id: int, csrf: str = Form(""), card: str = Form(""),
               txn: str = Form(""), user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """«Заказать для читателя»: queue the reader with the scanned card for this record (the
    core's rules, library/circulation/holds.py; no desk override), exactly once per form."""
    check_form(user, csrf)
    if not 1 <= record_id <= 2**62:
        raise DeskNotFound(N_("No such record in the catalogue"))
    code = hold_clean(card, 4096)
    if not code or len(code) > MAX_CARD:
        return _record_page(request, user, record_id, status=400, hold_card=code[:MAX_CARD],
                            hold_error=_("Scan or type the reader's card") if not code
                            else _("Too long or invalid code"))
    if not hold_txn_ok(txn):
        return _record_page(request, user, record_id, status=400, hold_card=code,
                            hold_error=_("The form is out of date: do it again"))
    ip = client_ip(request)

    def record(s: Any, hold: Any) -> None:
        audit(s, user.name, "hold_place", ip=ip, card=code, record=hold.record_id,
              hold=hold.hold_id, title=hold.title)

    svc = state(request).circulation
    try:
        hold = svc.place_hold(code, record_id, txn, terminal=f"desk:{user.name}"[:64],
                              by=f"desk:{user.name}"[:80], record=record)
    except HoldRefused as exc:
        return _record_page(request, user, record_id, status=409, hold_card=code,
                            hold_error=hold_refusal_text(exc))
    who = next((q.reader for q in svc.hold_queue(record_id) if q.hold_id == hold.hold_id), "")
    words = _("%(who)s is no. %(n)s in the queue") % {"who": who, "n": hold.position}
    if hold.replayed:
        words = _("Already done (the form was sent again): %(words)s") % {"words": words}
    return _record_page(request, user, record_id, hold_notice=words)


def _refusal(exc: copy_rules.CopyEditError) -> tuple[str, int]:
    """The words (in the request's language) and status of a refused copy change."""
    if isinstance(exc, copy_rules.BarcodeTaken):
        return _("Barcode %(barcode)s already belongs to another copy (record no. %(record)s). "
                 "Check the number.") % {"barcode": exc.barcode, "record": exc.record_id}, 409
    if isinstance(exc, copy_rules.CopyOnLoan):
        why = ON_LOAN_REFUSED.get(exc.wanted, N_("The copy is on loan until %(date)s: it cannot be "
                                                 "changed until it comes back. Take it back in "
                                                 "Circulation first."))
        return _(why) % {"date": local_date(exc.due)}, 409
    field = _(FIELD_NAMES.get(exc.field, N_("Field")))
    text = str(exc)
    if "longer than" in text:
        return _("%(field)s: too long (at most %(n)s characters).") % {
            "field": field, "n": copy_rules.LIMITS[exc.field]}, 400
    if "control characters" in text:
        return _("%(field)s: characters that are not allowed.") % {"field": field}, 400
    if "spaces" in text:
        return _("%(field)s: no spaces.") % {"field": field}, 400
    if "needs a barcode" in text:
        return _("Enter a barcode or an inventory number."), 400
    return _("This status cannot be chosen."), 400


def _typed(barcode: str, inventory_number: str, shelf_mark: str, collection: str,
           status: str) -> copy_rules.CopyFields:
    cut = {k: (v or "")[:1000] for k, v in (("barcode", barcode), ("inventory_number", inventory_number),
                                             ("shelf_mark", shelf_mark), ("collection", collection),
                                             ("status", status))}
    return copy_rules.CopyFields(**cut)


@router.post("/record/{record_id}/copies", response_model=None)
def add_copy(request: Request, record_id: int, csrf: str = Form(""), barcode: str = Form(""),
             inventory_number: str = Form(""), shelf_mark: str = Form(""),
             collection: str = Form(""), status: str = Form("available"),
             user: DeskUser = Depends(desk_user)) -> Response:
    """Add a copy to the record; the page again with the refusal in words."""
    check_form(user, csrf)
    if not 1 <= record_id <= 2**62:
        raise DeskNotFound(N_("No such record in the catalogue"))
    typed = _typed(barcode, inventory_number, shelf_mark, collection, status)
    st = state(request)
    try:
        with st.db.transaction() as s:
            _record(s, record_id)
            # a school's librarian adds their school's copy (docs/SCHOOLS.md)
            copy = copy_rules.add_copy(s, record_id, typed, sigla=user.school or st.settings.school.sigla)
            audit(s, user.name, "copy_added", ip=client_ip(request), record=record_id,
                  copy=copy.id, barcode=copy.barcode, inventory=copy.inventory_number,
                  status=copy.status)
            new_id = copy.id
    except copy_rules.CopyEditError as exc:
        message, code = _refusal(exc)
        return _record_page(request, user, record_id, status=code, error=message,
                            error_field=exc.field, form=typed)
    except NotFound:
        raise DeskNotFound(N_("No such record in the catalogue")) from None
    return RedirectResponse(f"{BASE}/record/{record_id}?saved={new_id}#copy-{new_id}", status_code=303)


def _copy_page(request: Request, user: DeskUser, copy_id: int, *, status: int = 200,
               error: str = "", error_field: str = "",
               form: copy_rules.CopyFields | None = None) -> HTMLResponse:
    st = state(request)
    with st.db.session() as s:
        copy = s.get(Copy, copy_id)
        if copy is None:
            raise DeskNotFound(N_("No such copy"))
        rec = _record(s, copy.record_id)
        pm, places = _place_options(s, st.settings.school.sigla)
        row = next(r for r in _copy_rows(s, rec, pm) if r["id"] == copy.id)
        due = copy_rules.open_loan_due(s, copy.id)
        current = copy_rules.CopyFields(copy.barcode or "", copy.inventory_number or "",
                                        copy.shelf_mark or "", copy.collection or "", copy.status)
        title = rec.title
    statuses = [(k, _(STATUS_NAMES[k])) for k in copy_rules.HAND_STATUSES]
    if current.status not in copy_rules.HAND_STATUSES:
        name = STATUS_NAMES.get(current.status)
        statuses.insert(0, (current.status, _(name) if name else current.status))
    shown = form or current
    if places and shown.collection and shown.collection not in {p["value"] for p in places}:
        places = [{"value": shown.collection, "label": shown.collection}, *places]
    return render("catalogue_copy.html", status, title=_("Copy"), section="catalogue", user=user,
                  copy=row, record_id=rec.id, record_title=title, form=shown, statuses=statuses,
                  places=places, due=local_date(due) if due else "", error=error,
                  error_field=error_field)


@router.get("/copy/{copy_id}")
def copy_page(request: Request, copy_id: int, user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """The copy editor."""
    if not 1 <= copy_id <= 2**62:
        raise DeskNotFound(N_("No such copy"))
    return _copy_page(request, user, copy_id)


@router.post("/copy/{copy_id}", response_model=None)
def save_copy(request: Request, copy_id: int, csrf: str = Form(""), barcode: str = Form(""),
              inventory_number: str = Form(""), shelf_mark: str = Form(""),
              collection: str = Form(""), status: str = Form(""),
              user: DeskUser = Depends(desk_user)) -> Response:
    """Save the copy; back to its record, or the editor again with the refusal in words."""
    check_form(user, csrf)
    if not 1 <= copy_id <= 2**62:
        raise DeskNotFound(N_("No such copy"))
    typed = _typed(barcode, inventory_number, shelf_mark, collection, status)
    st = state(request)
    try:
        with st.db.transaction() as s:
            copy, changes = copy_rules.update_copy(s, copy_id, typed)
            record_id = copy.record_id
            if changes:
                audit(s, user.name, "copy_changed", ip=client_ip(request), record=record_id,
                      copy=copy.id, **{k: f"{old or ''} → {new or ''}" for k, (old, new) in changes.items()})
    except copy_rules.CopyEditError as exc:
        message, code = _refusal(exc)
        return _copy_page(request, user, copy_id, status=code, error=message,
                          error_field=exc.field, form=typed)
    except NotFound:
        raise DeskNotFound(N_("No such copy")) from None
    return RedirectResponse(f"{BASE}/record/{record_id}?saved={copy_id}#copy-{copy_id}",
                            status_code=303)


# ---------------------------------------------------------------- import

def _jobs(request: Request, limit: int = 10) -> list[dict]:
    with state(request).db.session() as s:
        rows = s.scalars(select(DeskImport).order_by(desc(DeskImport.id)).limit(limit)).all()
        return [_job_view(j) for j in rows]


REASONS = (  # (a part of the importer's reason, what it means in words); the first match wins
    ("no title", N_("no title (field 245$a or 200$a is empty)")),
    ("cannot decode", N_("the record's text cannot be read: wrong encoding")),
    ("cannot map", N_("the record was read, but its fields cannot be understood")),
    ("line ", N_("an error in a line of the IRBIS text file")),
    ("xml", N_("an error in the MARCXML markup")),
    ("leader", N_("the record is damaged: its leader is broken")),
    ("directory", N_("the record is damaged: its directory does not match the data")),
    ("field ", N_("the record is damaged: a field is cut short")),
    ("record", N_("the record is damaged")),
)


def reason_words(reason: str) -> str:
    """The importer's reason (English, technical) told in plain words of the request's language."""
    low = reason.lower()
    return _(next((words for part, words in REASONS if part in low), N_("the record was not read")))


def _job_view(job: DeskImport) -> dict:
    total = job.records_total
    if job.state == "done":
        percent = 100
    elif total:  # records read of those counted before the import
        percent = min(99, job.records_done * 100 // total)
    else:
        percent = min(99, job.bytes_done * 100 // job.bytes_total) if job.bytes_total else 0
    return {"id": job.id, "file": job.file_name, "actor": job.actor, "state": job.state,
            "state_name": _(STATES[job.state]) if job.state in STATES else job.state,
            "started": local_time(job.started_at),
            "finished": local_time(job.finished_at), "total": total, "done": job.records_done,
            "added": job.added, "updated": job.updated, "failed": job.failed, "percent": percent,
            "merged": job.merged,
            "message": job.message or "",
            "errors": [{**e, "words": reason_words(str(e.get("reason") or ""))} for e in job.errors or []],
            "warnings": list(job.warnings or []),
            "container": _(CONTAINERS[job.container]) if job.container in CONTAINERS else job.container or "",
            "encoding": _(ENCODINGS[job.encoding]) if job.encoding in ENCODINGS else job.encoding or ""}


def _import_form(request: Request, user: DeskUser, *, status: int = 200, error: str = "",
                 fmt: str = "auto", charset: str = "auto") -> HTMLResponse:
    imports.mark_interrupted(state(request).db)
    return render("catalogue_import.html", status, title=_("MARC upload"), section="catalogue",
                  user=user, jobs=_jobs(request), error=error, fmt=fmt, containers=CONTAINERS,
                  charset=charset, encodings=ENCODINGS,
                  max_mb=state(request).settings.desk.upload_max_mb)


@router.get("/import")
def import_form(request: Request, user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """The upload form and the latest imports."""
    return _import_form(request, user)


def _save_upload(upload: UploadFile, limit: int) -> tuple[str, int]:
    """The uploaded file copied to a temporary file of its own (the import removes it)."""
    suffix = os.path.splitext(upload.filename or "")[1]
    ok = len(suffix) <= 8 and suffix[1:].isascii() and suffix[1:].isalnum()
    fd, path = tempfile.mkstemp(prefix="ibc-desk-import-", suffix=suffix if ok else "")
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            upload.file.seek(0)
            while chunk := upload.file.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    break
                out.write(chunk)
    except OSError:
        os.remove(path)
        raise
    if size > limit:
        os.remove(path)
    return path, size


@router.post(IMPORT_PATH.removeprefix(BASE), response_model=None)
async def upload(request: Request, user: DeskUser = Depends(desk_user)) -> Response:
    """Take a MARC file (streamed to disk, up to [desk] upload_max_mb) and start its import."""
    st = state(request)
    max_mb = st.settings.desk.upload_max_mb
    limit = max_mb * 1024 * 1024
    too_big = _("The file is larger than %(n)s MB: it cannot be uploaded here. Split it into parts "
                "or import it with the command “ibc import”.") % {"n": max_mb}

    fmt, charset = "auto", "auto"

    def refuse(code: int, message: str) -> Any:
        return anyio.to_thread.run_sync(lambda: _import_form(request, user, status=code,
                                                             error=message, fmt=fmt, charset=charset))

    length = request.headers.get("content-length", "")
    if not length.isdigit():
        return await refuse(411, _("The file came without its size: upload it again from the form."))
    if int(length) > limit + MULTIPART_SLACK:
        return await refuse(413, too_big)
    form = await request.form(max_files=1, max_fields=10)
    try:
        check_form(user, str(form.get("csrf") or ""))
        fmt = str(form.get("format") or "auto")
        if fmt not in CONTAINERS:
            fmt = "auto"
        charset = str(form.get("encoding") or "auto")
        if charset not in ENCODINGS:
            charset = "auto"
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await refuse(400, _("Choose a file."))
        name = os.path.basename(printable(upload.filename).replace("\\", "/"))[:255] or _("file")
        path, size = await anyio.to_thread.run_sync(_save_upload, upload, limit)
    finally:
        await form.close()
    if size > limit:
        return await refuse(413, too_big)
    if size == 0:
        os.remove(path)
        return await refuse(400, _("The file is empty."))

    def begin() -> int | str:
        from library.marc.reader import detect_container

        try:
            found = detect_container(path)
        except ImportFormatError:
            os.remove(path)
            return _("This is not a MARC file: it must be ISO 2709 (.mrc, .iso), MARCXML (.xml) "
                     "or IRBIS text.")
        if fmt != "auto" and found != fmt:
            os.remove(path)
            return _("You chose the format “%(chosen)s”, but the file is “%(found)s”. "
                     "Choose “detect automatically” or another file.") % {
                "chosen": _(CONTAINERS[fmt]), "found": _(CONTAINERS[found])}
        if charset != "auto" and (found == MARCXML or (found == IRBIS_TEXT and charset == "marc-8")):
            os.remove(path)
            names = {"format": _(CONTAINERS[found]), "encoding": _(ENCODINGS[charset])}
            if found == MARCXML:
                return _("A “%(format)s” file cannot be read in the encoding “%(encoding)s”: MARCXML "
                         "names its own. Choose “detect for each record”.") % names
            return _("A “%(format)s” file cannot be read in the encoding “%(encoding)s”. "
                     "Choose “detect for each record”.") % names

        def audited(s: Any, job_id: int) -> None:
            audit(s, user.name, "import_started", ip=client_ip(request), job=job_id, file=name,
                  bytes=size, encoding=charset)

        try:
            return imports.start(st.db, path, file_name=name, actor=user.name,
                                 sigla=st.settings.school.sigla,
                                 encoding=None if charset == "auto" else charset, on_created=audited)
        except (ImportFormatError, OSError):
            return _("The file cannot be read. Upload it again.")

    started = await anyio.to_thread.run_sync(begin)
    if isinstance(started, str):
        return await refuse(400, started)
    return RedirectResponse(f"{IMPORT_PATH}/{started}", status_code=303)


@router.get("/import/{job_id}")
def import_job(request: Request, job_id: int, user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """A job's progress (the page reloads itself every 2 s while it runs), then its report."""
    if not 1 <= job_id <= 2**62:
        raise DeskNotFound(N_("No such upload"))
    st = state(request)
    imports.mark_interrupted(st.db)
    with st.db.session() as s:
        job = s.get(DeskImport, job_id)
        if job is None:
            raise DeskNotFound(N_("No such upload"))
        view = _job_view(job)
    return render("catalogue_job.html", title=_("Upload no. %(n)s") % {"n": job_id}, section="catalogue",
                  user=user, job=view, refresh=view["state"] == "running")


# ---------------------------------------------------------------- export

class _Pipe:
    """A binary stream the exporting thread writes into and the response reads from
    (bounded: the writer waits while the reader is behind, stops when the reader is gone)."""

    CHUNK = 64 * 1024

    def __init__(self) -> None:
        self.q: queue.Queue[bytes | None] = queue.Queue(maxsize=8)
        self.buf = bytearray()
        self.gone = threading.Event()

    def write(self, data: bytes | str) -> int:
        self.buf += data.encode("utf-8") if isinstance(data, str) else data
        if len(self.buf) >= self.CHUNK:
            self._put(bytes(self.buf))
            self.buf.clear()
        return len(data)

    def flush(self) -> None:
        """Nothing: chunks go out as they fill."""

    def _put(self, item: bytes | None) -> None:
        while True:
            if self.gone.is_set():
                raise BrokenPipeError("the download was cancelled")
            try:
                self.q.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def close_writer(self) -> None:
        if self.buf:
            self._put(bytes(self.buf))
            self.buf.clear()
        self._put(None)


@router.get("/export", response_model=None)
def export(request: Request, format: str = "iso2709", flavour: str = "rusmarc",
           encoding: str = "", q: str = "", user: DeskUser = Depends(desk_user)) -> Response:
    """The catalogue (or the records of the current search) as ISO 2709 or MARCXML, streamed."""
    from library.marc.export import export_records, query_ids

    fmt_key = (format, flavour if format == "iso2709" else "")
    if fmt_key not in EXPORTS:
        raise DeskInvalid(N_("Unknown export format: choose ISO 2709 (RUSMARC or MARC21) or MARCXML"))
    fmt, ext = EXPORTS[fmt_key]
    enc = encoding if encoding in ("utf-8", "cp1251") else None
    if enc == "cp1251" and fmt != "rusmarc":
        raise DeskInvalid(N_("Only RUSMARC can be exported in cp1251"))
    query = _text(q, MAX_QUERY)
    chosen = _chosen(request)
    st = state(request)
    ids = query_ids(st.db, query, filters=_filters(chosen)) if (query or chosen) else None
    with st.db.transaction() as s:
        audit(s, user.name, "catalogue_exported", ip=client_ip(request), format=fmt,
              encoding=enc or "", query=query,
              records="все" if ids is None else len(ids))  # not UI text: the audit log's value
    pipe = _Pipe()

    def produce() -> None:
        try:
            export_records(st.db, pipe, fmt=fmt, encoding=enc, ids=ids)  # type: ignore[arg-type]
            pipe.close_writer()
        except BrokenPipeError:
            pass
        except Exception:  # noqa: BLE001 - the download ends short; the log says why
            _log.exception("catalogue export failed")
            pipe.gone.set()
            try:
                pipe.q.put_nowait(None)
            except queue.Full:
                pass

    def body() -> Iterator[bytes]:
        worker = threading.Thread(target=produce, daemon=True, name="ibc-desk-export")
        worker.start()
        try:
            while True:
                item = pipe.q.get()
                if item is None:
                    return
                yield item
        finally:
            pipe.gone.set()

    stamp = dt.date.today().strftime("%Y%m%d")
    name = f"catalogue-{fmt}-{stamp}.{ext}"
    media = "application/marcxml+xml" if fmt == "marcxml" else "application/marc"
    return StreamingResponse(body(), media_type=media,
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})

