"""What every desk page shares: the templates, `render`, the session dependencies, the form
token check and the security headers. Each section of the desk is a module with its own
`router` (server/desk/pages.py lists them); they import from here, never from each other.

Only the desk's cookie opens a page; a terminal's or librarian's bearer token is ignored here.
Refusals are raised (server/desk/errors.py, or any IbcError) and turned into a redirect or an
HTML page by server/errors.py.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from library.schools import SIGLA_MAX, get_school, list_schools, scope
from library.schools import Scope as SchoolScope
from library.text import has_controls
from server.desk import i18n, sessions
from server.desk.errors import DeskForbidden, DeskNotFound, DeskOtherSchool
from server.desk.i18n import N_
from server.html import PageHeaders

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from server.app import ServerState

HERE = Path(__file__).resolve().parent
PREFIX = "/desk"
HEADERS = [(b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'"),
           (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
           (b"cache-control", b"no-store"), (b"x-frame-options", b"DENY")]
ROLE_NAMES = {"librarian": N_("librarian"), "admin": N_("administrator")}

HERE_QUERY_MAX = 200  # the longest query kept in the language switch's `next`
_here: contextvars.ContextVar[str] = contextvars.ContextVar("desk_here", default=PREFIX)
templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                        autoescape=select_autoescape(default=True), auto_reload=False)


def is_desk_path(path: str) -> bool:
    """True for /desk and everything under it."""
    return path == PREFIX or path.startswith(PREFIX + "/")


class DeskHeaders(PageHeaders):
    """ASGI middleware: the security headers on every response under /desk, and the request's
    language (cookie ``ibc_desk_lang``) for `_()` while the request runs (server/html.py)."""

    def __init__(self, app: ASGIApp):
        super().__init__(app, prefix=PREFIX, headers=lambda _path: HEADERS, lang_cookie=i18n.COOKIE,
                         here=_here, query_max=HERE_QUERY_MAX)


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
    """A page from server/desk/templates in the request's language (`_`, `ngettext` and `lang`
    are in every template's context)."""
    context.setdefault("_", i18n._)
    context.setdefault("ngettext", i18n.ngettext)
    context.setdefault("lang", i18n.language())
    context.setdefault("languages", i18n.LANGUAGE_NAMES)
    context.setdefault("here_url", _here.get())
    return HTMLResponse(templates.get_template(template).render(**context), status_code=status)


def error_page(status: int, message: str) -> HTMLResponse:
    """A refusal page (server/errors.py)."""
    return render("error.html", status, title=message, message=message)


def desk_user(request: Request) -> sessions.DeskUser:
    """The account of the request's desk session (else DeskLoginRequired → the login page)."""
    st = state(request)
    return sessions.current(st.db, request.cookies.get(sessions.COOKIE), st.settings.desk,
                            client_ip(request))


def admin_user(user: sessions.DeskUser = Depends(desk_user)) -> sessions.DeskUser:
    """A desk session of an `admin` account (else DeskForbidden, 403)."""
    if user.role != "admin":
        raise DeskForbidden()
    return user


def school_scope(request: Request, user: sessions.DeskUser) -> SchoolScope | None:
    """Whose copies and readers this account lends and lists (docs/SCHOOLS.md «The desk per
    school»): its school's, by the terminal API's rule (library.schools.scope); None for an
    account of every school (the city's administrator, every account of a single school)."""
    if user.school is None:
        return None
    st = state(request)
    with st.db.session() as s:
        return scope(s, user.school, st.settings.school.sigla)


def page_school(request: Request, user: sessions.DeskUser, asked: str | None) -> str | None:
    """The school a per-school page (reports, lists) is about: a school's librarian's own
    (asking for another: DeskOtherSchool, 403); for an account of every school the school it
    chose (`asked`; empty: every school, None; a sigla no school has: DeskNotFound, 404)."""
    wanted = (asked or "").strip()
    if user.school is not None:
        if wanted and wanted != user.school:
            raise DeskOtherSchool()
        return user.school
    if not wanted:
        return None
    if len(wanted) > SIGLA_MAX or has_controls(wanted):  # never a sigla: not looked up (no NUL to PostgreSQL)
        raise DeskNotFound(N_("There is no such school"))
    with state(request).db.session() as s:
        if get_school(s, wanted) is None:
            raise DeskNotFound(N_("There is no such school"))
    return wanted


def page_scope(request: Request, user: sessions.DeskUser, asked: str | None) -> SchoolScope | None:
    """`page_school` as a Scope (None: every school)."""
    chosen = page_school(request, user, asked)
    if chosen is None:
        return None
    st = state(request)
    with st.db.session() as s:
        return scope(s, chosen, st.settings.school.sigla)


def school_choices(request: Request, user: sessions.DeskUser) -> list[tuple[str, str]]:
    """The schools an account of every school may choose on a per-school page, (sigla, name),
    the default school first; none for a school's librarian, nor when there is one school
    (a single school's pages stay as they were)."""
    if user.school is not None:
        return []
    st = state(request)
    with st.db.session() as s:
        rows = list_schools(s, st.settings.school.sigla)
    return [(r.sigla, r.name) for r in rows] if len(rows) > 1 else []


def school_name(request: Request, sigla: str | None) -> str:
    """The name of the school `sigla` (its sigla when no school has it; '' for None)."""
    if sigla is None:
        return ""
    with state(request).db.session() as s:
        found = get_school(s, sigla)
    return found.name if found is not None else sigla


def check_form(user: sessions.DeskUser, csrf: str | None) -> None:
    """Every POST form: its hidden `csrf` must be this session's form token (else DeskCsrf, 403,
    nothing changed). Call it first in every POST route."""
    sessions.check_csrf(user.csrf, csrf)


def set_cookie(response: Response, request: Request, name: str, value: str) -> None:
    """A desk cookie: HttpOnly, SameSite=Strict, Path=/desk, Secure over HTTPS."""
    response.set_cookie(name, value, path=PREFIX, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


def local_time(when: dt.datetime | str | None) -> str:
    """A stored time as the server's local «дд.мм.гггг чч:мм» ('' for none)."""
    if when is None or when == "":
        return ""
    value = dt.datetime.fromisoformat(when) if isinstance(when, str) else when
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone().strftime("%d.%m.%Y %H:%M")


def local_date(day: dt.date | None) -> str:
    """A date as «дд.мм.гггг» ('' for none)."""
    return day.strftime("%d.%m.%Y") if day else ""


templates.filters["local_time"] = local_time
templates.filters["local_date"] = local_date
