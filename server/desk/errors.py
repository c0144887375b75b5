"""The desk's refusals; server/errors.py turns them into redirects and HTML pages."""

from __future__ import annotations

from library.errors import IbcError


class DeskError(IbcError):
    """A refusal of the librarian's desk; `str()` is the Russian text for the page or the CLI."""

    code = "desk"

    def __init__(self, code: str, message: str, status: int = 403):
        super().__init__(message)
        self.code = code
        self.status = status


class DeskLoginRequired(DeskError):
    """No live desk session: the page redirects to the login form."""

    def __init__(self) -> None:
        super().__init__("desk_login_required", "Войдите, чтобы продолжить")


class DeskForbidden(DeskError):
    """The account's role may not open this page (HTTP 403)."""

    def __init__(self) -> None:
        super().__init__("desk_admin_only", "Только для администратора")


class DeskCsrf(DeskError):
    """A form came without this session's form token (HTTP 403, nothing changed)."""

    def __init__(self) -> None:
        super().__init__("desk_csrf", "Страница устарела: обновите её")


class AccountError(DeskError):
    """A desk account cannot be added or changed (bad name, password, unknown account...)."""


class DeskNotFound(DeskError):
    """A reader, record, copy or terminal named in the address does not exist (HTTP 404)."""

    def __init__(self, message: str = "Не найдено"):
        super().__init__("desk_not_found", message, 404)


class DeskInvalid(DeskError):
    """A form's value cannot be used (HTTP 400); the message says which and why."""

    def __init__(self, message: str):
        super().__init__("desk_invalid", message, 400)
