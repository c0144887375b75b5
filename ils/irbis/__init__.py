"""ИРБИС64: the TCP protocol client, record value type and a server emulator.

Layout: wire.py (pure wire format: request framing, answers, record text, command codes),
transport.py (one TCP connection per request, timeouts, size caps), client.py (IrbisClient),
record.py (IrbisRecord / Field, conversion to library.marc), errors.py (the IrbisError tree and
the server's return codes), emulator.py (a threaded TCP server speaking the same protocol, for
tests and demos: `ibc irbis emulate`). docs/IRBIS.md names the public source of every fact.
"""

from __future__ import annotations

from ils.irbis.client import DEFAULT_PORT, IrbisClient
from ils.irbis.errors import (
    IrbisAuthError,
    IrbisClientIdTaken,
    IrbisDatabaseUnknown,
    IrbisError,
    IrbisNoRights,
    IrbisNotConnected,
    IrbisProtocolError,
    IrbisRecordDeleted,
    IrbisRecordLocked,
    IrbisRecordNotFound,
    IrbisServerError,
    IrbisUnavailable,
    IrbisVersionConflict,
)
from ils.irbis.record import Field, IrbisRecord, from_marc, to_marc

__all__ = [
    "DEFAULT_PORT", "Field", "IrbisAuthError", "IrbisClient", "IrbisClientIdTaken",
    "IrbisDatabaseUnknown", "IrbisError", "IrbisNoRights", "IrbisNotConnected",
    "IrbisProtocolError", "IrbisRecord", "IrbisRecordDeleted", "IrbisRecordLocked",
    "IrbisRecordNotFound", "IrbisServerError", "IrbisUnavailable", "IrbisVersionConflict",
    "from_marc", "to_marc",
]
