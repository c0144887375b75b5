"""The one exception tree of the domain core.

    IbcError                      base of every error the software raises on purpose
    ├── RuleError                 code + English template + params (the named refusals below,
    │                             SchoolError, TextbookError, IrbisError derive from it)
    ├── StorageError              the database cannot be opened, migrated or written
    ├── ImportFormatError         a MARC file or record cannot be read (with ordinal and offset)
    ├── NotFound                  a record, copy, reader or loan does not exist
    ├── CirculationError          a loan rule refused an action (subclasses name the rule)
    ├── PlacesError               a place, a rule or a places file is wrong (library.places.errors)
    ├── BadCursor, PeriodError    a change-feed cursor, a report period (library.feed, .reports)
    ├── ProjectorError, PrinterError, ScannerError     the device edges (device/*/errors.py)
    ├── MediaError                the media library and player (media/errors.py)
    ├── ApiError, AuthError, EnrolError, StationOff…   the server's refusals (server/)
    └── ClientError, MediaUnavailable, MonitorStopped… the kiosk and its terminal side (kiosk/;
                                  a terminal's OfflineRefused is a CirculationError)

Only config.settings.SettingsError stays apart (config is a leaf). tests/test_layering.py checks
that every exception class of the product is in this tree; server/errors.py maps it once.

Third-party exceptions are mapped at the boundary with ``raise ... from``. Messages here are
English for logs and the CLI; front ends translate by the exception's ``code``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class IbcError(Exception):
    """Base of all deliberate errors; ``code`` is a stable machine-readable name."""

    code = "error"


class RuleError(IbcError):
    """A named refusal of a domain rule: a stable ``code``, an English message ``template`` (the
    gettext msgid, ``{name}`` placeholders) and the ``params`` that fill it. The one home of
    that pattern: the circulation refusals, the places, the schools, the textbooks and the
    ИРБИС adapter's errors derive from it; front ends translate with ``message(translate)``.
    ``str()`` is the English message (logs, the CLI's fallback)."""

    code = "refused"
    template = "The action was refused"

    def __init__(self, **params: Any):
        self.params = params
        super().__init__(self.message())

    def message(self, translate: Callable[[str], str] | None = None) -> str:
        """The message, translated by `translate(msgid)` when given; the template as it is when
        a placeholder has no value."""
        text = translate(self.template) if translate else self.template
        try:
            return text.format(**self.params)
        except (KeyError, IndexError, ValueError):
            return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (transaction replay, the API): the code and the params as text."""
        return {"code": self.code, "params": {k: str(v) for k, v in self.params.items()}}


class StorageError(IbcError):
    """The database cannot be opened, migrated or written."""

    code = "storage"


class ImportFormatError(IbcError):
    """A MARC file or record cannot be read."""

    code = "import_format"


class NotFound(IbcError):
    """A record, copy, reader or loan does not exist."""

    code = "not_found"


class CirculationError(RuleError):
    """A circulation rule refused the action."""

    code = "circulation"


class PlacesError(RuleError):
    """A place, one of its rules or a places file is wrong."""

    code = "places"
