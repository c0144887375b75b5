"""The one exception tree of the ИРБИС64 adapter.

    IrbisError (library.errors.IbcError)   base; ``server_code`` is the server's return code
    ├── IrbisUnavailable        cannot connect, or no answer in time («сервер ИРБИС не отвечает»)
    ├── IrbisProtocolError      an answer that is not ИРБИС64 (too long, bad encoding, malformed)
    ├── IrbisAuthError          -4444 wrong password, -3333 unknown user (client not in the list)
    ├── IrbisNoRights           -3336 / -3338: this workstation (АРМ) may not run the command
    ├── IrbisClientIdTaken      -3337 on every try: the client id is already registered
    ├── IrbisNotConnected       a command before connect() or after disconnect()
    ├── IrbisRecordLocked       -602: the record is locked by another client
    ├── IrbisDatabaseUnknown    -400: the database (its master file) cannot be opened
    ├── IrbisRecordNotFound     -140 / -100: the MFN is out of the database's range
    ├── IrbisRecordDeleted      -600 / -603 logically, -601 / -605 physically deleted
    ├── IrbisVersionConflict    -608: the record was changed since it was read
    └── IrbisServerError        any other negative return code (its description from the table)

The codes and their descriptions are PythonIrbis's ``irbis/error.py`` (get_error_description),
the same table as ManagedIrbis's ``IrbisException``; see docs/IRBIS.md. Messages are English
gettext msgids (the `template`, filled with `params`); Russian is in this package's own
catalogue, ils/irbis/locale/ru/LC_MESSAGES/irbis.po, read with `translator("ru")`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from library.errors import RuleError

N_ = str  # marks msgids for extraction; translation happens in front ends

LOCALE_DIR = Path(__file__).with_name("locale")

# Return codes → the server's own description (PythonIrbis irbis/error.py get_error_description;
# ManagedIrbis Source/Classic/Libs/ManagedIrbis/Source/IrbisException.cs has the same list).
SERVER_CODES: dict[int, str] = {
    -100: "MFN outside the database's range",
    -101: "wrong shelf size",
    -102: "wrong shelf number",
    -140: "MFN outside the database's range",
    -141: "read error",
    -200: "the field is absent",
    -201: "the previous version of the record is absent",
    -202: "the term does not exist",
    -203: "last term in the list",
    -204: "first term in the list",
    -300: "the database is locked exclusively",
    -301: "the database is locked exclusively",
    -400: "error opening the MST or XRF file",
    -401: "error opening the IFP file",
    -402: "write error",
    -403: "actualization error",
    -600: "the record is logically deleted",
    -601: "the record is physically deleted",
    -602: "the record is locked for input",
    -603: "the record is logically deleted",
    -605: "the record is physically deleted",
    -607: "autoin.gbl error",
    -608: "record version error",
    -700: "backup creation error",
    -701: "backup restore error",
    -702: "sort error",
    -703: "wrong term",
    -704: "dictionary creation error",
    -705: "dictionary load error",
    -800: "global correction parameters error",
    -1111: "server execution error",
    -2222: "protocol error",
    -3333: "unregistered client",
    -3334: "the client has not logged in",
    -3335: "wrong client identifier",
    -3336: "no access to this workstation's commands",
    -3337: "the client is already registered",
    -3338: "invalid client",
    -4444: "wrong password",
    -5555: "the file does not exist",
    -6666: "server overloaded: the maximum number of threads is reached",
    -7777: "cannot start or stop the administrator's thread",
    -8888: "general error",
}


def describe(code: int) -> str:
    """The server's description of a return code ("normal completion" for code >= 0)."""
    if code >= 0:
        return "normal completion"
    return SERVER_CODES.get(code, "unknown error")


class IrbisError(RuleError):
    """Base of the ИРБИС64 adapter's errors; ``params`` fill the English message template."""

    code = "irbis"
    template = N_("ИРБИС64 error {server_code}: {description}")
    server_code: int | None = None

    def __init__(self, server_code: int | None = None, **params: Any):
        if server_code is not None:
            self.server_code = server_code
        params.setdefault("server_code", self.server_code if self.server_code is not None else "")
        params.setdefault("description", describe(self.server_code) if self.server_code else "")
        super().__init__(**params)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: stable code, server return code and the message's params."""
        return {"code": self.code, "server_code": self.server_code,
                "params": {k: str(v) for k, v in self.params.items()}}


class IrbisUnavailable(IrbisError):
    code = "irbis_unavailable"
    template = N_("The ИРБИС server at {address} does not answer: {reason}")


class IrbisProtocolError(IrbisError):
    code = "irbis_protocol"
    template = N_("The ИРБИС server sent an answer that cannot be read: {reason}")


class IrbisAuthError(IrbisError):
    code = "irbis_auth"
    template = N_("The ИРБИС server refused user {user}: wrong user name or password")


class IrbisNoRights(IrbisError):
    code = "irbis_no_rights"
    template = N_("User {user} has no rights for the ИРБИС workstation {workstation}")


class IrbisClientIdTaken(IrbisError):
    code = "irbis_client_id_taken"
    template = N_("The ИРБИС server says the client id is already registered ({tries} tries)")


class IrbisNotConnected(IrbisError):
    code = "irbis_not_connected"
    template = N_("Not connected to the ИРБИС server")


class IrbisRecordLocked(IrbisError):
    code = "irbis_record_locked"
    template = N_("Record {mfn} in database {database} is locked by another ИРБИС user")


class IrbisDatabaseUnknown(IrbisError):
    code = "irbis_database_unknown"
    template = N_("The ИРБИС server has no database {database}")


class IrbisRecordNotFound(IrbisError):
    code = "irbis_record_not_found"
    template = N_("Database {database} has no record {mfn}")


class IrbisRecordDeleted(IrbisError):
    code = "irbis_record_deleted"
    template = N_("Record {mfn} in database {database} is deleted")


class IrbisVersionConflict(IrbisError):
    code = "irbis_version_conflict"
    template = N_("Record {mfn} in database {database} was changed by someone else: read it again")


class IrbisServerError(IrbisError):
    code = "irbis_server"


# Return code → the error class raised for it (IrbisServerError for any other negative code).
CODE_ERRORS: dict[int, type[IrbisError]] = {
    -3333: IrbisAuthError, -4444: IrbisAuthError,
    -3336: IrbisNoRights, -3338: IrbisNoRights,
    -3337: IrbisClientIdTaken,
    -602: IrbisRecordLocked,
    -400: IrbisDatabaseUnknown,
    -100: IrbisRecordNotFound, -140: IrbisRecordNotFound,
    -600: IrbisRecordDeleted, -601: IrbisRecordDeleted, -603: IrbisRecordDeleted,
    -605: IrbisRecordDeleted,
    -608: IrbisVersionConflict,
}


def error_for(server_code: int, **params: Any) -> IrbisError:
    """The exception for a negative return code, with the caller's params (user, mfn, …)."""
    cls = CODE_ERRORS.get(server_code, IrbisServerError)
    return cls(server_code, **params)


@lru_cache(maxsize=4)
def translator(language: str) -> Callable[[str], str]:
    """gettext for `language` from this package's catalogue; English is the msgid itself."""
    if language == "en":
        return lambda msg: msg
    po = LOCALE_DIR / language / "LC_MESSAGES" / "irbis.po"
    if not po.is_file():
        return lambda msg: msg
    from library.i18n import po_translations

    return po_translations([po]).gettext
