"""The projector model (shared by emulator and fake) and the in-memory FakeProjector."""

from __future__ import annotations

import asyncio

import pytest

from device.projector import Projector, make_projector
from device.projector.client import PJLinkClient
from device.projector.errors import (
    InvalidProjectorArgument,
    ProjectorConnectionError,
    ProjectorFailure,
    ProjectorTimeout,
    ProjectorUnavailable,
    UndefinedCommand,
)
from device.projector.fake import FakeProjector
from device.projector.model import ProjectorModel
from device.projector.values import Lamp, MuteState, PowerState


def run(coro, timeout: float = 10.0):
    """Run a coroutine with a hard bound."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def model(clock):
    return ProjectorModel(warm_up_s=30, cool_down_s=60, clock=clock)


def test_power_cycle_with_warm_up_and_cool_down(model, clock):
    assert model.execute(1, "POWR", "?") == "0"
    assert model.execute(1, "POWR", "1") == "OK"
    assert model.execute(1, "POWR", "?") == "3"
    assert model.execute(1, "POWR", "0") == "ERR3"  # cannot switch off while warming
    assert model.execute(1, "LAMP", "?") == "1200 1"
    clock.now += 30
    assert model.execute(1, "POWR", "?") == "1"
    assert model.execute(1, "POWR", "1") == "OK"  # already on
    assert model.execute(1, "POWR", "0") == "OK"
    assert model.execute(1, "POWR", "?") == "2"
    assert model.execute(1, "POWR", "1") == "ERR3"  # cannot switch on while cooling
    assert model.execute(1, "LAMP", "?") == "1200 0"
    clock.now += 60
    assert model.execute(1, "POWR", "?") == "0"
    assert model.execute(1, "POWR", "0") == "OK"
    assert model.execute(1, "POWR", "5") == "ERR2"


def test_input_and_mute_need_power(model):
    assert model.execute(1, "INPT", "31") == "ERR3"
    assert model.execute(1, "INPT", "?") == "ERR3"
    assert model.execute(1, "AVMT", "31") == "ERR3"
    assert model.execute(1, "INPT", "19") == "ERR2"  # not installed: ERR2 before ERR3
    model.set_power_now(PowerState.ON)
    assert model.execute(1, "INPT", "31") == "OK"
    assert model.execute(1, "INPT", "?") == "31"
    assert model.execute(1, "INPT", "3A") == "ERR2"  # class 2 code through class 1
    assert model.execute(1, "AVMT", "?") == "30"
    assert model.execute(1, "AVMT", "11") == "OK"
    assert model.execute(1, "AVMT", "?") == "11"
    assert model.execute(1, "AVMT", "21") == "OK"
    assert model.execute(1, "AVMT", "?") == "31"
    assert model.execute(1, "AVMT", "10") == "OK"
    assert model.execute(1, "AVMT", "?") == "21"
    assert model.execute(1, "AVMT", "30") == "OK"
    assert model.execute(1, "AVMT", "?") == "30"
    assert model.execute(1, "AVMT", "41") == "ERR2"


def test_class_rules(model):
    assert model.execute(1, "XXXX", "?") == "ERR1"
    assert model.execute(1, "SNUM", "?") == "ERR1"  # class 2 command sent as class 1
    assert model.execute(2, "POWR", "?") == "ERR1"  # class 1 only command sent as class 2
    assert model.execute(2, "SNUM", "?") == "EMU0001"
    assert model.execute(2, "INNM", "?32") == "HDMI1"
    assert model.execute(2, "INNM", "?19") == "ERR2"
    assert model.execute(1, "ERST", "1") == "ERR2"  # query-only
    class1 = ProjectorModel(pjclass=1, inputs={"11": "PC", "3A": "x", "61": "y"})
    assert class1.execute(2, "SNUM", "?") == "ERR1"
    assert class1.execute(1, "CLSS", "?") == "1"
    assert class1.execute(1, "INST", "?") == "11"
    assert model.execute(2, "INST", "?") == "11 21 31 32 33 52"


def test_faults_busy_and_lampless(model):
    model.fault = True
    model.errors["lamp"] = "error"
    assert model.execute(1, "POWR", "1") == "ERR4"
    assert model.execute(1, "ERST", "?") == "020000"
    model.busy = True
    assert model.execute(1, "ERST", "?") == "ERR3"
    lampless = ProjectorModel(lamps=[])
    assert lampless.execute(1, "LAMP", "?") == "ERR1"


def test_class2_extras(model):
    assert model.execute(2, "FILT", "?") == "300"
    assert model.execute(2, "RRES", "?") == "1920x1080"
    assert model.execute(2, "IRES", "?") == "ERR3"
    assert model.execute(2, "FREZ", "1") == "ERR3"
    model.set_power_now(PowerState.ON)
    assert model.execute(2, "IRES", "?") == "1920x1080"
    assert model.execute(2, "FREZ", "1") == "OK" and model.execute(2, "FREZ", "?") == "1"
    assert model.execute(2, "SVOL", "1") == "OK" and model.speaker_volume == 11
    assert model.execute(2, "MVOL", "0") == "OK" and model.microphone_volume == 9
    assert model.execute(2, "SVOL", "2") == "ERR2"
    assert model.execute(2, "RLMP", "?") and model.execute(2, "RFIL", "?")


# --- FakeProjector ------------------------------------------------------------------------

def test_fake_and_client_satisfy_the_protocol():
    assert isinstance(FakeProjector(), Projector)
    assert isinstance(PJLinkClient("127.0.0.1"), Projector)
    assert isinstance(make_projector("fake"), FakeProjector)
    assert isinstance(make_projector("pjlink", host="127.0.0.1"), PJLinkClient)
    with pytest.raises(InvalidProjectorArgument):
        make_projector("pjlink")
    with pytest.raises(InvalidProjectorArgument):
        make_projector("serial")


def test_fake_power_on_waits_for_warm_up():
    fake = FakeProjector(ProjectorModel(warm_up_s=0.1, cool_down_s=0.1))

    async def scenario():
        assert await fake.power_on() is PowerState.WARMING
        assert await fake.power_on(wait=True, timeout=2) is PowerState.ON
        assert await fake.set_input("HDMI2") == "33"
        assert await fake.input() == "33"
        await fake.mute("video", True)
        assert await fake.mute_state() == MuteState(True, False)
        status = await fake.status()
        assert (status.power, status.input, status.lamps) == (PowerState.ON, "33",
                                                              [Lamp(1200, True)])
        assert await fake.power_off(wait=True, timeout=2) is PowerState.STANDBY

    run(scenario())
    assert b"%1INPT 33\r" in fake.sent


def test_fake_errors():
    fake = FakeProjector(ProjectorModel(pjclass=1, warm_up_s=5))

    async def scenario():
        with pytest.raises(ProjectorUnavailable):
            await fake.set_input("HDMI1")  # standby: ERR3
        with pytest.raises(ProjectorTimeout, match="warming"):
            await fake.power_on(wait=True, timeout=0.05)
        with pytest.raises(UndefinedCommand):
            await fake.set_input("DIGITALA")  # class 2 input on a class 1 projector
        with pytest.raises(UndefinedCommand):
            await fake.serial_number()
        with pytest.raises(InvalidProjectorArgument):
            await fake.set_input("HDMI7")
        fake.model.fault = True
        fake.model.set_power_now(PowerState.STANDBY)
        with pytest.raises(ProjectorFailure):
            await fake.power_on()
        fake.offline = True
        with pytest.raises(ProjectorConnectionError):
            await fake.power_state()

    run(scenario())


def test_fake_status_in_standby_and_info():
    fake = FakeProjector(ProjectorModel(lamps=[]))

    async def scenario():
        status = await fake.status()
        assert status.power is PowerState.STANDBY
        assert status.input is None and status.mute is None and status.lamps == []
        assert status.lamp_hours is None
        assert await fake.lamps() == []
        info = await fake.info()
        assert (info.pjlink_class, info.serial, info.software_version) == (2, "EMU0001", "1.0")
        labels = {i.code: (i.name, i.label) for i in await fake.inputs()}
        assert labels["32"] == ("DIGITAL2", "HDMI1")
        assert await fake.name() == "IBC-PROJ"
        assert await fake.errors() == dict.fromkeys(
            ("fan", "lamp", "temperature", "cover", "filter", "other"), "ok")

    run(scenario())
