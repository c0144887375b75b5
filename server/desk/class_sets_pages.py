"""The desk's section /textbooks/classes: a class's textbook sets (September issue, May collection).

``GET /desk/textbooks/classes``: every class with its pupils, the set's titles, what is issued of
it and the textbooks its readers still hold. ``GET /desk/textbooks/classes/{class}``: the class
page — the set editor (add, remove, copy last year's set of the class below), «Issue
automatically», the scan issue field (each scanned copy goes to the next pupil without its
title) and who holds what. ``…/{class}/print`` (``?teacher=1``: the class teacher's copy): the
printable issue list with a signatures column. «Issue automatically» (``POST …/{class}/issue``)
and the whole grade's issue (``POST …/grade/{n}/issue``) run as a background job
(server/desk/jobs.py): the POST starts it and sends the librarian to ``GET …/jobs/{id}``, a page
that reloads itself every 2 s until the report is there. ``GET|POST /desk/textbooks/classes/collect``:
«сдача учебников», a scan field that takes each copy back and names the pupil, the owing lists
per class (``…/collect/download?format=csv|xlsx``), lost or damaged copies marked. The rules are
library.textbooks.issue's; every desk account may use the pages; every change is audited
(class_set_add, class_set_remove, class_set_copy, class_issue — once, when the job starts —,
class_scan_issue, textbook_collect, textbook_lost, textbook_repair, owing_exported).
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
from library.schools import Scope, scope
from library.storage.models import Copy
from library.text import printable
from library.textbooks import issue as T
from library.textbooks.owing_file import FORMATS as FILE_FORMATS
from library.textbooks.owing_file import STEM as OWING_STEM
from library.textbooks.owing_file import owing_file
from server.desk import i18n, jobs
from server.desk.audit import audit
from server.desk.errors import DeskInvalid, DeskNotFound
from server.desk.i18n import N_, _
from server.desk.sessions import DeskUser
from server.desk.web import (
    PREFIX,
    check_form,
    client_ip,
    desk_user,
    local_time,
    render,
    school_name,
    state,
    today,
)
from server.models import DeskJob

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
    """Every class with its set's status, and the whole grade's issue."""
    return _list_page(request, user, _year(request, year))


def _mine(request: Request, user: DeskUser) -> Scope:
    """Whose classes, sets, pupils and copies these pages show: the account's school's (an
    account of every school: the default school's, which in a single-school install is every
    class as before)."""
    st = state(request)
    with st.db.session() as s:
        return scope(s, user.school or st.settings.school.sigla, st.settings.school.sigla)


def _school_name(request: Request, user: DeskUser) -> str:
    """The name printed on the class's lists: the account's school's ([school] name for an
    account of every school)."""
    return school_name(request, user.school) if user.school else state(request).settings.school.name


def _list_page(request: Request, user: DeskUser, year: int, *, status: int = 200,
               error: str = "") -> HTMLResponse:
    mine = _mine(request, user)
    with state(request).db.session() as s:
        rows = T.class_list(s, year, school=mine)
    grades: dict[int, list[str]] = {}
    for r in rows:
        parsed = grade_of(r.class_name)
        if parsed and r.titles and r.pupils:
            grades.setdefault(parsed[0], []).append(r.class_name)
    return render("class_sets_list.html", status, title=_("Class sets"), section="textbooks", user=user,
                  rows=rows, year=year, base=BASE, quote=quote, grades=sorted(grades.items()),
                  error=error)


# --- collection (before /{class}) ----------------------------------------------------------------
def _collect_page(request: Request, user: DeskUser, cls: str, *, status: int = 200,
                  outcome: dict | None = None, error: str = "", scanned: str = "") -> HTMLResponse:
    mine = _mine(request, user)
    with state(request).db.session() as s:
        rows = T.owing(s, cls or None, school=mine)
        names = sorted({c.class_name for c in T.class_list(s, _year(request, None), school=mine)},
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


@router.get("/collect/download")
def collect_download(request: Request, cls: str = Query("", max_length=64),
                     fmt: str = Query("csv", alias="format", max_length=8),
                     user: DeskUser = Depends(desk_user)) -> Response:
    """Who still owes what (one class, or all) as CSV or XLSX; the export is audited."""
    if fmt not in FILE_FORMATS:
        raise DeskInvalid(N_("File format: csv or xlsx"))
    name = _filter_class(cls)
    now = today(request)
    mine = _mine(request, user)
    with state(request).db.transaction() as s:
        rows = T.owing(s, name or None, school=mine)
        audit(s, user.name, "owing_exported", ip=client_ip(request), format=fmt, cls=name or "*",
              rows=len(rows))
    data = owing_file(rows, fmt, now)
    stem = quote(f"{OWING_STEM} {name}" if name else OWING_STEM)
    types = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    return Response(data, media_type=types[fmt], headers={
        "content-disposition": f"attachment; filename*=UTF-8''{stem}-{now.isoformat()}.{fmt}"})


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
                scanned: dict | None = None,
                error: str = "", scan_error: str = "", done: str = "") -> HTMLResponse:
    mine = _mine(request, user)
    with state(request).db.session() as s:
        sheet = T.class_sheet(s, year, cls, school=mine)
        choices = T.textbook_choices(s)
        below = T.class_below(cls)
        below_count = len(T.set_titles(s, year - 1, below, school=mine)) if below else 0
    in_set = {t.record_id for t in sheet.titles}
    running = jobs.running_overlap(state(request).db, JOB_KIND, _target(year, [cls], mine))
    return render("class_sets_class.html", status,
                  title=_("Class %(name)s: textbooks") % {"name": cls}, section="textbooks",
                  user=user, sheet=sheet, cls=cls, year=year,
                  choices=[c for c in choices if c.record_id not in in_set],
                  below=below, below_count=below_count, running=running,
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
    mine = _mine(request, user)
    if action == "copy":
        try:
            with db.transaction() as s:
                n = T.copy_set(s, y, cls, user.name, school=mine)
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
                changed = T.add_to_set(s, y, cls, rid, user.name, school=mine)
                if changed:
                    audit(s, user.name, "class_set_add", ip=ip, cls=cls, year=y, record=rid)
                done = "added" if changed else "there"
            else:
                if T.remove_from_set(s, y, cls, rid, school=mine):
                    audit(s, user.name, "class_set_remove", ip=ip, cls=cls, year=y, record=rid)
                done = "removed"
    except T.ClassSetError as exc:
        return _class_page(request, user, cls, y, status=409, error=_error(exc))
    return RedirectResponse(_url(cls, y, done=done), status_code=303)


@router.post("/{class_name}/issue")
def issue(request: Request, class_name: str, csrf: str = Form(""), year: str = Form(""),
          user: DeskUser = Depends(desk_user)) -> Response:
    """«Issue automatically»: each pupil one copy of each title (exactly once, resumable), as a
    background job; 303 to its page (a job for the class already running: that one's page)."""
    check_form(user, csrf)
    cls = _class(class_name)
    y = _year(request, year)
    return _start_issue(request, user, y, [cls])


def _start_issue(request: Request, user: DeskUser, year: int, classes: list[str],
                 grade: int | None = None) -> Response:
    """Start the class issue of `classes` (one after another) on a thread of the server."""
    st = state(request)
    svc = st.circulation
    mine = _mine(request, user)
    with st.db.session() as s:
        total = sum(T.issue_needed(s, year, c, school=mine) for c in classes)
    ip = client_ip(request)
    by, terminal = user.name, _terminal(user)

    def work(progress: jobs.Progress) -> dict:
        out: list[dict] = []
        lent = 0
        for cls in classes:
            def step(report: T.IssueReport, _done: int, _planned: int, before: int = lent) -> None:
                progress(before + len(report.lent), None)
            rep = T.issue_class(svc, year, cls, by, terminal=terminal, progress=step, school=mine)
            lent += len(rep.lent)
            out.append(_report_json(st.db, rep, mine))
        return {"classes": out, "grade": grade}

    def audited(s: Session, job_id: int) -> None:
        audit(s, user.name, "class_issue", ip=ip, cls=",".join(classes), year=year, job=job_id)

    job_id, _started = jobs.start(st.db, JOB_KIND, _target(year, classes, mine), user.name, work,
                                  total=total, report={"grade": grade}, on_created=audited)
    return RedirectResponse(f"{BASE}/jobs/{job_id}", status_code=303)


def _report_json(db: Any, rep: T.IssueReport, school: Scope) -> dict:
    """What the job page shows of a class's issue: lent per title, shortages by title, refusals."""
    with db.session() as s:
        names = {t.record_id: t.title for t in T.set_titles(s, rep.year, rep.class_name, school=school)}
    per_title: dict[str, int] = {}
    for x in rep.lent:
        per_title[x.title] = per_title.get(x.title, 0) + 1
    return {"class": rep.class_name, "year": rep.year, "pupils": rep.pupils, "titles": rep.titles,
            "lent": len(rep.lent), "per_title": sorted(per_title.items()),
            "held_before": rep.held_before, "issued_before": rep.issued_before,
            "missing": sorted((names.get(rid, str(rid)), n) for rid, n in rep.missing.items()),
            "refused": [list(r) for r in rep.refused]}


JOB_KIND = "class_issue"
STATES = {"running": N_("in progress"), "done": N_("finished"), "failed": N_("failed"),
          "interrupted": N_("interrupted")}


def _target(year: int, classes: list[str], school: Scope) -> str:
    """A class issue job's target: ``2026:7А,7Б``; a school other than the default adds its
    sigla (``2026@ГИМН5:7А``), so «7А» of two schools are two targets (jobs.target_parts)."""
    sigla = T.set_sigla(school)
    return f"{year}{'@' + sigla if sigla else ''}:{','.join(classes)}"


def _job_target(target: str) -> tuple[int | None, list[str]]:
    head, _sep, rest = target.partition(":")
    year = head.partition("@")[0]
    return (int(year) if year.isdigit() else None), [c for c in rest.split(",") if c]


def _job_school(target: str) -> str | None:
    """The sigla of a job target's school (None: the default school)."""
    return target.partition(":")[0].partition("@")[2] or None


def _refusal(code: str, params: object) -> str:
    """A stored loan refusal of the job's report in the desk's words (the circulation rules'
    message, in the page's language)."""
    from library.circulation.errors import error_from_dict
    from library.i18n import translator

    error = error_from_dict({"code": code, "params": params if isinstance(params, dict) else {}})
    return error.message(translator(i18n.language()))


@router.get("/jobs/{job_id}")
def job_page(request: Request, job_id: int, user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """A class issue's progress (the page reloads itself every 2 s while it runs), then its report."""
    if not 1 <= job_id <= 2**62:
        raise DeskNotFound(N_("No such job"))
    st = state(request)
    jobs.mark_interrupted(st.db)
    with st.db.session() as s:
        job = s.get(DeskJob, job_id)
        if job is None or job.kind != JOB_KIND:
            raise DeskNotFound(N_("No such job"))
        if user.school is not None and T.set_sigla(_mine(request, user)) != _job_school(job.target):
            raise DeskNotFound(N_("No such job"))  # another school's class: as if there were none
        year, classes = _job_target(job.target)
        view = {"id": job.id, "state": job.state,
                "state_name": _(STATES[job.state]) if job.state in STATES else job.state,
                "by": job.started_by, "started": local_time(job.started_at),
                "finished": local_time(job.finished_at), "done": job.progress, "total": job.total,
                "percent": 100 if job.state == "done" else
                min(99, job.progress * 100 // job.total) if job.total else 0,
                "message": job.message or "", "reports": (job.report or {}).get("classes", [])}
        grade = (job.report or {}).get("grade")
    for rep in view["reports"]:
        rep["refused"] = [(r[0], r[1], _refusal(r[2], r[3] if len(r) > 3 else {}))
                          for r in rep.get("refused", []) if len(r) >= 3]
    if not isinstance(grade, int) or not classes:
        grade = None
    title = _("Issue to grade %(n)s") % {"n": grade} if grade else \
        _("Issue to class %(name)s") % {"name": classes[0] if classes else ""}
    return render("class_sets_job.html", title=title, section="textbooks", user=user, job=view,
                  year=year, classes=classes, grade=grade, base=BASE, quote=quote,
                  refresh=view["state"] == "running")


@router.post("/grade/{grade}/issue")
def issue_grade(request: Request, grade: str, csrf: str = Form(""), year: str = Form(""),
                user: DeskUser = Depends(desk_user)) -> Response:
    """«Issue to all 7th classes»: each class of the grade with a set and pupils, one job."""
    check_form(user, csrf)
    if not grade.isdigit() or not 1 <= int(grade) <= 11:
        raise DeskNotFound(N_("No such grade"))
    y = _year(request, year)
    classes = _grade_classes(request, user, y, int(grade))
    if not classes:
        return _list_page(request, user, y, status=409,
                          error=_("No class of grade %(n)s has a set and pupils.") % {"n": int(grade)})
    return _start_issue(request, user, y, classes, int(grade))


def _grade_classes(request: Request, user: DeskUser, year: int, grade: int) -> list[str]:
    mine = _mine(request, user)
    with state(request).db.session() as s:
        return [c.class_name for c in T.class_list(s, year, school=mine)
                if c.titles and c.pupils and (grade_of(c.class_name) or (0, ""))[0] == grade]


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
                           record=_recorder(user, request, "class_scan_issue", cls=cls, year=y),
                           school=_mine(request, user))
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
    mine = _mine(request, user)
    with state(request).db.session() as s:
        sheet = T.class_sheet(s, y, cls, school=mine)
    body = issue_list_pdf(sheet, school=_school_name(request, user), teacher=teacher == "1")
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
    mine = _mine(request, user)
    with state(request).db.session() as s:
        sheet = T.class_sheet(s, y, cls, school=mine)
    return render("class_sets_print.html", title=_("Textbook issue list: class %(name)s") % {"name": cls},
                  section="textbooks", user=user, sheet=sheet, cls=cls, year=y,
                  teacher=teacher == "1", base=BASE, quote=quote, school=_school_name(request, user))
