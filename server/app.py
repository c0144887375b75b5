"""The FastAPI application of the school server: composition, middleware, credentials.

`create_app(settings, db)` builds everything from what it is given (no globals), so tests and
`ibc serve` construct the same app. Routes live in server.routes (terminals and readers) and
server.admin (librarians); errors become JSON in server.errors. The librarian's desk (HTML pages
under /desk, its own cookie sessions) is server.desk.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from collections.abc import AsyncIterator, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from library import __version__
from library.circulation.service import CirculationService
from library.places.match import PlaceCache
from library.storage.models import Reader
from server import errors
from server.desk.web import error_page, is_desk_path
from server.security import authenticate, session_reader

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from config.settings import Settings
    from library.storage.database import Database

API_VERSION = 1
PREFIX = "/api/v1"


@dataclass
class ServerState:
    """What every request handler needs; one per app."""

    settings: Settings
    db: Database
    circulation: CirculationService
    places: PlaceCache = field(default_factory=PlaceCache)  # every school's places, by version
    read_only: bool = False  # decided once by server.readonly.decide: nothing writes


@dataclass(frozen=True)
class Caller:
    """The authenticated terminal (or librarian) of a request."""

    id: int
    name: str


bearer = HTTPBearer(auto_error=False, description="terminal or librarian token")
reader_header = APIKeyHeader(name="X-Reader-Session", auto_error=False,
                             description="reader session from POST /api/v1/session")


def state(request: Request) -> ServerState:
    """The app's ServerState."""
    return request.app.state.ibc


def terminal(request: Request, cred: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Caller:
    """The enrolled, non-revoked terminal making the request (else 401)."""
    st = state(request)
    return Caller(*authenticate(st.db, cred.credentials if cred else None, "terminal",
                                touch=not st.read_only))


def librarian(request: Request, cred: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Caller:
    """A librarian credential (else 401)."""
    st = state(request)
    return Caller(*authenticate(st.db, cred.credentials if cred else None, "librarian",
                                touch=not st.read_only))


def reader(request: Request, caller: Caller = Depends(terminal),
           session: str | None = Depends(reader_header)) -> Reader:
    """The reader of a live session opened on the calling terminal (else 401)."""
    st = state(request)
    return session_reader(st.db, session, caller.id, st.settings.server.session_idle_s,
                          touch=not st.read_only)


def optional_reader(request: Request, caller: Caller = Depends(terminal),
                    session: str | None = Depends(reader_header)) -> Reader | None:
    """The session reader when a session header is sent, else None."""
    if not session:
        return None
    st = state(request)
    return session_reader(st.db, session, caller.id, st.settings.server.session_idle_s,
                          touch=not st.read_only)


class BodyLimit:
    """ASGI middleware: refuse bodies over `limit` bytes (413) and bodies without a length (411).

    The paths in `own_limit` (the desk's MARC and federal textbook list uploads) are left to
    their route, which reads the body under a larger limit of its own and refuses with a page of
    the desk.
    """

    def __init__(self, app: ASGIApp, limit: int, own_limit: frozenset[str] = frozenset()):
        self.app, self.limit, self.own_limit = app, limit, own_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.own_limit:
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        status, code = 0, ""
        if length is not None:
            if not length.isdigit():
                status, code = 400, "invalid_request"
            elif int(length) > self.limit:
                status, code = 413, "body_too_large"
        elif b"chunked" in headers.get(b"transfer-encoding", b""):
            status, code = 411, "invalid_request"  # terminals always send a Content-Length
        if not status:
            return await self.app(scope, receive, send)
        if is_desk_path(scope.get("path", "")):  # a page of the desk, as its other refusals
            message = errors.MESSAGES[code][0]
            if status == 413:
                message = f"Файл слишком большой: не больше {self.limit // 1024} КБ"
            page = error_page(status, message)
            payload, ctype = bytes(page.body), b"text/html; charset=utf-8"
        else:
            payload = json.dumps(errors.body(code), ensure_ascii=False).encode("utf-8")
            ctype = b"application/json"
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", ctype),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


class WorkerHeader:
    """ASGI middleware of a worker process of `ibc serve --workers N`: every response names the
    process that answered (``X-Ibc-Worker``: its random boot id, server/boots.py), so an
    operator or a test sees requests spread over the workers."""

    def __init__(self, app: ASGIApp, boot: str):
        self.app, self.value = app, boot.encode("ascii")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def _send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"x-ibc-worker", self.value)]}
            await send(message)

        await self.app(scope, receive, _send)


def create_app(settings: Settings, db: Database, *,
               today: Callable[[], dt.date] | None = None) -> FastAPI:
    """The API app for `settings` on database `db`; read-only (server/readonly.py) when
    ``[server] read_only`` is set, refused (ReadOnlyRefusal) when it cannot run as asked."""
    from server import admin, media_api, places_api, readonly, routes, sru
    from server.desk import catalogue_pages, textbooks_pages
    from server.desk import pages as desk
    from server.desk.web import DeskHeaders
    from server.media_remote import RemoteStation

    read_only = readonly.decide(settings, db)
    if read_only and settings.media.station != "off":  # a station writes its lease and lessons
        settings = settings.model_copy(deep=True)
        settings.media.station = "off"
    # PIN hashes are scrypt (16 MB each): they run on pin_hash_concurrency threads of their own,
    # whatever the number of parallel requests (FastAPI runs sync routes on 40 worker threads;
    # a semaphore alone still left 16 MB in the malloc arena of every thread that hashed once).
    hashing = ThreadPoolExecutor(settings.server.pin_hash_concurrency, thread_name_prefix="ibc-pin-hash")
    # [circulation] backend: the local database, or ИРБИС64 as the system of record (ils/irbis)
    from ils.irbis.circulation import circulation_service

    service = circulation_service(db, settings, today=today or dt.date.today,
                                  pin_executor=hashing)
    app = FastAPI(
        title="ИБЦ school server API", version=f"{API_VERSION}.0 ({__version__})",
        description="Terminals of the school information-library centre: search, loans, media, "
                    "replica feed. See docs/SERVER.md.",
        responses={401: {"model": routes.schemas.ErrorOut}, 422: {"model": routes.schemas.ErrorOut}},
        lifespan=_lifespan,
    )
    if not read_only:
        _default_school(settings, db)
    app.state.media_remote = RemoteStation(settings, db)
    app.state.ibc = ServerState(settings, db, service, read_only=read_only)
    app.state.desk_today = today or dt.date.today
    errors.install(app)
    app.add_middleware(BodyLimit, limit=settings.server.max_body_bytes,
                       own_limit=frozenset({catalogue_pages.IMPORT_PATH, textbooks_pages.FPU_PATH}))
    app.add_middleware(DeskHeaders)
    from server.opac.web import OpacHeaders

    app.add_middleware(OpacHeaders)
    if settings.server.workers > 1:
        from server.boots import BOOT

        app.add_middleware(WorkerHeader, boot=BOOT)
    if read_only:
        readonly.install(app, settings, db)
    app.include_router(routes.router, prefix=PREFIX)
    app.include_router(admin.router, prefix=PREFIX)
    app.include_router(media_api.router, prefix=PREFIX)
    app.include_router(places_api.router, prefix=PREFIX)
    app.include_router(sru.router)  # SRU 1.2 for other library systems (docs/SRU.md)
    for desk_router in desk.routers():
        app.include_router(desk_router)
    from server.opac import pages as opac

    for opac_router in opac.routers():  # the public catalogue (docs/OPAC.md)
        app.include_router(opac_router)
    return app


def _default_school(settings: Settings, db: Database) -> None:
    """The default school (``[school]``) in the schools table on first start (library/schools.py):
    its name is what other schools' kiosks show beside its copies."""
    from library.schools import ensure_default

    with db.transaction() as s:
        ensure_default(s, settings.school.sigla, settings.school.name)


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Prune old change-feed tombstones at start; close the media station (if one was started)
    and the PIN hashing pool when the app shuts down."""
    app.state.media_remote.attach_loop(asyncio.get_running_loop())
    if not app.state.ibc.read_only:
        await anyio.to_thread.run_sync(_prune_tombstones, app.state.ibc.db)
    try:
        yield
    finally:
        pool = app.state.ibc.circulation.pin_executor
        if pool is not None:  # `ibc serve` runs without the lifespan: its exit ends the pool
            pool.shutdown(wait=True)
    await anyio.to_thread.run_sync(app.state.media_remote.close)
    app.state.media_remote.attach_loop(None)


def _prune_tombstones(db: Database) -> None:
    """Drop deletions older than library.feed.TOMBSTONE_DAYS from the change feed (server/feed.py)."""
    from sqlalchemy.exc import SQLAlchemyError

    from library.errors import StorageError
    from server.feed import prune_tombstones

    try:
        with db.transaction() as s:
            gone = prune_tombstones(s)
    except (SQLAlchemyError, StorageError) as exc:  # the server still starts; next start retries
        logging.getLogger("ibc.server").warning("tombstones not pruned: %s", exc)
        return
    if gone:
        logging.getLogger("ibc.server").info("pruned %d change-feed tombstones", gone)
