"""The desk's section /textbooks: textbook titles (subject, grades, УМК, federal list number).

``GET /desk/textbooks``: the catalogue's textbooks (library.textbooks.titles' rule) with their
subject, grades, series and copies (total, available), filtered by subject and grade; a search
(title, author or ISBN) finds any record to make it a textbook. ``GET|POST
/desk/textbooks/{record_id}``: a title's metadata, saved as typed by the librarian (source
«desk», never overwritten by the catalogue or the federal list) or removed. ``GET|POST
/desk/textbooks/fpu``: the federal list CSV upload (streamed under the desk's upload limit, its
path is in server.app's BodyLimit `own_limit`) and its report per row. Every desk account may
use them; every change is audited (textbook_set, textbook_cleared, textbook_fpu_import).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlencode

import anyio
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from library.storage.models import Record
from library.text import printable
from library.textbooks import titles
from server.desk.audit import audit
from server.desk.errors import DeskNotFound
from server.desk.i18n import N_, _
from server.desk.sessions import DeskUser
from server.desk.web import PREFIX, check_form, client_ip, desk_user, render, state

router = APIRouter(prefix=PREFIX + "/textbooks", include_in_schema=False)
BASE = PREFIX + "/textbooks"
FPU_PATH = BASE + "/fpu"
MULTIPART_SLACK = 64 * 1024  # the form's other fields and boundaries around the file
MAX_QUERY = 200
SHOWN_MAX = 300  # a refused value is shown back cut to this length

# library.textbooks.titles' refusals by code: (the form's field, the desk's words)
FIELD_ERRORS = {
    "textbook_bad_subject": ("subject", N_("The subject must be plain text of at most %(max)s characters.")),
    "textbook_bad_grades": ("grades", N_("Grades: one grade or a range from 1 to 11, such as 5 or 5-6.")),
    "textbook_bad_series": ("series", N_("The series must be plain text of at most %(max)s characters.")),
    "textbook_bad_fpu": ("fpu", N_("The federal list number is numbers with dots, such as 1.1.2.1.1.1.")),
}
ROW_ERRORS = {
    "title": N_("The row has no title."), "number": N_("The row has no number."),
}
SOURCE_NAMES = {"desk": N_("typed here"), "fpu": N_("federal list"), "marc": N_("from the catalogue")}
STATUS_NAMES = {"matched": N_("found"), "unmatched": N_("not in the catalogue"),
                "kept": N_("kept as typed here"), "error": N_("error")}
DONE = {"saved": N_("Saved."), "cleared": N_("The textbook data were removed.")}


def _error_text(exc: titles.TextbookError) -> str:
    """A library refusal in the request's language."""
    if exc.code in FIELD_ERRORS:
        return _(FIELD_ERRORS[exc.code][1]) % exc.params
    if exc.code == "textbook_fpu_row":
        return _(ROW_ERRORS.get(str(exc.params.get("what")), N_("The row cannot be read.")))
    if exc.code == "textbook_fpu_file":
        return _("This is not a federal list CSV: it needs at least the columns “number” and "
                 "“title”. Found: %(found)s.") % exc.params
    return _("The textbook data are not valid.")


def _grade(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() and titles.GRADE_MIN <= int(value) <= titles.GRADE_MAX else None


def _text(value: str | None, limit: int) -> str:
    return printable((value or "").replace("\t", " ").replace("\n", " ")).strip()[:limit]


def _found(request: Request, query: str) -> list[dict]:
    """Records found by the catalogue's search (title, author, ISBN), marked if textbooks."""
    from library.search import search

    with state(request).db.transaction(write=False) as s:
        hits = search(s, query, limit=20, audience="staff").hits
        known = {r.record_id for r in titles.textbook_records(s, record_ids=[h.id for h in hits])}
    return [{"id": h.id, "title": h.title, "authors": ", ".join(h.authors[:2]), "year": h.year or "",
             "isbn": h.isbn or "", "textbook": h.id in known} for h in hits]


@router.get("")
def titles_list(request: Request, subject: str = "", grade: str = "", find: str = "",
                user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """The textbooks with their subject, grades and copies; the search to add one."""
    subject = _text(subject, titles.SUBJECT_MAX)
    g = _grade(grade)
    query = _text(find, MAX_QUERY)
    with state(request).db.session() as s:
        rows = titles.textbook_records(s, grade=g, subject=subject or None)
        known = titles.subjects(s)
    found = _found(request, query) if query else None
    view = [{**r.to_dict(), "source_name": _(SOURCE_NAMES[r.source]) if r.source in SOURCE_NAMES else ""}
            for r in rows]
    return render("textbooks_list.html", title=_("Textbooks"), section="textbooks", user=user,
                  rows=view, subjects=known, subject=subject, grade=g, grades=range(1, 12),
                  find=query, found=found,
                  copies=sum(r.copies for r in rows), available=sum(r.available for r in rows))


RECORD_ID_MAX = 2**31 - 1  # records.id is a 32-bit integer


def _known_id(record_id: int) -> int:
    """The record id of an address (DeskNotFound when it cannot be one)."""
    if not 1 <= record_id <= RECORD_ID_MAX:
        raise DeskNotFound(N_("No such record"))
    return record_id


def _form(request: Request, user: DeskUser, record_id: int, *, status: int = 200,
          values: dict | None = None, error: str = "", error_field: str = "",
          done: str = "") -> HTMLResponse:
    _known_id(record_id)
    with state(request).db.session() as s:
        rec = s.get(Record, record_id)
        if rec is None or rec.deleted:
            raise DeskNotFound(N_("No such record"))
        row = titles.get_title(s, record_id)
        found = titles.extract_record(rec)
        listed = titles.textbook_records(s, record_ids=[record_id])
        info = {"id": rec.id, "title": rec.title, "subtitle": rec.subtitle or "",
                "authors": ", ".join((rec.authors or [])[:3]), "year": rec.year or "",
                "isbn": rec.isbn or "", "item_type": rec.item_type,
                "copies": listed[0].copies if listed else None,
                "available": listed[0].available if listed else None}
        known = titles.subjects(s)
    current = {"subject": row.subject if row else "", "series": row.series or "" if row else "",
               "grades": titles.grades_text(row.grade_from, row.grade_to) if row else "",
               "fpu": row.fpu_number or "" if row else ""}
    suggestion = None
    if row is None and found and rec.item_type == titles.TEXTBOOK_TYPE:  # a novel's headings are no subject
        suggestion = {"subject": found.subject, "series": found.series or "",
                      "grades": titles.grades_text(found.grade_from, found.grade_to)}
        current.update(suggestion)
    shown = {k: printable(v)[:SHOWN_MAX] for k, v in (values or current).items()}
    return render("textbooks_edit.html", status, title=_("Textbook: %(title)s") % {"title": rec.title[:80]},
                  section="textbooks", user=user, rec=info, v=shown, has_row=row is not None,
                  source=_(SOURCE_NAMES[row.source]) if row and row.source in SOURCE_NAMES else "",
                  suggested=suggestion is not None, subjects=known, error=error,
                  error_field=error_field, message=_(DONE[done]) if done in DONE else "",
                  is_textbook=row is not None or rec.item_type == titles.TEXTBOOK_TYPE)


# the upload's routes come before /{record_id}
@router.get("/fpu")
def fpu_form(request: Request, grade: str = "", user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """The federal list upload form; the list on file and what of it the catalogue lacks."""
    return _fpu_page(request, user, grade=_grade(grade))


FPU_SHOWN = 500  # the missing textbooks listed on the page at most


def _fpu_page(request: Request, user: DeskUser, status: int = 200, error: str = "",
              report: dict | None = None, file_name: str = "", dry_run: bool = False,
              grade: int | None = None) -> HTMLResponse:
    with state(request).db.session() as s:
        summary, missing = titles.fpu_list(s, grade=grade, missing_only=True, limit=FPU_SHOWN)
    return render("textbooks_fpu.html", status, title=_("Federal list of textbooks"),
                  section="textbooks", user=user, error=error, report=report, file_name=file_name,
                  dry_run=dry_run, max_mb=state(request).settings.desk.upload_max_mb,
                  summary=summary, missing=missing, grade=grade, grades=range(1, 12),
                  shown_max=FPU_SHOWN)


def _read_upload(upload: UploadFile, limit: int) -> bytes | None:
    """The uploaded file's bytes, None when over `limit`."""
    upload.file.seek(0)
    data = upload.file.read(limit + 1)
    return None if len(data) > limit else data


@router.post("/fpu", response_model=None)
async def fpu_upload(request: Request, user: DeskUser = Depends(desk_user)) -> Response:
    """Take a federal list CSV (up to [desk] upload_max_mb), match it and show the report."""
    st = state(request)
    max_mb = st.settings.desk.upload_max_mb
    limit = max_mb * 1024 * 1024

    def refuse(code: int, message: str) -> Any:
        return anyio.to_thread.run_sync(lambda: _fpu_page(request, user, code, error=message))

    length = request.headers.get("content-length", "")
    if not length.isdigit():
        return await refuse(411, _("The file came without its size: upload it again from the form."))
    too_big = _("The file is larger than %(n)s MB: it cannot be uploaded here. Use the command "
                "“ibc textbooks fpu-import”.") % {"n": max_mb}
    if int(length) > limit + MULTIPART_SLACK:
        return await refuse(413, too_big)
    form = await request.form(max_files=1, max_fields=10)
    try:
        check_form(user, str(form.get("csrf") or ""))
        dry_run = str(form.get("dry_run") or "") == "1"
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await refuse(400, _("Choose a file."))
        name = os.path.basename(printable(upload.filename).replace("\\", "/"))[:255] or _("file")
        data = await anyio.to_thread.run_sync(_read_upload, upload, limit)
    finally:
        await form.close()
    if data is None:
        return await refuse(413, too_big)
    if not data.strip():
        return await refuse(400, _("The file is empty."))

    def run() -> HTMLResponse:
        try:
            with st.db.transaction(write=not dry_run) as s:
                report = titles.import_fpu(s, data, dry_run=dry_run)
                body = report.to_dict()
                if not dry_run:
                    audit(s, user.name, "textbook_fpu_import", ip=client_ip(request), file=name,
                          rows=body["rows"], matched=body["matched"], records=body["records"],
                          unmatched=body["unmatched"], errors=body["errors"])
        except titles.FpuFileError as exc:
            return _fpu_page(request, user, 400, error=_error_text(exc))
        items = []
        for r in report.rows:
            items.append({"line": r.line, "number": r.number, "title": r.title, "status": r.status,
                          "status_name": _(STATUS_NAMES[r.status]), "records": r.record_ids,
                          "error": _error_text(r.error) if r.error else ""})
        body["items"] = items
        return _fpu_page(request, user, report=body, file_name=name, dry_run=dry_run)

    return await anyio.to_thread.run_sync(run)


@router.get("/{record_id:int}")
def title_form(request: Request, record_id: int, done: str = "",
               user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """A record's textbook metadata (a suggestion from the catalogue when it has none yet)."""
    return _form(request, user, record_id, done=done)


@router.post("/{record_id:int}", response_model=None)
def title_save(request: Request, record_id: int, csrf: str = Form(""), subject: str = Form(""),
               grades: str = Form(""), series: str = Form(""), fpu: str = Form(""),
               action: str = Form("save"), user: DeskUser = Depends(desk_user)) -> Response:
    """Save (source «desk») or remove a title's metadata, audited."""
    check_form(user, csrf)
    _known_id(record_id)
    st = state(request)
    values = {"subject": subject, "grades": grades, "series": series, "fpu": fpu}
    if action == "clear":
        with st.db.transaction() as s:
            try:
                had = titles.clear_title(s, record_id)
            except titles.RecordGone:
                raise DeskNotFound(N_("No such record")) from None
            if had:
                audit(s, user.name, "textbook_cleared", ip=client_ip(request), record=record_id)
        return RedirectResponse(f"{BASE}/{record_id}?" + urlencode({"done": "cleared"}), status_code=303)
    try:
        data = titles.validate(subject, grades, series, fpu)
    except titles.TextbookError as exc:
        field = FIELD_ERRORS.get(exc.code, ("", ""))[0]
        return _form(request, user, record_id, status=400, values=values, error=_error_text(exc),
                     error_field=field)
    with st.db.transaction() as s:
        try:
            titles.set_title(s, record_id, data, source="desk")
        except titles.RecordGone:
            raise DeskNotFound(N_("No such record")) from None
        audit(s, user.name, "textbook_set", ip=client_ip(request), record=record_id,
              subject=data.subject, grades=titles.grades_text(data.grade_from, data.grade_to),
              series=data.series or "", fpu=data.fpu_number or "")
    return RedirectResponse(f"{BASE}/{record_id}?" + urlencode({"done": "saved"}), status_code=303)
