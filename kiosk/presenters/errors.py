"""The one place where the kiosk turns an exception into a friendly message (and a log entry)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from kiosk.i18n import _
from library.errors import IbcError

log = logging.getLogger("ibc.kiosk")


@dataclass(frozen=True)
class ErrorView:
    """What the error banner shows: a title, a message, a reference to find the log line."""

    title: str
    message: str
    reference: str


class ErrorPresenter:
    """Maps errors to Russian messages; logs details with a short reference code."""

    def __init__(self, logger: logging.Logger = log):
        self.log = logger
        self.last: ErrorView | None = None

    def present(self, exc: BaseException, where: str = "") -> ErrorView:
        """Log ``exc`` with a reference and return what to show."""
        reference = secrets.token_hex(2).upper()
        self.log.error("kiosk error %s in %s: %r", reference, where or "?", exc, exc_info=exc)
        code = getattr(exc, "code", "") if isinstance(exc, IbcError) else ""
        if code == "not_found":
            title, message = _("Not found"), _("We could not find that. Please try again.")
        elif code == "storage":
            title, message = (_("The catalogue is unavailable"),
                              _("The catalogue is not answering right now. Try again in a "
                                "minute or ask the librarian."))
        elif code == "circulation":
            title, message = _("Not done"), _("The library could not do that. Please ask the "
                                              "librarian.")
        elif isinstance(exc, (ConnectionError, TimeoutError)):
            title, message = (_("No connection"),
                              _("The terminal cannot reach the library server. Please ask the "
                                "librarian."))
        else:
            title, message = (_("Something went wrong"),
                              _("Please ask the librarian for help."))
        self.last = ErrorView(title, message, _("Error code: {ref}").format(ref=reference))
        return self.last

    def clear(self) -> None:
        """Forget the shown error."""
        self.last = None
