"""PJLinkClient against the PJLink emulator (and some misbehaving servers) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from device.projector.client import PJLinkClient
from device.projector.emulator import PJLinkEmulator
from device.projector.emulator import main as emulator_main
from device.projector.errors import (
    OutOfRange,
    ProjectorAuthError,
    ProjectorConnectionError,
    ProjectorFailure,
    ProjectorProtocolError,
    ProjectorTimeout,
    ProjectorUnavailable,
    UndefinedCommand,
)
from device.projector.model import ProjectorModel
from device.projector.values import MuteState, PowerState

HOST = "127.0.0.1"


def run(coro, timeout: float = 10.0):
    """Run a coroutine with a hard bound."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def client_for(emu: PJLinkEmulator, **kwargs) -> PJLinkClient:
    kwargs.setdefault("timeout", 2.0)
    kwargs.setdefault("poll_interval", 0.02)
    return PJLinkClient(HOST, emu.port, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def test_full_session_without_auth():
    async def scenario():
        async with PJLinkEmulator(ProjectorModel(warm_up_s=0.2), udp_port=0) as emu:
            client = client_for(emu)
            assert await client.pjlink_class() == 2
            info = await client.info()
            assert (info.manufacturer, info.product) == ("IBC", "Emulator 1")
            assert info.serial == "EMU0001"
            started = time.monotonic()
            assert await client.power_on(wait=True, timeout=3) is PowerState.ON
            assert time.monotonic() - started >= 0.15  # it really waited for warm-up
            assert await client.set_input("HDMI1") == "32"
            assert await client.input() == "32"
            assert await client.set_input("digital1") == "31"
            await client.mute("both", True)
            assert await client.mute_state() == MuteState(True, True)
            await client.mute("both", False)
            status = await client.status()
            assert status.power is PowerState.ON and status.input == "31"
            assert status.lamp_hours == 1200 and status.errors["fan"] == "ok"
            assert [i.code for i in await client.inputs()] == ["11", "21", "31", "32", "33", "52"]
            assert await client.software_version() == "1.0"
            assert await client.power_off(wait=True, timeout=3) is PowerState.STANDBY
            return emu

    emu = run(scenario())
    assert b"%1INPT 32\r" in emu.received
    assert emu.connections >= 10  # one connection per call, as real projectors expect


def test_auth_correct_password():
    async def scenario():
        async with PJLinkEmulator(password="JBMIAProjectorLink", udp_port=0) as emu:
            client = client_for(emu, password="JBMIAProjectorLink")
            assert await client.power_state() is PowerState.STANDBY
            assert (await client.status()).power is PowerState.STANDBY
            return emu

    emu = run(scenario())
    first = emu.received[0]
    assert len(first) == 32 + len(b"%1POWR ?\r") and first.endswith(b"%1POWR ?\r")
    # Each call is a new connection with a new random; within one, only the first line has it.
    assert emu.received[1].endswith(b"%1POWR ?\r") and emu.received[1] != first
    assert emu.received[2] == b"%1ERST ?\r"


@pytest.mark.parametrize("password", ["wrong", None, ""])
def test_auth_wrong_or_missing_password(password):
    async def scenario():
        async with PJLinkEmulator(password="secret", udp_port=0) as emu:
            with pytest.raises(ProjectorAuthError):
                await client_for(emu, password=password).power_state()

    run(scenario())


def test_errors_from_the_projector():
    async def scenario():
        model = ProjectorModel(warm_up_s=5)
        async with PJLinkEmulator(model, udp_port=0) as emu:
            client = client_for(emu)
            with pytest.raises(ProjectorUnavailable):  # ERR3: input change in standby
                await client.set_input("HDMI1")
            await client.power_on()
            with pytest.raises(ProjectorTimeout, match="warming"):
                await client.power_on(wait=True, timeout=0.1)
            model.set_power_now(PowerState.ON)
            with pytest.raises(OutOfRange):  # ERR2: well formed but not installed
                await client.set_input("RGB9")
            model.fault = True
            model.set_power_now(PowerState.STANDBY)
            with pytest.raises(ProjectorFailure):
                await client.power_on()

    run(scenario())


def test_class1_projector():
    async def scenario():
        model = ProjectorModel(pjclass=1)
        async with PJLinkEmulator(model) as emu:
            client = client_for(emu)
            assert emu.udp_port is None  # class 1 has no UDP side
            info = await client.info()
            assert info.pjlink_class == 1 and info.serial is None
            assert all(i.label is None for i in await client.inputs())
            with pytest.raises(UndefinedCommand):
                await client.set_input("DIGITALA")
            with pytest.raises(UndefinedCommand):
                await client.serial_number()

    run(scenario())


def test_connection_refused():
    client = PJLinkClient(HOST, free_port(), timeout=1)
    with pytest.raises(ProjectorConnectionError) as info:
        run(client.power_state())
    assert isinstance(info.value.__cause__, OSError)


async def _serve(handler):
    server = await asyncio.start_server(handler, HOST, 0)
    return server, server.sockets[0].getsockname()[1]


async def _silent(reader, writer):
    await reader.read()  # accept, never answer; ends when the client gives up
    writer.close()


async def _greet_then_silent(reader, writer):
    writer.write(b"PJLINK 0\r")
    await reader.read()
    writer.close()


async def _hang_up(reader, writer):
    writer.close()


async def _not_pjlink(reader, writer):
    writer.write(b"SSH-2.0-OpenSSH_9.2\r\n")
    await writer.drain()
    writer.close()


@pytest.mark.parametrize(("handler", "error"), [
    (_silent, ProjectorTimeout),
    (_greet_then_silent, ProjectorTimeout),
    (_hang_up, ProjectorConnectionError),
    (_not_pjlink, ProjectorProtocolError),
])
def test_misbehaving_servers(handler, error):
    async def scenario():
        server, port = await _serve(handler)
        async with server:
            started = time.monotonic()
            with pytest.raises(error):
                await PJLinkClient(HOST, port, timeout=0.3).power_state()
            assert time.monotonic() - started < 2

    run(scenario())


async def _raw(emu: PJLinkEmulator, data: bytes, read_lines: int = 1) -> list[bytes]:
    reader, writer = await asyncio.open_connection(HOST, emu.port)
    try:
        lines = [await reader.readuntil(b"\r")]
        writer.write(data)
        await writer.drain()
        for _ in range(read_lines):
            line = await asyncio.wait_for(reader.read(200), 2)
            lines.append(line)
        return lines
    finally:
        writer.close()


def test_emulator_raw_transcripts():
    async def scenario():
        async with PJLinkEmulator(udp_port=0, idle_timeout=0.2) as emu:
            assert await _raw(emu, b"%1POWR ?\r") == [b"PJLINK 0\r", b"%1POWR=0\r"]
            assert (await _raw(emu, b"%1ABCD ?\r"))[1] == b"%1ABCD=ERR1\r"
            assert (await _raw(emu, b"%1NAME " + b"x" * 129 + b"\r"))[1] == b"%1NAME=ERR2\r"
            assert (await _raw(emu, b"%1POWR\r"))[1] == b"%1POWR=ERR2\r"
            assert (await _raw(emu, b"hello\r"))[1] == b""  # not PJLink: connection closed
            assert (await _raw(emu, b""))[1] == b""  # idle connection closed by the projector

    run(scenario())


def test_emulator_raw_auth():
    async def scenario():
        async with PJLinkEmulator(password="pw", udp_port=0) as emu:
            lines = await _raw(emu, b"%1POWR ?\r")
            assert lines[0].startswith(b"PJLINK 1 ") and len(lines[0]) == len(b"PJLINK 1 ") + 9
            assert lines[1] == b"PJLINK ERRA\r"

    run(scenario())


def test_emulator_command_line(capsys):
    assert emulator_main(["--port", str(free_port()), "--host", "256.0.0.1"]) == 1
    assert "эмулятор" in capsys.readouterr().err
