"""A PJLink projector emulator: asyncio TCP server (class 1/2, MD5 auth) and class 2 UDP responder.

Tests and demos run it on loopback; third-party clients (pypjlink2, aiopjlink) are driven
against it to prove it speaks real PJLink. Behaviour lives in ProjectorModel (model.py);
this module is only transport:

- greets with ``PJLINK 0`` or ``PJLINK 1 <8 hex>``; a missing or wrong MD5 prefix on the first
  command gets ``PJLINK ERRA`` and the connection is closed;
- a command line over 136 bytes (after the auth prefix) gets ERR2; a line that is not PJLink
  at all closes the connection; idle connections are closed after ``idle_timeout``;
- UDP (class 2): ``%2SRCH`` is answered with ``%2ACKN=<MAC>`` to the sender's address and port;
  with ``notify=(host, port)`` it sends ``%2LKUP`` at start and ``%2POWR``/``%2INPT``/``%2ERST``
  when those change.

Run it: ``python -m device.projector.emulator --port 14352 [--password x]`` (binds 127.0.0.1).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import secrets
import sys
import threading

from device.projector.errors import ProjectorProtocolError
from device.projector.model import ProjectorModel
from device.projector.protocol import (
    AUTH_ERROR,
    MAX_PACKET,
    TERMINATOR,
    auth_digest,
    encode_ackn,
    encode_greeting,
    encode_notification,
    encode_reply,
    is_search,
    parse_command,
    split_digest,
)
from device.projector.values import PowerState, encode_errors

_HEADER_RE = re.compile(rb"^%([12])([A-Za-z0-9]{4})")
_BUFFER_LIMIT = 1024


class _UdpResponder(asyncio.DatagramProtocol):
    def __init__(self, emulator: PJLinkEmulator) -> None:
        self.emulator = emulator

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if is_search(data):
            self.emulator.searches += 1
            self.emulator._send_udp(encode_ackn(self.emulator.model.mac), addr)


class PJLinkEmulator:
    """One emulated projector listening on ``host:port`` (TCP) and ``udp_port`` (UDP, class 2)."""

    def __init__(self, model: ProjectorModel | None = None, *, host: str = "127.0.0.1",
                 port: int = 0, password: str | None = None, udp_port: int | None = None,
                 notify: tuple[str, int] | None = None, response_delay: float = 0.0,
                 idle_timeout: float = 30.0, tick: float = 0.05) -> None:
        self.model = model or ProjectorModel()
        self.host = host
        self.port = port
        self.udp_port = udp_port
        self.password = password or None
        self.notify = notify
        self.response_delay = response_delay
        self.idle_timeout = idle_timeout
        self.tick = tick
        self.connections = 0
        self.searches = 0
        self.received: list[bytes] = []
        self._server: asyncio.Server | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._ticker: asyncio.Task | None = None
        self._handlers: set[asyncio.Task] = set()
        self._last: dict[str, str] = {}

    async def __aenter__(self) -> PJLinkEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def start(self) -> None:
        """Bind the TCP server (and the UDP responder for class 2)."""
        self._server = await asyncio.start_server(self._handle, self.host, self.port,
                                                  limit=_BUFFER_LIMIT)
        self.port = self._server.sockets[0].getsockname()[1]
        if self.model.pjclass == 2:
            loop = asyncio.get_running_loop()
            udp_port = self.port if self.udp_port is None else self.udp_port
            self._udp, _ = await loop.create_datagram_endpoint(
                lambda: _UdpResponder(self), local_addr=(self.host, udp_port))
            self.udp_port = self._udp.get_extra_info("sockname")[1]
            if self.notify:
                self._send_udp(encode_notification("LKUP", self.model.mac), self.notify)
                self._last = self._snapshot()
                self._ticker = asyncio.create_task(self._watch(self.notify))

    async def stop(self) -> None:
        """Close listeners and every open connection."""
        if self._ticker:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self._udp:
            self._udp.close()
            self._udp = None
        if self._server:
            self._server.close()
            for task in list(self._handlers):
                task.cancel()
            if self._handlers:
                await asyncio.gather(*self._handlers, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    # --- TCP ---------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:  # always: asyncio runs each connection's handler in a task
            self._handlers.add(task)
        self.connections += 1
        random = secrets.token_hex(4) if self.password else None
        expected = auth_digest(random, self.password) if random and self.password else None
        authed = expected is None
        try:
            writer.write(encode_greeting(random))
            await writer.drain()
            while True:
                try:
                    line = await asyncio.wait_for(reader.readuntil(TERMINATOR), self.idle_timeout)
                except asyncio.LimitOverrunError:
                    break  # far beyond any PJLink packet: drop the connection
                except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                    break
                line = line.lstrip(b"\n")
                self.received.append(line)
                digest, body = split_digest(line)
                if not authed:
                    if digest != expected:
                        writer.write(AUTH_ERROR + TERMINATOR)
                        await writer.drain()
                        break
                    authed = True
                reply = self._reply(body)
                if reply is None:
                    break
                if self.response_delay:
                    await asyncio.sleep(self.response_delay)
                writer.write(reply)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if task is not None:
                self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _reply(self, line: bytes) -> bytes | None:
        """The reply to one command line, or None to drop the connection."""
        header = _HEADER_RE.match(line)
        if header is None:
            return None
        pjclass, command = int(header.group(1)), header.group(2).decode().upper()
        if len(line.rstrip(b"\r")) + 1 > MAX_PACKET:
            return encode_reply(command, "ERR2", pjclass)
        try:
            cmd = parse_command(line)
        except ProjectorProtocolError:
            return encode_reply(command, "ERR1", pjclass)
        value = self.model.execute(cmd.pjclass, cmd.command, cmd.param)
        return encode_reply(cmd.command, value, cmd.pjclass)

    # --- UDP ---------------------------------------------------------------------------

    def _send_udp(self, data: bytes, addr: tuple[str, int]) -> None:
        if self._udp is not None:
            self._udp.sendto(data, addr)

    def _snapshot(self) -> dict[str, str]:
        power = self.model.power
        snap = {"ERST": encode_errors(self.model.errors)}
        if power in (PowerState.ON, PowerState.STANDBY):  # notify settled states only
            snap["POWR"] = power.value
        if power is PowerState.ON:
            snap["INPT"] = self.model.input
        return snap

    async def _watch(self, notify: tuple[str, int]) -> None:
        """Send a notification to `notify` whenever POWR, INPT or ERST changes."""
        while True:
            await asyncio.sleep(self.tick)
            snap = self._snapshot()
            for command, value in snap.items():
                if self._last.get(command) != value:
                    self._send_udp(encode_notification(command, value), notify)
                    self._last[command] = value


class ThreadedEmulator:
    """Runs a PJLinkEmulator on its own event loop in a daemon thread (for synchronous code).

    ``with ThreadedEmulator(password="x") as emu: ...`` -- ``emu.port`` is the TCP port and
    ``emu.model`` the live state (touch it only between client calls).
    """

    def __init__(self, model: ProjectorModel | None = None, **kwargs) -> None:
        self._model = model
        self._kwargs = kwargs
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="pjlink-emulator")
        self.emulator: PJLinkEmulator | None = None

    def __enter__(self) -> PJLinkEmulator:
        self._thread.start()

        async def start() -> PJLinkEmulator:
            emulator = PJLinkEmulator(self._model, **self._kwargs)
            await emulator.start()
            return emulator

        try:
            self.emulator = asyncio.run_coroutine_threadsafe(start(), self._loop).result(10)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self.emulator

    def __exit__(self, *exc) -> None:
        try:
            if self.emulator is not None:
                asyncio.run_coroutine_threadsafe(self.emulator.stop(), self._loop).result(10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m device.projector.emulator",
                                     description="PJLink projector emulator (loopback by default)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4352)
    parser.add_argument("--udp-port", type=int, default=None, help="default: same as --port")
    parser.add_argument("--password", default=None)
    parser.add_argument("--class", dest="pjclass", type=int, choices=(1, 2), default=2)
    parser.add_argument("--warm-up", type=float, default=5.0, help="seconds")
    parser.add_argument("--cool-down", type=float, default=5.0, help="seconds")
    parser.add_argument("--name", default="IBC-PROJ")
    parser.add_argument("--mac", default="02:00:00:00:43:52")
    parser.add_argument("--notify", metavar="HOST:PORT", help="send class 2 notifications here")
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    model = ProjectorModel(pjclass=args.pjclass, warm_up_s=args.warm_up,
                           cool_down_s=args.cool_down, name=args.name, mac=args.mac)
    notify = None
    if args.notify:
        host, _, port = args.notify.rpartition(":")
        notify = (host, int(port))
    emulator = PJLinkEmulator(model, host=args.host, port=args.port, password=args.password,
                              udp_port=args.udp_port, notify=notify)
    async with emulator:
        auth = "auth on" if args.password else "no auth"
        print(f"PJLink emulator on {args.host}:{emulator.port} (class {args.pjclass}, {auth}); "
              f"Ctrl-C to stop", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    args = _parse_args(argv)
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"Не удалось запустить эмулятор: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
