"""The desk's pages under `/desk`: login, home, accounts (Jinja2, autoescaped, no JavaScript).

Only the desk's cookie opens a page; a terminal's or librarian's bearer token is ignored here.
Refusals are raised (server/desk/errors.py) and turned into a redirect or a page by
server/errors.py; `DeskHeaders` puts the security headers on every `/desk` response.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from server.desk import accounts, sessions
from server.desk.errors import DeskForbidden
from server.desk.figures import SEEN_MIN, home_figures
from server.desk.guard import LoginLimits

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from server.app import ServerState

HERE = Path(__file__).resolve().parent
PREFIX = "/desk"
HEADERS = [(b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'"),
           (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
           (b"cache-control", b"no-store"), (b"x-frame-options", b"DENY")]
ROLE_NAMES = {"librarian": "библиотекарь", "admin": "администратор"}

templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                        autoescape=select_autoescape(default=True), auto_reload=False)
router = APIRouter(prefix=PREFIX, include_in_schema=False)


class DeskHeaders:
    """ASGI middleware: the security headers on every response under /desk."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == PREFIX or path.startswith(PREFIX + "/")):
            return await self.app(scope, receive, send)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {h[0] for h in HEADERS}
                message["headers"] = [h for h in message.get("headers", []) if h[0] not in names] + HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _state(request: Request) -> ServerState:
    return request.app.state.ibc


def client_ip(request: Request) -> str:
    """The client's address (the direct peer: the desk trusts no forwarding header)."""
    return (request.client.host if request.client else "unknown")[:64]


def render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from server/desk/templates."""
    return HTMLResponse(templates.get_template(template).render(**context), status_code=status)


def error_page(status: int, message: str) -> HTMLResponse:
    """A refusal page (server/errors.py)."""
    return render("error.html", status, title=message, message=message)


def desk_user(request: Request) -> sessions.DeskUser:
    """The account of the request's desk session (else DeskLoginRequired → the login page)."""
    st = _state(request)
    return sessions.current(st.db, request.cookies.get(sessions.COOKIE), st.settings.desk,
                            client_ip(request))


def _cookie(response: Response, request: Request, name: str, value: str) -> None:
    response.set_cookie(name, value, path=PREFIX, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


@router.get("/static/desk.css")
def stylesheet() -> FileResponse:
    """The desk's one stylesheet."""
    return FileResponse(HERE / "static" / "desk.css", media_type="text/css")


def _login_form(request: Request, status: int = 200, error: str = "", name: str = "") -> HTMLResponse:
    token = request.cookies.get(sessions.LOGIN_COOKIE)
    if not sessions.well_formed(token):
        token = sessions.new_token()
    assert token is not None
    response = render("login.html", status, title="Вход", csrf=token, error=error,
                      name=name if accounts.NAME.match(name) else "")
    _cookie(response, request, sessions.LOGIN_COOKIE, token)
    return response


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    """The login form (with its double-submit form token)."""
    return _login_form(request)


@router.post("/login", response_model=None)
def login(request: Request, name: str = Form(""), password: str = Form(""),
          csrf: str = Form("")) -> Response:
    """Check the login; 303 to the home page with the session cookie, else the form again."""
    sessions.check_csrf(request.cookies.get(sessions.LOGIN_COOKIE), csrf)
    st = _state(request)
    ip = client_ip(request)
    result = accounts.login(st.db, name, password, ip, LoginLimits.from_settings(st.settings.desk),
                            hashing=st.circulation.hashing)
    typed = name.strip().lower()
    if result.locked_min:
        response = _login_form(request, 429, f"Слишком много неудачных попыток входа: попробуйте "
                                             f"через {result.locked_min} мин.", typed)
        response.headers["Retry-After"] = str(60 * result.locked_min)
        return response
    if result.account is None:
        return _login_form(request, 401, "Неверное имя или пароль", typed)
    old = request.cookies.get(sessions.COOKIE)
    if sessions.well_formed(old):
        try:
            sessions.end(st.db, sessions.current(st.db, old, st.settings.desk), "logout", ip)
        except sessions.DeskLoginRequired:
            pass
    redirect = RedirectResponse(PREFIX, status_code=303)
    _cookie(redirect, request, sessions.COOKIE, sessions.open_session(st.db, result.account, ip))
    redirect.delete_cookie(sessions.LOGIN_COOKIE, path=PREFIX)
    return redirect


@router.get("")
def home(request: Request, user: sessions.DeskUser = Depends(desk_user)) -> HTMLResponse:
    """The desk's home page: who is signed in and today's figures."""
    st = _state(request)
    today: dt.date = request.app.state.desk_today()
    with st.db.session() as s:
        figures = home_figures(s, today)
    return render("home.html", title="Рабочее место библиотекаря", user=user, role=ROLE_NAMES[user.role],
                  figures=figures, today=today.strftime("%d.%m.%Y"), seen_min=SEEN_MIN)


@router.post("/logout")
def logout(request: Request, csrf: str = Form(""),
           user: sessions.DeskUser = Depends(desk_user)) -> RedirectResponse:
    """End the session (form token checked) and go back to the login form."""
    sessions.check_csrf(user.csrf, csrf)
    sessions.end(_state(request).db, user, "logout", client_ip(request))
    response = RedirectResponse(PREFIX + "/login", status_code=303)
    response.delete_cookie(sessions.COOKIE, path=PREFIX)
    return response


@router.get("/accounts")
def account_list(request: Request, user: sessions.DeskUser = Depends(desk_user)) -> HTMLResponse:
    """Every desk account (administrators only)."""
    if user.role != "admin":
        raise DeskForbidden()
    rows = accounts.list_accounts(_state(request).db)
    for row in rows:
        row["role_name"] = ROLE_NAMES.get(row["role"], row["role"])
        row["created"] = _local(row["created_at"])
        row["disabled"] = _local(row["disabled_at"]) if row["disabled_at"] else ""
    return render("accounts.html", title="Учётные записи", user=user, rows=rows)


def _local(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).astimezone().strftime("%d.%m.%Y %H:%M")
