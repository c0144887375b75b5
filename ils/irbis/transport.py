"""TCP transport for ИРБИС64: one connection per request, bounded in time and size.

The server answers one request per connection and closes it (PythonIrbis irbis/connection.py
``execute``: a new socket each time, read until EOF). Here every exchange has a connect timeout,
a total deadline for the answer, and a size cap, so a silent, slow or endless server is an
IrbisUnavailable / IrbisProtocolError, never a hang or an unbounded read.
"""

from __future__ import annotations

import socket
import time

from ils.irbis.errors import IrbisProtocolError, IrbisUnavailable
from ils.irbis.wire import MAX_ANSWER_BYTES


class Transport:
    """Sends one request and returns the whole answer (bytes up to EOF)."""

    def __init__(self, host: str, port: int, timeout: float = 10.0,
                 max_answer: int = MAX_ANSWER_BYTES) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.max_answer = max_answer

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def exchange(self, request: bytes) -> bytes:
        deadline = time.monotonic() + self.timeout
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except TimeoutError as exc:
            raise IrbisUnavailable(address=self.address, reason="connect timed out") from exc
        except OSError as exc:
            raise IrbisUnavailable(address=self.address,
                                   reason=exc.strerror or type(exc).__name__) from exc
        with sock:
            try:
                sock.sendall(request)
                chunks: list[bytes] = []
                size = 0
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise IrbisUnavailable(address=self.address, reason="no answer in time")
                    sock.settimeout(left)
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > self.max_answer:
                        raise IrbisProtocolError(
                            reason=f"answer longer than {self.max_answer} bytes")
                    chunks.append(chunk)
            except TimeoutError as exc:
                raise IrbisUnavailable(address=self.address, reason="no answer in time") from exc
            except OSError as exc:
                raise IrbisUnavailable(address=self.address,
                                       reason=exc.strerror or type(exc).__name__) from exc
        if not chunks:
            raise IrbisUnavailable(address=self.address, reason="the server closed the connection")
        return b"".join(chunks)
