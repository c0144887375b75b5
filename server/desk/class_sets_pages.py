"""The desk's section /textbooks/classes: a class's textbook sets (September issue, May collection).

``GET /desk/textbooks/classes``: every class with its pupils, the set's titles, what is issued of
it and the textbooks its readers still hold. ``GET /desk/textbooks/classes/{class}``: the class
page — the set editor (add, remove, copy last year's set of the class below), «Issue
automatically», the scan issue field (each scanned copy goes to the next pupil without its
title) and who holds what. ``…/{class}/print`` (``?teacher=1``: the class teacher's copy): the
printable issue list with a signatures column. ``GET|POST /desk/textbooks/classes/collect``:
«сдача учебников», a scan field that takes each copy back and names the pupil, the owing lists
per class, lost or damaged copies marked. The rules are library.textbooks.issue's; every desk
account may use the pages; every change is audited (class_set_add, class_set_remove,
class_set_copy, class_issue, class_scan_issue, textbook_collect, textbook_lost, textbook_repair).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from library.circulation import errors as E
from library.circulation.readers import normalise_class
from library.circulation.school_year import grade_of
from library.circulation.values import LoanOutcome
from library.errors import IbcError
from library.storage.models import Copy
from library.text import printable
from library.textbooks import issue as T
from server.desk.audit import audit
from server.desk.errors import DeskNotFound
from server.desk.i18n import N_, _
from server.desk.sessions import DeskUser
from server.desk.web import PREFIX, check_form, client_ip, desk_user, render, state, today

router = APIRouter(prefix=PREFIX + "/textbooks/classes", include_in_schema=False)
BASE = PREFIX + "/textbooks/classes"
MAX_CODE = 64
YEARS = (2000, 2100)

ERRORS = {
    "not_textbook": N_("This record is not a textbook."),
    "no_class_below": N_("Class %(class_name)s has no class below to copy the set from."),
    "unknown_copy": N_("No copy has the code %(scanned)s."),
    "not_in_set": N_("“%(title)s” is not in this class's set."),
    "on_loan": N_("“%(title)s”: this copy is already on loan."),
    "on_loan_pupil": N_("“%(title)s”: this copy is already with %(pupil)s."),
    "all_have": N_("Every pupil of the class already has “%(title)s”."),
    "not_on_loan": N_("“%(title)s” is not on loan: nothing to take back."),
    "note_too_long": N_("The note is too long."),
    "already_holds": N_("The pupil got “%(title)s” a moment ago: scan the copy again for the next pupil."),
}
DONE = {"added": N_("The textbook is in the set."), "removed": N_("The textbook was taken out of the set."),
        "there": N_("The textbook was already in the set."), "none": N_("Nothing to copy.")}


def _text(value: str | None, limit: int) -> str:
    return printable((value or "").replace("\t", " ").replace("\n", " ")).strip()[:limit]


def _code(value: str) -> str:
    """A scanned code: printable, no spaces, at most MAX_CODE characters ('' when not)."""
    text = printable(value or "").strip()
    return text if text and len(text) <= MAX_CODE and " " not in text else ""


def _class(name: str) -> str:
    """A class name like «7А» as stored (normalised), else DeskNotFound."""
    if len(name) > 16:
        raise DeskNotFound(N_("No such class"))
    norm = _norm(name)
    if not norm:
        raise DeskNotFound(N_("No such class"))
    return norm


def _norm(name: str) -> str:
    """«7 а» → «7А»; '' for a value not like a class."""
    try:
        norm = normalise_class(name)
    except IbcError:
        return ""
    return norm if norm and grade_of(norm) is not None else ""


def _year(request: Request, value: str | int | None) -> int:
    """The school year asked for (2000..2100), else today's."""
    text = str(value or "").strip()
    if text.isdigit() and YEARS[0] <= int(text) <= YEARS[1]:
        return int(text)
    return T.current_year(today(request), state(request).settings.circulation.school_year_end)


def _error(exc: T.ClassSetError) -> str:
    code = exc.code
    if code == "on_loan" and exc.params.get("pupil"):
        code = "on_loan_pupil"
    return _(ERRORS.get(code, N_("This cannot be done."))) % exc.params


def _url(class_name: str, year: int, **extra: str) -> str:
    return f"{BASE}/{quote(class_name)}?" + urlencode({"year": year, **extra})


def _recorder(user: DeskUser, request: Request, action: str, **detail: object) -> Any:
    ip = client_ip(request)

    def record(s: Session, outcome: LoanOutcome) -> None:
        audit(s, user.name, action, ip=ip, barcode=outcome.barcode, title=outcome.title, **detail)
    return record


def _terminal(user: DeskUser) -> str:
    return f"desk:{user.name}"[:64]


# --- the class list ----------------------------------------------------------------------------
@router.get("")
def classes(request: Request, year: str = Query("", max_length=8),
            user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """Every class with its set's status."""
    y = _year(request, year)
    with state(request).db.session() as s:
        rows = T.class_list(s, y)
    return render("class_sets_list.html", title=_("Class sets"), section="textbooks", user=user,
                  rows=rows, year=y, base=BASE, quote=quote)


# --- collection (before /{class}) ----------------------------------------------------------------
def _collect_page(request: Request, user: DeskUser, cls: str, *, status: int = 200,
                  outcome: dict | None = None, error: str = "", scanned: str = "") -> HTMLResponse:
    with state(request).db.session() as s:
        rows = T.owing(s, cls or None)
        names = sorted({c.class_name for c in T.class_list(s, _year(request, None))},
                       key=lambda n: (grade_of(n) or (0, ""), n))
    groups: dict[str, list[T.Owing]] = {}
    for r in rows:
        groups.setdefault(r.class_name, []).append(r)
    return render("class_sets_collect.html", status, title=_("Textbook collection"),
                  section="textbooks", user=user, groups=groups, cls=cls, classes=names,
                  outcome=outcome, error=error, scanned=scanned[:MAX_CODE], max_code=MAX_CODE,
                  max_note=T.MAX_NOTE, base=BASE, total=len(rows))


def _filter_class(value: str) -> str:
    value = _text(value, 16)
    if not value:
        return ""
    return _norm(value)


@router.get("/collect")
def collect_form(request: Request, cls: str = Query("", max_length=64),
                 user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """The scan field and who still owes what."""
    return _collect_page(request, user, _filter_class(cls))


@router.post("/collect")
def collect_scan(request: Request, csrf: str = Form(""), barcode: str = Form("", max_length=20_000),
                 cls: str = Form("", max_length=64),
                 user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """Take a scanned copy back and name the pupil (loud when it is another class's or not on loan)."""
    check_form(user, csrf)
    cls = _filter_class(cls)
    code = _code(barcode)
    if not code:
        return _collect_page(request, user, cls, status=400,
                             error=_("Scan a textbook's barcode (no spaces, at most %(n)s characters).")
                             % {"n": MAX_CODE})
    svc = state(request).circulation
    try:
        got = T.collect(svc, code, class_name=cls or None, terminal=_terminal(user),
                        record=_recorder(user, request, "textbook_collect", cls=cls))
    except T.ClassSetError as exc:
        return _collect_page(request, user, cls, status=409, error=_error(exc), scanned=code)
    except E.CirculationError as exc:
        return _collect_page(request, user, cls, status=409, scanned=code,
                             error=_("The copy cannot be taken back (%(code)s).") % {"code": exc.code})
    outcome = {"title": got.title, "pupil": got.pupil, "class_name": got.class_name,
               "already": got.kind == "already", "other_class": got.other_class,
               "textbook": got.textbook, "left": not got.active, "lost_found": got.lost_found}
    return _collect_page(request, user, cls, outcome=outcome)


@router.post("/collect/mark")
def collect_mark(request: Request, csrf: str = Form(""), copy_id: str = Form("", max_length=20),
                 what: str = Form(""), note: str = Form("", max_length=20_000),
                 cls: str = Form("", max_length=64),
                 user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """A copy lost (its loan stays open: the pupil owes it) or damaged (returned, in repair)."""
    check_form(user, csrf)
    cls = _filter_class(cls)
    if not copy_id.isdigit() or what not in ("lost", "repair"):
        return _collect_page(request, user, cls, status=400, error=_("Choose lost or damaged."))
    cid = int(copy_id)
    text = _text(note, 4096)
    ip = client_ip(request)
    try:
        if what == "lost":
            def lost(s: Session, c: Copy) -> None:
                audit(s, user.name, "textbook_lost", ip=ip, barcode=c.barcode or c.inventory_number or "",
                      note=c.note or "")
            c = T.mark_lost(state(request).db, cid, text, record=lost)
            done = _("Marked as lost: %(code)s. The pupil still owes it.") % {
                "code": c.barcode or c.inventory_number}
        else:
            def repair(s: Session, c: Copy) -> None:
                audit(s, user.name, "textbook_repair", ip=ip, barcode=c.barcode or c.inventory_number or "",
                      note=c.note or "")
            out = T.mark_damaged(state(request).circulation, cid, text, terminal=_terminal(user),
                                 record=repair)
            done = _("Taken back for repair: %(code)s.") % {"code": out.barcode}
    except T.ClassSetError as exc:
        msg = _(N_("The note is too long: at most %(n)s characters.")) % {"n": T.MAX_NOTE} \
            if exc.code == "note_too_long" else _error(exc)
        return _collect_page(request, user, cls, status=409, error=msg)
    except T.NotFound:
        raise DeskNotFound(N_("No such copy")) from None
    return _collect_page(request, user, cls, outcome={"done": done})


# --- one class ---------------------------------------------------------------------------------
def _class_page(request: Request, user: DeskUser, cls: str, year: int, *, status: int = 200,
                report: T.IssueReport | None = None, scanned: dict | None = None,
                error: str = "", scan_error: str = "", done: str = "") -> HTMLResponse:
    with state(request).db.session() as s:
        sheet = T.class_sheet(s, year, cls)
        choices = T.textbook_choices(s)
        below = T.class_below(cls)
        below_count = len(T.set_titles(s, year - 1, below)) if below else 0
    in_set = {t.record_id for t in sheet.titles}
    titles = {t.record_id: t.title for t in choices}
    shortage = [(titles.get(rid, str(rid)), n) for rid, n in (report.missing.items() if report else [])]
    return render("class_sets_class.html", status,
                  title=_("Class %(name)s: textbooks") % {"name": cls}, section="textbooks",
                  user=user, sheet=sheet, cls=cls, year=year,
                  choices=[c for c in choices if c.record_id not in in_set],
                  below=below, below_count=below_count, report=report, shortage=shortage,
                  scanned=scanned, error=error, scan_error=scan_error,
                  done=done, base=BASE, quote=quote,
                  max_code=MAX_CODE)


@router.get("/{class_name}")
def class_page(request: Request, class_name: str, year: str = Query("", max_length=8),
               done: str = Query("", max_length=64), n: str = Query("", max_length=4),
               user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """The class's set editor, issue and who holds what."""
    cls = _class(class_name)
    text = _(DONE[done]) if done in DONE else ""
    if done == "copied" and n.isdigit():
        text = _("%(n)s textbooks copied from last year's set.") % {"n": int(n)}
    return _class_page(request, user, cls, _year(request, year), done=text)


@router.post("/{class_name}/set")
def set_change(request: Request, class_name: str, csrf: str = Form(""), year: str = Form(""),
               action: str = Form(""), record: str = Form("", max_length=20),
               user: DeskUser = Depends(desk_user)) -> Response:
    """Add a textbook to the set, take one out, or copy last year's set of the class below."""
    check_form(user, csrf)
    cls = _class(class_name)
    y = _year(request, year)
    ip = client_ip(request)
    db = state(request).db
    if action == "copy":
        try:
            with db.transaction() as s:
                n = T.copy_set(s, y, cls, user.name)
                if n:
                    audit(s, user.name, "class_set_copy", ip=ip, cls=cls, year=y, added=n)
        except T.ClassSetError as exc:
            return _class_page(request, user, cls, y, status=409, error=_error(exc))
        return RedirectResponse(_url(cls, y, done="copied", n=str(n)) if n else _url(cls, y, done="none"),
                                status_code=303)
    if action not in ("add", "remove") or not record.isdigit():
        return _class_page(request, user, cls, y, status=400, error=_("Choose a textbook."))
    rid = int(record)
    try:
        with db.transaction() as s:
            if action == "add":
                changed = T.add_to_set(s, y, cls, rid, user.name)
                if changed:
                    audit(s, user.name, "class_set_add", ip=ip, cls=cls, year=y, record=rid)
                done = "added" if changed else "there"
            else:
                if T.remove_from_set(s, y, cls, rid):
                    audit(s, user.name, "class_set_remove", ip=ip, cls=cls, year=y, record=rid)
                done = "removed"
    except T.ClassSetError as exc:
        return _class_page(request, user, cls, y, status=409, error=_error(exc))
    return RedirectResponse(_url(cls, y, done=done), status_code=303)


@router.post("/{class_name}/issue")
def issue(request: Request, class_name: str, csrf: str = Form(""), year: str = Form(""),
          user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """«Issue automatically»: each pupil one copy of each title (exactly once, resumable)."""
    check_form(user, csrf)
    cls = _class(class_name)
    y = _year(request, year)
    report = T.issue_class(state(request).circulation, y, cls, user.name, terminal=_terminal(user),
                           record=_recorder(user, request, "class_issue", cls=cls, year=y))
    return _class_page(request, user, cls, y, report=report)


@router.post("/{class_name}/scan")
def scan(request: Request, class_name: str, csrf: str = Form(""), year: str = Form(""),
         barcode: str = Form("", max_length=20_000),
         user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """A scanned copy goes to the next pupil of the class without its title."""
    check_form(user, csrf)
    cls = _class(class_name)
    y = _year(request, year)
    code = _code(barcode)
    if not code:
        return _class_page(request, user, cls, y, status=400, scan_error=_(
            "Scan a textbook's barcode (no spaces, at most %(n)s characters).") % {"n": MAX_CODE})
    try:
        got = T.scan_issue(state(request).circulation, y, cls, code, user.name, terminal=_terminal(user),
                           record=_recorder(user, request, "class_scan_issue", cls=cls, year=y))
    except T.ClassSetError as exc:
        return _class_page(request, user, cls, y, status=409, scan_error=_error(exc))
    except E.CirculationError as exc:
        return _class_page(request, user, cls, y, status=409,
                           scan_error=_("The copy cannot be lent (%(code)s).") % {"code": exc.code})
    return _class_page(request, user, cls, y, scanned={"title": got.title, "pupil": got.pupil,
                                                        "barcode": got.outcome.barcode})


@router.get("/{class_name}/print.pdf", response_model=None)
def print_pdf(request: Request, class_name: str, year: str = Query("", max_length=8),
              teacher: str = Query("", max_length=2),
              user: DeskUser = Depends(desk_user)) -> Response:
    """The issue list as a PDF (Russian, like the other files the school hands on)."""
    from library.textbooks.issue_pdf import issue_list_pdf

    cls = _class(class_name)
    y = _year(request, year)
    with state(request).db.session() as s:
        sheet = T.class_sheet(s, y, cls)
    body = issue_list_pdf(sheet, school=state(request).settings.school.name, teacher=teacher == "1")
    name = f"issue-list-{sheet.year}-{'teacher-' if teacher == '1' else ''}{quote(cls)}.pdf"
    return Response(body, media_type="application/pdf",
                    headers={"content-disposition": f"attachment; filename*=UTF-8''{name}"})


@router.get("/{class_name}/print")
def print_list(request: Request, class_name: str, year: str = Query("", max_length=8),
               teacher: str = Query("", max_length=2),
               user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """The printable issue list (the class teacher's copy with ?teacher=1)."""
    cls = _class(class_name)
    y = _year(request, year)
    with state(request).db.session() as s:
        sheet = T.class_sheet(s, y, cls)
    return render("class_sets_print.html", title=_("Textbook issue list: class %(name)s") % {"name": cls},
                  section="textbooks", user=user, sheet=sheet, cls=cls, year=y,
                  teacher=teacher == "1", base=BASE, quote=quote, school=state(request).settings.school.name)
