"""PJLink wire format: commands, replies, greeting, MD5 auth, UDP search and notifications.

Pure functions over bytes; no sockets (the transport lives in client.py, emulator.py and
discovery.py). Value parsing (POWR states, inputs, ERST, ...) is in values.py.

    command   %<class><CMD4> <param>\\r          %1POWR 1\\r, %2INPT 3A\\r, %1POWR ?\\r
    reply     %<class><CMD4>=<value>\\r          %1POWR=OK, %1POWR=1, %1INPT=ERR3
    greeting  PJLINK 0\\r  or  PJLINK 1 <random>\\r
    auth      md5(random + password) hex, sent in front of the first command
    auth fail PJLINK ERRA\\r
    UDP       %2SRCH\\r -> %2ACKN=<MAC>\\r
    notify    %2LKUP=<MAC>, %2POWR=1, %2INPT=31, %2ERST=000000 (projector -> controller)

A packet is at most 136 bytes (``%1`` + 4 + space + 128-byte parameter + CR).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from device.projector.errors import (
    ERROR_CODES,
    InvalidProjectorArgument,
    ProjectorAuthError,
    ProjectorProtocolError,
)

DEFAULT_PORT = 4352
MAX_PACKET = 136
MAX_PARAM = 128
TERMINATOR = b"\r"
ENCODING = "utf-8"  # ASCII for commands; NAME may be UTF-8 in class 2
AUTH_ERROR = b"PJLINK ERRA"
_CMD_RE = re.compile(r"^[A-Z0-9]{4}$")
_REPLY_RE = re.compile(rb"^%([12])([A-Za-z0-9]{4})=(.*)$", re.DOTALL)
_MAC_RE = re.compile(r"^[0-9a-f]{2}([:-]?)[0-9a-f]{2}(\1[0-9a-f]{2}){4}$")
_DIGEST_RE = re.compile(rb"^[0-9a-fA-F]{32}")


def encode_command(command: str, param: str, pjclass: int = 1) -> bytes:
    """Encode one command line: encode_command("POWR", "1") -> b"%1POWR 1\\r"."""
    if pjclass not in (1, 2):
        raise InvalidProjectorArgument(f"PJLink class must be 1 or 2, not {pjclass!r}")
    if not _CMD_RE.match(command):
        raise InvalidProjectorArgument(f"PJLink command must be 4 upper-case chars: {command!r}")
    if "\r" in param or "\n" in param:
        raise InvalidProjectorArgument("PJLink parameter must not contain CR/LF")
    raw = param.encode(ENCODING)
    if len(raw) > MAX_PARAM:
        raise InvalidProjectorArgument(f"PJLink parameter longer than {MAX_PARAM} bytes")
    return b"%" + str(pjclass).encode() + command.encode("ascii") + b" " + raw + TERMINATOR


def encode_query(command: str, pjclass: int = 1, arg: str = "") -> bytes:
    """Encode a query: encode_query("POWR") -> b"%1POWR ?\\r"; INNM takes an argument."""
    return encode_command(command, "?" + arg, pjclass)


@dataclass(frozen=True)
class Reply:
    """One decoded reply line."""

    pjclass: int
    command: str
    value: str

    @property
    def error_code(self) -> str | None:
        """The ERR1..ERR4 code if the projector refused the command, else None."""
        return self.value.upper() if self.value.upper() in ERROR_CODES else None

    @property
    def ok(self) -> bool:
        """True for a set command accepted with "OK"."""
        return self.value.upper() == "OK"


def parse_reply(line: bytes) -> Reply:
    """Decode ``%1POWR=1\\r``; raises ProjectorAuthError on ``PJLINK ERRA``."""
    line = line.rstrip(b"\r\n")
    if line.upper() == AUTH_ERROR:
        raise ProjectorAuthError("projector refused the password (PJLINK ERRA)")
    if len(line) + 1 > MAX_PACKET:
        raise ProjectorProtocolError(f"reply longer than {MAX_PACKET} bytes")
    match = _REPLY_RE.match(line)
    if not match:
        raise ProjectorProtocolError(f"not a PJLink reply: {line[:40]!r}")
    try:
        value = match.group(3).decode(ENCODING)
    except UnicodeDecodeError:
        # Class 1 leaves INF1/INF2 encoding undefined: keep what we can.
        value = match.group(3).decode("latin-1")
    return Reply(int(match.group(1)), match.group(2).decode("ascii").upper(), value)


def check_reply(reply: Reply, command: str | None = None, pjclass: int | None = None) -> str:
    """Return the reply value, or raise the named error for ERR1..ERR4 / a mismatched reply."""
    if command is not None and reply.command != command:
        raise ProjectorProtocolError(f"expected a {command} reply, got {reply.command}")
    if pjclass is not None and reply.pjclass != pjclass:
        raise ProjectorProtocolError(f"expected class {pjclass} reply, got class {reply.pjclass}")
    code = reply.error_code
    if code:
        raise ERROR_CODES[code](reply.command)
    return reply.value


def encode_reply(command: str, value: str, pjclass: int = 1) -> bytes:
    """Encode a reply line (used by the emulator): b"%1POWR=OK\\r"."""
    return f"%{pjclass}{command}={value}".encode(ENCODING) + TERMINATOR


@dataclass(frozen=True)
class Greeting:
    """The projector's first line: whether it wants authentication and its random salt."""

    auth: bool
    random: str | None = None


def parse_greeting(line: bytes) -> Greeting:
    """Decode ``PJLINK 0`` / ``PJLINK 1 <random>``."""
    text = line.rstrip(b"\r\n").decode("ascii", "replace")
    if text.upper() == "PJLINK ERRA":
        raise ProjectorAuthError("projector refused the connection (PJLINK ERRA)")
    parts = text.split(" ")
    if len(parts) < 2 or parts[0].upper() != "PJLINK":
        raise ProjectorProtocolError(f"not a PJLink greeting: {text[:40]!r}")
    if parts[1] == "0" and len(parts) == 2:
        return Greeting(auth=False)
    if parts[1] == "1" and len(parts) == 3 and parts[2]:
        return Greeting(auth=True, random=parts[2])
    raise ProjectorProtocolError(f"unsupported PJLink security in greeting: {text[:40]!r}")


def encode_greeting(random: str | None) -> bytes:
    """The greeting a projector sends: no auth when ``random`` is None."""
    return (b"PJLINK 0" if random is None else f"PJLINK 1 {random}".encode("ascii")) + TERMINATOR


def auth_digest(random: str, password: str) -> str:
    """The PJLink class 1 auth prefix: md5(random + password) as 32 lower-case hex digits."""
    return hashlib.md5((random + password).encode(ENCODING)).hexdigest()


def split_digest(line: bytes) -> tuple[str | None, bytes]:
    """Split an optional 32-hex auth prefix off a command line (emulator side)."""
    if _DIGEST_RE.match(line) and line[32:33] == b"%":
        return line[:32].decode("ascii").lower(), line[32:]
    return None, line


@dataclass(frozen=True)
class Command:
    """One decoded command line (emulator side)."""

    pjclass: int
    command: str
    param: str


def parse_command(line: bytes) -> Command:
    """Decode ``%1POWR 1\\r``; raises ProjectorProtocolError if it is not a command."""
    line = line.rstrip(b"\r")
    if len(line) + 1 > MAX_PACKET:
        raise ProjectorProtocolError(f"command longer than {MAX_PACKET} bytes")
    match = re.match(rb"^%([12])([A-Za-z0-9]{4})(?: (.*))?$", line, re.DOTALL)
    if not match:
        raise ProjectorProtocolError(f"not a PJLink command: {line[:40]!r}")
    try:
        param = (match.group(3) or b"").decode(ENCODING)
    except UnicodeDecodeError:
        raise ProjectorProtocolError("command parameter is not UTF-8") from None
    return Command(int(match.group(1)), match.group(2).decode("ascii").upper(), param)


# --- class 2 UDP: search and status notifications ---------------------------------------

SEARCH = b"%2SRCH\r"


def normalize_mac(mac: str) -> str:
    """Normalize AA-BB-.. or aabb.. to aa:bb:cc:dd:ee:ff; raises on anything else."""
    text = mac.strip().lower()
    if not _MAC_RE.match(text):
        raise ProjectorProtocolError(f"bad MAC address {mac!r}")
    digits = re.sub(r"[^0-9a-f]", "", text)
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2))


def encode_search() -> bytes:
    """The class 2 search datagram."""
    return SEARCH


def is_search(datagram: bytes) -> bool:
    """True if a datagram is a SRCH request."""
    return datagram.rstrip(b"\r\n").upper() == SEARCH.rstrip(b"\r")


def encode_ackn(mac: str) -> bytes:
    """A projector's answer to SRCH."""
    return f"%2ACKN={normalize_mac(mac)}\r".encode("ascii")


def parse_ackn(datagram: bytes) -> str:
    """MAC address from ``%2ACKN=<MAC>``."""
    reply = parse_reply(datagram)
    if reply.command != "ACKN" or reply.pjclass != 2:
        raise ProjectorProtocolError(f"not an ACKN datagram: {datagram[:40]!r}")
    return normalize_mac(reply.value)


@dataclass(frozen=True)
class Notification:
    """A class 2 status notification: command (LKUP/POWR/INPT/ERST) and its raw value."""

    command: str
    value: str


NOTIFICATION_COMMANDS = ("LKUP", "POWR", "INPT", "ERST")


def parse_notification(datagram: bytes) -> Notification:
    """Decode ``%2POWR=1`` and friends; raises ProjectorProtocolError for anything else."""
    reply = parse_reply(datagram)
    if reply.pjclass != 2 or reply.command not in NOTIFICATION_COMMANDS:
        raise ProjectorProtocolError(f"not a PJLink notification: {datagram[:40]!r}")
    return Notification(reply.command, reply.value)


def encode_notification(command: str, value: str) -> bytes:
    """A projector's status notification datagram."""
    if command not in NOTIFICATION_COMMANDS:
        raise InvalidProjectorArgument(f"not a notification command: {command!r}")
    return encode_reply(command, value, 2)
