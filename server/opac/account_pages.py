"""The reader's pages of the OPAC (card + PIN): sign in and out, loans and renewals, holds,
reading history (only when the reader turns it on), changing the PIN — docs/OPAC.md «My account».

Every write goes through the circulation service (renew, place_hold, cancel_hold: exactly once
per transaction id) or library/circulation/history.py; every id a form names (a loan, a hold)
is looked up among the session reader's own first, so no form reaches another reader's data.
Pages show the reader's first name and class only, never a card number. The transaction id of
a form is bound to the reader (`_txn`): a double tap renews once, and no reader can replay
another's outcome.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from library.circulation import errors as E
from library.circulation import history
from library.i18n import translator
from library.schools import list_schools
from library.storage.models import Reader
from server.desk import i18n
from server.desk.i18n import N_, _, ngettext
from server.errors import circulation_status
from server.opac import sessions
from server.opac.errors import OpacError
from server.opac.sessions import OpacReader, account_reader
from server.opac.web import (
    PREFIX,
    client_ip,
    is_opac_path,
    local_date,
    render,
    set_cookie,
    state,
    templates,
)

router = APIRouter(prefix=PREFIX, include_in_schema=False)

TXN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
ACCOUNT = PREFIX + "/account"
TERMINAL = "opac"  # the `terminal` of the OPAC's writes (events, transactions)
WRONG = N_("Wrong card number or PIN")
NO_PIN = N_("Set a PIN first: at a kiosk in the library or with the librarian")
LOCKED = N_("Too many failed attempts: try again in %(n)s min")
STATES = {"queued": N_("In the queue"), "waiting": N_("Waiting for you")}


class OpacBadForm(OpacError):
    """A form of the account pages came without a usable transaction id (HTTP 400)."""

    def __init__(self) -> None:
        super().__init__("opac_bad_form", N_("This page is out of date: go back and try again"), 400)


def safe_next(value: str | None) -> str:
    """`next` when it is a page of the OPAC (no open redirect), else the account page."""
    value = (value or "").strip()
    path = value.split("?", 1)[0]
    if (not value or len(value) > 300 or not is_opac_path(path) or "//" in value or "\\" in value
            or any(ord(c) < 32 for c in value) or path.startswith(PREFIX + "/login")
            or path.startswith(PREFIX + "/logout")):
        return ACCOUNT
    return value


def new_txn() -> str:
    """A fresh transaction id for a form."""
    return secrets.token_urlsafe(18)


templates.globals["new_txn"] = new_txn  # record_hold.html: a fresh id for each page's hold form


def _txn(reader: OpacReader, given: str) -> str:
    """The service's transaction id of a form's `given` id: bound to the reader, so a forged id
    never meets another reader's transaction."""
    if not TXN.match(given or ""):
        raise OpacBadForm()
    return "opac-" + hashlib.sha256(f"{reader.reader_id}:{given}".encode("ascii")).hexdigest()[:40]


def _card(request: Request, reader: OpacReader) -> str:
    """The session reader's card number (for the service's calls; never put in a page)."""
    with state(request).db.session() as s:
        card = s.scalar(select(Reader.card_number).where(Reader.id == reader.reader_id))
    if card is None:
        raise sessions.OpacLoginRequired()
    return card


def _refusal(exc: E.CirculationError) -> str:
    """A rule's refusal in the page's language."""
    return exc.message(translator(i18n.language()))


# --- sign in and out ---------------------------------------------------------------------------
def _login_form(request: Request, status: int = 200, error: str = "", back: str = "") -> HTMLResponse:
    if state(request).read_only:
        return read_only_page(state(request).settings.server.primary_url)
    token = request.cookies.get(sessions.LOGIN_COOKIE)
    if not sessions.well_formed(token):
        token = sessions.new_token()
    assert token is not None
    response = render("login.html", status, title=_("Sign in"), section="login", csrf=token,
                      error=error, back=safe_next(back), robots="noindex")
    set_cookie(response, request, sessions.LOGIN_COOKIE, token)
    return response


@router.get("/login")
def login_form(request: Request, back: str = Query("", alias="next", max_length=2000)) -> HTMLResponse:
    """The sign-in form (card number and PIN, with its double-submit form token)."""
    return _login_form(request, back=back)


@router.post("/login", response_model=None)
def login(request: Request, card: str = Form(""), pin: str = Form(""), csrf: str = Form(""),
          back: str = Form("", alias="next")) -> Response:
    """Check card + PIN; 303 to `next` (an OPAC page) with a new session cookie, else the form
    again with one message for every wrong card or PIN."""
    sessions.check_csrf(request.cookies.get(sessions.LOGIN_COOKIE), csrf)
    st = state(request)
    result = sessions.sign_in(st, card[:1000], pin[:1000], client_ip(request))
    if result.refusal == "locked":
        response = _login_form(request, 429, _(LOCKED) % {"n": result.minutes}, back)
        response.headers["Retry-After"] = str(60 * result.minutes)
        return response
    if result.refusal == "no_pin":
        return _login_form(request, 401, _(NO_PIN), back)
    if result.token is None:
        return _login_form(request, 401, _(WRONG), back)
    old = request.cookies.get(sessions.COOKIE)
    if sessions.well_formed(old):
        assert old is not None
        sessions.end(st.db, old, "replaced")  # the old session of this browser ends
    redirect = RedirectResponse(safe_next(back), status_code=303)
    set_cookie(redirect, request, sessions.COOKIE, result.token)
    redirect.delete_cookie(sessions.LOGIN_COOKIE, path=PREFIX)
    return redirect


@router.post("/logout")
def logout(request: Request, csrf: str = Form(""),
           reader: OpacReader = Depends(account_reader)) -> RedirectResponse:
    """End the session (form token checked) and go back to the catalogue's first page."""
    sessions.check_csrf(reader.csrf, csrf)
    sessions.end(state(request).db, reader.token)
    response = RedirectResponse(PREFIX, status_code=303)
    response.delete_cookie(sessions.COOKIE, path=PREFIX)
    return response


# --- the account page --------------------------------------------------------------------------
def _hold_dict(hold: Any) -> dict[str, Any]:
    return {"id": hold.hold_id, "title": hold.title, "authors": hold.authors,
            "state": _(STATES[hold.state]) if hold.state in STATES else hold.state,
            "waiting": hold.state == "waiting", "position": hold.position if hold.state == "queued" else 0,
            "until": local_date(hold.pickup_until), "pickup": hold.pickup_name or ""}


def account_page(request: Request, reader: OpacReader, status: int = 200, notice: str = "",
                 error: str = "") -> HTMLResponse:
    """The account page: loans (with a renew button each), holds, the reader's restriction."""
    st = state(request)
    card = _card(request, reader)
    view = st.circulation.find_reader(card)
    loans = [{"id": ln.loan_id, "title": ln.title, "authors": ln.authors,
              "due": local_date(ln.due_date), "overdue": ln.overdue, "renewals": ln.renewals}
             for ln in st.circulation.loans(card)]
    holds = [_hold_dict(h) for h in st.circulation.holds(card)]
    restriction = None
    if view.restriction is not None:
        restriction = _refusal(_RESTRICTIONS.get(view.restriction, E.CirculationError)())
    return render("account.html", status, title=_("My account"), section="account", reader=reader,
                  loans=loans, holds=holds, restriction=restriction,
                  note=view.restriction_note or "", notice=notice, error=error,
                  txn=new_txn(), history_on=history.keeps_history(st.db, reader.reader_id),
                  robots="noindex")


_RESTRICTIONS: dict[str, type[E.CirculationError]] = {
    cls.code: cls for cls in (E.ReaderBlocked, E.HasOverdue, E.HasLost)}


@router.get("/account")
def account(request: Request, reader: OpacReader = Depends(account_reader)) -> HTMLResponse:
    """My account: first name (and class), books on loan, holds."""
    return account_page(request, reader)


@router.post("/renew")
def renew(request: Request, loan: int = Form(0, ge=0, le=2**62), txn: str = Form("", max_length=100),
          csrf: str = Form(""), reader: OpacReader = Depends(account_reader)) -> HTMLResponse:
    """Renew one of the reader's own loans, once per form (the transaction id)."""
    sessions.check_csrf(reader.csrf, csrf)
    txn_id = _txn(reader, txn)
    st = state(request)
    card = _card(request, reader)
    mine = next((ln for ln in st.circulation.loans(card) if ln.loan_id == loan), None)
    if mine is None:
        return account_page(request, reader, 404, error=_("This book is not on your card"))
    try:
        done = st.circulation.renew(card, mine.barcode, txn_id, terminal=TERMINAL)
    except E.CirculationError as exc:
        return account_page(request, reader, 409, error=_refusal(exc))
    return account_page(request, reader, notice=_("«%(title)s»: renewed until %(due)s")
                        % {"title": done.title, "due": local_date(done.due_date)})


@router.post("/holds")
def place_hold(request: Request, record: int = Form(0, ge=0, le=2**62),
               pickup: str = Form("", max_length=64), txn: str = Form("", max_length=100),
               csrf: str = Form(""), reader: OpacReader = Depends(account_reader)) -> HTMLResponse:
    """Reserve a book (any copy of the record), once per form; `pickup`: one of the city's
    schools (empty: the reader's own)."""
    sessions.check_csrf(reader.csrf, csrf)
    txn_id = _txn(reader, txn)
    st = state(request)
    pickup = pickup.strip()
    if pickup:
        with st.db.session() as s:
            known = {v.sigla for v in list_schools(s, st.settings.school.sigla)}
        if pickup not in known:
            return account_page(request, reader, 400, error=_("Choose a school from the list"))
    try:
        hold = st.circulation.place_hold(_card(request, reader), record, txn_id, terminal=TERMINAL,
                                         pickup=pickup or None)
    except E.CirculationError as exc:
        return account_page(request, reader, 409, error=_refusal(exc))
    if hold.state == "waiting":
        text = _("«%(title)s» is waiting for you") % {"title": hold.title}
    else:
        text = _("«%(title)s» is reserved: you are number %(n)s in the queue") % {
            "title": hold.title, "n": hold.position}
    return account_page(request, reader, notice=text)


@router.post("/holds/cancel")
def cancel_hold(request: Request, hold: int = Form(0, ge=0, le=2**62),
                txn: str = Form("", max_length=100), csrf: str = Form(""),
                reader: OpacReader = Depends(account_reader)) -> HTMLResponse:
    """Cancel one of the reader's own holds, once per form."""
    sessions.check_csrf(reader.csrf, csrf)
    txn_id = _txn(reader, txn)
    st = state(request)
    card = _card(request, reader)
    if not any(h.hold_id == hold for h in st.circulation.holds(card)):
        return account_page(request, reader, 404, error=_("This reservation is not yours"))
    try:
        done = st.circulation.cancel_hold(hold, txn_id, card=card, terminal=TERMINAL)
    except E.CirculationError as exc:
        return account_page(request, reader, 409, error=_refusal(exc))
    return account_page(request, reader, notice=_("«%(title)s»: reservation cancelled")
                        % {"title": done.title})


# --- reading history ---------------------------------------------------------------------------
@router.get("/account/history")
def reading_history(request: Request, reader: OpacReader = Depends(account_reader)) -> HTMLResponse:
    """The books the reader returned — only when they turned the history on."""
    books = history.reading_history(state(request).db, reader.reader_id)
    return render("account_history.html", title=_("Books I have read"), section="account",
                  reader=reader, on=books is not None,
                  books=[{"title": b.title, "authors": b.authors, "returned": local_date(b.returned)}
                         for b in books or []], robots="noindex")


@router.post("/account/history")
def set_history(request: Request, keep: str = Form("", max_length=3), csrf: str = Form(""),
                reader: OpacReader = Depends(account_reader)) -> RedirectResponse:
    """Turn the reading history on (``keep=1``) or off (anything else: every returned loan of
    the reader is unlinked at once)."""
    sessions.check_csrf(reader.csrf, csrf)
    history.set_keep_history(state(request).db, reader.reader_id, keep == "1")
    return RedirectResponse(ACCOUNT + "/history", status_code=303)


# --- changing the PIN --------------------------------------------------------------------------
def _pin_rule(request: Request) -> str:
    """The rule a new PIN must pass, in words (lengths from ``[circulation] pin_min_digits``,
    ``pin_max_digits``; the rule itself is library/circulation/pins.py's)."""
    from library.circulation.pins import PinRules

    rules = PinRules.from_settings(state(request).settings.circulation)
    if rules.min_digits == rules.max_digits:
        length = ngettext("%(n)s digit", "%(n)s digits", rules.min_digits) % {"n": rules.min_digits}
    else:
        length = _("%(min)s to %(max)s digits") % {"min": rules.min_digits, "max": rules.max_digits}
    return length + ". " + _("Easy ones will not do: one digit repeated (1111), digits in a row "
                             "(1234, 4321), a repeated pair (1212).")


def pin_page(request: Request, reader: OpacReader, status: int = 200, error: str = "") -> HTMLResponse:
    """The form to change the PIN: the current one, the new one twice, the rule in words."""
    return render("account_pin.html", status, title=_("Change the PIN"), section="account",
                  reader=reader, rule=_pin_rule(request), error=error, robots="noindex")


@router.get("/account/pin")
def pin_form(request: Request, reader: OpacReader = Depends(account_reader)) -> HTMLResponse:
    """The form to change the PIN (the same PIN as at the kiosks)."""
    return pin_page(request, reader)


@router.post("/account/pin")
def change_pin(request: Request, current: str = Form("", max_length=sessions.PIN_MAX),
               new: str = Form("", max_length=sessions.PIN_MAX),
               again: str = Form("", max_length=sessions.PIN_MAX), csrf: str = Form(""),
               reader: OpacReader = Depends(account_reader)) -> HTMLResponse:
    """Change the reader's PIN by the service's own rule (`change_pin`: the new PIN's format
    first, then the current PIN as a guess on the card's slots, shared with the kiosks). The
    reader's other OPAC sessions end; this one goes on (`keep_after_pin_change`)."""
    sessions.check_csrf(reader.csrf, csrf)
    if new != again:  # nothing hashed, no guess used
        return pin_page(request, reader, 400, error=_("The new PINs do not match"))
    st = state(request)
    try:
        st.circulation.change_pin(_card(request, reader), current or None, new)
    except E.CirculationError as exc:
        response = pin_page(request, reader, circulation_status(exc), error=_refusal(exc))
        if isinstance(exc, E.CardLocked):
            response.headers["Retry-After"] = str(60 * int(exc.params.get("minutes", 1)))
        return response
    sessions.keep_after_pin_change(st.db, reader.token)
    return account_page(request, reader, notice=_("PIN changed"))


# --- a read-only server ------------------------------------------------------------------------
def read_only_page(primary_url: str | None) -> HTMLResponse:
    """The page a read-only server answers for the account (server/readonly.py): the account
    works on the main server (linked when ``[server] primary_url`` is set)."""
    link = (primary_url.rstrip("/") + PREFIX + "/login") if primary_url else ""
    return render("account_readonly.html", 503, title=_("My account is on the main server"),
                  link=link, robots="noindex")
