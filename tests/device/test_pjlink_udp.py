"""Class 2 UDP on loopback: SRCH/ACKN discovery and status notifications."""

from __future__ import annotations

import asyncio
import socket

import pytest

from device.projector.client import PJLinkClient
from device.projector.discovery import (
    DiscoveredProjector,
    NotificationListener,
    ProjectorEvent,
    discover,
    parse_event,
)
from device.projector.emulator import PJLinkEmulator
from device.projector.errors import ProjectorProtocolError, ProjectorTimeout
from device.projector.model import ProjectorModel
from device.projector.values import PowerState

HOST = "127.0.0.1"


def run(coro, timeout: float = 10.0):
    """Run a coroutine with a hard bound."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_parse_event():
    assert parse_event(b"%2POWR=1\r", "10.0.0.5") == ProjectorEvent("10.0.0.5", "power",
                                                                      PowerState.ON)
    assert parse_event(b"%2LKUP=AA:BB:CC:DD:EE:FF\r", "x").value == "aa:bb:cc:dd:ee:ff"
    assert parse_event(b"%2INPT=3A\r", "x").kind == "input"
    assert parse_event(b"%2ERST=002000\r", "x").value["temperature"] == "error"
    with pytest.raises(ProjectorProtocolError):
        parse_event(b"%2POWR=9\r", "x")


def test_search_finds_the_emulator_by_mac():
    async def scenario():
        model = ProjectorModel(mac="AA-BB-CC-00-43-52")
        async with PJLinkEmulator(model, udp_port=0) as emu:
            found = await discover(timeout=0.3, address=HOST, port=emu.udp_port,
                                   bind=(HOST, 0))
            return found, emu.searches

    found, searches = run(scenario())
    assert found == [DiscoveredProjector("aa:bb:cc:00:43:52", HOST)]
    assert searches == 1


def test_search_with_nobody_listening_finds_nothing():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((HOST, 0))
        port = s.getsockname()[1]
        assert run(discover(timeout=0.1, address=HOST, port=port, bind=(HOST, 0))) == []


def test_notifications_follow_state_changes():
    seen: list[ProjectorEvent] = []

    async def scenario():
        async with NotificationListener(HOST, 0, callback=seen.append) as listener:
            model = ProjectorModel(warm_up_s=0.1, mac="02:00:00:00:00:01")
            async with PJLinkEmulator(model, udp_port=0, notify=(HOST, listener.port),
                                      tick=0.02) as emu:
                first = await listener.get(2)
                assert (first.kind, first.value) == ("link_up", "02:00:00:00:00:01")
                client = PJLinkClient(HOST, emu.port, timeout=2)
                await client.power_on()
                event = await listener.get(2)
                assert (event.kind, event.value) == ("power", PowerState.ON)
                event = await listener.get(2)
                assert (event.kind, event.value) == ("input", "32")
                await client.set_input("DIGITAL1")
                assert (await listener.get(2)).value == "31"
                model.errors["filter"] = "warning"
                event = await listener.get(2)
                assert event.kind == "errors" and event.value["filter"] == "warning"
                # Garbage datagrams are counted and ignored, not delivered.
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                with sock:
                    sock.sendto(b"%1NAME=hello\r", (HOST, listener.port))
                with pytest.raises(ProjectorTimeout):
                    await listener.get(0.1)
                assert listener.ignored == 1

    run(scenario())
    assert [e.kind for e in seen] == ["link_up", "power", "input", "input", "errors"]
