"""The desk's refusals; server/errors.py turns them into redirects and HTML pages.

A refusal carries an English msgid and its parameters; `str()` is the text in the current
request's language (server/desk/i18n.py: Russian by default, so the CLI prints Russian).
"""

from __future__ import annotations

from server.desk.i18n import N_
from server.html import PageError


class DeskError(PageError):
    """A refusal of the librarian's desk (code, English msgid with %(name)s parameters, status)."""

    code = "desk"


class DeskLoginRequired(DeskError):
    """No live desk session: the page redirects to the login form."""

    def __init__(self) -> None:
        super().__init__("desk_login_required", N_("Sign in to continue"))


class DeskForbidden(DeskError):
    """The account's role may not open this page (HTTP 403)."""

    def __init__(self) -> None:
        super().__init__("desk_admin_only", N_("For administrators only"))


class DeskCsrf(DeskError):
    """A form came without this session's form token (HTTP 403, nothing changed)."""

    def __init__(self) -> None:
        super().__init__("desk_csrf", N_("This page is out of date: reload it"))


class AccountError(DeskError):
    """A desk account cannot be added or changed (bad name, password, unknown account...)."""


class DeskNotFound(DeskError):
    """A reader, record, copy or terminal named in the address does not exist (HTTP 404)."""

    def __init__(self, msgid: str = N_("Not found"), **params: object):
        super().__init__("desk_not_found", msgid, 404, **params)


class DeskInvalid(DeskError):
    """A form's value cannot be used (HTTP 400); the message says which and why."""

    def __init__(self, msgid: str, **params: object):
        super().__init__("desk_invalid", msgid, 400, **params)


class DeskOtherSchool(DeskError):
    """A school's librarian asked for another school's page or data (HTTP 403)."""

    def __init__(self) -> None:
        super().__init__("desk_other_school", N_("This is another school's page: you work for your "
                                                 "own school only"))
