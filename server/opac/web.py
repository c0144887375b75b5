"""What every OPAC page shares: the templates, `render`, the security headers, the language of
the request and the cookie rules. Sections are modules with their own `router`
(server/opac/pages.py lists them); they import from here, never from each other.

The OPAC is public: its catalogue pages need no login and show no reader data; the reader's
pages (server/opac/account_pages.py) need the OPAC's own session cookie. A terminal's or
librarian's bearer token and the desk's cookie open nothing here. Refusals are raised
(server/opac/errors.py, or any IbcError) and become an HTML page of the OPAC in
server/errors.py.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from server.desk import i18n
from server.html import PageHeaders

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from server.app import ServerState

HERE = Path(__file__).resolve().parent
PREFIX = "/opac"
LANG_COOKIE = "ibc_opac_lang"
# No script, style or image from elsewhere; no inline script; forms post only here.
HEADERS = [(b"content-security-policy",
            b"default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
            b"base-uri 'none'"),
           (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
           (b"x-frame-options", b"DENY"),
           (b"permissions-policy", b"camera=(), microphone=(), geolocation=()")]
PRIVATE = (b"cache-control", b"no-store")  # every page: a shared phone's back button shows nothing
HERE_QUERY_MAX = 300  # the longest query kept in the language switch's `next`
_here: contextvars.ContextVar[str] = contextvars.ContextVar("opac_here", default=PREFIX)
templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                        autoescape=select_autoescape(default=True), auto_reload=False)


def is_opac_path(path: str) -> bool:
    """True for /opac and everything under it."""
    return path == PREFIX or path.startswith(PREFIX + "/")


def _headers(path: str) -> list[tuple[bytes, bytes]]:
    """The security headers of an answer under /opac: every page also `no-store` (a shared
    phone's back button shows nothing), the stylesheet cacheable."""
    return HEADERS if path.startswith(PREFIX + "/static/") else [*HEADERS, PRIVATE]


class OpacHeaders(PageHeaders):
    """ASGI middleware: the security headers on every response under /opac, and the request's
    language (cookie ``ibc_opac_lang``) for `_()` while the request runs (server/html.py)."""

    def __init__(self, app: ASGIApp):
        super().__init__(app, prefix=PREFIX, headers=_headers, lang_cookie=LANG_COOKIE, here=_here,
                         query_max=HERE_QUERY_MAX)


def state(request: Request) -> ServerState:
    """The server's state (settings, database, circulation service)."""
    return request.app.state.ibc


def today(request: Request) -> dt.date:
    """The server's today (a test may fix it)."""
    return request.app.state.desk_today()


def client_ip(request: Request) -> str:
    """The client's address: the direct peer, or the client a `[server] trusted_proxies` proxy
    names (server/runner.py; no other forwarding header is believed)."""
    return (request.client.host if request.client else "unknown")[:64]


def render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from server/opac/templates in the request's language (`_`, `ngettext`, `lang`,
    `languages` and `here_url` are in every template's context; `reader` is the signed-in
    reader's short name or None)."""
    context.setdefault("_", i18n._)
    context.setdefault("ngettext", i18n.ngettext)
    context.setdefault("lang", i18n.language())
    context.setdefault("languages", i18n.LANGUAGE_NAMES)
    context.setdefault("here_url", _here.get())
    context.setdefault("reader", None)
    return HTMLResponse(templates.get_template(template).render(**context), status_code=status)


def error_page(status: int, message: str) -> HTMLResponse:
    """A refusal page (server/errors.py)."""
    return render("error.html", status, title=message, message=message)


def set_cookie(response: Response, request: Request, name: str, value: str,
               max_age: int | None = None) -> None:
    """An OPAC cookie: HttpOnly, SameSite=Lax (a link from a school's site keeps the reader
    signed in; every form still carries its token), Path=/opac, Secure over HTTPS."""
    response.set_cookie(name, value, path=PREFIX, httponly=True, samesite="lax", max_age=max_age,
                        secure=request.url.scheme == "https")


def local_date(day: dt.date | None) -> str:
    """A date as «дд.мм.гггг» ('' for none)."""
    return day.strftime("%d.%m.%Y") if day else ""


templates.filters["local_date"] = local_date
