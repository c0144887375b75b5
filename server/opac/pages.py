"""The OPAC's shared routes — the language switch and the stylesheet — and `routers()`, every
section's router (server/app.py includes them): the catalogue (server/opac/catalogue_pages.py,
anonymous) and the reader's account (server/opac/account_pages.py, card + PIN).
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, RedirectResponse

from server.desk import i18n
from server.opac.web import HERE, LANG_COOKIE, PREFIX, is_opac_path

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/lang/{code}")
def switch_language(request: Request, code: str,
                    back: str = Query(PREFIX, alias="next", max_length=2000)) -> RedirectResponse:
    """Show the OPAC in `code` (ru, en) from now on in this browser; back to the OPAC page
    `next` (any other address goes to the OPAC's first page: no open redirect)."""
    path = back.split("?", 1)[0]
    target = back if is_opac_path(path) and "//" not in back and "\\" not in back else PREFIX
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(LANG_COOKIE, i18n.language_of(code), max_age=365 * 86400, path=PREFIX,
                        httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


@router.get("/static/opac.css")
def stylesheet() -> FileResponse:
    """The OPAC's one stylesheet (cached for a day: it is the same for everyone)."""
    return FileResponse(HERE / "static" / "opac.css", media_type="text/css",
                        headers={"cache-control": "public, max-age=86400"})


def routers() -> list[APIRouter]:
    """This module's router and every section's (server/app.py includes them)."""
    from server.opac import account_pages, catalogue_pages

    return [router, account_pages.router, catalogue_pages.router]
