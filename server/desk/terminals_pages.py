"""The desk's section /terminals: Терминалы: подключение, список, отключение, конфликты без сети.

Everyone at the desk sees the terminals and the offline conflicts and may resolve a conflict;
only an administrator enrols a terminal (a one-time code, the same as `ibc terminals enroll`,
shown large and as a QR code drawn here as inline SVG) or revokes one. The rules live in
server/security.py (codes, revoke) and server/conflicts.py (the conflicts); "on line" is
server/desk/figures.py's rule, as on the home page.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from library.circulation.errors import CirculationError
from library.i18n import translator
from library.schools import list_schools
from library.storage.models import as_utc, utcnow
from server import conflicts, security, tls
from server.desk import i18n
from server.desk.audit import audit
from server.desk.errors import DeskNotFound, DeskOtherSchool
from server.desk.figures import SEEN_MIN, seen_since
from server.desk.i18n import N_, _, ngettext
from server.desk.sessions import DeskUser
from server.desk.web import (
    PREFIX,
    admin_user,
    check_form,
    client_ip,
    desk_user,
    local_time,
    page_school,
    render,
    school_choices,
    school_name,
    state,
)
from server.schemas import TXN_PATTERN

router = APIRouter(prefix=PREFIX + "/terminals", include_in_schema=False)
HERE = PREFIX + "/terminals"
NO_CONFLICT = N_("No such conflict, or it is already resolved")
OPS = {"checkout": N_("lending"), "checkin": N_("return")}


def ago(when: dt.datetime | None, now: dt.datetime) -> str:
    """«только что», «3 мин назад», «2 ч назад», «5 дн. назад» ('' for never)."""
    if when is None:
        return ""
    seconds = max(0, int((now - as_utc(when)).total_seconds()))
    if seconds < 60:
        return _("just now")
    if seconds < 3600:
        return _("%(n)s min ago") % {"n": seconds // 60}
    if seconds < 86400:
        return _("%(n)s h ago") % {"n": seconds // 3600}
    days = seconds // 86400
    return ngettext("%(n)s day ago", "%(n)s days ago", days) % {"n": days}


def _templates() -> dict[str, str]:
    """Every circulation refusal's English template by its code."""
    found: dict[str, str] = {}
    todo: list[type[CirculationError]] = [CirculationError]
    while todo:
        cls = todo.pop()
        found.setdefault(cls.code, cls.template)
        todo += cls.__subclasses__()
    return found


def conflict_message(c: dict) -> str:
    """The refusal of a conflict in the request's language: stored in Russian when it happened,
    said again from its code and parameters in another language (as stored when unknown)."""
    template = _templates().get(c.get("code") or "")
    if i18n.language() == "ru" or template is None:
        return c["message"]
    try:
        return translator(i18n.language())(template).format(**(c.get("params") or {}))
    except (KeyError, IndexError, ValueError):
        return c["message"]


def qr_svg(text: str, scale: int = 8, border: int = 4) -> Markup:
    """`text` as a QR code (error correction M): an inline <svg>, one path of black squares on a
    white field with the 4-module quiet zone (no data: URL, no script: the CSP allows it)."""
    from reportlab.graphics.barcode import qrencoder

    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(text)
    code.make()
    n = code.getModuleCount()
    size = n + 2 * border
    squares = "".join(f"M{x + border} {y + border}h1v1h-1z" for y in range(n) for x in range(n)
                      if code.isDark(y, x))
    label = Markup.escape(_("QR code of the enrolment code"))
    return Markup(  # noqa: S704 — numbers and an escaped label only; `text` is not in the markup
        f'<svg xmlns="http://www.w3.org/2000/svg" class="term-qr" role="img" '
        f'aria-label="{label}" width="{size * scale}" height="{size * scale}" '
        f'viewBox="0 0 {size} {size}" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#ffffff"/>'
        f'<path fill="#000000" d="{squares}"/></svg>')


def _terminals(request: Request) -> list[dict]:
    now = utcnow()
    cutoff = seen_since(now)
    st = state(request)
    rows = [r for r in security.list_credentials(st.db) if r["role"] == "terminal"]
    with st.db.session() as s:
        names = {v.sigla: v.name for v in list_schools(s)}
    for r in rows:
        r["school"] = r["sigla"] or st.settings.school.sigla  # NULL: the default school
        r["school_name"] = names.get(r["school"], r["school"])
        seen = dt.datetime.fromisoformat(r["last_seen"]) if r["last_seen"] else None
        r["seen_ago"] = ago(seen, now)
        r["seen_at"] = local_time(seen)
        r["enrolled"] = local_time(r["created_at"])
        r["online"] = not r["revoked"] and seen is not None and seen >= cutoff
    return rows


def _list_page(request: Request, user: DeskUser, status: int = 200, error: str = "",
               revoked: str = "") -> HTMLResponse:
    rows = _terminals(request)
    return render("terminals_list.html", status, title=_("Terminals"), section="terminals", user=user,
                  rows=rows, seen_min=SEEN_MIN, error=error, revoked=revoked,
                  schools=school_choices(request, user), school="",
                  many=len({r["school"] for r in rows}) > 1 or bool(school_choices(request, user)),
                  own_school=school_name(request, user.school))


@router.get("")
def terminal_list(request: Request, revoked: int | None = None,
                  user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """Every enrolled terminal: enrolled, last seen, on line or not, revoked."""
    name = ""
    if revoked is not None:
        name = next((r["name"] for r in security.list_credentials(state(request).db)
                     if r["id"] == revoked and r["revoked"]), "")
    return _list_page(request, user, revoked=name)


def _data_dir(request: Request) -> Path:
    from library.storage.database import default_data_dir

    settings = state(request).settings
    return Path(settings.data_dir) if settings.data_dir else default_data_dir()


@router.post("/enrol")
def enrol(request: Request, csrf: str = Form(""), school: str = Form("", max_length=64),
          user: DeskUser = Depends(admin_user)) -> HTMLResponse:
    """A new one-time enrolment code (as `ibc terminals enroll --school`), shown large and as a
    QR code: for the administrator's school (an administrator of every school chooses one;
    none chosen: the default school, as before)."""
    check_form(user, csrf)
    st = state(request)
    ip = client_ip(request)
    sigla = page_school(request, user, school)  # another school's: 403; no such school: 404
    try:
        made = security.new_enrolment(
            st.db, st.settings, _data_dir(request), sigla=sigla,
            also=lambda s: audit(s, user.name, "terminal_code", ip=ip,
                                 minutes=st.settings.server.enrol_code_minutes,
                                 **({"school": sigla} if sigla else {})))
    except tls.TlsError as exc:
        return _list_page(request, user, 503, _("No code was made: %(reason)s") % {"reason": exc})
    return render("terminals_enrol.html", title=_("Terminal enrolment code"), section="terminals",
                  user=user, code=made.code, minutes=made.minutes, qr=qr_svg(made.code),
                  school_name=school_name(request, sigla) if sigla else "",
                  expires=local_time(made.expires_at),
                  short_fp=_short(made.fingerprint), fingerprint=made.fingerprint)


def _short(fp: str | None) -> str:
    from library.tls import short_fingerprint

    return short_fingerprint(fp) if fp else ""


def _terminal(request: Request, terminal_id: int, user: DeskUser) -> dict:
    found = next((r for r in security.list_credentials(state(request).db)
                  if r["id"] == terminal_id and r["role"] == "terminal"), None)
    if found is None:
        raise DeskNotFound(N_("No such terminal"))
    if user.school is not None and (found["sigla"] or state(request).settings.school.sigla) != user.school:
        raise DeskOtherSchool()  # a school's administrator revokes their school's terminals only
    return found


@router.get("/{terminal_id}/revoke")
def revoke_confirm(request: Request, terminal_id: int,
                   user: DeskUser = Depends(admin_user)) -> HTMLResponse:
    """Ask before revoking a terminal."""
    return render("terminals_revoke.html", title=_("Revoke a terminal"), section="terminals", user=user,
                  terminal=_terminal(request, terminal_id, user))


@router.post("/{terminal_id}/revoke")
def revoke(request: Request, terminal_id: int, csrf: str = Form(""),
           user: DeskUser = Depends(admin_user)) -> RedirectResponse:
    """Revoke a terminal: its token is refused from now on, its readers' sessions end."""
    check_form(user, csrf)
    row = _terminal(request, terminal_id, user)
    ip = client_ip(request)
    if not row["revoked"]:
        security.revoke(state(request).db, row["name"],
                        also=lambda s: audit(s, user.name, "terminal_revoked", ip=ip,
                                             terminal=row["name"]))
    return RedirectResponse(f"{HERE}?revoked={terminal_id}", status_code=303)


def _conflicts_page(request: Request, user: DeskUser, status: int = 200, error_for: str = "",
                    error: str = "", note: str = "", done: str = "") -> HTMLResponse:
    rows = conflicts.list_conflicts(state(request).db, include_resolved=True, with_params=True)
    for c in rows:
        c["op_name"] = _(OPS[c["op"]]) if c["op"] in OPS else c["op"]
        c["message"] = conflict_message(c)
        c["queued"] = local_time(c["queued_at"])
        c["received"] = local_time(c["received_at"])
        res = c["resolution"] or {}
        c["resolved_at"] = local_time(res.get("at"))
        c["resolved_by"] = res.get("by", "")
        c["note"] = res.get("note", "")
    open_rows = [c for c in rows if not c["resolved"]]
    closed = sorted((c for c in rows if c["resolved"]), key=lambda c: c["resolution"]["at"]
                    if c["resolution"] else "", reverse=True)[:50]
    return render("terminals_conflicts.html", status, title=_("Offline conflicts"), section="terminals",
                  user=user, open_rows=open_rows, closed=closed, error_for=error_for, error=error,
                  note=note, done=done, note_max=conflicts.NOTE_MAX,
                  error_inline=any(c["txn_id"] == error_for for c in open_rows))


@router.get("/conflicts")
def conflict_list(request: Request, done: str = "", user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """Operations queued on a terminal without the network that the server refused later."""
    return _conflicts_page(request, user, done=done[:64])


@router.post("/conflicts/{txn_id}/resolve", response_model=None)
def conflict_resolve(request: Request, txn_id: str, note: str = Form(""), csrf: str = Form(""),
                     user: DeskUser = Depends(desk_user)) -> HTMLResponse | RedirectResponse:
    """Mark a conflict as dealt with, with a note of what was done (kept with it, audited)."""
    check_form(user, csrf)
    ip = client_ip(request)
    if not re.fullmatch(TXN_PATTERN, txn_id):  # never stored: not looked up (no NUL to PostgreSQL)
        return _conflicts_page(request, user, 404, "", _(NO_CONFLICT))
    if len(note) > conflicts.NOTE_MAX:
        return _conflicts_page(request, user, 400, txn_id,
                               _("The note is too long: at most %(n)s characters")
                               % {"n": conflicts.NOTE_MAX}, note[:conflicts.NOTE_MAX])
    done = conflicts.resolve(state(request).db, txn_id, note=note, by=user.name,
                             also=lambda s: audit(s, user.name, "conflict_resolved", ip=ip,
                                                  txn_id=txn_id, note=note))
    if not done:
        return _conflicts_page(request, user, 404, txn_id, _(NO_CONFLICT))
    return RedirectResponse(f"{HERE}/conflicts?done={txn_id}", status_code=303)
