"""The desk's section /textbooks/provision: Обеспеченность учебниками — provision per class and
subject, next year's needs and the order list, with the report's downloads.

``GET /desk/textbooks/provision``: pupils vs usable copies per class and subject (shortfalls in
words and colour), per grade, per school and for the union catalogue. ``GET …/next``: next
year's needs per grade and subject as the classes move up. ``GET …/order``: what to buy,
printable. ``GET …/download`` (the report, PDF/XLSX/CSV) and ``GET …/order/download`` (the
order list, PDF/XLSX/CSV). Every figure is library.textbooks.provision's; this module reads the
address and lays the numbers out. Any desk account may look; nothing is changed (no form posts,
no audit rows); no reader's name is shown (classes and counts only).

Query values: ``year`` (the school year by its September, 2026 for 2026/27; the current one by
default), ``school`` (one sigla of a union catalogue; every school by default), ``first`` (next
year's first-grade pupils; this year's first grade by default). A bad value is said in words on
the page with the form kept (status 400), or refused on a download (DeskInvalid).
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from library.text import printable
from library.textbooks.provision import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_FIRST_GRADE,
    Provision,
    current_year,
    next_year,
    order_list,
    provision,
)
from library.textbooks.provision_report import order_file, provision_file
from server.desk.errors import DeskError, DeskInvalid
from server.desk.i18n import N_, _
from server.desk.sessions import DeskUser
from server.desk.web import PREFIX, desk_user, page_school, render, state, today

router = APIRouter(prefix=PREFIX + "/textbooks/provision", include_in_schema=False)
BASE = PREFIX + "/textbooks/provision"
MAX_TEXT = 40  # longer query values are cut before use (and never echoed at length)
FORMATS = {"pdf": "application/pdf",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "csv": "text/csv; charset=utf-8"}
GENERATORS = 2
GENERATOR_WAIT_S = 60
_generating = threading.BoundedSemaphore(GENERATORS)
REPORT_STEM = "Обеспеченность учебниками"  # not UI text: the file's Russian name
ORDER_STEM = "Заказ учебников"  # not UI text: the file's Russian name
PAGES = [("", N_("Provision now")), ("/next", N_("Next year's needs")), ("/order", N_("Order list"))]


def _int(text: str, low: int, high: int) -> int | None:
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        return None
    value = int(text)
    return value if low <= value <= high else None


def _params(request: Request, year: str, school: str, first: str,
            user: DeskUser) -> tuple[dict[str, Any], dict[str, str]]:
    """The page's choices from the address: values and errors in words ({field: text}). A
    school's librarian's provision is their school's (another school asked for: 403)."""
    st = state(request)
    if user.school is not None:
        school = page_school(request, user, school) or ""
    year, school, first = year[:MAX_TEXT], school[:MAX_TEXT], first[:MAX_TEXT]
    errors: dict[str, str] = {}
    now = current_year(today(request), st.settings.circulation.school_year_end)
    chosen: dict[str, Any] = {"year": now, "school": None, "first": None,
                              "year_text": year.strip(), "school_text": school.strip(),
                              "first_text": first.strip()}
    if year.strip():
        value = _int(year, FIRST_YEAR, LAST_YEAR)
        if value is None:
            errors["year"] = (_("The school year is the year of its September, from %(first)s to "
                                "%(last)s: for example %(now)s for %(now)s/%(next)s")
                              % {"first": FIRST_YEAR, "last": LAST_YEAR, "now": now, "next": (now + 1) % 100})
        else:
            chosen["year"] = value
    if first.strip():
        value = _int(first, 0, MAX_FIRST_GRADE)
        if value is None:
            errors["first"] = (_("First-grade pupils: a whole number from 0 to %(max)s")
                               % {"max": MAX_FIRST_GRADE})
        else:
            chosen["first"] = value
    if school.strip():
        chosen["school"] = printable(school.strip())
    return chosen, errors


def _query(chosen: dict[str, Any], **extra: str) -> str:
    params = {"year": str(chosen["year"])}
    if chosen["school"]:
        params["school"] = chosen["school"]
    if chosen["first"] is not None:
        params["first"] = str(chosen["first"])
    return urlencode({**params, **extra})


def _years(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


def _state_words(shortfall: int, spare: int) -> tuple[str, str]:
    """(css class, words) of a row: short, enough or spare copies."""
    if shortfall:
        return "prov-short", _("short by %(n)s") % {"n": shortfall}
    if spare:
        return "prov-ok", _("enough, %(n)s spare") % {"n": spare}
    return "prov-ok", _("enough")


def _percent(value: int | None) -> str:
    return "—" if value is None else f"{min(100, value)} %"


def _figures(request: Request, chosen: dict[str, Any]) -> tuple[Provision, Provision, list, list[str]]:
    st = state(request)
    home = st.settings.school.sigla
    with st.db.session() as s:
        everyone = provision(s, chosen["year"], home=home)
        schools = everyone.schools
        sigla = chosen["school"]
        prov = everyone if sigla is None else provision(s, chosen["year"], home=home, sigla=sigla)
        nxt = next_year(s, chosen["year"], home=home, last_grade=st.settings.school.last_grade,
                        first_grade=chosen["first"], sigla=sigla)
        order = order_list(s, nxt)
    return prov, nxt, order, schools


def _context(request: Request, user: DeskUser, page: str, year: str, school: str,
             first: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    chosen, errors = _params(request, year, school, first, user)
    context: dict[str, Any] = {"title": _("Textbook provision"), "section": "textbooks", "user": user,
                               "errors": errors, "chosen": chosen, "page": page, "pages": PAGES,
                               "base": BASE, "formats": list(FORMATS)}
    if errors:
        context["schools"] = []
        return context, None
    prov, nxt, order, schools = _figures(request, chosen)
    context["schools"] = schools if user.school is None else [s for s in schools if s == user.school]
    if chosen["school"] and chosen["school"] not in schools:
        errors["school"] = (_("No pupils of the school “%(school)s”: choose one of the list")
                            % {"school": chosen["school"]})
        return context, None
    context.update(query=_query(chosen), years=_years(chosen["year"]), next_years=_years(chosen["year"] + 1))
    return context, {"prov": prov, "next": nxt, "order": order}


def _total_row(label: str, t: Any) -> dict[str, Any]:
    css, words = _state_words(t.shortfall, 0)
    return {"label": label, "needed": t.needed, "provided": t.provided, "shortfall": t.shortfall,
            "percent": _percent(t.percent), "css": css, "words": words}


@router.get("")
def provision_page(request: Request, year: str = Query(""), school: str = Query(""),
                   first: str = Query(""), user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """Provision per class and subject, per grade, per school and for the union catalogue."""
    context, figures = _context(request, user, "", year, school, first)
    if figures is None:
        return render("provision_now.html", 400, **context)
    prov: Provision = figures["prov"]
    rows = []
    for n in prov.needs:
        css, words = _state_words(n.shortfall, max(0, n.copies - n.pupils))
        rows.append({"sigla": n.sigla, "class": n.class_name, "subject": n.subject, "pupils": n.pupils,
                     "copies": n.copies, "percent": _percent(n.percent), "css": css, "words": words,
                     "sets": n.from_class_sets})
    context.update(
        rows=rows, many=len(context["schools"]) > 1,
        grades=[_total_row(_("Grade %(grade)s") % {"grade": g}, t) | {"sigla": s}
                for (s, g), t in prov.by_grade().items()],
        by_school=[_total_row(s, t) for s, t in prov.by_school().items()],
        total=_total_row(_("Union catalogue") if len(context["schools"]) > 1 else _("The school"),
                         prov.total()),
        no_textbooks=[f"{c} ({s})" if len(context["schools"]) > 1 else c for s, c in prov.no_textbooks])
    return render("provision_now.html", **context)


@router.get("/next")
def next_page(request: Request, year: str = Query(""), school: str = Query(""),
              first: str = Query(""), user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """Next year's needs per grade and subject as the classes move up."""
    context, figures = _context(request, user, "/next", year, school, first)
    if figures is None:
        return render("provision_next.html", 400, **context)
    nxt: Provision = figures["next"]
    rows = []
    for (s, g, subject), t in nxt.by_subject_grade().items():
        css, words = _state_words(t.shortfall, max(0, t.copies - t.needed))
        rows.append({"sigla": s, "grade": g, "subject": subject, "pupils": t.needed, "copies": t.copies,
                     "shortfall": t.shortfall, "css": css, "words": words})
    firsts = sum(n for (_s, c), n in nxt.classes.items() if c[:1] == "1" and not c[1:2].isdigit())
    context.update(rows=rows, many=len(context["schools"]) > 1, firsts=firsts,
                   classes=[{"sigla": s, "class": c, "pupils": n} for (s, c), n in nxt.classes.items()],
                   no_textbooks=[c for _s, c in nxt.no_textbooks])
    return render("provision_next.html", **context)


@router.get("/order")
def order_page(request: Request, year: str = Query(""), school: str = Query(""),
               first: str = Query(""), user: DeskUser = Depends(desk_user)) -> HTMLResponse:
    """What to buy for next year, printable."""
    context, figures = _context(request, user, "/order", year, school, first)
    if figures is None:
        return render("provision_order.html", 400, **context)
    order = figures["order"]
    context.update(order=order, many=len(context["schools"]) > 1,
                   total_copies=sum(x.copies for x in order))
    return render("provision_order.html", **context)


def _file_name(stem: str, ascii_stem: str, year: int, ext: str) -> str:
    """The Content-Disposition value: an ASCII name and the Russian one (RFC 6266 / 5987)."""
    span = f"{year}-{(year + 1) % 100:02d}"
    return (f"attachment; filename=\"ibc-{ascii_stem}-{span}.{ext}\"; "
            f"filename*=UTF-8''{quote(f'{stem} {span}.{ext}')}")


def _download(request: Request, which: str, fmt: str, year: str, school: str, first: str,
              user: DeskUser) -> Response:
    if fmt not in FORMATS:
        raise DeskInvalid(N_("File format: pdf, xlsx or csv"))
    chosen, errors = _params(request, year, school, first, user)
    if errors:
        raise DeskInvalid(" ".join(errors.values()))
    st = state(request)
    if not _generating.acquire(timeout=GENERATOR_WAIT_S):
        raise DeskError("desk_busy", N_("Other reports are being made now: try again in a minute"), 503)
    try:
        prov, nxt, order, schools = _figures(request, chosen)
        if chosen["school"] and chosen["school"] not in schools:
            raise DeskInvalid(N_("No pupils of the school “%(school)s”: choose one of the list"),
                              school=chosen["school"])
        name = st.settings.school.name + (f" ({chosen['school']})" if chosen["school"] else "")
        if which == "report":
            data = provision_file(prov, nxt, order, fmt, school=name, day=today(request))
            disposition = _file_name(REPORT_STEM, "provision", prov.year, fmt)
        else:
            data = order_file(order, nxt.year, fmt, school=name, day=today(request))
            disposition = _file_name(ORDER_STEM, "order", nxt.year, fmt)
    finally:
        _generating.release()
    return Response(data, media_type=FORMATS[fmt], headers={"Content-Disposition": disposition})


@router.get("/download")
def download(request: Request, fmt: str = Query("pdf", alias="format"), year: str = Query(""),
             school: str = Query(""), first: str = Query(""),
             user: DeskUser = Depends(desk_user)) -> Response:
    """The report «Обеспеченность учебниками» as PDF, XLSX or CSV."""
    return _download(request, "report", fmt[:MAX_TEXT], year, school, first, user)


@router.get("/order/download")
def order_download(request: Request, fmt: str = Query("xlsx", alias="format"), year: str = Query(""),
                   school: str = Query(""), first: str = Query(""),
                   user: DeskUser = Depends(desk_user)) -> Response:
    """The order list as PDF, XLSX or CSV."""
    return _download(request, "order", fmt[:MAX_TEXT], year, school, first, user)
