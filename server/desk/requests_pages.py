"""The desk's page /desk/requests: inter-school requests (docs/HOLDS.md «Pickup school and
inter-school requests»; Koha's «Transfers to receive» and «Holds to pull» across branches).

One page per school: «Запросы других школ» (other schools' queued requests for books this
school holds: the librarian takes a copy from the shelf and scans it — «Отправлено в Школу
№ 2»), «Едут к нам» (copies travelling here: scanned on arrival they go to the hold shelf, back
on the shelf, or back home when their hold ended on the way) and «Едут от нас» (copies sent
from here, and books of other schools returned here, set aside to be sent home).

Whose page: an account of one school (``DeskUser.school``, the account's school column) sees
only its school's page — another school's is 403; an account of every school chooses the
school (default: the default school). Every rule is the core's
(library/circulation/holds.py, transfer_service.py); a send or a receive is exactly once per
form and one audit row in its own transaction.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from library.circulation import errors as E
from library.circulation.values import TransferView
from server.desk.audit import audit
from server.desk.holds_common import clean, new_txn, refusal_text, txn_ok
from server.desk.i18n import N_, _
from server.desk.sessions import DeskUser
from server.desk.web import (
    PREFIX,
    check_form,
    client_ip,
    desk_user,
    local_date,
    local_time,
    page_school,
    render,
    school_choices,
    school_name,
    state,
)

router = APIRouter(prefix=PREFIX + "/requests", include_in_schema=False)
MAX_CODE = 64
OUTCOMES = {
    "sent": N_("Sent to %(to)s: “%(title)s” (%(barcode)s). Put it with the books to send."),
    "waiting": N_("“%(title)s” has arrived: put it on the hold shelf. "
                  "It waits for %(reader)s until %(until)s."),
    "shelf": N_("“%(title)s” is back home: put it back on the shelf."),
    "send_back": N_("The hold for “%(title)s” ended on the way: send the book back to %(to)s."),
}


def _school(request: Request, user: DeskUser, asked: str) -> tuple[str, list[tuple[str, str]]]:
    """The school whose page this is (server.desk.web.page_school: a school's account its own,
    another asked 403; an account of every school the one asked, an unknown one 404, default
    the default school) and the schools it may choose from."""
    code = page_school(request, user, asked) or state(request).settings.school.sigla
    return code, school_choices(request, user)


def _row(t: TransferView) -> dict[str, Any]:
    return {"barcode": t.barcode, "title": t.title, "from": t.from_name, "to": t.to_name,
            "sent": local_time(t.sent_at), "hold": bool(t.hold_id), "reader": t.reader or ""}


def outcome_text(t: TransferView) -> str:
    """What a send or a receive did, in the librarian's words."""
    return _(OUTCOMES.get(t.outcome, OUTCOMES["shelf"])) % {
        "to": t.to_name, "title": t.title, "barcode": t.barcode, "reader": t.reader or "",
        "until": local_date(t.pickup_until)}


def _page(request: Request, user: DeskUser, school: str, schools: list[tuple[str, str]], *,
          status: int = 200, notice: str = "", error: str = "", form: str = "",
          typed: str = "") -> HTMLResponse:
    svc = state(request).circulation
    moving = svc.transfers(school)
    incoming = [_row(t) for t in moving if t.to_sigla == school]
    outgoing = [_row(t) for t in moving if t.from_sigla == school]
    asks = [{**r.to_dict(), "placed": local_time(r.placed_at)} for r in svc.school_requests(school)]
    return render("requests.html", status, title=_("Requests of other schools"), section="holds",
                  user=user, school=school, school_name=school_name(request, school),
                  schools=schools, requests=asks, incoming=incoming, outgoing=outgoing,
                  notice=notice, error=error, form=form, typed=typed, txn=new_txn(),
                  txn_receive=new_txn(),
                  single=not schools and user.school is None)


@router.get("")
def requests_page(request: Request, school: str = Query("", max_length=64),
                  user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """The school's requests to send, copies coming in and going out."""
    code, schools = _school(request, user, school)
    return _page(request, user, code, schools)


def _scan(request: Request, user: DeskUser, action: str, csrf: str, txn: str, school: str,
          barcode: str) -> HTMLResponse:
    check_form(user, csrf)
    code, schools = _school(request, user, school)
    typed = clean(barcode, MAX_CODE)
    if not typed:
        return _page(request, user, code, schools, status=400, form=action,
                     error=_("Scan the book's barcode"))
    if not txn_ok(txn):
        return _page(request, user, code, schools, status=400, form=action, typed=typed,
                     error=_("The form is out of date: do it again"))
    ip = client_ip(request)

    def record(s: Session, t: TransferView) -> None:
        audit(s, user.name, f"transfer_{action}", ip=ip, barcode=t.barcode, title=t.title,
              school=code, to=t.to_sigla, outcome=t.outcome)

    svc = state(request).circulation
    work = svc.send_copy if action == "send" else svc.receive_copy
    try:
        done = work(typed, code, txn, by=user.name, terminal=f"desk:{user.name}"[:64],
                    record=record)
    except E.CirculationError as exc:
        return _page(request, user, code, schools, status=409, form=action, typed=typed,
                     error=refusal_text(exc))
    text = outcome_text(done)
    if done.replayed:
        text = _("Already done (the form was sent again): %(words)s") % {"words": text}
    return _page(request, user, code, schools, notice=text, form=action)


@router.post("/send")
def send(request: Request, csrf: str = Form(""), txn: str = Form(""), school: str = Form(""),
         barcode: str = Form(""), user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """«Отправить»: a copy of this school's shelf goes to the school that asked for it."""
    return _scan(request, user, "send", csrf, txn, school, barcode)


@router.post("/receive")
def receive(request: Request, csrf: str = Form(""), txn: str = Form(""), school: str = Form(""),
            barcode: str = Form(""), user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """«Получить»: a copy travelling here has arrived."""
    return _scan(request, user, "receive", csrf, txn, school, barcode)
