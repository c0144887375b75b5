"""Places and covers for terminals: GET /api/v1/places (the replica's copy of the places) and
GET /api/v1/covers/{key} (a cover image by ISBN or copy barcode). Both need a terminal token.

`/places?version=N` answers `changed: false` with no places when N is the current places
version, so a terminal's sync costs one small request while nothing changed. Place labels of
search hits and record copies are filled by `place_labels` / `hit_places` (server.routes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from library.places.match import PlaceMap
from server import schemas
from server.app import Caller, state, terminal
from server.errors import ApiError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

router = APIRouter()
Terminal = Annotated[Caller, Depends(terminal)]


@router.get("/places", response_model=schemas.PlacesOut, tags=["places"])
def places(request: Request, caller: Terminal,
           version: Annotated[int, Query(ge=-1, le=2**62)] = -1) -> dict:
    """Every place with its rules and the places version; `changed: false` (and no places)
    when `version` is the current one."""
    from library.places.store import load_rows, places_version

    st = state(request)
    settings = st.settings.places
    returns = {"mode": settings.returns, "note": settings.return_note,
               "place": settings.return_place}
    with st.db.transaction(write=False) as s:
        current = places_version(s)
        if version == current:
            return {"changed": False, "version": current, "places": [], "returns": returns}
        rows = load_rows(s, None)
    return {"changed": True, "version": current, "returns": returns, "places": [
        {"id": r.view.id, "sigla": r.sigla, "name": r.view.name, "note": r.view.note,
         "room": r.view.room, "box": list(r.view.box) if r.view.box else None, "sort": r.sort,
         "rules": [spec.to_dict() for _id, spec in r.rules]} for r in rows]}


@router.get("/covers/{key}", tags=["catalogue"], response_class=Response,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}}},
                       404: {"model": schemas.ErrorOut}})
def cover(key: str, request: Request, caller: Terminal) -> Response:
    """The cover image named by this ISBN or copy barcode (a barcode also finds its record's
    ISBN covers); 404 when there is none. Keys are digits, letters, «-» and «_» only."""
    from library.covers import covers_folder, find_cover, media_type, valid_key
    from library.storage.models import Copy, Record

    if not valid_key(key):
        raise ApiError(404, "not_found")
    st = state(request)
    lib = st.settings.library
    folder = covers_folder(lib.covers_dir, st.settings.data_dir or None)
    isbns: list[str | None] = [key]
    with st.db.session() as s:
        row = s.execute(select(Record.isbn, Record.isbns).join(Copy, Copy.record_id == Record.id)
                        .where(Copy.barcode == key).limit(1)).first()
    if row is not None:
        isbns += [row[0], *(row[1] or [])]
    limit = lib.covers_max_kb * 1024
    path = find_cover(folder, isbns, [key], max_bytes=limit)
    if path is None:
        raise ApiError(404, "not_found")
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError:
        raise ApiError(404, "not_found") from None
    kind = media_type(data[:8])
    if kind is None or len(data) > limit:
        raise ApiError(404, "not_found")
    return Response(data, media_type=kind, headers={"Cache-Control": "max-age=86400"})


# --- place labels for search hits and record copies ----------------------------------------
def place_map(request: Request, session: Session) -> PlaceMap:
    """The server's PlaceMap, reloaded when the places version moved."""
    return state(request).places.get(session)


def copy_place(pm: PlaceMap, copy: Any, bbk: str | None) -> tuple[str | None, int | None]:
    """(label, id) of a copy's place, (None, None) without one."""
    if not len(pm):
        return None, None
    view = pm.resolve(shelf_mark=copy.shelf_mark, collection=copy.collection, bbk=bbk,
                      sigla=copy.sigla)
    return (view.label, view.id) if view else (None, None)


def hit_places(request: Request, session: Session, hits: list[dict]) -> None:
    """Add `place` and `place_id` to each search hit: the place of its first copy on the shelf,
    else of its first copy (library.places.store.record_places, one query for the page)."""
    from library.places.store import record_places

    found = record_places(session, place_map(request, session), [h["id"] for h in hits])
    for h in hits:
        view = found.get(h["id"])
        h["place"], h["place_id"] = (view.label, view.id) if view else (None, None)
