"""A read-only `ibc serve` (``--read-only``, ``[server] read_only``), typically on a PostgreSQL
hot standby: searches, records, schools, covers, media lists, the change feed and health answer;
everything that writes answers 503 ``read_only`` (docs/SERVER.md «A read-only server on a
PostgreSQL standby»).

`decide(settings, db)` is the ONE place that decides whether a server runs read-only, and
refuses to start when it cannot: a writable server on a standby (it could write nothing), a
read-only server on a schema other than this version's head (it may not migrate). `ibc serve`
calls it before migrating, `create_app` when it builds the app. A read-only app:

- makes its database refuse writes (library/storage/replication.py `make_read_only`), so a
  write that slipped past the checks below is a refusal, never a change;
- skips what writes at start: migrations, the default school's row, pruning the change feed's
  tombstones, the media station (``[media] station`` is treated as ``off``);
- refuses, in `ReadOnlyGuard`, every request that is not GET/HEAD/OPTIONS (or a POST that only
  reads: SRU's form POST, `READING_POSTS`) and every request to
  the librarian's desk (its sessions and logins are rows in the database) with 503 ``read_only``,
  Russian text, and ``primary`` (``[server] primary_url``) when set; a POST under /opac (the
  reader's sign-in and account) gets the OPAC's HTML page saying the account works on the main
  server, linked to ``primary_url`` + /opac/login when set (the catalogue's GETs still answer;
  GET /opac/login shows the same page, server/opac/account_pages.py);
- checks terminal credentials and reader sessions without touching their ``last_seen``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from library.errors import IbcError

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.types import ASGIApp, Receive, Scope, Send

    from config.settings import Settings
    from library.storage.database import Database

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# POST paths that only read: SRU's form POST (server/sru.py) is a search like its GET.
READING_POSTS = frozenset({"/sru"})


class ReadOnlyRefusal(IbcError):
    """This server cannot start in the mode asked for (the message, Russian and English, says
    why and what to do)."""

    code = "read_only_refused"


def decide(settings: Settings, db: Database) -> bool:
    """True when this server runs read-only (``[server] read_only``); raises ReadOnlyRefusal
    when a writable server was asked for on a standby, or a read-only one on a database whose
    schema is not this version's head. Writes nothing."""
    from library.storage.replication import in_recovery

    if not settings.server.read_only:
        if in_recovery(db):
            raise ReadOnlyRefusal(
                "база — резервная копия PostgreSQL (hot standby), в неё нельзя писать: запустите "
                "`ibc serve --read-only` или укажите базу основного сервера "
                "(the database is a PostgreSQL hot standby: start with --read-only, or use the "
                "primary's database)")
        return False
    check_schema(db)
    return True


def check_schema(db: Database) -> None:
    """A read-only server does not migrate: the database must be at this version's head."""
    from library.storage.migrate import head_revision

    have, want = db.schema_revision(), head_revision()
    if have != want:
        raise ReadOnlyRefusal(
            f"схема базы {have or 'пуста'}, а этой версии нужна {want}: сервер только для "
            "чтения не обновляет схему — обновите основной сервер (`ibc serve` или `ibc db "
            f"upgrade` на нём) и дождитесь репликации (the database schema is at {have}, this "
            f"version needs {want}; a read-only server does not migrate: upgrade the primary)")


def refusal_body(settings: Settings) -> dict:
    """The JSON body of a refused write: code ``read_only``, Russian and English text, and the
    primary's URL when ``[server] primary_url`` is set."""
    from server.errors import body

    primary = settings.server.primary_url
    return body("read_only", primary=primary) if primary else body("read_only")


class ReadOnlyGuard:
    """ASGI middleware of a read-only server: 503 ``read_only`` for every method but
    GET/HEAD/OPTIONS and for every path of the librarian's desk (an HTML page there)."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from server.desk.web import is_desk_path
        from server.opac.web import is_opac_path

        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        desk = is_desk_path(path)
        method = scope.get("method", "GET")
        if (method in SAFE_METHODS or (method == "POST" and path in READING_POSTS)) and not desk:
            return await self.app(scope, receive, send)
        data = refusal_body(self.settings)
        if is_opac_path(path):
            payload, ctype = _opac_page(scope, self.settings), b"text/html; charset=utf-8"
        elif desk:
            from server.desk.web import error_page

            text = data["message"]
            if "primary" in data:
                text += f" ({data['primary']}/desk)"
            page = error_page(503, text)
            payload, ctype = bytes(page.body), b"text/html; charset=utf-8"
        else:
            payload = json.dumps(data, ensure_ascii=False).encode("utf-8")
            ctype = b"application/json"
        headers = [(b"content-type", ctype), (b"content-length", str(len(payload)).encode())]
        if is_opac_path(path):  # outside OpacHeaders: the same security headers here
            from server.opac.web import HEADERS, PRIVATE

            headers += [*HEADERS, PRIVATE]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def _opac_page(scope: Scope, settings: Settings) -> bytes:
    """The OPAC's page for a write on a read-only server, in the visitor's OPAC language."""
    from starlette.requests import HTTPConnection

    from server.desk import i18n
    from server.opac.account_pages import read_only_page
    from server.opac.web import LANG_COOKIE

    token = i18n.set_language(HTTPConnection(scope).cookies.get(LANG_COOKIE, ""))
    try:
        return bytes(read_only_page(settings.server.primary_url).body)
    finally:
        i18n.reset_language(token)


def install(app: FastAPI, settings: Settings, db: Database) -> None:
    """Make `app` (built by create_app for a read-only server) and its database read-only."""
    from sqlalchemy.exc import DBAPIError

    from library.storage.replication import is_read_only_error, make_read_only

    make_read_only(db)
    app.add_middleware(ReadOnlyGuard, settings=settings)

    from fastapi import Request
    from fastapi.responses import JSONResponse

    from server.errors import body

    async def _write_refused(req: Request, exc: Exception) -> JSONResponse:
        # A write the guard did not foresee (a GET that writes): the database refused it.
        if is_read_only_error(exc):
            return JSONResponse(refusal_body(settings), status_code=503)
        import logging

        logging.getLogger("ibc.server").exception("database error on %s %s", req.method,
                                                  req.url.path)
        return JSONResponse(body("internal"), status_code=500)

    app.add_exception_handler(DBAPIError, _write_refused)
