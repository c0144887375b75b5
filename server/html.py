"""What the server's two HTML front ends — the librarian's desk (server/desk) and the public
catalogue (server/opac) — share, so that each rule of their security has one home:

- `PageError`: a refusal with an English msgid, parameters and an HTTP status, shown in the
  request's language (server/desk/i18n.py); DeskError and OpacError derive from it and
  server/errors.py turns them into each front end's HTML page;
- the session and form tokens: a random token (`new_token`, `well_formed`), only its SHA-256
  stored (`digest`), the form token an HMAC of it for one purpose (`csrf_of`), compared in
  constant time (`same`);
- `PageHeaders`: the ASGI middleware that puts the security headers on every answer under a
  prefix and sets the request's language from the front end's cookie for `_()`.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection

from library.errors import IbcError

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)
Headers = list[tuple[bytes, bytes]]


class PageError(IbcError):
    """A refusal of an HTML front end (code, English msgid with %(name)s parameters, status)."""

    code = "page"

    def __init__(self, code: str, msgid: str, status: int = 403, **params: object):
        super().__init__(msgid % params if params else msgid)
        self.code = code
        self.msgid = msgid
        self.params = params
        self.status = status

    def __str__(self) -> str:
        from server.desk.i18n import _

        text = _(self.msgid)
        return text % self.params if self.params else text


def new_token() -> str:
    """A fresh random token (a session, a sign-in form)."""
    return secrets.token_urlsafe(32)


def well_formed(token: str | None) -> bool:
    """True for a token of the shape new_token makes."""
    return bool(token) and TOKEN.match(token or "") is not None


def digest(token: str) -> str:
    """The stored form of a session token (a copy of the database opens no session)."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def csrf_of(token: str, purpose: bytes) -> str:
    """The form token of a session token for one front end (`purpose`): it differs per
    session, is never stored and cannot be computed without the cookie."""
    return hmac.new(token.encode("ascii"), purpose, hashlib.sha256).hexdigest()


def same(expected: str | None, given: str | None) -> bool:
    """True when both are given and equal (constant time)."""
    return bool(expected) and bool(given) and hmac.compare_digest(
        (expected or "").encode("utf-8", "replace"), (given or "").encode("utf-8", "replace"))


class PageHeaders:
    """ASGI middleware of one front end: `headers(path)` on every answer under `prefix` (they
    replace the route's own of the same names), and the request's language from the cookie
    `lang_cookie` for `_()`; `here` holds the page's path and query (a query longer than
    `query_max` is left out: a hostile address is never echoed at length) for the language
    switch's way back."""

    def __init__(self, app: ASGIApp, *, prefix: str, headers: Callable[[str], Headers],
                 lang_cookie: str, here: contextvars.ContextVar[str], query_max: int):
        self.app, self.prefix, self.headers = app, prefix, headers
        self.lang_cookie, self.here, self.query_max = lang_cookie, here, query_max

    def covers(self, path: str) -> bool:
        """True for the prefix and everything under it."""
        return path == self.prefix or path.startswith(self.prefix + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from server.desk import i18n

        path = scope.get("path", "")
        if scope["type"] != "http" or not self.covers(path):
            return await self.app(scope, receive, send)
        extra = self.headers(path)
        names = {h[0] for h in extra}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [h for h in message.get("headers", []) if h[0] not in names] + extra
            await send(message)

        token = i18n.set_language(HTTPConnection(scope).cookies.get(self.lang_cookie, ""))
        query = scope.get("query_string", b"").decode("latin-1")
        keep = query and len(query) <= self.query_max
        here = self.here.set(path + (f"?{query}" if keep else ""))
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            self.here.reset(here)
            i18n.reset_language(token)
