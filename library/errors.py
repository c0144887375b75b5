"""The one exception tree of the domain core.

    IbcError                      base of every error the software raises on purpose
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


class IbcError(Exception):
    """Base of all deliberate errors; ``code`` is a stable machine-readable name."""

    code = "error"


class StorageError(IbcError):
    """The database cannot be opened, migrated or written."""

    code = "storage"


class ImportFormatError(IbcError):
    """A MARC file or record cannot be read."""

    code = "import_format"


class NotFound(IbcError):
    """A record, copy, reader or loan does not exist."""

    code = "not_found"


class CirculationError(IbcError):
    """A circulation rule refused the action."""

    code = "circulation"


class PlacesError(IbcError):
    """A place, one of its rules or a places file is wrong."""

    code = "places"
