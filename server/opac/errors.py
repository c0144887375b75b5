"""The OPAC's refusals; server/errors.py turns them into its HTML pages (server/opac/web.py).

A refusal carries an English msgid and its parameters; `str()` is the text in the current
request's language (server/desk/i18n.py, shared by the server's web pages).
"""

from __future__ import annotations

from library.errors import IbcError
from server.desk.i18n import N_, _


class OpacError(IbcError):
    """A refusal of the public catalogue (code, English msgid with %(name)s parameters, status)."""

    code = "opac"

    def __init__(self, code: str, msgid: str, status: int = 403, **params: object):
        super().__init__(msgid % params if params else msgid)
        self.code = code
        self.msgid = msgid
        self.params = params
        self.status = status

    def __str__(self) -> str:
        text = _(self.msgid)
        return text % self.params if self.params else text


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
