"""Media remote control and downloads: /api/v1/media/station, play/pause/..., lessons, files.

Control needs a terminal token and a reader session of a teacher or staff member (pupils get
403 ``teachers_only``). Every station call blocks, so it runs in a worker thread
(``anyio.to_thread.run_sync``); the event loop never waits for libvlc or the projector.
"""

from __future__ import annotations

import functools
import mimetypes
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Concatenate, ParamSpec, TypeVar

import anyio
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import FileResponse

from library.access import Action, may, runs_station
from library.storage.models import MediaItem, Reader
from media.access import other_schools_item, seen_by_school
from media.errors import MediaNotFound
from media.roots import real_roots, resolve_inside
from server import media_schemas as ms
from server.app import Caller, optional_reader, reader, state, terminal
from server.errors import ApiError
from server.media_remote import RemoteStation, StationBusy, StationOff, StationUnavailable, teacher_key
from server.schemas import ErrorOut
from server.security import terminal_school

if TYPE_CHECKING:
    from media.station import MediaStation

router = APIRouter(prefix="/media", tags=["media remote"])
_REFUSALS: dict[int | str, dict[str, Any]] = {403: {"model": ErrorOut}, 409: {"model": ErrorOut}}
_P = ParamSpec("_P")
_T = TypeVar("_T")


def teacher_reader(who: Annotated[Reader, Depends(reader)]) -> Reader:
    """The session reader when one who runs the station: a teacher or staff (else 403)."""
    if not runs_station(who.category):
        raise ApiError(403, "teachers_only")
    return who


Teacher = Annotated[Reader, Depends(teacher_reader)]


def remote(request: Request) -> RemoteStation:
    """This app's RemoteStation."""
    return request.app.state.media_remote


async def _blocking(fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run a blocking station call in a worker thread, mapping station trouble to 409."""
    try:
        return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))
    except StationOff:
        raise ApiError(409, "station_off") from None
    except StationUnavailable as exc:
        raise ApiError(409, "station_unavailable", str(exc)[:300]) from None
    except StationBusy as exc:
        raise ApiError(409, "station_busy", f"free in {exc.seconds} s") from None


async def _control(request: Request, who: Reader, fn: Callable[Concatenate[MediaStation, _P], object],
                   *args: _P.args, **kwargs: _P.kwargs) -> dict:
    """One control call by the teacher who controls the station (409 station_busy while another
    does), then the station's state as this teacher sees it."""
    rs, key = remote(request), teacher_key(who.id)

    def _call() -> object:
        rs.get()  # a server without a station says station_off, not busy
        rs.claim(key)
        return rs.control(fn, *args, **kwargs)

    await _blocking(_call)
    return await _blocking(rs.status, key)


@router.get("/station", response_model=ms.StationOut)
async def station_status(request: Request, who: Teacher) -> dict:
    """Player and projector state (position, volume, projector power/input/last error)."""
    return await _blocking(remote(request).status, teacher_key(who.id))


def _own_school_items(request: Request, caller: Caller, ids: list[int],
                      lesson: tuple[str, str] | None = None) -> None:
    """MediaNotFound (409 media_refused, as an unknown item) for an item of another school than
    the terminal's (media.access.other_schools_item; docs/SCHOOLS.md «Media per school»);
    `lesson`: (teacher key, name) of a saved lesson whose items are checked (an unknown lesson
    is left to the station's own refusal)."""
    from media.lessons import LessonStore

    st = state(request)
    school = terminal_school(st.db, caller.id) or st.settings.school.sigla
    if lesson is not None:
        try:
            ids = LessonStore(st.db).lesson(*lesson)
        except KeyError:
            return
    with st.db.session() as s:
        foreign = other_schools_item(s, ids, school)
    if foreign is not None:
        raise MediaNotFound(id=foreign)


@router.post("/play", response_model=ms.StationOut, responses=_REFUSALS)
async def play(body: ms.PlayIn, request: Request, who: Teacher,
               caller: Annotated[Caller, Depends(terminal)]) -> dict:
    """Play an item, the teacher's lesson or a list, optionally on the projector (items of the
    terminal's school and shared ones)."""
    key = teacher_key(who.id)
    ids = [body.item_id] if body.item_id is not None else list(body.items or [])
    lesson = (key, body.lesson) if body.lesson is not None else None
    await anyio.to_thread.run_sync(
        functools.partial(_own_school_items, request, caller, ids, lesson))

    def _play(station: MediaStation) -> None:
        if body.lesson is not None:
            station.play_lesson(key, body.lesson, projector=body.projector)
        else:
            ids = [body.item_id] if body.item_id is not None else list(body.items or [])
            station.play_items(ids, role=who.category, teacher=key, projector=body.projector,
                               resume=body.resume)

    return await _control(request, who, _play)


@router.post("/pause", response_model=ms.StationOut, responses=_REFUSALS)
async def pause(request: Request, who: Teacher) -> dict:
    """Pause."""
    return await _control(request, who, lambda st: st.pause())


@router.post("/resume", response_model=ms.StationOut, responses=_REFUSALS)
async def resume(request: Request, who: Teacher) -> dict:
    """Continue after a pause."""
    return await _control(request, who, lambda st: st.resume())


@router.post("/stop", response_model=ms.StationOut, responses=_REFUSALS)
async def stop(request: Request, who: Teacher) -> dict:
    """Stop (the teacher's position is remembered); the teacher's control ends."""
    out = await _control(request, who, lambda st: st.stop())
    await _blocking(remote(request).let_go, teacher_key(who.id))
    return out


@router.post("/show", response_model=ms.StationOut, responses=_REFUSALS)
async def show(request: Request, who: Teacher) -> dict:
    """Put the film back on the screen after a tap on it brought the controls back."""
    return await _control(request, who, lambda st: st.show_film())


@router.post("/seek", response_model=ms.StationOut, responses=_REFUSALS)
async def seek(body: ms.SeekIn, request: Request, who: Teacher) -> dict:
    """Jump within the current item."""
    return await _control(request, who, lambda st: st.seek(body.position_s))


@router.post("/volume", response_model=ms.StationOut, responses=_REFUSALS)
async def volume(body: ms.VolumeIn, request: Request, who: Teacher) -> dict:
    """Set the volume (0..100 %)."""
    return await _control(request, who, lambda st: st.set_volume(body.volume))


async def _step(request: Request, who: Reader, forward: bool) -> dict:
    rs, key = remote(request), teacher_key(who.id)

    def _call() -> object:
        rs.get()
        rs.claim(key)
        return rs.control(lambda st: st.next() if forward else st.previous())

    moved = await _blocking(_call)
    return {**await _blocking(rs.status, key), "moved": bool(moved)}


@router.post("/next", response_model=ms.StepOut, responses=_REFUSALS)
async def next_item(request: Request, who: Teacher) -> dict:
    """Next playlist item."""
    return await _step(request, who, True)


@router.post("/previous", response_model=ms.StepOut, responses=_REFUSALS)
async def previous_item(request: Request, who: Teacher) -> dict:
    """Previous playlist item."""
    return await _step(request, who, False)


@router.get("/lessons", response_model=ms.LessonsOut, responses=_REFUSALS)
async def lessons(request: Request, who: Teacher) -> dict:
    """The session teacher's lessons."""
    rs = remote(request)
    found = await _blocking(rs.control, lambda st: st.lessons.lessons(teacher_key(who.id)))
    return {"lessons": found}


@router.post("/lessons", response_model=ms.LessonsOut, responses=_REFUSALS)
async def save_lesson(body: ms.LessonIn, request: Request, who: Teacher,
                      caller: Annotated[Caller, Depends(terminal)]) -> dict:
    """Create or replace one of the session teacher's lessons (every item must be playable)."""
    await anyio.to_thread.run_sync(
        functools.partial(_own_school_items, request, caller, list(body.items)))
    rs = remote(request)
    key = teacher_key(who.id)

    def _save(station: MediaStation) -> dict:
        station.save_lesson(key, body.name, list(body.items))
        return station.lessons.lessons(key)

    return {"lessons": await _blocking(rs.control, _save)}


@router.get("/{media_id}/file", response_class=FileResponse, tags=["media"],
            responses={403: {"description": "on-site only"}, 404: {"description": "not found"}})
def media_file(media_id: Annotated[int, Path(ge=1, le=2**62)], request: Request,
               caller: Annotated[Caller, Depends(terminal)],
               who: Annotated[Reader | None, Depends(optional_reader)]) -> FileResponse:
    """Download a media file when library.access allows: on-site-only items never (403),
    items hidden from this reader look absent (404), and so do another school's items (the
    terminal's school sees its own and the shared ones: docs/SCHOOLS.md «Media per school») and
    a file whose real path is outside the configured media folders (`[media] roots`)."""
    st = state(request)
    school = terminal_school(st.db, caller.id) or st.settings.school.sigla
    with st.db.session() as s:
        item = s.get(MediaItem, media_id)
        row = None if item is None else (item.path, item.access, item.status, item.title)
        sigla = None if item is None else item.sigla
    if row is None or row[2] != "ok" or not seen_by_school(sigla, school):
        raise ApiError(404, "not_found")
    path, access, _status, title = row
    category = None if who is None else who.category
    if not may(category, access, Action.SEE):
        raise ApiError(404, "not_found")  # hidden from this reader; unknown levels fail closed
    if not may(category, access, Action.DOWNLOAD):
        raise ApiError(403, "onsite_only")
    # The real path must lie inside a configured media folder, checked now and not only at the
    # scan: a link made or changed after the scan must not reach outside (media/roots.py).
    # Refused exactly like an absent item; the real path is what is opened.
    real = resolve_inside(path, real_roots(state(request).settings.media.roots))
    if real is None:
        raise ApiError(404, "not_found")
    if not os.path.isfile(real):
        raise ApiError(404, "not_found", "the file is missing on the server")
    ext = os.path.splitext(path)[1]
    safe = "".join(ch for ch in title[:100] if ch.isprintable() and ch not in '"\\/') or "media"
    return FileResponse(real, filename=f"{safe}{ext}",
                        media_type=mimetypes.guess_type(path)[0] or "application/octet-stream")
