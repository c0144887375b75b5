"""The desk's own pages: login, logout, home, accounts and the stylesheet; `ROUTERS` lists
every section's router (server/app.py includes them). Shared pieces are in server/desk/web.py.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from library.i18n import translator
from library.schools import SchoolError, list_schools
from server.desk import accounts, i18n, sessions
from server.desk.errors import AccountError, DeskOtherSchool
from server.desk.figures import SEEN_MIN, home_figures
from server.desk.guard import LoginLimits
from server.desk.i18n import _
from server.desk.web import (
    HERE,
    PREFIX,
    ROLE_NAMES,
    admin_user,
    check_form,
    client_ip,
    desk_user,
    is_desk_path,
    local_date,
    local_time,
    render,
    school_scope,
    set_cookie,
    state,
    today,
)

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, back: str = Query(PREFIX, alias="next", max_length=2000)
                    ) -> RedirectResponse:
    """Show the desk in `code` (ru, en) from now on in this browser; back to the desk page `next`
    (any other address goes to the home page: no open redirect)."""
    path = back.split("?", 1)[0]
    target = back if is_desk_path(path) and "//" not in back and "\\" not in back else PREFIX
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(i18n.COOKIE, i18n.language_of(code), max_age=365 * 86400, path=PREFIX,
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return response


@router.get("/static/desk.css")
def stylesheet() -> FileResponse:
    """The desk's one stylesheet."""
    return FileResponse(HERE / "static" / "desk.css", media_type="text/css")


def _login_form(request: Request, status: int = 200, error: str = "", name: str = "") -> HTMLResponse:
    token = request.cookies.get(sessions.LOGIN_COOKIE)
    if not sessions.well_formed(token):
        token = sessions.new_token()
    assert token is not None
    response = render("login.html", status, title=_("Sign-in page"), csrf=token, error=error,
                      name=name if accounts.NAME.match(name) else "")
    set_cookie(response, request, sessions.LOGIN_COOKIE, token)
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
    st = state(request)
    ip = client_ip(request)
    result = accounts.login(st.db, name, password, ip, LoginLimits.from_settings(st.settings.desk),
                            hashing=st.circulation.hashing)
    typed = name.strip().lower()
    if result.locked_min:
        response = _login_form(request, 429, _("Too many failed sign-ins: try again in %(n)s min")
                                   % {"n": result.locked_min}, typed)
        response.headers["Retry-After"] = str(60 * result.locked_min)
        return response
    if result.account is None:
        return _login_form(request, 401, _("Wrong name or password"), typed)
    old = request.cookies.get(sessions.COOKIE)
    if sessions.well_formed(old):
        try:
            sessions.end(st.db, sessions.current(st.db, old, st.settings.desk), "logout", ip)
        except sessions.DeskLoginRequired:
            pass
    redirect = RedirectResponse(PREFIX, status_code=303)
    set_cookie(redirect, request, sessions.COOKIE, sessions.open_session(st.db, result.account, ip))
    redirect.delete_cookie(sessions.LOGIN_COOKIE, path=PREFIX)
    return redirect


@router.get("")
def home(request: Request, user: sessions.DeskUser = Depends(desk_user)) -> HTMLResponse:
    """The desk's home page: who is signed in and today's figures."""
    st = state(request)
    from server.desk.circulation_pages import new_txn, new_visit

    day = today(request)
    mine = school_scope(request, user)  # a school's librarian: their school's figures
    with st.db.session() as s:
        figures = home_figures(s, day, school=mine)
    return render("home.html", title=_("Librarian's desk"), section="home", user=user,
                  role=_(ROLE_NAMES[user.role]), figures=figures, today=local_date(day), seen_min=SEEN_MIN,
                  txn=new_txn(new_visit(user, "")))


@router.post("/logout")
def logout(request: Request, csrf: str = Form(""),
           user: sessions.DeskUser = Depends(desk_user)) -> RedirectResponse:
    """End the session (form token checked) and go back to the login form."""
    check_form(user, csrf)
    sessions.end(state(request).db, user, "logout", client_ip(request))
    response = RedirectResponse(PREFIX + "/login", status_code=303)
    response.delete_cookie(sessions.COOKIE, path=PREFIX)
    return response


@router.get("/accounts")
def account_list(request: Request, done: str = Query("", max_length=1),
                 user: sessions.DeskUser = Depends(admin_user)) -> HTMLResponse:
    """Every desk account (administrators only), with its school; an administrator of every
    school may set an account's school."""
    return _accounts_page(request, user, done=done)


def _accounts_page(request: Request, user: sessions.DeskUser, status: int = 200, error: str = "",
                   done: str = "") -> HTMLResponse:
    st = state(request)
    rows = accounts.list_accounts(st.db)
    with st.db.session() as s:
        schools = [(v.sigla, v.name) for v in list_schools(s, st.settings.school.sigla)]
    names = dict(schools)
    for row in rows:
        row["role_name"] = _(ROLE_NAMES[row["role"]]) if row["role"] in ROLE_NAMES else row["role"]
        row["created"] = local_time(row["created_at"])
        row["disabled"] = local_time(row["disabled_at"]) if row["disabled_at"] else ""
        row["school_name"] = names.get(row["school"], row["school"]) if row["school"] else ""
    return render("accounts.html", status, title=_("Accounts"), section="accounts", user=user, rows=rows,
                  schools=schools if len(schools) > 1 or any(r["school"] for r in rows) else [],
                  may_set=user.school is None, error=error, done=done)


@router.post("/accounts/{name}/school")
def account_school(request: Request, name: str, csrf: str = Form(""),
                   school: str = Form("", max_length=64),
                   user: sessions.DeskUser = Depends(admin_user)) -> Response:
    """Set the school an account works for (empty: every school). Only an administrator of
    every school: a school's administrator would otherwise widen their own account."""
    check_form(user, csrf)
    if user.school is not None:
        raise DeskOtherSchool()
    try:
        changed = accounts.set_school(state(request).db, name[:64], school or None, actor=user.name)
    except (AccountError, SchoolError) as exc:
        text = exc.message(translator(i18n.language())) if isinstance(exc, SchoolError) else str(exc)
        return _accounts_page(request, user, 400, text)
    return RedirectResponse(PREFIX + "/accounts?done=" + ("1" if changed else "0"), status_code=303)


def routers() -> list[APIRouter]:
    """This module's router and every section's (server/app.py includes them)."""
    from server.desk import (
        catalogue_pages,
        circulation_pages,
        class_sets_pages,
        holds_pages,
        media_pages,
        provision_pages,
        readers_pages,
        reports_pages,
        requests_pages,
        terminals_pages,
        textbooks_pages,
    )

    # the more specific /desk/textbooks/… routers before /desk/textbooks/{…}
    return [router, circulation_pages.router, readers_pages.router, catalogue_pages.router,
            class_sets_pages.router, provision_pages.router, textbooks_pages.router,
            terminals_pages.router, reports_pages.router, media_pages.router, holds_pages.router,
            requests_pages.router]


@router.get("/accounts/audit")
def audit_log(request: Request, actor: str = Query("", max_length=64), action: str = Query("", max_length=32),
              before: int | None = Query(None, ge=1, le=2**62),
              user: sessions.DeskUser = Depends(admin_user)) -> HTMLResponse:
    """Who did what at the desk (administrators only): newest first, 100 a page, by account
    and action."""
    from server.desk import audit

    with state(request).db.session() as s:
        rows = audit.recent(s, actor=actor.strip(), action=action.strip(), before=before)
        names = audit.actions(s)
    items = [{"id": r.id, "at": local_time(r.at), "actor": r.actor, "action": r.action,
              "detail": ", ".join(f"{k}={v}" for k, v in sorted((r.detail or {}).items())),
              "ip": r.client_ip or ""} for r in rows]
    more = rows[-1].id if len(rows) == audit.PAGE else None
    return render("accounts_audit.html", title=_("Audit log"), section="accounts", user=user,
                  items=items, actor=actor, action=action, actions=names, more=more)
