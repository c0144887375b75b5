"""Asyncio PJLink client over TCP: one connection per batch of commands, MD5 auth, timeouts.

Real projectors drop idle connections (OpenLP assumes 30 s; some close much sooner), so the
client never keeps a connection open between calls: each public method (or an explicit
``async with client.session()``) connects, reads the greeting, authenticates with the first
command, sends its commands and closes. Socket and OS errors become ProjectorTimeout /
ProjectorConnectionError with ``raise ... from``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from device.projector.base import ProjectorOperations
from device.projector.errors import (
    ProjectorAuthError,
    ProjectorConnectionError,
    ProjectorProtocolError,
    ProjectorTimeout,
)
from device.projector.protocol import (
    DEFAULT_PORT,
    MAX_PACKET,
    TERMINATOR,
    Reply,
    auth_digest,
    encode_command,
    parse_greeting,
    parse_reply,
)

_READ_LIMIT = 4 * MAX_PACKET


class PJLinkConnection:
    """One open TCP conversation; created by PJLinkClient.session()."""

    def __init__(self, where: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 timeout: float) -> None:
        self.where = where
        self._reader = reader
        self._writer = writer
        self._timeout = timeout
        self._prefix = b""
        self.authenticated = False

    async def handshake(self, password: str | None) -> None:
        """Read the greeting; prepare the auth prefix for the first command."""
        greeting = parse_greeting(await self._readline())
        if greeting.auth:
            if not password:
                raise ProjectorAuthError(f"{self.where}: projector requires a PJLink password")
            self._prefix = auth_digest(greeting.random or "", password).encode("ascii")

    async def request(self, command: str, param: str, pjclass: int = 1) -> Reply:
        """Send one command and return its reply (ERRn replies are returned, not raised)."""
        data = self._prefix + encode_command(command, param, pjclass)
        self._prefix = b""
        try:
            self._writer.write(data)
            await asyncio.wait_for(self._writer.drain(), self._timeout)
        except TimeoutError as exc:
            raise ProjectorTimeout(f"{self.where}: send timed out") from exc
        except OSError as exc:
            raise ProjectorConnectionError(f"{self.where}: send failed: {exc}") from exc
        try:
            reply = parse_reply(await self._readline())
        except ProjectorAuthError as exc:
            raise ProjectorAuthError(f"{self.where}: wrong PJLink password (ERRA)") from exc
        self.authenticated = True
        return reply

    async def _readline(self) -> bytes:
        try:
            return await asyncio.wait_for(self._reader.readuntil(TERMINATOR), self._timeout)
        except TimeoutError as exc:
            raise ProjectorTimeout(
                f"{self.where}: no answer within {self._timeout:g} s") from exc
        except asyncio.IncompleteReadError as exc:
            if exc.partial.rstrip(b"\r\n").upper() == b"PJLINK ERRA":
                raise ProjectorAuthError(f"{self.where}: wrong PJLink password") from exc
            raise ProjectorConnectionError(
                f"{self.where}: projector closed the connection") from exc
        except asyncio.LimitOverrunError as exc:
            raise ProjectorProtocolError(
                f"{self.where}: reply longer than {MAX_PACKET} bytes") from exc
        except OSError as exc:
            raise ProjectorConnectionError(f"{self.where}: {exc}") from exc

    async def close(self) -> None:
        """Close the socket, never raising."""
        self._writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            await asyncio.wait_for(self._writer.wait_closed(), self._timeout)


class PJLinkClient(ProjectorOperations):
    """A PJLink projector reached over TCP (default port 4352)."""

    def __init__(self, host: str, port: int = DEFAULT_PORT, password: str | None = None,
                 timeout: float = 5.0, *, input_aliases: dict[str, str] | None = None,
                 poll_interval: float = 1.0) -> None:
        super().__init__(input_aliases)
        self.host = host
        self.port = port
        self.password = password or None
        self.timeout = timeout
        self.poll_interval = poll_interval

    def __repr__(self) -> str:
        return f"PJLinkClient({self.host!r}, {self.port})"

    @property
    def address(self) -> str:
        """host:port, for messages."""
        return f"{self.host}:{self.port}"

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[PJLinkConnection]:
        """Connect, authenticate and yield a connection for a batch of commands."""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, limit=_READ_LIMIT), self.timeout)
        except TimeoutError as exc:
            raise ProjectorTimeout(f"{self.address}: connect timed out") from exc
        except OSError as exc:
            raise ProjectorConnectionError(f"{self.address}: {exc.strerror or exc}") from exc
        conn = PJLinkConnection(self.address, reader, writer, self.timeout)
        try:
            await conn.handshake(self.password)
            yield conn
        finally:
            await conn.close()
