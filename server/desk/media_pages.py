"""The desk's section /media: Медиатека: список, доступ, пересканирование.

The list of media items (filter by kind and status; each item's school, or «весь город» for
an item shared by every school: `ibc media scan --school`), an item's access level (one of
library.access.Level, set through media.access.set_access: kept over later scans), and a rescan
of the configured folders (`[media] roots`) in a background thread, one at a time
(media/rescan.py keeps its state in the database). Every desk account may use them.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import func, select

from library.access import Level
from library.storage.models import MediaItem, School
from media import rescan
from media.access import access_overrides, set_access
from media.kinds import AUDIO, IMAGE, PDF, PRESENTATION, VIDEO
from server.desk import i18n
from server.desk.audit import audit
from server.desk.errors import DeskNotFound
from server.desk.i18n import N_, _
from server.desk.sessions import DeskUser
from server.desk.web import PREFIX, check_form, client_ip, desk_user, local_time, render, state

router = APIRouter(prefix=PREFIX + "/media", include_in_schema=False)
HERE = PREFIX + "/media"
# English msgids, translated where shown (server/desk/locale/ru/LC_MESSAGES/media.po).
KIND_NAMES = {VIDEO: N_("video"), AUDIO: N_("audio"), IMAGE: N_("image"), PDF: N_("PDF"),
              PRESENTATION: N_("presentation")}
LEVEL_NAMES = {Level.EVERYONE.value: N_("everyone"), Level.TEACHERS.value: N_("teachers only"),
               Level.ONSITE.value: N_("in the library only")}
STATUS_NAMES = {"ok": N_("fine"), "broken": N_("unreadable"), "missing": N_("file gone")}
# media/rescan.py's phases of a running scan.
PHASE_NAMES = {"walk": N_("finding files"), "probe": N_("reading new and changed files"),
               "save": N_("saving")}
DONE_MESSAGES = {"access": N_("The access level was changed."),
                 "rescan": N_("The rescan has started."),
                 "busy": N_("A rescan is already running: wait for it to finish.")}
SHARED = N_("the whole city")  # an item with no school (MediaItem.sigla NULL)
UNITS = (N_("B"), N_("KB"), N_("MB"), N_("GB"), N_("TB"))
PAGE = 100


def _names(names: dict[str, str]) -> dict[str, str]:
    """A mapping's texts in the request's language (for a select)."""
    return {k: _(v) for k, v in names.items()}


def _name(names: dict[str, str], key: str) -> str:
    """The text of one code in the request's language (an unknown code as it is)."""
    return _(names[key]) if key in names else key


def duration(seconds: float | None) -> str:
    """«1:02:03», «4:05» ('' for none)."""
    if not seconds:
        return ""
    s = int(round(seconds))
    h, m, sec = s // 3600, s // 60 % 60, s % 60
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def size_text(size: int | None) -> str:
    """«512 Б», «3,4 МБ», «1,2 ГБ» ('' for none); in English «3.4 MB»."""
    if size is None:
        return ""
    value, unit = float(size), 0
    while unit < len(UNITS) - 1 and value >= 1024:
        value, unit = value / 1024, unit + 1
    if not unit:
        return f"{value:.0f} {_(UNITS[0])}"
    number = f"{value:.1f}"
    return f"{number if i18n.language() == 'en' else number.replace('.', ',')} {_(UNITS[unit])}"


def _progress(phase: str, done: int, total: int) -> str:
    """A running scan's phase and figures («поиск файлов: 120», «чтение …: 30 из 200»)."""
    if phase not in PHASE_NAMES:
        return ""
    if total:
        return _("%(phase)s: %(done)s of %(total)s") % {"phase": _(PHASE_NAMES[phase]), "done": done,
                                                       "total": total}
    return _("%(phase)s: %(done)s") % {"phase": _(PHASE_NAMES[phase]), "done": done}


def _scan_view(request: Request) -> dict:
    latest, done = rescan.current(state(request).db)
    view: dict = {"running": latest is not None and latest.running, "last": None}
    if latest is not None and latest.running:
        view["since"] = local_time(latest.started)
        view["by"] = latest.by
        view["progress"] = _progress(latest.phase, latest.done, latest.total)
    if latest is not None and latest.state == "interrupted":
        view["interrupted"] = local_time(latest.started)
    if done is not None:
        view["last"] = {"state": done.state, "started": local_time(done.started),
                        "finished": local_time(done.finished), "by": done.by,
                        "error": done.error, **done.report}
    return view


def _page(request: Request, user: DeskUser, kind: str = "", status_filter: str = "", page: int = 1,
          http_status: int = 200, error: str = "", error_for: int | None = None,
          message: str = "") -> HTMLResponse:
    st = state(request)
    kind = kind if kind in KIND_NAMES else ""
    status_filter = status_filter if status_filter in STATUS_NAMES else ""
    q = select(MediaItem)
    if kind:
        q = q.where(MediaItem.kind == kind)
    if status_filter:
        q = q.where(MediaItem.status == status_filter)
    with st.db.session() as s:
        total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
        page = min(max(1, page), max(1, -(-total // PAGE)))
        items = s.scalars(q.order_by(MediaItem.title, MediaItem.id)
                          .offset((page - 1) * PAGE).limit(PAGE)).all()
        pinned = access_overrides(s)
        schools: dict[str, str] = {sigla: name for sigla, name in
                                   s.execute(select(School.sigla, School.name))}
        rows = [{"id": i.id, "title": i.title, "kind": _name(KIND_NAMES, i.kind),
                 # whose item: a school's (its name) or shared by the whole city (docs/SCHOOLS.md)
                 "school": (schools.get(i.sigla) or i.sigla) if i.sigla else _(SHARED),
                 "duration": duration(i.duration_s), "size": size_text(i.size),
                 "status": i.status, "status_name": _name(STATUS_NAMES, i.status),
                 "error": i.error or "", "access": i.access,
                 "access_name": _(LEVEL_NAMES.get(i.access, LEVEL_NAMES[Level.TEACHERS.value])),
                 "pinned": i.id in pinned, "plays": i.plays, "file": Path(i.path).name}
                for i in items]
    return render("media_list.html", http_status, title=_("Media"), section="media", user=user,
                  rows=rows, total=total, page=page, pages=max(1, -(-total // PAGE)), kind=kind,
                  status_filter=status_filter, kinds=_names(KIND_NAMES), statuses=_names(STATUS_NAMES),
                  levels=_names(LEVEL_NAMES),
                  scan=_scan_view(request), roots=list(st.settings.media.roots), error=error,
                  error_for=error_for, message=message,
                  error_inline=any(r["id"] == error_for for r in rows))


@router.get("")
def media_list(request: Request, kind: str = "", status: str = "", page: int = 1, done: str = "",
               user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """The media items (filter by kind and status), the rescan's state."""
    message = _(DONE_MESSAGES[done]) if done in DONE_MESSAGES else ""
    return _page(request, user, kind, status, page, message=message)


def _back(kind: str, status: str, page: int, done: str) -> str:
    """The list's address with its filters and page (unknown values dropped)."""
    query = {"kind": kind if kind in KIND_NAMES else "", "status": status if status in STATUS_NAMES else "",
             "page": str(page) if page > 1 else "", "done": done}
    return f"{HERE}?" + urlencode({k: v for k, v in query.items() if v})


@router.post("/{item_id}/access", response_model=None)
def change_access(request: Request, item_id: int, access: str = Form(""), csrf: str = Form(""),
                  kind: str = Form(""), status: str = Form(""), page: int = Form(1),
                  user: DeskUser = Depends(desk_user)) -> HTMLResponse | RedirectResponse:
    """Set an item's access level (one of the existing levels); audited, kept over rescans.
    Back to the same filters and page."""
    check_form(user, csrf)
    if access not in LEVEL_NAMES:
        return _page(request, user, kind, status, page, http_status=400, error_for=item_id,
                     error=_("There is no such access level: choose one from the list"))
    ip = client_ip(request)
    with state(request).db.transaction() as s:
        item = s.get(MediaItem, item_id) if 0 < item_id < 2**31 else None  # an INTEGER column
        if item is None:
            raise DeskNotFound(N_("No such media item"))
        before = set_access(s, item, Level(access), by=user.name)
        audit(s, user.name, "media_access", ip=ip, media_id=item_id, before=before, access=access)
    return RedirectResponse(_back(kind, status, page, "access"), status_code=303)


@router.post("/rescan")
def start_rescan(request: Request, csrf: str = Form(""),
                 user: DeskUser = Depends(desk_user)) -> RedirectResponse:
    """Rescan `[media] roots` in the background; one at a time (a second press is told so)."""
    check_form(user, csrf)
    st = state(request)
    roots = list(st.settings.media.roots)
    if not roots:
        return RedirectResponse(HERE, status_code=303)
    from library.storage.database import default_data_dir

    ip = client_ip(request)
    run, _thread = rescan.start(
        st.db, user.name, roots, media_roots=roots,
        data_dir=st.settings.data_dir or default_data_dir(),
        also=lambda s: audit(s, user.name, "media_rescan", ip=ip, roots=len(roots)))
    return RedirectResponse(f"{HERE}?done={'rescan' if run else 'busy'}", status_code=303)
