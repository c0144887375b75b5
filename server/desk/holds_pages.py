"""The desk's section /holds: «Заказы» (Koha's «Holds awaiting pickup» and «Holds queue»,
J-ИРБИС «предварительные заказы»).

`GET /desk/holds` lists the hold shelf (copies waiting for readers; those set aside by a
return forwarded from a terminal's offline queue are flagged: the book is on the return cart),
what to take off the hold shelf today, and the records readers queue for. «Обработать
просроченные» runs the daily job now (`CirculationService.expire_holds`, the same function as
`ibc holds expire`). Any hold is cancelled with a reason through a confirmation page; a waiting
hold has a slip (a printable page, and the network printer when one is set up).

Every rule is the core's (library/circulation/holds.py, docs/HOLDS.md); every change is one
audit row in the change's own transaction; a cancel is exactly once per form (its txn id).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from library.circulation import errors as E
from library.circulation.values import ExpiryReport, HoldView, ShelfEntry
from server.desk.audit import audit
from server.desk.errors import DeskNotFound
from server.desk.holds_common import (
    MAX_REASON,
    Slip,
    clean,
    new_txn,
    print_slip,
    refusal_text,
    state_text,
    txn_ok,
)
from server.desk.i18n import N_, _
from server.desk.sessions import DeskUser
from server.desk.web import (
    PREFIX,
    check_form,
    client_ip,
    desk_user,
    local_date,
    local_time,
    render,
    state,
    today,
)

router = APIRouter(prefix=PREFIX + "/holds", include_in_schema=False)
HOME = PREFIX + "/holds"
MAX_BACK = 200
# Where a cancel goes back to: the holds page, a record's page, a reader's panel.
BACK = re.compile(r"/desk/(holds|catalogue/record/\d{1,18}"
                  r"|circulation\?card=[^&\s]{1,192}(&v=[0-9a-f]{24})?)")
REASONS = (N_("The reader asked"), N_("The reader has left the school"),
           N_("The book is lost or damaged"), N_("Other"))
NO_HOLD = N_("No such active hold: it may have been lent, cancelled or expired")


def _back(value: str) -> str:
    value = (value or "")[:MAX_BACK]
    return value if BACK.fullmatch(value) else HOME


def _svc(request: Request) -> Any:
    return state(request).circulation


def _active(request: Request, hold_id: int) -> tuple[HoldView, str, str | None] | None:
    """An active hold with its reader's short name and card (None: no such active hold)."""
    if not 0 < hold_id < 2**31:
        return None
    return next((x for x in _svc(request).all_holds() if x[0].hold_id == hold_id), None)


def _queues(rows: list[tuple[HoldView, str, str | None]]) -> list[dict[str, Any]]:
    """Records with queued holds: title, how many queue, the oldest placing."""
    out: dict[int, dict[str, Any]] = {}
    for hold, _name, _card in rows:
        if hold.state != "queued":
            continue
        q = out.setdefault(hold.record_id, {"record_id": hold.record_id, "title": hold.title,
                                            "authors": hold.authors, "count": 0,
                                            "oldest": hold.placed_at})
        q["count"] += 1
        q["oldest"] = min(q["oldest"], hold.placed_at)
    return sorted(out.values(), key=lambda q: q["oldest"])


def _shelf_row(e: ShelfEntry) -> dict[str, Any]:
    return {"hold_id": e.hold_id, "barcode": e.barcode, "title": e.title, "reader": e.reader,
            "card": e.card or "", "until": local_date(e.pickup_until), "offline": e.offline}


def _page(request: Request, user: DeskUser, *, status: int = 200, notice: str = "",
          error: str = "", report: ExpiryReport | None = None) -> HTMLResponse:
    svc = _svc(request)
    day = today(request)
    shelf = svc.hold_shelf(day)
    rows = svc.all_holds()
    queues = _queues(rows)
    done: dict[str, Any] | None = None
    if report is not None and report.changed:
        done = {"expired": len(report.expired_waiting) + len(report.expired_queued),
                "cancelled": len(report.cancelled_inactive),
                "passed": [_shelf_row(e) for e in report.passed_on],
                "take_off": [_shelf_row(e) for e in report.take_off]}
    return render("holds_index.html", status, title=_("Holds"), section="holds", user=user,
                  today=local_date(day), waiting=[_shelf_row(e) for e in shelf.waiting],
                  take_off=[_shelf_row(e) for e in shelf.take_off], queues=[
                      {**q, "oldest": local_time(q["oldest"])} for q in queues],
                  active=len(rows), notice=notice, error=error, done=done, txn=new_txn(),
                  many_schools=_many_schools(request))


def _many_schools(request: Request) -> bool:
    """True when the service has several schools (the link to /desk/requests is shown)."""
    from library.schools import list_schools

    with state(request).db.session() as s:
        return len(list_schools(s)) > 1


@router.get("")
def holds_page(request: Request, user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """The hold shelf, what to take off today, and the queues."""
    return _page(request, user)


@router.post("/expire")
def expire(request: Request, csrf: str = Form(""), user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """«Обработать просроченные»: the daily job now (a second run the same day changes nothing)."""
    check_form(user, csrf)
    ip = client_ip(request)

    def record(s: Session, report: ExpiryReport) -> None:
        audit(s, user.name, "holds_expire", ip=ip, day=report.today.isoformat(),
              expired=len(report.expired_waiting) + len(report.expired_queued),
              cancelled=len(report.cancelled_inactive), passed=len(report.passed_on),
              take_off=len(report.take_off))

    report = _svc(request).expire_holds(today(request), record=record)
    notice = (_("Done: the holds that ended are processed (see below)") if report.changed
              else _("Nothing to do: no hold has ended"))
    return _page(request, user, notice=notice, report=report)


def _cancel_page(request: Request, user: DeskUser, hold_id: int, back: str, *, status: int = 200,
                 error: str = "", typed: str = "", chosen: str = "") -> HTMLResponse:
    found = _active(request, hold_id)
    if found is None:
        raise DeskNotFound(NO_HOLD)
    hold, reader, card = found
    return render("holds_cancel.html", status, title=_("Cancel a hold"), section="holds", user=user,
                  hold=hold, reader=reader, card=card or "", state=state_text(hold), back=back,
                  reasons=REASONS, error=error, typed=typed, chosen=chosen, max_reason=MAX_REASON,
                  txn=new_txn())


@router.get("/{hold_id}/cancel")
def cancel_form(request: Request, hold_id: int, back: str = Query("", max_length=4096),
                user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """Cancel a hold: the hold in words, a reason, the button."""
    return _cancel_page(request, user, hold_id, _back(back))


def _reason(choice: str, note: str) -> str:
    """The reason as recorded: the chosen reason (its words now), then the librarian's note."""
    choice = next((_(r) for r in REASONS if choice in (r, _(r)) and r != "Other"), "")
    return ": ".join(x for x in (choice, note) if x)[:MAX_REASON]


@router.post("/{hold_id}/cancel")
def cancel(request: Request, hold_id: int, csrf: str = Form(""), txn: str = Form(""),
           reason: str = Form(""), note: str = Form(""), back: str = Form(""),
           user: DeskUser = Depends(desk_user)) -> Response:
    """Cancel the hold as the librarian (a copy waiting for it passes to the next reader or
    back to the shelves), exactly once per form."""
    check_form(user, csrf)
    back = _back(back)
    note = clean(note, MAX_REASON)
    why = _reason(clean(reason, MAX_REASON), note)
    if not why:
        return _cancel_page(request, user, hold_id, back, status=400, typed=note,
                            error=_("Choose or write a reason"))
    if not txn_ok(txn):
        return _cancel_page(request, user, hold_id, back, status=400,
                            error=_("The form is out of date: do it again"))
    ip = client_ip(request)

    def record(s: Session, hold: HoldView) -> None:
        audit(s, user.name, "hold_cancel", ip=ip, hold=hold.hold_id, record=hold.record_id,
              title=hold.title, reason=why)

    try:
        _svc(request).cancel_hold(hold_id, txn, terminal=f"desk:{user.name}"[:64], by=user.name,
                                  record=record)
    except E.CirculationError as exc:
        if _active(request, hold_id) is None:
            return _page(request, user, status=409, error=refusal_text(exc))
        return _cancel_page(request, user, hold_id, back, status=409, error=refusal_text(exc),
                            typed=note)
    return RedirectResponse(back, status_code=303)


def _slip(request: Request, hold_id: int) -> tuple[Slip, ShelfEntry]:
    entry = next((e for e in _svc(request).hold_shelf(today(request)).waiting
                  if e.hold_id == hold_id), None) if 0 < hold_id < 2**31 else None
    if entry is None:
        raise DeskNotFound(N_("No book waits on the hold shelf for this hold"))
    slip = Slip(state(request).settings.school.name, entry.reader, entry.title, entry.barcode,
                entry.pickup_until, dt.datetime.now())
    return slip, entry


def _printer(request: Request) -> bool:
    printer = state(request).settings.printer
    return bool(printer.enabled and printer.uri)


def _slip_page(request: Request, user: DeskUser, hold_id: int, message: str = "",
               ok: bool = False) -> HTMLResponse:
    slip, entry = _slip(request, hold_id)
    return render("holds_slip.html", title=_("Hold slip"), section="holds", user=user, slip=slip,
                  lines=slip.lines(), hold_id=hold_id, offline=entry.offline,
                  printer=_printer(request), message=message, ok=ok)


@router.get("/{hold_id}/slip")
def slip_page(request: Request, hold_id: int, user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """The hold slip to put into the book (print CSS: only the slip is printed)."""
    return _slip_page(request, user, hold_id)


@router.post("/{hold_id}/slip/print")
async def slip_print(request: Request, hold_id: int, csrf: str = Form(""),
                     user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """«Печать квитанции заказа на МФУ»: the slip's PDF to the configured IPP printer."""
    check_form(user, csrf)
    slip, _entry = await run_in_threadpool(_slip, request, hold_id)
    ok, message = False, _("No printer is set up: print the slip from the browser (Ctrl+P)")
    if _printer(request):
        ok, message = await print_slip(state(request).settings.printer, slip)
    return await run_in_threadpool(_slip_page, request, user, hold_id, message, ok)
