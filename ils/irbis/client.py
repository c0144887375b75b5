"""A synchronous ИРБИС64 client: register, search, read/write/unlock records, format, no-op.

    with IrbisClient("10.0.0.5", 6666, "kiosk", "secret", workstation="B") as irbis:
        [mfn] = irbis.search("RDR", '"RI=12345"')
        reader = irbis.read_record("RDR", mfn, lock=True)
        reader.add_field(40, subfields=[("b", "123"), ("d", "20261206"), ("f", "******")])
        reader = irbis.write_record("RDR", reader)        # unlocks, version + 1

Thread-safe: one lock serialises the requests of one client (the query id must grow by one per
request). The server keeps no connection (one TCP connection per request, transport.py); the
client registers with a random id, retries another id on -3337, and registers again and repeats
the command once when the server no longer knows it (-3333/-3334: the server restarted or
dropped an idle client). Negative return codes raise the IrbisError subclass for the code
(errors.py). Wire format: wire.py.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from ils.irbis import wire
from ils.irbis.errors import (
    IrbisClientIdTaken,
    IrbisError,
    IrbisNotConnected,
    IrbisProtocolError,
    IrbisRecordDeleted,
    IrbisRecordNotFound,
    error_for,
)
from ils.irbis.record import LOGICALLY_DELETED, IrbisRecord
from ils.irbis.transport import Transport

DEFAULT_PORT = 6666
# Read answers that still carry the record (PythonIrbis irbis/_common.py READ_RECORD_CODES):
# -201 previous version absent, -600/-603 logically deleted, -602 locked.
_DELETED_CODES = (-600, -603)
_NOT_REGISTERED = (-3333, -3334)


class IrbisClient:
    """One registered client of an ИРБИС64 server (see the module doc)."""

    def __init__(self, host: str, port: int = DEFAULT_PORT, user: str = "", password: str = "",
                 workstation: str = "C", timeout: float = 10.0, *, register_tries: int = 5,
                 transport: Transport | None = None,
                 client_ids: Callable[[], int] | None = None) -> None:
        if workstation not in wire.WORKSTATIONS:
            raise ValueError(f"unknown ИРБИС workstation {workstation!r}")
        self.user = user
        self.password = password
        self.workstation = workstation
        self.transport = transport or Transport(host, port, timeout)
        self.register_tries = max(1, register_tries)
        self._client_ids = client_ids or (lambda: random.randint(100000, 999999))
        self.client_id = 0
        self.query_id = 0
        self.connected = False
        self.server_version = ""
        self.interval = 0  # minutes between no-ops the server asks for (the register answer)
        self.ini_lines: list[str] = []
        self._lock = threading.RLock()

    # ----------------------------------------------------------------------- registration

    def connect(self) -> IrbisClient:
        """Register (A) with a fresh client id; -3337 → another id, up to `register_tries`."""
        with self._lock:
            if self.connected:
                return self
            for _ in range(self.register_tries):
                self.client_id = self._client_ids()
                self.query_id = 0
                answer = self._send(wire.REGISTER_CLIENT,
                                    [wire.ansi(self.user), wire.ansi(self.password)])
                code = answer.return_code()
                if code == -3337:
                    continue
                if code < 0:
                    raise self._error(code)
                self.server_version = answer.version
                rest = answer.rest_lines(wire.ANSI)
                if rest and rest[0].strip().lstrip("-").isdigit():
                    self.interval = int(rest[0].strip())
                    rest = rest[1:]
                self.ini_lines = rest
                self.connected = True
                return self
            raise IrbisClientIdTaken(-3337, tries=self.register_tries)

    def disconnect(self) -> None:
        """Unregister (B); an unreachable server is ignored (the id expires there anyway)."""
        with self._lock:
            if not self.connected:
                return
            self.connected = False
            try:
                self._send(wire.UNREGISTER_CLIENT, [wire.ansi(self.user)])
            except IrbisError:
                pass

    def __enter__(self) -> IrbisClient:
        return self.connect()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.disconnect()

    # ----------------------------------------------------------------------------- commands

    def nop(self) -> None:
        """The keep-alive (N) the server expects every `interval` minutes from an idle client."""
        self._command(wire.NOP, [], check=False)

    def max_mfn(self, database: str) -> int:
        """The server's «max MFN» (O): the MFN the next new record gets, so the existing records
        are 1 … max_mfn() - 1 (PythonIrbis ``get_max_mfn``)."""
        answer = self._command(wire.GET_MAX_MFN, [wire.ansi(database)], database=database)
        return answer.code

    def search(self, database: str, expression: str, limit: int = wire.MAX_POSTINGS) -> list[int]:
        """MFNs found by a search expression (K), e.g. ``"RI=123"``, ``"T=ВОЙНА$"``, at most
        `limit` (asked for in pages of MAX_POSTINGS, as PythonIrbis ``search_all`` does)."""
        found: list[int] = []
        first = 1
        while len(found) < limit:
            number = min(limit - len(found), wire.MAX_POSTINGS)
            answer = self._command(wire.SEARCH, [
                wire.ansi(database), wire.utf(expression), str(number).encode(),
                str(first).encode(), b"", b"0", b"0", b""], database=database)
            total = answer.body.number("count of found records")
            page = []
            for line in answer.body.rest_lines(wire.UTF):
                mfn_text = line.partition("#")[0].strip()
                if not mfn_text.isdigit():
                    raise IrbisProtocolError(reason=f"bad MFN in a search answer: {line[:20]!r}")
                page.append(int(mfn_text))
            found.extend(page[:limit - len(found)])
            first += len(page)
            if not page or first > total:
                break
        return found

    def read_record(self, database: str, mfn: int, lock: bool = False) -> IrbisRecord:
        """The record `mfn` (C), locked for this client when `lock`. A logically deleted record
        is returned with LOGICALLY_DELETED in its status (``record.deleted``)."""
        params = [wire.ansi(database), str(mfn).encode(), b"1" if lock else b"0"]
        answer = self._command(wire.READ_RECORD, params, database=database, mfn=mfn,
                               allowed=_DELETED_CODES)
        record = wire.parse_record(answer.body.rest_lines(wire.UTF), database)
        if answer.code in _DELETED_CODES:
            record.status |= LOGICALLY_DELETED
        return record

    def read_records(self, database: str, mfns: Iterable[int],
                     batch: int = 100) -> list[IrbisRecord]:
        """Several records at once, without locks: G with the ALL format ``&uf('+0')``, as
        PythonIrbis ``read_records`` does (far fewer round trips than read_record per MFN, for
        catalogue sync). MFNs the server gives no record for are left out; deleted ones come
        with their status flags."""
        wanted = list(mfns)
        out: list[IrbisRecord] = []
        for start in range(0, len(wanted), max(1, batch)):
            chunk = wanted[start:start + max(1, batch)]
            if len(chunk) == 1:
                # G with one MFN answers the formatted record alone, without the «mfn#» line
                # of a batch: PythonIrbis read_records reads a single MFN with read_record too
                try:
                    out.append(self.read_record(database, chunk[0]))
                except (IrbisRecordDeleted, IrbisRecordNotFound):
                    pass  # physically deleted or beyond max MFN: left out, as in a batch
                continue
            params = [wire.ansi(database), wire.prepare_format(wire.ALL_FORMAT),
                      str(len(chunk)).encode(), *(str(m).encode() for m in chunk)]
            answer = self._command(wire.FORMAT_RECORD, params, database=database)
            for line in answer.body.rest_lines(wire.UTF):
                _, _, text = line.partition("#")
                parts = [p for p in text.split(wire.OTHER_DELIMITER)[1:] if p]
                if len(parts) >= 2:
                    out.append(wire.parse_record(parts, database))
        return out

    def write_record(self, database: str, record: IrbisRecord, lock: bool = False,
                     actualize: bool = True) -> IrbisRecord:
        """Save `record` (D): a new one when its MFN is 0. Returns the record as the server now
        holds it (its MFN, new version and status); the lock is released unless `lock`."""
        params = [wire.ansi(database), b"1" if lock else b"0", b"1" if actualize else b"0",
                  wire.encode_record(record)]
        answer = self._command(wire.UPDATE_RECORD, params, database=database, mfn=record.mfn)
        # "mfn#status", then the rest of the record on ONE line (PythonIrbis write_record reads
        # first_line = response.utf(); short_irbis_to_lines(response.utf())).
        first = wire.decode_line(answer.body.next())
        rest = wire.decode_line(answer.body.next())
        lines = [first, *wire.split_record_text(rest)] if rest else [first]
        if len(lines) >= 2 and lines[1]:
            return wire.parse_record(lines, database)
        # A server that answers only "mfn#status" (PythonIrbis handles that case too).
        mfn_text, _, status = first.partition("#")
        saved = record.copy()
        saved.mfn = int(mfn_text) if mfn_text.isdigit() else record.mfn
        saved.status = int(status) if status.isdigit() else 0
        saved.version = record.version + 1
        saved.database = database
        return saved

    def unlock(self, database: str, mfns: Iterable[int]) -> None:
        """Release this client's locks on `mfns` (Q, as PythonIrbis ``unlock_records``)."""
        mfns = list(mfns)
        if not mfns:
            return
        self._command(wire.UNLOCK_RECORDS, [wire.ansi(database), *(str(m).encode() for m in mfns)],
                      database=database)

    def format(self, database: str, mfn: int, format: str = wire.BRIEF_FORMAT) -> str:
        """The record `mfn` formatted by the server (G): ``@brief``, ``@`` or an inline format."""
        params = [wire.ansi(database), wire.prepare_format(format), b"1", str(mfn).encode()]
        answer = self._command(wire.FORMAT_RECORD, params, database=database, mfn=mfn)
        return answer.body.rest_text(wire.UTF).strip("\r\n")

    # ---------------------------------------------------------------------------- plumbing

    def _send(self, command: str, params: list[bytes]) -> wire.Answer:
        self.query_id += 1
        request = wire.encode_request(command, self.workstation, self.client_id, self.query_id,
                                      self.password, self.user, params)
        return wire.decode_answer(self.transport.exchange(request), command)

    def _command(self, command: str, params: list[bytes], *, check: bool = True,
                 allowed: tuple[int, ...] = (), **context: Any) -> _Result:
        with self._lock:
            if not self.connected:
                raise IrbisNotConnected()
            answer = self._send(command, params)
            if not check:
                return _Result(0, answer)
            code = answer.return_code()
            if code in _NOT_REGISTERED:
                # The server forgot us (restart, idle timeout): register again, repeat once.
                self.connected = False
                self.connect()
                answer = self._send(command, params)
                code = answer.return_code()
            if code < 0 and code not in allowed:
                raise self._error(code, **context)
            return _Result(code, answer)

    def _error(self, code: int, **context: Any) -> IrbisError:
        return error_for(code, user=self.user, workstation=self.workstation,
                         address=self.transport.address, **context)


class _Result:
    __slots__ = ("body", "code")

    def __init__(self, code: int, body: wire.Answer) -> None:
        self.code = code
        self.body = body
