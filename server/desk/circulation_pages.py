"""The desk's section /circulation: «Выдача и возврат» (Koha's circulation page, ИРБИС
«Книговыдача»).

`GET /desk/circulation` is one scan field: a reader's card opens the reader's panel, a book's
barcode is taken back (a return needs no reader). The panel (`?card=CARD`) lends by a scanned
barcode, renews and takes back, each through the kiosk's own exactly-once service
(`state(request).circulation`) as terminal ``desk:<account>``; a refusal by a rule the librarian
may waive (library/circulation/overrides.py) comes with a form «Выдать всё равно».

A visit: when a card (or the first return) is scanned, a visit id is made — a nonce and a tag
bound to the card and the desk session — and every form's transaction id starts with it. The
outcomes listed at the top are the transactions of this visit (table ``transactions``), so a
reload or a second server process shows the same list and another reader's panel never shows
them (a visit id is only taken for the card it was made for).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from library.circulation import errors as E
from library.circulation.overrides import MAX_REASON, Override, OverrideReasonInvalid, overridable
from library.circulation.receipts import Receipt, ReceiptLine
from library.circulation.values import LoanOutcome
from library.i18n import translator
from library.reports.events import record_visit
from library.schools import Scope
from library.storage.models import Copy, Loan, PinGuard, Reader, TransactionLog, as_utc, utcnow
from library.text import printable
from server.desk import i18n
from server.desk.audit import audit
from server.desk.holds_common import state_text as hold_state_text
from server.desk.i18n import LANGUAGES, N_, _
from server.desk.sessions import DeskUser
from server.desk.web import (
    PREFIX,
    check_form,
    client_ip,
    desk_user,
    local_date,
    render,
    school_name,
    school_scope,
    state,
    today,
)

router = APIRouter(prefix=PREFIX + "/circulation", include_in_schema=False)
HOME = PREFIX + "/circulation"
MAX_CODE = 64
OVERRIDE_ROLES = frozenset({"librarian", "admin"})
# English msgids, translated where shown (server/desk/locale/ru/LC_MESSAGES/circulation.po).
CATEGORY_NAMES = {"pupil": N_("pupil"), "teacher": N_("teacher"), "staff": N_("staff")}
STATUS_NAMES = {"lost": N_("lost"), "written_off": N_("written off"), "in_process": N_("being processed"),
                "reserved": N_("on hold"), "not_for_loan": N_("not for loan"), "missing": N_("missing")}
# Common reasons of an override (a select, shown and recorded in the desk's language); OTHER
# needs the free text.
OTHER_REASON = N_("Other")
REASONS = (N_("Head librarian's permission"), N_("Set textbook"), N_("Needed for a lesson"),
           N_("The reader will return the overdue book tomorrow"), OTHER_REASON)
PRINT_TIMEOUT_S = 8.0

# The librarian's words for each refusal (the kiosk's texts speak to the reader).
REFUSALS = {
    "reader_not_found": N_("Card %(card)s is not registered or not valid"),
    "reader_blocked": N_("The reader is blocked"),
    "has_overdue": N_("The reader has overdue books (%(count)s)"),
    "has_lost": N_("The reader has a lost book"),
    "limit_reached": N_("The reader already has %(count)s books: that is the limit"),
    "item_not_found": N_("Barcode %(barcode)s is not in the catalogue"),
    "not_for_loan": N_("This book is for the reading room only"),
    "item_unavailable": N_("This copy cannot be lent: %(status)s"),
    "item_on_loan": N_("This copy is on loan to another reader: take it back first"),
    "already_yours": N_("This reader already has this book"),
    "age_restricted": N_("The book is for readers %(age)s"),
    "not_on_loan": N_("This book is not on loan"),
    "renewal_not_allowed": N_("This book cannot be renewed"),
    "renewal_limit": N_("The book has been renewed %(count)s times: that is the limit"),
    "overdue_no_renew": N_("The book is overdue: it cannot be renewed"),
    "not_your_loan": N_("This book is on loan to another reader"),
    # a school's librarian lends their school's copies to its readers (docs/SCHOOLS.md)
    "other_school": N_("This copy belongs to another school: it is lent there"),
    "other_school_reader": N_("This reader belongs to another school: books are lent to them there"),
    "finish_first": N_("This is a reader card, not a book"),
    "reader_card": N_("This is a reader card, not a book"),
    "txn_mismatch": N_("The form is out of date: do it again"),
    "book_not_card": N_("This is a book, not a reader card"),
    # holds (docs/HOLDS.md): never the other reader's name on this reader's panel
    "reserved": N_("This copy is set aside for another reader"),
    "renewal_held": N_("Other readers are queuing for this book: it cannot be renewed"),
    # [circulation] backend = "irbis" (docs/IRBIS.md): nothing was done
    "irbis_unavailable": N_("The IRBIS server does not answer: nothing was done, try again in a "
                            "minute"),
    "irbis_refused": N_("The IRBIS server refused the library's account (%(reason)s): check "
                        "[irbis] user, password and workstation"),
}
_SERVICE_ACTION = {"lend": "checkout", "return": "checkin", "renew": "renew"}
# An outcome line per action; an unknown action gets the generic line with its code.
DONE_LINES = {"checkout": N_("Lent: “%(title)s”, due %(date)s"),
              "renew": N_("Renewed: “%(title)s”, due %(date)s")}
REFUSED_LINES = {"checkout": N_("Refused (lend %(what)s): %(reason)s"),
                 "checkin": N_("Refused (take back %(what)s): %(reason)s"),
                 "renew": N_("Refused (renew %(what)s): %(reason)s")}
NOT_FOUND = N_("Code “%(code)s” not found: it is neither a reader card nor a book")
BAD_CODE = N_("Too long or invalid code")
CARD_INVALID = N_("The card is not registered or not valid")
SCAN_CARD_FIRST = N_("Scan the reader's card first")
FORM_STALE = N_("The form is out of date: do it again")
SCAN_AGAIN = N_("The form is out of date: scan again")
NO_RECEIPT = N_("Nothing was lent to the reader in this visit: there is no receipt")


# --- small helpers ------------------------------------------------------------------------------
def _clean(value: str | None) -> str:
    """A scanned or typed code: printable, trimmed (a scanner may add spaces or controls)."""
    return printable(value or "").strip()


def _code_ok(code: str) -> bool:
    return 0 < len(code) <= MAX_CODE and "\\x" not in code


def _refusal_text(error: E.CirculationError) -> str:
    params = dict(error.params)
    if error.code == "item_unavailable":
        status = str(params.get("status", ""))
        params["status"] = _(STATUS_NAMES[status]) if status in STATUS_NAMES else status
    template = REFUSALS.get(error.code)
    if template is None:
        return error.message(translator(i18n.language()))
    text = _(template)
    try:
        return text % params
    except (KeyError, TypeError, ValueError):
        return text


def _visit_tag(user: DeskUser, card: str, nonce: str) -> str:
    key = user.csrf.encode()
    return hmac.new(key, f"{card}\n{nonce}".encode(), hashlib.sha256).hexdigest()[:12]


def new_visit(user: DeskUser, card: str) -> str:
    """A visit id for this card and desk session: 12 hex nonce + 12 hex tag."""
    nonce = secrets.token_hex(6)
    return nonce + _visit_tag(user, card, nonce)


def valid_visit(user: DeskUser, card: str, visit: str | None) -> bool:
    """True when `visit` was made for this card in this desk session."""
    if not visit or len(visit) != 24 or any(c not in "0123456789abcdef" for c in visit):
        return False
    return hmac.compare_digest(visit[12:], _visit_tag(user, card, visit[:12]))


def visit_of(user: DeskUser, card: str, txn: str | None) -> str:
    """The visit a form's transaction id belongs to (a new one when it is not this card's)."""
    visit = (txn or "")[:24]
    return visit if valid_visit(user, card, visit) else new_visit(user, card)


def new_txn(visit: str) -> str:
    """A transaction id for one form of this visit (≤ 64 characters)."""
    return f"{visit}-{secrets.token_hex(8)}"


def _txn_ok(txn: str) -> bool:
    return 0 < len(txn) <= 64 and txn.isprintable() and not any(c.isspace() for c in txn)


def terminal_of(user: DeskUser) -> str:
    return f"desk:{user.name}"[:64]


@dataclass
class Line:
    """One outcome of the visit, in words."""

    ok: bool
    text: str
    action: str
    title: str = ""
    due: dt.date | None = None
    barcode: str = ""
    hold_id: int = 0                  # a return that filled a hold: put it on the hold shelf
    hold_for: str = ""
    hold_until: dt.date | None = None


def _line(kind: str, result: dict[str, Any], day: dt.date) -> Line:
    args = result.get("args") or {}
    barcode = str(args.get("barcode", ""))
    note = (" (" + _("despite a rule: %(reason)s") % {"reason": args["override"]} + ")"
            if args.get("override") else "")
    if not result.get("ok"):
        error = E.error_from_dict(result.get("error") or {})
        title = str(error.params.get("title", ""))
        what = (_("“%(title)s”") % {"title": title} if title
                else _("barcode %(barcode)s") % {"barcode": barcode})
        reason = _refusal_text(error)
        text = (_(REFUSED_LINES[kind]) % {"what": what, "reason": reason} if kind in REFUSED_LINES
                else _("Refused (%(action)s %(what)s): %(reason)s") % {"action": kind, "what": what,
                                                                       "reason": reason})
        return Line(False, text, kind, title, barcode=barcode)
    out = LoanOutcome.from_dict(result.get("outcome") or {})
    if kind == "checkin":
        text = _("Taken back: “%(title)s”") % {"title": out.title}
        if out.due_date and out.due_date < day:
            text += " — " + _("%(n)s days late") % {"n": (day - out.due_date).days}
        where = out.place or out.shelf
        if out.hold_id:
            text += ". " + _("For the hold shelf: %(who)s") % {"who": out.hold_for or ""}
        elif where:
            text += ". " + _("Shelf: %(where)s") % {"where": where}
    else:
        values = {"title": out.title, "date": local_date(out.due_date), "action": kind}
        text = (_(DONE_LINES[kind]) if kind in DONE_LINES
                else _("%(action)s: “%(title)s”, due %(date)s")) % values
    return Line(True, text + note, kind, out.title, out.due_date, out.barcode,
                out.hold_id, out.hold_for or "", out.hold_until)


def visit_lines(s: Session, user: DeskUser, visit: str, day: dt.date, current: str = "") -> list[Line]:
    """This visit's outcomes at this desk account, newest first; with `current` (the form's
    transaction id, also when a client made it outside the visit) its outcome too."""
    mine = TransactionLog.txn_id.startswith(visit + "-", autoescape=True)
    if current:
        mine = or_(mine, TransactionLog.txn_id == current,
                   TransactionLog.txn_id.startswith(current + ".", autoescape=True))
    rows = s.execute(
        select(TransactionLog.kind, TransactionLog.result)
        .where(mine, TransactionLog.terminal == terminal_of(user))
        .order_by(TransactionLog.created_at.desc(), TransactionLog.txn_id)).all()
    return [_line(kind, result or {}, day) for kind, result in rows]


@dataclass
class Panel:
    """What the reader's panel shows."""

    card: str
    name: str
    short_name: str
    class_name: str
    category: str
    blocked: bool
    block_reason: str
    locked_until: str
    restriction: str
    loans: list[dict[str, Any]] = field(default_factory=list)
    limit: int = 0
    holds: list[dict[str, Any]] = field(default_factory=list)


def _panel(request: Request, s: Session, card: str) -> Panel | None:
    """The reader's panel data (read in `s`, one transaction with the page's other reads), or
    None when no active reader has this card."""
    st = state(request)
    day = today(request)
    svc = st.circulation
    try:
        view = svc.find_reader(card, session=s)
    except E.CirculationError:
        return None
    r = s.get(Reader, view.id)  # already in the session: no second query
    assert r is not None
    guard = s.get(PinGuard, r.id)
    locked = guard.locked_until if guard and guard.locked_until else None
    name = " ".join(x for x in (r.last_name, r.first_name, r.middle_name) if x)
    panel = Panel(
        card=r.card_number, name=name or r.card_number, short_name=view.greeting_name,
        class_name=r.class_name or "",
        category=_(CATEGORY_NAMES[r.category]) if r.category in CATEGORY_NAMES else r.category,
        blocked=bool(r.blocked), block_reason=r.block_reason or "",
        locked_until=(as_utc(locked).astimezone().strftime("%d.%m.%Y %H:%M")
                      if locked and as_utc(locked) > utcnow() else ""),
        restriction="",
        limit=svc.policy.category(r.category).max_items)
    for loan in svc.loans(card, session=s):
        panel.loans.append({"barcode": loan.barcode, "title": loan.title, "authors": loan.authors,
                            "issued": local_date(loan.issued), "due": local_date(loan.due_date),
                            "renewals": loan.renewals, "overdue": loan.overdue,
                            "days": (day - loan.due_date).days if loan.overdue else 0})
    for hold in svc.holds(card):  # the reader's own holds only (docs/HOLDS.md, privacy)
        panel.holds.append({"hold_id": hold.hold_id, "record_id": hold.record_id,
                            "title": hold.title, "authors": hold.authors, "state": hold.state,
                            "words": hold_state_text(hold), "barcode": hold.barcode or ""})
    if view.restriction in E.ERRORS and view.restriction != "reader_blocked":  # shown above
        overdue = sum(1 for loan in panel.loans if loan["overdue"])
        panel.restriction = _refusal_text(E.ERRORS[view.restriction](count=overdue))
    return panel


@dataclass
class Refusal:
    """The refusal of this request, with what an override form needs."""

    text: str
    action: str = ""
    code: str = ""
    barcode: str = ""
    title: str = ""
    can_override: bool = False


def _page(request: Request, user: DeskUser, *, card: str = "", visit: str = "",
          refusal: Refusal | None = None, notice: str = "", status: int = 200,
          reason_error: str = "", typed: str = "", current: str = "") -> HTMLResponse:
    """The start page (no card) or the reader's panel, with this visit's outcomes."""
    st = state(request)
    day = today(request)
    mine = school_scope(request, user)
    with st.db.session() as s:  # every read of the page in one transaction
        if card and not _own_reader(s, mine, card):
            # another school's reader: no panel (their loans are their school's business)
            card, visit = "", ""
            refusal = refusal or Refusal(_(REFUSALS["other_school_reader"]), code="other_school_reader")
        panel = _panel(request, s, card) if card else None
        if card and panel is None:
            card, visit = "", ""
            refusal = refusal or Refusal(_(CARD_INVALID))
        if not valid_visit(user, card, visit):
            visit = new_visit(user, card)
        lines = visit_lines(s, user, visit, day, current if _txn_ok(current) else "")
    lent = [x for x in lines if x.ok and x.action == "checkout"]
    # the newest outcome set a book aside for a hold: said loudly, with its slip
    hold_line = lines[0] if lines and lines[0].ok and lines[0].hold_id else None
    context = dict(title=_("Lending and returns"), section="circulation", user=user, panel=panel,
                   visit=visit, lines=lines, refusal=refusal, notice=notice, lent=bool(lent),
                   txn=lambda: new_txn(visit), reasons=REASONS, max_reason=MAX_REASON,
                   reason_error=reason_error, typed=typed, max_code=MAX_CODE, hold_line=hold_line,
                   printer=_printer_configured(request), panel_url=_here(card, visit))
    return render("circulation_panel.html" if panel else "circulation_start.html", status, **context)


def _own_reader(s: Session, mine: Scope | None, card: str) -> bool:
    """False when `card` is a reader of a school other than `mine` (a school's librarian's;
    None: every school's, always True); an unknown card is left to the panel's refusal."""
    if mine is None:
        return True
    sigla = s.execute(select(Reader.sigla).where(Reader.card_number == card)).first()
    return sigla is None or mine.owns(sigla[0])


def _here(card: str, visit: str) -> str:
    """This panel's address (where a hold's cancel page comes back to)."""
    return f"{HOME}?card={_q(card)}&v={visit}" if card else HOME


def _refused(action: str, exc: E.CirculationError, barcode: str, user: DeskUser) -> Refusal:
    return Refusal(_refusal_text(exc), action, exc.code, barcode, str(exc.params.get("title", "")),
                   overridable(action, exc.code) and user.role in OVERRIDE_ROLES)


def _recorder(user: DeskUser, request: Request, action: str, card: str, barcode: str,
              override: Override | None = None) -> Any:
    ip = client_ip(request)

    def record(s: Session, outcome: LoanOutcome) -> None:
        detail: dict[str, object] = {"card": card, "barcode": barcode, "title": outcome.title}
        if override is not None:
            audit(s, user.name, "override", ip=ip, of=_SERVICE_ACTION.get(action, action),
                  reason=override.reason,
                  **detail)
        else:
            audit(s, user.name, action, ip=ip, **detail)
    return record


def _reason_of(choice: str) -> str:
    """The reason (msgid) a select's value names: its text in any of the desk's languages
    (a form sent just after the language was switched still counts); '' for none."""
    for msgid in REASONS:
        for lang in LANGUAGES:
            token = i18n.set_language(lang)
            try:
                same = choice == _(msgid)
            finally:
                i18n.reset_language(token)
            if same:
                return msgid
    return ""


def _reason(choice: str, note: str) -> str:
    """The override's reason as recorded: the chosen reason in the desk's language (none for
    «Other»), then the librarian's note."""
    choice, note = choice.strip(), note.strip()  # controls are dropped by Override.make
    msgid = _reason_of(choice)
    choice = _(msgid) if msgid and msgid != OTHER_REASON else ""
    return ": ".join(x for x in (choice, note) if x)


# --- routes ------------------------------------------------------------------------------------
@router.get("")
def start(request: Request, card: str = Query("", max_length=4096), v: str = Query("", max_length=64),
          user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """The scan field, or the reader's panel for `card`."""
    card = _clean(card)
    if card and not _code_ok(card):
        return _page(request, user, refusal=Refusal(_(BAD_CODE)), status=400)
    return _page(request, user, card=card, visit=v if card else "")


@router.post("/return")
def take_back(request: Request, csrf: str = Form(""), barcode: str = Form(""),
              txn: str = Form(""), card: str = Form(""),
              user: DeskUser = Depends(desk_user)) -> Response:
    """Take a book back (the start page's scan field, or «Вернуть» on a panel). A reader's card
    scanned at the start page opens the reader's panel instead."""
    check_form(user, csrf)
    code, card = _clean(barcode), _clean(card)
    visit = visit_of(user, card, txn)
    if not _code_ok(code):
        return _page(request, user, card=card, visit=visit, status=400, refusal=Refusal(
            _("Scan a book's barcode or a reader card") if not code else _(BAD_CODE)))
    svc = state(request).circulation
    if svc.is_reader_card(code):
        return _open_reader(request, user, code)
    if not _txn_ok(txn):
        return _page(request, user, card=card, visit=visit, status=400,
                     refusal=Refusal(_(SCAN_AGAIN)))
    refusal, notice = None, ""
    try:
        # a school's librarian: another school's copy is set aside to go home (a transfer,
        # docs/HOLDS.md «Pickup school …»); an account of every school passes no school
        out = svc.checkin(code, txn, terminal=terminal_of(user),
                          record=_recorder(user, request, "return", card, code),
                          school=school_scope(request, user))
        notice = _elsewhere(request, user, out.loan_id)
    except E.ItemNotFound:
        refusal = Refusal(_(NOT_FOUND) % {"code": code})
    except E.CirculationError as exc:
        refusal = _refused("checkin", exc, code, user)
    return _page(request, user, card=card, visit=visit, refusal=refusal, current=txn, notice=notice)


def _elsewhere(request: Request, user: DeskUser, loan_id: int) -> str:
    """For a school's librarian taking back another school's copy (returns are not
    restricted): «Книга школы … — отправьте её туда»; '' otherwise."""
    mine = school_scope(request, user)
    if mine is None:
        return ""
    with state(request).db.session() as s:
        sigla = s.scalar(select(Copy.sigla).join(Loan, Loan.copy_id == Copy.id).where(Loan.id == loan_id))
    if sigla is None or mine.owns(sigla):
        return ""
    return _("This book belongs to %(school)s: send it there") % {"school": school_name(request, sigla)}


def _open_reader(request: Request, user: DeskUser, card: str) -> Response:
    """A reader's card scanned: that reader's panel with a new visit (nothing of the last one).
    The scan is the reader's visit to the library, counted like a kiosk session's
    (`library.reports.record_visit`: category and class only)."""
    st = state(request)
    try:
        view = st.circulation.find_reader(card)
    except E.CirculationError as exc:
        return _page(request, user, refusal=Refusal(_refusal_text(exc)))
    with st.db.session() as s:
        if not _own_reader(s, school_scope(request, user), card):
            return _page(request, user, refusal=Refusal(_(REFUSALS["other_school_reader"]),
                                                        code="other_school_reader"))
    with st.db.transaction() as s:
        sigla = s.scalar(select(Reader.sigla).where(Reader.id == view.id))
        record_visit(s, sigla=sigla or st.settings.school.sigla, terminal=terminal_of(user),
                     reader_category=view.category, reader_class=view.class_name)
    return RedirectResponse(f"{HOME}?card={_q(card)}&v={new_visit(user, card)}", status_code=303)


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


@router.post("/lend")
def lend(request: Request, csrf: str = Form(""), card: str = Form(""), barcode: str = Form(""),
         txn: str = Form(""), override: str = Form(""), reason: str = Form(""),
         reason_note: str = Form("", max_length=4096),
         user: DeskUser = Depends(desk_user)) -> Response:
    """Lend the scanned book to the panel's reader (or, with `override`, despite a rule)."""
    check_form(user, csrf)
    card, code = _clean(card), _clean(barcode)
    if not _code_ok(card):
        return _page(request, user, status=400, refusal=Refusal(_(SCAN_CARD_FIRST)))
    visit = visit_of(user, card, txn)
    if not code:
        return _page(request, user, card=card, visit=visit)  # an empty Enter: nothing to do
    if not _code_ok(code):
        return _page(request, user, card=card, visit=visit, status=400,
                     refusal=Refusal(_(BAD_CODE)))
    svc = state(request).circulation
    if code != card and svc.is_reader_card(code):
        return _open_reader(request, user, code)  # another reader's card: that reader now
    if code == card:
        return _page(request, user, card=card, visit=visit)
    return _write(request, user, "checkout", card, code, txn, visit, override, reason, reason_note)


@router.post("/renew")
def renew(request: Request, csrf: str = Form(""), card: str = Form(""), barcode: str = Form(""),
          txn: str = Form(""), override: str = Form(""), reason: str = Form(""),
          reason_note: str = Form("", max_length=4096),
          user: DeskUser = Depends(desk_user)) -> Response:
    """Renew one of the panel reader's loans (or, with `override`, despite a rule)."""
    check_form(user, csrf)
    card, code = _clean(card), _clean(barcode)
    if not _code_ok(card):
        return _page(request, user, status=400, refusal=Refusal(_(SCAN_CARD_FIRST)))
    visit = visit_of(user, card, txn)
    if not _code_ok(code):
        return _page(request, user, card=card, visit=visit, status=400,
                     refusal=Refusal(_("No book barcode")))
    return _write(request, user, "renew", card, code, txn, visit, override, reason, reason_note)


@router.post("/renew-all")
def renew_all(request: Request, csrf: str = Form(""), card: str = Form(""), txn: str = Form(""),
              user: DeskUser = Depends(desk_user)) -> Response:
    """«Продлить все»: each open loan renewed once (transaction `txn.N` each: a second send
    of the form renews nothing again)."""
    check_form(user, csrf)
    card = _clean(card)
    if not _code_ok(card):
        return _page(request, user, status=400, refusal=Refusal(_(SCAN_CARD_FIRST)))
    visit = visit_of(user, card, txn)
    if not _txn_ok(txn) or len(txn) > 56:
        return _page(request, user, card=card, visit=visit, status=400,
                     refusal=Refusal(_(FORM_STALE)))
    svc = state(request).circulation
    try:
        loans = svc.loans(card)
    except E.CirculationError as exc:
        return _page(request, user, status=400, refusal=Refusal(_refusal_text(exc)))
    for loan in loans:
        try:
            svc.renew(card, loan.barcode, f"{txn}.{loan.loan_id}", terminal=terminal_of(user),
                      record=_recorder(user, request, "renew", card, loan.barcode))
        except E.CirculationError:
            pass  # each refusal is in the visit's list
    return _page(request, user, card=card, visit=visit, current=txn,
                 notice="" if loans else _("The reader has no books"))


def _write(request: Request, user: DeskUser, action: str, card: str, code: str, txn: str,
           visit: str, override: str, reason: str, reason_note: str) -> HTMLResponse:
    if not _txn_ok(txn):
        return _page(request, user, card=card, visit=visit, status=400,
                     refusal=Refusal(_(SCAN_AGAIN)))
    svc = state(request).circulation
    waive: Override | None = None
    if override:
        if user.role not in OVERRIDE_ROLES:
            return _page(request, user, card=card, visit=visit, status=403,
                         refusal=Refusal(_("Your role may not lend despite the rules")))
        try:
            waive = Override.make(_reason(reason, reason_note), user.name)
        except OverrideReasonInvalid as exc:
            words = (_("Give a reason") if exc.problem == "missing"
                     else _("The reason is longer than %(n)s characters") % {"n": MAX_REASON})
            refused = override if override in E.ERRORS else ""
            text = _refusal_text(E.ERRORS[refused]()) if refused else _("Refused by a rule")
            refusal = Refusal(text, action, refused, code, "", True)
            return _page(request, user, card=card, visit=visit, status=400, refusal=refusal,
                         reason_error=words, typed=_clean(reason_note)[:MAX_REASON])
    kind = "lend" if action == "checkout" else "renew"
    record = _recorder(user, request, kind, card, code, waive)
    try:
        if action == "checkout":  # a school's librarian: that school's copies and readers
            svc.checkout(card, code, txn, terminal=terminal_of(user), override=waive, record=record,
                         school=school_scope(request, user))
        else:
            svc.renew(card, code, txn, terminal=terminal_of(user), override=waive, record=record)
    except E.ReaderNotFound:
        return _page(request, user, status=404, refusal=Refusal(_(CARD_INVALID)))
    except E.ItemNotFound:
        return _page(request, user, card=card, visit=visit,
                     refusal=Refusal(_(NOT_FOUND) % {"code": code}))
    except E.CirculationError as exc:
        return _page(request, user, card=card, visit=visit, current=txn,
                     refusal=_refused(action, exc, code, user))
    except ValueError:
        return _page(request, user, card=card, visit=visit, status=400,
                     refusal=Refusal(_(FORM_STALE)))
    return _page(request, user, card=card, visit=visit, current=txn)


# --- the receipt ---------------------------------------------------------------------------------
def _receipt(request: Request, user: DeskUser, card: str, visit: str) -> Receipt | None:
    """What this visit lent to the reader, as the kiosk's receipt (first name and initial)."""
    if not _code_ok(card) or not valid_visit(user, card, visit):
        return None
    st = state(request)
    try:
        reader = st.circulation.find_reader(card)
    except E.CirculationError:
        return None
    with st.db.session() as s:
        lines = [x for x in reversed(visit_lines(s, user, visit, today(request)))
                 if x.ok and x.action in ("checkout", "renew")]
    latest: dict[str, Line] = {}
    for x in lines:  # a book lent and then renewed in one visit: its last due date
        latest.pop(x.barcode, None)
        latest[x.barcode] = x
    if not latest:
        return None
    return Receipt(st.settings.school.name, reader.greeting_name, dt.datetime.now(),
                   [ReceiptLine(x.title, "", x.due) for x in latest.values()])


def _printer_configured(request: Request) -> bool:
    printer = state(request).settings.printer
    return bool(printer.enabled and printer.uri)


@router.get("/receipt")
def receipt_page(request: Request, card: str = Query("", max_length=4096),
                 v: str = Query("", max_length=64), user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """A printable receipt of this visit's loans (the browser prints it; print CSS)."""
    card = _clean(card)
    receipt = _receipt(request, user, card, v)
    if receipt is None:
        return _page(request, user, card=card if _code_ok(card) else "", visit=v, status=404,
                     refusal=Refusal(_(NO_RECEIPT)))
    return render("circulation_receipt.html", title=_("Receipt"), section="circulation", user=user,
                  receipt=receipt, card=card, visit=v, when=receipt.when.strftime("%d.%m.%Y %H:%M"),
                  printer=_printer_configured(request), message="", ok=False)


@router.post("/receipt/print")
async def receipt_print(request: Request, csrf: str = Form(""), card: str = Form(""),
                        v: str = Form(""), user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """«Печать на МФУ»: the receipt's PDF to the configured IPP printer (a short timeout)."""
    check_form(user, csrf)
    card = _clean(card)
    receipt = await run_in_threadpool(_receipt, request, user, card, v)
    if receipt is None:
        return await run_in_threadpool(lambda: _page(
            request, user, card=card if _code_ok(card) else "", visit=v, status=404,
            refusal=Refusal(_(NO_RECEIPT))))
    ok, message = False, _("No printer is set up: print the receipt from the browser (Ctrl+P)")
    if _printer_configured(request):
        ok, message = await _send(request, receipt)
    return render("circulation_receipt.html", title=_("Receipt"), section="circulation", user=user,
                  receipt=receipt, card=card, visit=v, when=receipt.when.strftime("%d.%m.%Y %H:%M"),
                  printer=_printer_configured(request), message=message, ok=ok)


async def _send(request: Request, receipt: Receipt) -> tuple[bool, str]:
    from device.printer import PrinterError, make_printer

    def pdf() -> bytes:
        with tempfile.TemporaryDirectory(prefix="ibc-desk-receipt-") as tmp:
            return receipt.pdf(Path(tmp) / "receipt.pdf").read_bytes()

    try:
        data = await run_in_threadpool(pdf)
        printer = make_printer(state(request).settings.printer, timeout=PRINT_TIMEOUT_S)
        await asyncio.wait_for(printer.print_pdf(data, "ibc-desk-receipt"), PRINT_TIMEOUT_S + 1)
    except (TimeoutError, asyncio.TimeoutError):
        return False, _("The printer did not answer in time: the receipt was not printed. "
                        "Check that it is switched on")
    except (PrinterError, OSError):
        return False, _("The printer cannot be reached: the receipt was not printed. "
                        "Check that it is switched on")
    return True, _("The receipt was sent to the printer")
