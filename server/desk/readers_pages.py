"""The desk's section /readers: search, add, edit, block, PINs, cards, class lists, the school year.

The rules are the library's: reader data and search in library/circulation/reader_records.py,
PINs in pins.py (hashed on the server's hashing pool, as the API does), locks in pin_guard.py,
class lists in readers.py, cards in cards.py, the school-year move in school_year.py. This module
turns forms into calls, writes one `desk_audit` row in the transaction of each change, and shows
a refusal next to its field with the form kept.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select, true
from sqlalchemy.exc import IntegrityError

from library.circulation import reader_records as rr
from library.circulation import school_year as sy
from library.circulation.cards import render_cards
from library.circulation.errors import CirculationError
from library.circulation.pin_guard import unlock
from library.circulation.pins import PinRules, check_new_pin, hash_pin, store_pin_hash
from library.circulation.readers import MAX_CARD, normalise_class, read_class_list, write_readers
from library.errors import ImportFormatError
from library.i18n import translator
from library.schools import scope
from library.storage.models import Copy, Loan, PinGuard, Reader, Record, as_utc, utcnow
from library.text import has_controls
from server.desk.audit import audit
from server.desk.errors import DeskNotFound
from server.desk.i18n import N_, _, language, ngettext
from server.desk.sessions import DeskUser
from server.desk.web import (
    PREFIX,
    admin_user,
    check_form,
    client_ip,
    desk_user,
    local_date,
    local_time,
    page_scope,
    render,
    school_choices,
    school_scope,
    state,
    today,
)

router = APIRouter(prefix=PREFIX + "/readers", include_in_schema=False)
BASE = PREFIX + "/readers"
PAGE_SIZE = 50
MAX_QUERY = 100
UPLOAD_SUFFIXES = {".csv": ".csv", ".txt": ".csv", ".xlsx": ".xlsx", ".xlsm": ".xlsm"}
UPLOAD = File(None)
HEADER_NEEDED = N_("the first line needs “Full name” (or “Surname” and “First name”) and "
                   "“Card number”")
ROW_ERRORS = {  # library/circulation/readers.py RowError codes, in the librarian's words
    "no_card": N_("no card number"),
    "bad_card": N_("card number: up to %(max)s characters, no spaces, not starting with “~”"),
    "card_repeats": N_("card %(card)s was already on line %(line)s"),
    "no_name": N_("a surname and a first name are needed"),
    "bad_name": N_("name: up to %(max)s characters, no control characters"),
    "bad_category": N_("unknown category “%(category)s” (pupil, teacher, staff)"),
    "bad_class": N_("class “%(value)s” is not written like 5A"),
    "no_class": N_("a pupil needs a class"),
}
FIELD_ERRORS = {  # library/circulation/reader_records.py error codes, in the librarian's words
    "bad_chars": N_("Invalid characters"),
    "name_too_long": N_("At most %(max)s characters"),
    "required": N_("Fill in this field"),
    "bad_category": N_("Choose a category"),
    "bad_class": N_("Write the class like this: 5A"),
    "no_class": N_("A pupil needs a class"),
    "card_spaces": N_("No spaces or control characters"),
    "card_too_long": N_("At most %(max)s characters"),
    "card_tilde": N_("The number cannot start with “~”"),
    "card_taken": N_("Card %(card)s already belongs to another reader"),
    "no_reason": N_("Write a reason (at least 3 letters)"),
    "reason_too_long": N_("At most %(max)s characters"),
}
FIELD_LIMITS = {"name_too_long": rr.MAX_NAME, "card_too_long": MAX_CARD,
                "reason_too_long": rr.MAX_REASON}
CATEGORY_NAMES = {"pupil": N_("pupil"), "teacher": N_("teacher"), "staff": N_("staff")}
DONE = {  # ?ok=… after a change: what the reader's page says
    "added": N_("Reader added"),
    "saved": N_("Changes saved"),
    "blocked": N_("Reader blocked"),
    "unblocked": N_("Block lifted"),
    "pin_set": N_("PIN set"),
    "pin_cleared": N_("PIN removed"),
    "unlocked": N_("Card unlocked"),
    "not_locked": N_("The card was not locked"),
    "restored": N_("Reader brought back from the archive"),
}


def pupils(n: int) -> str:
    """«27 учеников» (in the request's language)."""
    return ngettext("%(n)s pupil", "%(n)s pupils", n) % {"n": n}


def categories() -> dict[str, str]:
    """The categories in the request's language (key → word)."""
    return {key: _(word) for key, word in CATEGORY_NAMES.items()}


def field_errors(exc: rr.ReaderInvalid) -> dict[str, str]:
    """A refusal of reader_records in the librarian's words, per field."""
    out = {}
    for name, code in exc.errors.items():
        msgid = FIELD_ERRORS.get(code)
        if msgid is None:
            out[name] = rr.error_text(code, exc.params)
            continue
        params = {"max": FIELD_LIMITS.get(code, ""), **exc.params}
        try:
            out[name] = _(msgid) % params
        except (KeyError, ValueError, TypeError):
            out[name] = _(msgid)
    return out


def _reader(s: Any, reader_id: int, request: Request, user: DeskUser) -> Reader:
    """The reader, else 404 — also a reader of another school for a school's librarian (as
    if there were none: the desk shows a school's librarian their school's readers only)."""
    if not 0 < reader_id < 2**31:  # outside INTEGER: PostgreSQL would refuse the query
        raise DeskNotFound(N_("Reader not found"))
    reader = s.get(Reader, reader_id)
    if reader is None or reader.anonymised_at is not None:
        raise DeskNotFound(N_("Reader not found"))
    if user.school is not None and not scope(s, user.school, _default(request)).owns(reader.sigla):
        raise DeskNotFound(N_("Reader not found"))
    return reader


def _default(request: Request) -> str:
    return state(request).settings.school.sigla


def _locked(s: Any, reader_id: int) -> dt.datetime | None:
    until = s.scalar(select(PinGuard.locked_until).where(PinGuard.reader_id == reader_id))
    return until if until is not None and as_utc(until) > utcnow() else None


def _form_values(reader: Reader) -> dict[str, str]:
    return {"last_name": reader.last_name, "first_name": reader.first_name,
            "middle_name": reader.middle_name or "", "class_name": reader.class_name or "",
            "category": reader.category, "card_number": reader.card_number}


# --- the list ---------------------------------------------------------------------------------
@router.get("")
def reader_list(request: Request, q: str = "", klass: str = "", archived: str = "", page: str = "1",
                school: str = Query("", max_length=64),
                user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """Search readers by surname, name, card or class; a class filter; archived on request.
    A school's librarian finds their school's readers; an account of every school every
    school's, or the school it chose."""
    readers_of = page_scope(request, user, school)
    errors: dict[str, str] = {}
    number = int(page) if page.isascii() and page.isdigit() and len(page) < 7 else 1
    query = q.strip()[:MAX_QUERY]
    if has_controls(query):
        errors["q"] = _("Invalid characters")
        query = ""
    class_name: str | None = None
    if klass.strip():
        try:
            class_name = normalise_class(klass[:16])
        except ValueError:
            errors["klass"] = _("Write the class like this: 5A")
    show_archived = archived == "1"
    with state(request).db.session() as s:
        all_classes = rr.classes(s, school=readers_of)
        rows = rr.find_readers(s, query, class_name=class_name, archived=show_archived,
                               school=readers_of) \
            if "q" not in errors and "klass" not in errors else []
        pages = max(1, (len(rows) + PAGE_SIZE - 1) // PAGE_SIZE)
        number = min(max(1, number), pages)
        shown = rows[(number - 1) * PAGE_SIZE: number * PAGE_SIZE]
        rr.mark_rows(s, shown)
    chosen = readers_of.school if readers_of is not None and user.school is None else ""
    args = {"q": query, "klass": class_name or "", "archived": "1" if show_archived else "",
            "school": chosen}
    link = "&".join(f"{k}={quote(v)}" for k, v in args.items() if v)
    return render("readers_list.html", 400 if errors else 200, title=_("Readers"), section="readers",
                  user=user, rows=shown, total=len(rows), page=number, pages=pages, args=args,
                  link=link, classes=all_classes, errors=errors, categories=categories(),
                  searched=bool(query or class_name), schools=school_choices(request, user),
                  school=chosen)


# --- adding -----------------------------------------------------------------------------------
def _new_form(user: DeskUser, values: dict[str, str], errors: dict[str, str],
              status: int = 200, same: dict[str, Any] | None = None) -> HTMLResponse:
    return render("readers_new.html", status, title=_("New reader"), section="readers", user=user,
                  values=values, errors=errors, categories=categories(), same=same)


@router.get("/new")
def new_form(user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """The new-reader form."""
    return _new_form(user, {"category": "pupil"}, {})


@router.post("/new", response_model=None)
def add(request: Request, csrf: str = Form(""), last_name: str = Form(""), first_name: str = Form(""),
        middle_name: str = Form(""), class_name: str = Form(""), category: str = Form("pupil"),
        card_number: str = Form(""), same_ok: str = Form(""),
        user: DeskUser = Depends(desk_user)) -> Response:
    """Add a reader (card typed, scanned or generated); the form again with the errors, or with
    the question «такой читатель уже есть» (`same_ok` = that reader's card adds anyway)."""
    check_form(user, csrf)
    data = rr.check_reader(last_name, first_name, middle_name, class_name, category, card_number)
    st = state(request)
    try:
        with st.db.transaction() as s:
            same = rr.same_reader(s, data) if not data.errors else None
            if same is not None and same_ok != same.card_number:
                return _new_form(user, _typed(data), {}, 409, same={
                    "id": same.id, "card": same.card_number})
            reader = rr.add_reader(s, data, sigla=user.school or st.settings.school.sigla)
            audit(s, user.name, "reader_added", ip=client_ip(request), card=reader.card_number,
                  category=reader.category, class_name=reader.class_name,
                  generated=not data.card_number)
            reader_id = reader.id
    except rr.ReaderInvalid as exc:
        return _new_form(user, _typed(data), field_errors(exc), 400)
    except IntegrityError:
        return _new_form(user, _typed(data), {"card_number": _("This card number is already taken")}, 400)
    return RedirectResponse(f"{BASE}/{reader_id}?ok=added", status_code=303)


def _typed(data: rr.ReaderData) -> dict[str, str]:
    return {"last_name": data.last_name, "first_name": data.first_name,
            "middle_name": data.middle_name, "class_name": data.class_name,
            "category": data.category, "card_number": data.card_number}


# --- class cards ------------------------------------------------------------------------------
def _pdf(readers: list[dict[str, Any]], school: str, filename: str) -> Response:
    with tempfile.TemporaryDirectory(prefix="ibc-cards-") as tmp:
        path = Path(tmp) / "cards.pdf"
        render_cards(readers, path, school_name=school)
        body = path.read_bytes()
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename=\"{filename}\""})


def _card_data(r: Reader) -> dict[str, Any]:
    return {"card_number": r.card_number, "last_name": r.last_name, "first_name": r.first_name,
            "class_name": r.class_name, "category": r.category}


@router.get("/cards", response_model=None)
def class_cards(request: Request, klass: str = "", user: DeskUser = Depends(desk_user)) -> Response:
    """Choose a class; with `klass` the PDF of every active reader's card in it."""
    st = state(request)
    error = ""
    mine = school_scope(request, user)
    with st.db.session() as s:
        all_classes = rr.classes(s, school=mine)
        if klass.strip():
            try:
                name = normalise_class(klass[:16])
            except ValueError:
                name = None
            rows = list(s.scalars(select(Reader).where(
                Reader.class_name == name, Reader.active.is_(True),
                mine.clause(Reader.sigla) if mine is not None else true())
                .order_by(Reader.last_name, Reader.first_name))) if name else []
            if rows:
                data = [_card_data(r) for r in rows]
                return _pdf(data, st.settings.school.name, f"cards-{len(data)}.pdf")
            error = _("There are no readers in this class") if name else _("Write the class like this: 5A")
    return render("readers_cards.html", 400 if error else 200, title=_("Class cards"),
                  section="readers", user=user, classes=all_classes, error=error, klass=klass[:16])


# --- class list import ------------------------------------------------------------------------
def _import_page(user: DeskUser, status: int = 200, **context: Any) -> HTMLResponse:
    return render("readers_import.html", status, title=_("Class list"), section="readers",
                  user=user, **context)


@router.get("/import")
def import_form(request: Request, user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """The class-list upload form."""
    return _import_page(user, limit_kb=state(request).settings.server.max_body_bytes // 1024)


@router.post("/import")
async def import_list(request: Request, csrf: str = Form(""), file: UploadFile | None = UPLOAD,
                      user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """Read an uploaded class list (CSV or XLSX) with the importer and show its report."""
    check_form(user, csrf)
    st = state(request)
    limit_kb = st.settings.server.max_body_bytes // 1024
    name = (file.filename or "") if file is not None else ""
    suffix = UPLOAD_SUFFIXES.get(Path(name).suffix.lower())
    if file is None or not name:
        return _import_page(user, 400, limit_kb=limit_kb, error=_("Choose a file"))
    if suffix is None:
        return _import_page(user, 400, limit_kb=limit_kb, error=_("A CSV or XLSX file is needed"))
    content = await file.read()
    return await _run_import(request, user, content, suffix, limit_kb)


async def _run_import(request: Request, user: DeskUser, content: bytes, suffix: str,
                      limit_kb: int) -> HTMLResponse:
    from anyio import to_thread

    return await to_thread.run_sync(_import_sync, request, user, content, suffix, limit_kb)


def _import_sync(request: Request, user: DeskUser, content: bytes, suffix: str,
                 limit_kb: int) -> HTMLResponse:
    st = state(request)
    with tempfile.TemporaryDirectory(prefix="ibc-class-list-") as tmp:
        path = Path(tmp) / f"list{suffix}"
        path.write_bytes(content)
        try:
            readers, report = read_class_list(path)
        except ImportFormatError:  # empty, or the header lacks the needed columns
            return _import_page(user, 400, limit_kb=limit_kb,
                                error=_("The file cannot be read as a class list"),
                                reason=_(HEADER_NEEDED))
        except Exception:  # an uploaded file may be anything (a broken XLSX, binary): keep nothing
            return _import_page(user, 400, limit_kb=limit_kb,
                                error=_("The file cannot be read as a class list"))
    if readers:
        try:
            with st.db.transaction() as s:
                write_readers(s, readers, report, sigla=user.school or st.settings.school.sigla)
                audit(s, user.name, "readers_imported", ip=client_ip(request), read=report.read,
                      added=report.added, updated=report.updated, skipped=report.skipped)
        except IntegrityError:
            return _import_page(user, 409, limit_kb=limit_kb,
                                error=_("The list was not saved: a card number is taken (try again)"))
    rows = sorted([{**r, "reason": ""} for r in report.rows]
                  + [{"line": e["line"], "card": "", "class": "", "action": "error",
                      "reason": _row_error(e)} for e in report.errors], key=lambda r: r["line"])
    return _import_page(user, limit_kb=limit_kb, report=report, rows=rows)


def _row_error(error: dict[str, Any]) -> str:
    text = ROW_ERRORS.get(error.get("code", ""))
    if text is None:
        return _("the line cannot be read")
    try:
        return _(text) % error.get("params", {})
    except (KeyError, ValueError, TypeError):
        return _(text)


# --- the school year --------------------------------------------------------------------------
def _plan_lines(plan: sy.SchoolYearPlan) -> list[str]:
    lines = [f"{m.old} → {m.new}: {pupils(m.pupils)}" for m in plan.moves]
    if plan.leaving:
        lines.append(_("%(classes)s: leaving school, %(pupils)s, %(with_loans)s of them with books "
                       "on loan") % {"classes": ", ".join(plan.leaving), "pupils": pupils(plan.leavers),
                                     "with_loans": plan.leavers_with_loans})
    return lines


def _year_page(request: Request, user: DeskUser, status: int = 200, **context: Any) -> HTMLResponse:
    st = state(request)
    with st.db.session() as s:
        plan = sy.plan(s, today(request), last_grade=st.settings.school.last_grade,
                       year_end=st.settings.circulation.school_year_end)
    return render("readers_year.html", status, title=_("New school year"), section="readers",
                  user=user, plan=plan, lines=_plan_lines(plan), done_at=local_time(plan.done_at),
                  unknown=[f"{k}: {pupils(v)}" for k, v in plan.unknown.items()], **context)


@router.get("/school-year")
def school_year_preview(request: Request, user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """What the school-year move would do; the confirm button for an administrator."""
    return _year_page(request, user)


@router.post("/school-year")
def school_year_move(request: Request, csrf: str = Form(""),
                     user: DeskUser = Depends(admin_user)) -> HTMLResponse:
    """Move the classes (administrators only, once per school year)."""
    check_form(user, csrf)
    st = state(request)
    ip = client_ip(request)

    def record(s: Any, plan: sy.SchoolYearPlan) -> None:
        audit(s, user.name, "school_year_moved", ip=ip, year=plan.year, pupils=plan.pupils_moved,
              leavers=plan.leavers, with_loans=plan.leavers_with_loans)
    try:
        done = sy.promote(st.db, today(request), actor=user.name,
                          last_grade=st.settings.school.last_grade,
                          year_end=st.settings.circulation.school_year_end, audit=record)
    except sy.SchoolYearDone:
        return _year_page(request, user, 409,
                          error=_("The classes of this school year have already been moved up"))
    return _year_page(request, user, moved=_plan_lines(done))


# --- one reader -------------------------------------------------------------------------------
def _reader_page(request: Request, user: DeskUser, reader_id: int, status: int = 200,
                 ok: str = "", errors: dict[str, str] | None = None,
                 values: dict[str, str] | None = None, reason: str = "") -> HTMLResponse:
    st = state(request)
    with st.db.session() as s:
        reader = _reader(s, reader_id, request, user)
        locked = _locked(s, reader.id)
        loans = s.execute(select(Loan.issued_at, Loan.due_date, Copy.barcode, Record.title)
                          .join(Copy, Copy.id == Loan.copy_id).join(Record, Record.id == Copy.record_id)
                          .where(Loan.reader_id == reader.id, Loan.returned_at.is_(None))
                          .order_by(Loan.due_date)).all()
        day = today(request)
        info = {"id": reader.id, "card": reader.card_number, "name": " ".join(
                    x for x in (reader.last_name, reader.first_name, reader.middle_name) if x),
                "class_name": reader.class_name or "", "category": categories().get(
                    reader.category, reader.category),
                "blocked": reader.blocked, "block_reason": reader.block_reason or "",
                "active": reader.active, "archived": local_time(reader.archived_at),
                "pin": reader.pin_hash is not None,
                "locked": local_time(locked) if locked else ""}
        loan_rows = [{"title": r.title, "barcode": r.barcode or "", "issued": local_time(r.issued_at),
                      "due": local_date(r.due_date), "overdue": r.due_date < day} for r in loans]
        form = values if values is not None else _form_values(reader)
    rules = PinRules.from_settings(st.settings.circulation)
    return render("readers_reader.html", status, title=_("Reader %(card)s") % {"card": info["card"]},
                  section="readers",
                  user=user, r=info, loans=loan_rows, values=form, errors=errors or {},
                  categories=categories(), done=_(DONE[ok]) if ok in DONE else "", reason=reason,
                  pin_min=rules.min_digits, pin_max=rules.max_digits,
                  circulation=f"{PREFIX}/circulation?card={quote(str(info['card']), safe='')}")


@router.get("/{reader_id}")
def reader_page(request: Request, reader_id: int, ok: str = "",
                user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """One reader: data, open loans, edit, block, PIN, unlock, card."""
    return _reader_page(request, user, reader_id, ok=ok)


def _done(reader_id: int, what: str) -> RedirectResponse:
    return RedirectResponse(f"{BASE}/{reader_id}?ok={what}", status_code=303)


@router.post("/{reader_id}/edit", response_model=None)
def edit(request: Request, reader_id: int, csrf: str = Form(""), last_name: str = Form(""),
         first_name: str = Form(""), middle_name: str = Form(""), class_name: str = Form(""),
         category: str = Form("pupil"), card_number: str = Form(""),
         user: DeskUser = Depends(desk_user)) -> Response:
    """Change a reader's names, class, category or card number."""
    check_form(user, csrf)
    data = rr.check_reader(last_name, first_name, middle_name, class_name, category, card_number)
    try:
        with state(request).db.transaction() as s:
            reader = _reader(s, reader_id, request, user)
            old_card = reader.card_number
            changed = rr.update_reader(s, reader, data)
            if changed:
                detail: dict[str, Any] = {"card": old_card, "fields": ",".join(sorted(changed))}
                if "card_number" in changed:
                    detail["new_card"] = reader.card_number
                if "class_name" in changed:
                    detail["class_name"] = f"{changed['class_name'][0]} → {changed['class_name'][1]}"
                audit(s, user.name, "reader_changed", ip=client_ip(request), **detail)
    except rr.ReaderInvalid as exc:
        return _reader_page(request, user, reader_id, 400, errors=field_errors(exc), values=_typed(data))
    except IntegrityError:
        return _reader_page(request, user, reader_id, 400, values=_typed(data),
                            errors={"card_number": _("This card number is already taken")})
    return _done(reader_id, "saved")


@router.post("/{reader_id}/block", response_model=None)
def block(request: Request, reader_id: int, csrf: str = Form(""), reason: str = Form(""),
          action: str = Form("block"), user: DeskUser = Depends(desk_user)) -> Response:
    """Block (`action=block`) or unblock (`action=unblock`) with a reason."""
    check_form(user, csrf)
    blocked = action != "unblock"
    try:
        with state(request).db.transaction() as s:
            reader = _reader(s, reader_id, request, user)
            why = rr.set_blocked(reader, blocked, reason)
            audit(s, user.name, "reader_blocked" if blocked else "reader_unblocked",
                  ip=client_ip(request), card=reader.card_number, reason=why)
    except rr.ReaderInvalid as exc:
        return _reader_page(request, user, reader_id, 400, errors=field_errors(exc),
                            reason=reason[:300])
    return _done(reader_id, "blocked" if blocked else "unblocked")


@router.post("/{reader_id}/pin", response_model=None)
def set_pin(request: Request, reader_id: int, csrf: str = Form(""), pin: str = Form(""),
            pin2: str = Form(""), user: DeskUser = Depends(desk_user)) -> Response:
    """Set the reader's PIN (typed twice; the PIN rule; hashed on the server's hashing pool)."""
    check_form(user, csrf)
    st = state(request)
    with st.db.session() as s:
        card = _reader(s, reader_id, request, user).card_number
    try:
        if pin[:64] != pin2[:64]:
            raise ValueError(_("The PINs do not match"))
        new = check_new_pin(pin[:64], PinRules.from_settings(st.settings.circulation))
    except ValueError as exc:
        return _reader_page(request, user, reader_id, 400, errors={"pin": str(exc)})
    except CirculationError as exc:
        return _reader_page(request, user, reader_id, 400,
                            errors={"pin": exc.message(translator(language()))})
    stored = st.circulation.hashing(hash_pin, new)
    with st.db.transaction() as s:
        reader = _reader(s, reader_id, request, user)
        store_pin_hash(s, reader.card_number, stored)
        audit(s, user.name, "pin_set", ip=client_ip(request), card=card)
    return _done(reader_id, "pin_set")


@router.post("/{reader_id}/pin/clear", response_model=None)
def clear_pin(request: Request, reader_id: int, csrf: str = Form(""),
              user: DeskUser = Depends(desk_user)) -> Response:
    """Remove the reader's PIN."""
    check_form(user, csrf)
    with state(request).db.transaction() as s:
        reader = _reader(s, reader_id, request, user)
        had = store_pin_hash(s, reader.card_number, None)
        audit(s, user.name, "pin_cleared", ip=client_ip(request), card=reader.card_number, had=had)
    return _done(reader_id, "pin_cleared")


@router.post("/{reader_id}/unlock", response_model=None)
def unlock_card(request: Request, reader_id: int, csrf: str = Form(""),
                user: DeskUser = Depends(desk_user)) -> Response:
    """Forget the card's wrong PINs (a lock ends)."""
    check_form(user, csrf)
    with state(request).db.transaction() as s:
        reader = _reader(s, reader_id, request, user)
        was = unlock(s, reader.card_number)
        audit(s, user.name, "card_unlocked", ip=client_ip(request), card=reader.card_number,
              was_locked=bool(was))
    return _done(reader_id, "unlocked" if was else "not_locked")


@router.post("/{reader_id}/restore", response_model=None)
def restore(request: Request, reader_id: int, csrf: str = Form(""),
            user: DeskUser = Depends(desk_user)) -> Response:
    """Bring an archived reader back (active again)."""
    check_form(user, csrf)
    with state(request).db.transaction() as s:
        reader = _reader(s, reader_id, request, user)
        if rr.restore(reader):
            audit(s, user.name, "reader_restored", ip=client_ip(request), card=reader.card_number)
    return _done(reader_id, "restored")


@router.get("/{reader_id}/card.pdf", response_model=None)
def reader_card(request: Request, reader_id: int, user: DeskUser = Depends(desk_user)) -> Response:
    """This reader's card as a PDF (one card on an A4 sheet with cut marks)."""
    st = state(request)
    with st.db.session() as s:
        data = _card_data(_reader(s, reader_id, request, user))
    return _pdf([data], st.settings.school.name, f"card-{reader_id}.pdf")
