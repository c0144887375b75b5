"""Terminal and reader endpoints: health, search, records, reader session, circulation, media,
offline forwarding and the replica change feed."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import or_, select

from library.access import Action, level_of, permitted, runs_station
from library.access import downloadable as level_downloadable
from library.circulation import errors as E
from library.reports.events import record_visit
from library.storage.models import MediaItem, Reader, Record
from library.text import NO_CONTROLS_PATTERN
from server import schemas
from server.app import Caller, optional_reader, reader, reader_header, state, terminal
from server.errors import ApiError
from server.places_api import copy_place, hit_places, place_map
from server.security import (
    AuthError,
    clear_probe,
    end_session,
    open_session,
    reserve_probe,
    seen_at_terminal,
    session_reader,
    terminal_school,
)

if TYPE_CHECKING:
    from library.circulation.service import CirculationService
    from library.schools import Scope
    from library.storage.database import Database

router = APIRouter()
SessionHeader = Annotated[Reader, Depends(reader)]
Terminal = Annotated[Caller, Depends(terminal)]


@router.get("/health", response_model=schemas.HealthOut, response_model_exclude_none=True,
            tags=["meta"])
def health(request: Request) -> dict:
    """Liveness and database reachability (no credential needed). A read-only server
    (server/readonly.py) adds ``read_only: true`` and ``replay_lag_s``: seconds since the newest
    transaction it replayed was committed on the primary (absent when not a standby)."""
    from sqlalchemy import text

    st = state(request)
    out: dict[str, Any] = {}
    try:
        with st.db.session() as s:
            s.execute(text("SELECT 1"))
        ok = True
        if st.read_only:
            from library.storage.replication import replay_lag_s

            out = {"read_only": True, "replay_lag_s": replay_lag_s(st.db)}
    except Exception:  # noqa: BLE001  (a health check reports, never raises)
        ok = False
        out = {"read_only": True} if st.read_only else {}
    return {"status": "ok" if ok else "degraded", "database": ok, **out}


@router.get("/version", response_model=schemas.VersionOut, tags=["meta"])
def version(request: Request) -> dict:
    """API and software version, school id and name (no credential needed)."""
    from library import __version__
    from server.app import API_VERSION

    school = state(request).settings.school
    return {"api": API_VERSION, "software": __version__, "school_id": school.id,
            "school_name": school.name}


@router.post("/terminals/enrol", response_model=schemas.EnrolOut, tags=["terminals"])
def enrol_terminal(body: schemas.EnrolIn, request: Request) -> dict:
    """Trade a one-time code from `ibc terminals enroll` for this terminal's own token."""
    from server.security import enrol, enrolled_school

    st = state(request)
    token = enrol(st.db, body.code, body.name)
    # the terminal keeps its school (docs/SCHOOLS.md): its record page says which copies are «ours»
    return {"name": body.name, "token": token,
            "school": enrolled_school(st.db, body.name) or st.settings.school.sigla}


@router.get("/search", tags=["catalogue"], response_class=JSONResponse)
def search_catalogue(
    request: Request, caller: Terminal,
    q: Annotated[str, Query(max_length=500, pattern=NO_CONTROLS_PATTERN)] = "",
    limit: Annotated[int, Query(ge=0, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    available: bool = False, facets: bool = False, own_school: bool = False,
    session: Annotated[str | None, Depends(reader_header)] = None,
) -> Response:
    """Search the catalogue (the same engine as `ibc search`).

    Teachers-only media are found only within a teacher's or staff reader session; without a
    session (or with an ended one) the search is pupil-level. Every hit carries ``schools``:
    its copies per school, the terminal's school first; ``own_school`` finds only titles the
    terminal's school has copies of (docs/SCHOOLS.md).
    """
    from library.search import search

    st = state(request)
    audience = "pupil"
    if session:
        try:
            audience = session_reader(st.db, session, caller.id, st.settings.server.session_idle_s,
                                      touch=not st.read_only).category or "pupil"
        except AuthError:
            audience = "pupil"
    from library.schools import scope

    school = terminal_school(st.db, caller.id) or st.settings.school.sigla
    filters: dict = {"available": True} if available else {}
    with st.db.transaction(write=False) as s:
        if own_school:  # «только наша школа» (with `available`: on our shelf)
            filters["school"] = scope(s, school, st.settings.school.sigla)
        res = search(s, q, limit=limit, offset=offset, facets=facets,
                     filters=filters or None, audience=audience,
                     school=school, default_school=st.settings.school.sigla)
        body = res.to_dict()
        hit_places(request, s, body["hits"])
    # Plain str/int/list/dict only: serialise once here instead of FastAPI's jsonable_encoder
    # walk over every hit, span and facet (it cost a third of the request).
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                    media_type="application/json")


@router.get("/records/{record_id}", response_model=schemas.RecordOut, tags=["catalogue"])
def record_details(record_id: Annotated[int, Path(ge=1, le=2**62)], request: Request,
                   caller: Terminal) -> dict:
    """One record with its copies (the terminal's school's) and their live status, and every
    school's copies of it (``schools``, the terminal's school first)."""
    from library.schools import holdings, scope

    st = state(request)
    school = terminal_school(st.db, caller.id)
    with st.db.session() as s:
        rec = s.get(Record, record_id)
        if rec is None or rec.deleted:
            raise ApiError(404, "not_found")
        mine = scope(s, school, st.settings.school.sigla)
        copies = [c for c in rec.copies
                  if c.status not in ("written_off", "lost") and mine.owns(c.sigla)]
        held = holdings(s, [rec.id], own=mine.school, default_sigla=st.settings.school.sigla)
        pm = place_map(request, s)
        out = [{"barcode": c.barcode, "shelf": c.shelf_mark or rec.bbk, "status": c.status,
                "available": c.status == "available",
                **dict(zip(("place", "place_id"), copy_place(pm, c, rec.bbk)))} for c in copies]
        return {"id": rec.id, "title": rec.title, "subtitle": rec.subtitle,
                "authors": list(rec.authors or []), "publisher": rec.publisher, "year": rec.year,
                "isbn": rec.isbn, "annotation": rec.annotation, "subjects": list(rec.subjects or []),
                "item_type": rec.item_type or "book", "age_rating": rec.age_rating,
                "available": sum(c["available"] for c in out), "total": len(out), "copies": out,
                "schools": held.get(rec.id, []), "school": mine.school}


@router.get("/schools", response_model=schemas.SchoolsOut, tags=["catalogue"])
def schools_list(request: Request, caller: Terminal) -> dict:
    """The schools of this server (sigla and name; docs/SCHOOLS.md) and the calling terminal's
    own: a terminal's replica names the schools on its record page."""
    from library.schools import list_schools

    st = state(request)
    with st.db.session() as s:
        rows = list_schools(s, st.settings.school.sigla)
    return {"school": terminal_school(st.db, caller.id) or st.settings.school.sigla,
            "schools": [{"sigla": r.sigla, "name": r.name} for r in rows]}


# --- reader session ------------------------------------------------------------------------
_SESSION: dict[int | str, dict[str, Any]] = {
    409: {"model": schemas.ErrorOut}, 422: {"model": schemas.ErrorOut}, 429: {"model": schemas.ErrorOut}}


@router.post("/session", response_model=schemas.SessionOut, tags=["reader"], responses=_SESSION)
def start_session(body: schemas.SessionIn, request: Request, caller: Terminal) -> dict:
    """Card [+ PIN] → a short-lived reader session bound to this terminal.

    Two limits, both in the database: the card counts among the distinct cards failing on this
    terminal in a minute (429 ``too_many_attempts`` over ``pin_failures_per_minute``), and a PIN
    takes one of the card's guess slots before it is hashed (429 ``card_locked``)."""
    st = state(request)
    if not reserve_probe(st.db, caller.id, body.card, st.settings.server.pin_failures_per_minute):
        raise ApiError(429, "too_many_attempts")
    with st.db.session() as s:
        row = s.scalar(select(Reader).where(Reader.card_number == body.card))
    if row is None or not row.active:
        raise E.ReaderNotFound(card=body.card)
    needs_pin = st.circulation.policy.pin_required(bool(row.pin_hash))
    if needs_pin and body.pin is None:
        raise ApiError(409, "pin_required")
    if needs_pin and not st.circulation.check_pin(body.card, body.pin or ""):
        raise E.WrongPin()
    clear_probe(st.db, caller.id, body.card)
    view = st.circulation.find_reader(body.card)
    token = open_session(st.db, caller.id, row.id)
    with st.db.transaction() as s:  # one visit per reader session, for the monitoring reports
        record_visit(s, sigla=row.sigla or st.settings.school.sigla, terminal=caller.name,
                     reader_category=row.category, reader_class=row.class_name)
    return {"session": token, "idle_s": st.settings.server.session_idle_s, "pin_required": needs_pin,
            "pin_self_set": st.circulation.may_set_first_pin(),
            "reader": {"first_name": view.first_name, "initial": view.initial,
                       "class_name": view.class_name, "category": view.category,
                       "patronymic": view.patronymic, "restriction": view.restriction,
                       "restriction_note": view.restriction_note}}


@router.post("/session/pin", response_model=schemas.PinOut, tags=["reader"], responses=_SESSION)
def change_pin(body: schemas.PinChangeIn, request: Request, who: SessionHeader) -> dict:
    """The session reader sets a new PIN: with the current one when a PIN is set (a wrong one
    counts towards the card's lock), the first one when ``[circulation] pin_self_set`` allows.
    The new PIN passes library.circulation.pins.check_new_pin (4..8 digits, not trivial)."""
    try:
        state(request).circulation.change_pin(who.card_number, body.current, body.new)
    except E.WrongPin:
        if body.current is None:  # the request lacks the current PIN: no guess was used
            raise ApiError(409, "pin_required") from None
        raise
    return {"pin_set": True}


@router.delete("/session", status_code=204, tags=["reader"])
def finish_session(request: Request, caller: Terminal, who: SessionHeader) -> None:
    """End the reader session (the Done button)."""
    end_session(state(request).db, request.headers.get("x-reader-session"), caller.id)


@router.get("/loans", response_model=list[schemas.LoanOut], tags=["reader"])
def my_loans(request: Request, who: SessionHeader) -> list:
    """The session reader's open loans (never anyone else's)."""
    return state(request).circulation.loans(who.card_number)


_CIRC: dict[int | str, dict[str, Any]] = {409: {"model": schemas.ErrorOut}}


@router.post("/checkout", response_model=schemas.OutcomeOut, tags=["circulation"], responses=_CIRC)
def checkout(body: schemas.CirculationIn, request: Request, caller: Terminal,
             who: SessionHeader) -> dict:
    """Lend a copy to the session reader; repeat the same txn_id safely. Only the terminal's
    school's copies to its readers (409 ``other_school``, ``other_school_reader``)."""
    out = state(request).circulation.checkout(who.card_number, body.barcode, body.txn_id,
                                              terminal=caller.name, school=_lending(request, caller))
    return out.to_dict()


def _lending(request: Request, caller: Caller) -> Scope:
    """Whose copies and readers the calling terminal lends: its school's (library.schools)."""
    from library.schools import scope

    st = state(request)
    with st.db.session() as s:
        return scope(s, terminal_school(st.db, caller.id), st.settings.school.sigla)


@router.post("/renew", response_model=schemas.OutcomeOut, tags=["circulation"], responses=_CIRC)
def renew(body: schemas.CirculationIn, request: Request, caller: Terminal, who: SessionHeader) -> dict:
    """Renew one of the session reader's loans."""
    out = state(request).circulation.renew(who.card_number, body.barcode, body.txn_id,
                                           terminal=caller.name)
    return out.to_dict()


@router.post("/return", response_model=schemas.OutcomeOut, tags=["circulation"], responses=_CIRC)
def give_back(body: schemas.CirculationIn, request: Request, caller: Terminal) -> dict:
    """Return a copy (no reader session needed, as at a returns slot). A copy of another
    school is set aside to be sent home (``send_to``: its school's name; docs/HOLDS.md)."""
    return state(request).circulation.checkin(body.barcode, body.txn_id, terminal=caller.name,
                                              school=_lending(request, caller)).to_dict()


@router.post("/textbooks/collect", response_model=schemas.CollectedOut, tags=["circulation"],
             responses={**_CIRC, 403: {"model": schemas.ErrorOut}})
def collect_textbook(body: schemas.CollectIn, request: Request, caller: Terminal,
                     who: SessionHeader) -> dict:
    """The kiosk's «Сдача учебников»: take a scanned textbook back and name its pupil and class
    (library.textbooks.issue.collect, exactly once: transaction ``ret:{loan}``, a repeated scan
    answers ``already``). Only for a session of a reader who runs the media station — a teacher
    or staff (else 403 ``staff_only``): pupils' names are shown to no one else."""
    from library.textbooks import issue as T

    if not runs_station(who.category):
        raise ApiError(403, "staff_only")
    try:
        got = T.collect(state(request).circulation, body.barcode, class_name=body.class_name or None,
                        terminal=caller.name)
    except T.ClassSetError as exc:
        got = T.Collected.refused(exc)
    return got.to_dict()


# --- holds (docs/HOLDS.md) ----------------------------------------------------------------
@router.post("/holds", response_model=schemas.HoldOut, tags=["holds"],
             responses={**_CIRC, 422: {"model": schemas.ErrorOut}})
def place_hold(body: schemas.HoldIn, request: Request, caller: Terminal,
               who: SessionHeader) -> dict:
    """The session reader queues for a record («Встать в очередь»); exactly once per txn_id.
    Refusals (409) by the rules of library/circulation/holds.py: ``hold_on_shelf``,
    ``hold_limit``, ``already_queued``, ``already_have_it``, ``no_loanable_copy``,
    ``record_not_found``, ``reader_blocked``, ``holds_off``, ``bad_pickup``; ``params.title``
    names the book. ``pickup``: the school to pick it up at (default: the reader's); a hold
    whose pickup school has no copy on its shelf is a request to the owning school(s)."""
    return state(request).circulation.place_hold(who.card_number, body.record_id, body.txn_id,
                                                 terminal=caller.name,
                                                 pickup=body.pickup).to_dict()


@router.get("/holds", response_model=list[schemas.HoldOut], tags=["holds"])
def my_holds(request: Request, who: SessionHeader) -> list:
    """The session reader's active holds (never anyone else's): waiting ones first (where and
    until when), then queued ones with the place in the queue."""
    return [h.to_dict() for h in state(request).circulation.holds(who.card_number)]


@router.post("/holds/{hold_id}/cancel", response_model=schemas.HoldOut, tags=["holds"],
             responses=_CIRC)
def cancel_hold(hold_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: schemas.HoldCancelIn,
                request: Request, caller: Terminal, who: SessionHeader) -> dict:
    """The session reader cancels one of their own holds (409 ``not_your_hold`` for another
    reader's, ``hold_not_found``, ``hold_closed``); a waiting copy passes to the next reader.
    Exactly once per txn_id."""
    return state(request).circulation.cancel_hold(hold_id, body.txn_id, card=who.card_number,
                                                  terminal=caller.name).to_dict()


@router.post("/offline", response_model=schemas.OutcomeOut, tags=["circulation"],
             responses={**_CIRC, 403: {"model": schemas.ErrorOut}, 429: {"model": schemas.ErrorOut}})
def forward_offline(body: schemas.OfflineIn, request: Request, caller: Terminal) -> dict:
    """Apply an operation the terminal queued while offline; refusals go to the conflict list.

    A checkout is applied only under ``offline_policy = "seen_cards"``, for an active reader who
    opened a session at this very terminal before and needs no PIN; else 409
    ``offline_card_refused`` (the same answer for a card that does not exist) or
    ``offline_pin_required``. Every forwarded card counts towards this terminal's probe limit.
    A transaction already applied (the online attempt reached the server) is replayed."""
    from server.conflicts import record_conflict

    st = state(request)
    policy = st.settings.server.offline_policy
    if policy == "disabled" or (policy == "return_only" and body.op == "checkout"):
        raise ApiError(403, "offline_refused")
    if body.op == "checkout" and not body.card:
        raise ApiError(422, "invalid_request", "checkout needs a card")
    svc = st.circulation
    try:
        if body.op == "checkout":
            card = body.card or ""
            if not reserve_probe(st.db, caller.id, card, st.settings.server.pin_failures_per_minute):
                raise ApiError(429, "too_many_attempts")
            if not _logged(st.db, body.txn_id):
                _offline_reader(st.db, svc, caller.id, card)
            out = svc.checkout(card, body.barcode, body.txn_id, terminal=caller.name,
                               school=_lending(request, caller))
            clear_probe(st.db, caller.id, card)
        else:
            # A return forwarded from the offline queue: a hold it fills is flagged ``offline``
            # (the book is on the return cart, not on the hold shelf).
            out = svc.checkin(body.barcode, body.txn_id, terminal=caller.name, offline=True,
                              school=_lending(request, caller))
    except E.CirculationError as exc:
        record_conflict(st.db, caller.name, body, exc)
        raise
    return out.to_dict()


def _logged(db: Database, txn_id: str) -> bool:
    """True when this transaction id has an outcome already (the service replays it)."""
    from library.storage.models import TransactionLog

    with db.session() as s:
        return s.get(TransactionLog, txn_id) is not None


def _offline_reader(db: Database, svc: CirculationService, terminal_id: int, card: str) -> None:
    """Refuse an offline checkout the policy does not trust: an unknown or inactive card and a
    card never identified online at this terminal get the same refusal; a PIN is never skipped."""
    with db.session() as s:
        row = s.execute(select(Reader.id, Reader.active, Reader.pin_hash)
                        .where(Reader.card_number == card)).first()
    if row is None or not row.active or not seen_at_terminal(db, terminal_id, row.id):
        raise E.OfflineCardRefused()
    if svc.policy.pin_required(bool(row.pin_hash)):
        raise E.OfflinePinRequired()


# --- media -----------------------------------------------------------------------------------
@router.get("/media", response_model=list[schemas.MediaOut], tags=["media"])
def media_list(
    request: Request, caller: Terminal,
    who: Annotated[Reader | None, Depends(optional_reader)],
    q: Annotated[str, Query(max_length=200, pattern=NO_CONTROLS_PATTERN)] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list:
    """Media items this reader may see (library.access): teachers-only items only for teachers
    and staff, on-site items for everyone (``downloadable`` false); of the terminal's school and
    those shared by the whole city (media.access.school_clause, docs/SCHOOLS.md)."""
    from media.access import school_clause

    category = None if who is None else who.category
    st = state(request)
    school = terminal_school(st.db, caller.id) or st.settings.school.sigla
    with st.db.session() as s:
        query = select(MediaItem).where(MediaItem.status == "ok", school_clause(school),
                                        permitted(MediaItem.access, category, Action.SEE))
        if q:
            like = f"%{q.replace('%', '').replace('_', '')}%"
            query = query.where(or_(MediaItem.title.ilike(like), MediaItem.subject.ilike(like)))
        rows = s.scalars(query.order_by(MediaItem.title, MediaItem.id).offset(offset).limit(limit))
        return [{"id": m.id, "title": m.title, "kind": m.kind, "duration_s": m.duration_s,
                 "subject": m.subject, "class_from": m.class_from, "class_to": m.class_to,
                 "tags": list(m.tags or []), "thumbnail": bool(m.thumbnail),
                 "access": level_of(m.access).value,
                 "downloadable": level_downloadable(m.access)} for m in rows]


# --- replica ---------------------------------------------------------------------------------
@router.get("/changes", response_model=schemas.ChangesOut, tags=["replica"])
def change_feed(
    request: Request, caller: Terminal,
    since: Annotated[int, Query(ge=0, le=2**62)] = 0,
    after: Annotated[str, Query(max_length=20, pattern=r"^(?:[rc]\d{1,18})?$")] = "",
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> dict:
    """Records and copies changed after the cursor, for the terminal's local replica."""
    from server.feed import changes

    with state(request).db.transaction(write=False) as s:
        return changes(s, since, after, limit)



