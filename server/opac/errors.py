"""The OPAC's refusals; server/errors.py turns them into its HTML pages (server/opac/web.py).

A refusal carries an English msgid and its parameters; `str()` is the text in the current
request's language (server/desk/i18n.py, shared by the server's web pages).
"""

from __future__ import annotations

from server.desk.i18n import N_
from server.html import PageError


class OpacError(PageError):
    """A refusal of the public catalogue (code, English msgid with %(name)s parameters, status)."""

    code = "opac"


class OpacLoginRequired(OpacError):
    """No live reader session: the page redirects to the sign-in form."""

    def __init__(self) -> None:
        super().__init__("opac_login_required", N_("Sign in with your card and PIN"), 401)


class OpacCsrf(OpacError):
    """A form came without this session's form token (HTTP 403, nothing changed)."""

    def __init__(self) -> None:
        super().__init__("opac_csrf", N_("This page is out of date: go back and try again"))


class OpacNotFound(OpacError):
    """A record named in the address does not exist (HTTP 404)."""

    def __init__(self, msgid: str = N_("Not found")) -> None:
        super().__init__("opac_not_found", msgid, 404)
