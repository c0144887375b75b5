"""The ИРБИС64 TCP protocol as bytes: request framing, answer parsing, record text, return codes.

No sockets here (transport.py sends and receives); both the client and the emulator use this
module, so one place knows the wire format. Every fact is from the public clients by the
protocol's author (docs/IRBIS.md lists the file for each):

- One request per TCP connection: the client sends the request, the server answers and closes
  (PythonIrbis irbis/connection.py ``execute``: new socket, send, read until EOF).
- A request is ``<length>\\n`` + the body, where the body is lines ending in ``\\n``: command,
  workstation, command again, client id, query id, password, user name, three empty lines, then
  the command's parameters (PythonIrbis irbis/query.py ``ClientQuery.__init__``/``encode``).
  Database names, numbers and the user's credentials are ANSI (cp1251); search expressions and
  record text are UTF-8.
- An answer is lines ending in ``\\r\\n``: command, client id, query id, answer size, server
  version, five more header lines, then (for most commands) the return code and the command's
  data (PythonIrbis irbis/response.py ``initial_parse``, ``get_return_code``).
- A record on the wire is lines: ``mfn#status``, ``0#version``, then one ``tag#text`` per field,
  the text being the value then ``^code value`` subfields (irbis/records/record.py ``encode``).
  In a request the lines are joined by ``\\x1f\\x1e`` on one line (IRBIS_DELIMITER); in answers to
  C they are separate lines, in answers to D they follow on one line joined by ``\\x1e``
  (SHORT_DELIMITER, PythonIrbis ``short_irbis_to_lines``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ils.irbis.errors import IrbisProtocolError
from ils.irbis.record import Field, IrbisRecord

ANSI = "cp1251"
UTF = "utf-8"
IRBIS_DELIMITER = "\x1f\x1e"
SHORT_DELIMITER = "\x1e"
OTHER_DELIMITER = "\x1f"
CRLF = b"\r\n"

# Command codes (PythonIrbis irbis/_common.py; ManagedIrbis Constants.cs).
REGISTER_CLIENT = "A"
UNREGISTER_CLIENT = "B"
READ_RECORD = "C"
UPDATE_RECORD = "D"
UNLOCK_RECORD = "E"
ACTUALIZE_RECORD = "F"
FORMAT_RECORD = "G"
SEARCH = "K"
NOP = "N"
GET_MAX_MFN = "O"
UNLOCK_RECORDS = "Q"

# Workstations (PythonIrbis irbis/_common.py): A administrator, C cataloguer, M acquisitions,
# R reader, B circulation («Книговыдача»), K provision, J Java applet.
WORKSTATIONS = frozenset("ACMRBKJ")

# Formats the protocol's clients name (PythonIrbis irbis/_common.py).
ALL_FORMAT = "&uf('+0')"
BRIEF_FORMAT = "@brief"

MAX_POSTINGS = 32758  # search answers hold at most this many MFNs (PythonIrbis MAX_POSTINGS)
ANSWER_HEADER_LINES = 10  # command, client id, query id, size, version + five more lines

# Bounds, whatever the peer sends (a hostile or broken answer is an error, never a hang).
MAX_ANSWER_BYTES = 16 << 20
MAX_REQUEST_BYTES = 1 << 20
MAX_LENGTH_DIGITS = 9

_INT = re.compile(r"-?\d{1,10}\Z")


def ansi(text: str) -> bytes:
    """A parameter in ANSI (cp1251); characters cp1251 cannot hold are a clear error."""
    try:
        return text.encode(ANSI)
    except UnicodeEncodeError as exc:
        raise IrbisProtocolError(reason=f"{text!r} cannot be sent in cp1251") from exc


def utf(text: str) -> bytes:
    return text.encode(UTF)


def _line_safe(value: bytes) -> bytes:
    if b"\n" in value or b"\r" in value:
        raise IrbisProtocolError(reason="a request parameter holds a line break")
    return value


def encode_request(command: str, workstation: str, client_id: int, query_id: int,
                   password: str, user: str, params: Iterable[bytes] = ()) -> bytes:
    """The bytes of one request (PythonIrbis irbis/query.py ClientQuery): ``len\\n`` + body."""
    lines = [ansi(command), ansi(workstation), ansi(command), str(client_id).encode(),
             str(query_id).encode(), _line_safe(ansi(password)), _line_safe(ansi(user)),
             b"", b"", b""]
    lines.extend(_line_safe(p) for p in params)
    body = b"".join(line + b"\n" for line in lines)
    return str(len(body)).encode() + b"\n" + body


@dataclass(slots=True)
class Request:
    """A request as the emulator reads it."""

    command: str
    workstation: str
    client_id: int
    query_id: int
    password: str
    user: str
    params: list[bytes]

    def ansi(self, index: int, default: str = "") -> str:
        if index >= len(self.params):
            return default
        return self.params[index].decode(ANSI, errors="replace")

    def utf(self, index: int, default: str = "") -> str:
        if index >= len(self.params):
            return default
        return self.params[index].decode(UTF, errors="replace")

    def int(self, index: int, default: int = 0) -> int:
        text = self.ansi(index, "").strip()
        if not text:
            return default
        if not _INT.match(text):
            raise IrbisProtocolError(reason=f"parameter {index + 1} is not a number: {text[:20]!r}")
        return int(text)


def request_length(head: bytes) -> int | None:
    """The body length announced by the first line, None while the line is incomplete."""
    end = head.find(b"\n")
    if end < 0:
        if len(head) > MAX_LENGTH_DIGITS:
            raise IrbisProtocolError(reason="the request does not start with its length")
        return None
    text = head[:end].strip()
    if not text.isdigit() or len(text) > MAX_LENGTH_DIGITS:
        raise IrbisProtocolError(reason=f"bad request length {text[:20]!r}")
    length = int(text)
    if length > MAX_REQUEST_BYTES:
        raise IrbisProtocolError(reason=f"request of {length} bytes is too long")
    return length


def decode_request(data: bytes) -> Request:
    """Parse one whole request (length line + body) as the emulator receives it."""
    length = request_length(data)
    if length is None:
        raise IrbisProtocolError(reason="the request has no length line")
    body = data[data.index(b"\n") + 1:]
    if len(body) < length:
        raise IrbisProtocolError(reason=f"the request is cut short ({len(body)} of {length} bytes)")
    lines = body[:length].split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if len(lines) < 10:
        raise IrbisProtocolError(reason="the request header is incomplete")
    command = lines[0].decode(ANSI, errors="replace")
    try:
        client_id, query_id = int(lines[3] or b"0"), int(lines[4] or b"0")
    except ValueError as exc:
        raise IrbisProtocolError(reason="the client or query id is not a number") from exc
    return Request(command, lines[1].decode(ANSI, errors="replace"), client_id, query_id,
                   lines[5].decode(ANSI, errors="replace"), lines[6].decode(ANSI, errors="replace"),
                   lines[10:])


def encode_answer(command: str, client_id: int, query_id: int, return_code: int | None,
                  data: Sequence[bytes] = (), version: str = "64.2014") -> bytes:
    """An answer as the server sends it: the ten header lines, the return code, the data lines,
    every line ending in CRLF (what PythonIrbis irbis/response.py reads)."""
    body = b"".join(line + CRLF for line in data)
    if return_code is not None:
        body = str(return_code).encode() + CRLF + body
    header = [command.encode(ANSI), str(client_id).encode(), str(query_id).encode(),
              str(len(body)).encode(), version.encode(ANSI), b"", b"", b"", b"", b""]
    return b"".join(line + CRLF for line in header) + body


@dataclass(slots=True)
class Answer:
    """A server answer: header fields and the lines after the header (still bytes)."""

    command: str
    client_id: int
    query_id: int
    size: int
    version: str
    lines: list[bytes]
    _pos: int = 0

    def next(self) -> bytes:
        """The next line (empty at the end)."""
        if self._pos >= len(self.lines):
            return b""
        line = self.lines[self._pos]
        self._pos += 1
        return line

    def number(self, what: str = "number") -> int:
        raw = self.next().strip()
        text = raw.decode(ANSI, errors="replace")
        if not _INT.match(text):
            raise IrbisProtocolError(reason=f"expected a {what}, got {text[:20]!r}")
        return int(text)

    def return_code(self) -> int:
        return self.number("return code")

    def rest_lines(self, encoding: str = UTF) -> list[str]:
        """The remaining lines decoded (a bad byte sequence is a protocol error)."""
        out = []
        while self._pos < len(self.lines):
            out.append(_decode(self.next(), encoding))
        while out and out[-1] == "":
            out.pop()
        return out

    def rest_text(self, encoding: str = UTF) -> str:
        remaining = self.lines[self._pos:]
        self._pos = len(self.lines)
        return _decode(b"\r\n".join(remaining), encoding)


def decode_line(raw: bytes, encoding: str = UTF) -> str:
    """One answer line decoded (IrbisProtocolError for bytes that are not `encoding`)."""
    return _decode(raw, encoding)


def _decode(raw: bytes, encoding: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise IrbisProtocolError(reason=f"the answer is not valid {encoding}") from exc


def decode_answer(data: bytes, expect_command: str | None = None) -> Answer:
    """Split a whole answer into its header and lines (IrbisProtocolError when it is not one)."""
    if len(data) > MAX_ANSWER_BYTES:
        raise IrbisProtocolError(reason=f"answer of more than {MAX_ANSWER_BYTES} bytes")
    lines = data.split(CRLF)
    if len(lines) < ANSWER_HEADER_LINES:
        raise IrbisProtocolError(reason=f"answer too short ({len(data)} bytes)")
    try:
        command = lines[0].decode(ANSI)
        client_id, query_id = int(lines[1]), int(lines[2])
    except (UnicodeDecodeError, ValueError) as exc:
        raise IrbisProtocolError(reason=f"bad answer header {data[:40]!r}") from exc
    if expect_command is not None and command != expect_command:
        raise IrbisProtocolError(reason=f"answer to {command!r} where {expect_command!r} was sent")
    size_text = lines[3].strip()
    size = int(size_text) if size_text.isdigit() and len(size_text) <= MAX_LENGTH_DIGITS else 0
    version = lines[4].decode(ANSI, errors="replace")
    return Answer(command, client_id, query_id, size, version, lines[ANSWER_HEADER_LINES:])


# ---------------------------------------------------------------------------------- records


def encode_field(f: Field) -> str:
    return f"{f.tag}#{f.value}" + "".join(f"^{c}{v}" for c, v in f.subfields)


def parse_field(line: str) -> Field:
    """``tag#value^aX^bY`` → Field (PythonIrbis irbis/records/field.py ``parse``)."""
    tag_text, sep, text = line.partition("#")
    if not sep or not tag_text.strip().isdigit() or len(tag_text.strip()) > 5:
        raise IrbisProtocolError(reason=f"bad field line {line[:40]!r}")
    parts = text.split("^")
    subfields = [(p[0], p[1:]) for p in parts[1:] if p]
    return Field(int(tag_text), parts[0], subfields)


def record_lines(record: IrbisRecord) -> list[str]:
    """The record as the protocol's lines (PythonIrbis irbis/records/abstract.py ``encode``)."""
    return [f"{record.mfn}#{record.status}", f"0#{record.version}",
            *(encode_field(f) for f in record.fields)]


def encode_record(record: IrbisRecord) -> bytes:
    """The record as one request line, joined by IRBIS_DELIMITER (command D, G with -2)."""
    for f in record.fields:
        text = encode_field(f)
        if any(ch in text for ch in "\r\n\x1e\x1f"):
            raise IrbisProtocolError(reason=f"field {f.tag} holds a line break or delimiter")
    return utf(IRBIS_DELIMITER.join(record_lines(record)))


def parse_record(lines: Sequence[str], database: str = "") -> IrbisRecord:
    """Lines ``mfn#status``, ``0#version``, fields → IrbisRecord (abstract.py ``parse``)."""
    lines = [line.strip(OTHER_DELIMITER + SHORT_DELIMITER) for line in lines]
    if len(lines) < 2:
        raise IrbisProtocolError(reason="a record needs its MFN and version lines")
    mfn_text, _, status_text = lines[0].partition("#")
    version_text = lines[1].partition("#")[2]
    try:
        mfn = int(mfn_text)
        status = int(status_text) if status_text else 0
        version = int(version_text) if version_text else 0
    except ValueError as exc:
        raise IrbisProtocolError(reason=f"bad record header {lines[0][:20]!r}") from exc
    fields = [parse_field(line) for line in lines[2:] if line]
    return IrbisRecord(mfn, version, status, fields, database)


def split_record_text(text: str) -> list[str]:
    """A record sent on one line → its lines (either delimiter, as the clients write them)."""
    if IRBIS_DELIMITER in text:
        return text.split(IRBIS_DELIMITER)
    if SHORT_DELIMITER in text:
        return text.split(SHORT_DELIMITER)
    return text.split(OTHER_DELIMITER)


def prepare_format(text: str) -> bytes:
    """A format parameter (PythonIrbis irbis/query.py ``ClientQuery.format``): ``@name`` goes in
    ANSI, ``!text`` in UTF-8, any other inline format gets the ``!`` prefix; control characters
    are dropped (PythonIrbis irbis/_common.py ``prepare_format``)."""
    text = "".join(ch for ch in text if ch >= " ")
    if text.startswith("@"):
        return ansi(text)
    if text.startswith("!"):
        return utf(text)
    return utf("!" + text)
