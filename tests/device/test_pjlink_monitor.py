"""ProjectorMonitor: background polling, last good state kept when the projector goes away."""

from __future__ import annotations

import asyncio

from device.projector.client import PJLinkClient
from device.projector.emulator import PJLinkEmulator
from device.projector.errors import ProjectorConnectionError, ProjectorTimeout
from device.projector.fake import FakeProjector
from device.projector.model import ProjectorModel
from device.projector.monitor import ProjectorMonitor
from device.projector.values import PowerState


def run(coro, timeout: float = 10.0):
    """Run a coroutine with a hard bound."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_monitor_keeps_last_good_state_when_emulator_stops():
    async def scenario():
        model = ProjectorModel()
        model.set_power_now(PowerState.ON)
        emu = PJLinkEmulator(model, udp_port=0)
        await emu.start()
        monitor = ProjectorMonitor(PJLinkClient("127.0.0.1", emu.port, timeout=0.5), interval=0.05)
        calls = []
        monitor.add_listener(lambda m: calls.append(m.available))
        async with monitor:
            while monitor.polls < 2:
                await asyncio.sleep(0.01)
            assert monitor.running and monitor.available and monitor.last_error is None
            good = monitor.state
            assert (good.power, good.input, good.lamp_hours) == (PowerState.ON, "32", 1200)
            await emu.stop()
            polls = monitor.polls
            while monitor.polls < polls + 2:
                await asyncio.sleep(0.01)
            assert monitor.available is False
            assert isinstance(monitor.last_error, ProjectorConnectionError)
            assert monitor.state is good  # last good state is kept
        assert not monitor.running
        assert calls[0] is True and calls[-1] is False
        # Back online: a manual refresh recovers.
        await emu.start()
        try:
            monitor.projector.port = emu.port
            assert (await monitor.refresh()).power is PowerState.ON
            assert monitor.available and monitor.last_error is None
        finally:
            await emu.stop()

    run(scenario())


def test_monitor_with_fake_and_bad_listener():
    async def scenario():
        fake = FakeProjector()
        monitor = ProjectorMonitor(fake, interval=60)
        monitor.add_listener(lambda m: 1 / 0)  # must not break monitoring
        remove = monitor.add_listener(lambda m: None)
        remove()
        assert (await monitor.refresh()).power is PowerState.STANDBY
        fake.offline = True
        assert await monitor.refresh() is None
        assert not monitor.available and monitor.state.power is PowerState.STANDBY

    run(scenario())


class _Slow(FakeProjector):
    async def status(self):
        await asyncio.sleep(5)


def test_monitor_bounds_a_hanging_poll():
    async def scenario():
        monitor = ProjectorMonitor(_Slow(), timeout=0.05)
        assert await monitor.refresh() is None
        assert isinstance(monitor.last_error, ProjectorTimeout)

    run(scenario())
