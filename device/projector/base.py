"""The Projector interface and the high-level PJLink operations shared by every backend.

A backend supplies only ``session()``: an async context manager yielding a Session that sends
one command and returns its Reply. ProjectorOperations builds everything else on top (power
with wait, inputs by name, mute, status snapshot), so the real client and the fake behave the
same by construction.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol, TypeVar, runtime_checkable

from device.projector.errors import (
    ProjectorTimeout,
    ProjectorUnavailable,
    UndefinedCommand,
)
from device.projector.protocol import Reply, check_reply
from device.projector.values import (
    DEFAULT_INPUT_ALIASES,
    InputInfo,
    Lamp,
    MuteState,
    PowerState,
    ProjectorInfo,
    ProjectorStatus,
    encode_mute,
    input_class,
    input_name,
    parse_class,
    parse_errors,
    parse_input,
    parse_input_list,
    parse_lamps,
    parse_mute,
    parse_power,
    resolve_input,
)


@runtime_checkable
class Projector(Protocol):
    """What the rest of ibc-kiosk may ask of a projector (real client or fake)."""

    async def power_state(self) -> PowerState: ...
    async def power_on(self, wait: bool = False, timeout: float = 60.0) -> PowerState: ...
    async def power_off(self, wait: bool = False, timeout: float = 120.0) -> PowerState: ...
    async def set_input(self, name_or_code: str) -> str: ...
    async def input(self) -> str: ...
    async def inputs(self) -> list[InputInfo]: ...
    async def mute(self, target: str = "both", on: bool = True) -> None: ...
    async def mute_state(self) -> MuteState: ...
    async def errors(self) -> dict[str, str]: ...
    async def lamps(self) -> list[Lamp]: ...
    async def name(self) -> str: ...
    async def info(self) -> ProjectorInfo: ...
    async def pjlink_class(self) -> int: ...
    async def serial_number(self) -> str: ...
    async def software_version(self) -> str: ...
    async def status(self) -> ProjectorStatus: ...


class Session(Protocol):
    """One open conversation with a projector."""

    async def request(self, command: str, param: str, pjclass: int = 1) -> Reply: ...


class ProjectorOperations(ABC):
    """High-level PJLink operations over ``session()``; subclasses implement ``session``."""

    poll_interval = 1.0

    def __init__(self, input_aliases: dict[str, str] | None = None) -> None:
        self.input_aliases = dict(DEFAULT_INPUT_ALIASES if input_aliases is None else input_aliases)
        self._class: int | None = None

    @abstractmethod
    def session(self) -> AbstractAsyncContextManager[Session]:
        """Open one batch of commands (one TCP connection for the real client)."""

    @staticmethod
    async def _call(session: Session, command: str, param: str = "?", pjclass: int = 1) -> str:
        reply = await session.request(command, param, pjclass)
        return check_reply(reply, command, pjclass)

    async def _one(self, command: str, param: str = "?", pjclass: int = 1) -> str:
        async with self.session() as s:
            return await self._call(s, command, param, pjclass)

    async def _class_of(self, session: Session) -> int:
        if self._class is None:
            self._class = parse_class(await self._call(session, "CLSS"))
        return self._class

    # --- power -----------------------------------------------------------------------

    async def power_state(self) -> PowerState:
        """Current power state."""
        return parse_power(await self._one("POWR"))

    async def power_on(self, wait: bool = False, timeout: float = 60.0) -> PowerState:
        """Switch on; with ``wait`` poll until warm-up ends (ProjectorTimeout after ``timeout``)."""
        await self._one("POWR", "1")
        return await self._settle(PowerState.ON, timeout) if wait else await self.power_state()

    async def power_off(self, wait: bool = False, timeout: float = 120.0) -> PowerState:
        """Switch to standby; with ``wait`` poll until cool-down ends."""
        await self._one("POWR", "0")
        return await self._settle(PowerState.STANDBY, timeout) if wait else await self.power_state()

    async def _settle(self, target: PowerState, timeout: float) -> PowerState:
        # Some projectors still report the old state for a moment after OK, so keep polling
        # until the target is reached rather than stopping at the first stable-looking state.
        deadline = time.monotonic() + timeout
        state: PowerState | None = None
        while True:
            try:
                state = await self.power_state()
            except ProjectorUnavailable:  # busy while switching: ask again
                state = None
            if state is target:
                return state
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = state.label if state else "busy"
                raise ProjectorTimeout(
                    f"power did not reach {target.label} within {timeout:g} s (last: {seen})")
            await asyncio.sleep(min(self.poll_interval, remaining))

    # --- inputs ----------------------------------------------------------------------

    async def set_input(self, name_or_code: str) -> str:
        """Select an input by code "31", name "DIGITAL1" or alias "HDMI1"; returns the code."""
        code = resolve_input(name_or_code, self.input_aliases)
        async with self.session() as s:
            pjclass = 2 if input_class(code) == 2 else 1
            if pjclass == 2 and await self._class_of(s) < 2:
                raise UndefinedCommand("INPT", f"input {code} needs a PJLink class 2 projector")
            await self._call(s, "INPT", code, pjclass)
        return code

    async def input(self) -> str:
        """Current input code."""
        async with self.session() as s:
            return parse_input(await self._call(s, "INPT", "?", await self._class_of(s)))

    async def inputs(self) -> list[InputInfo]:
        """Installed inputs, with the projector's own labels on class 2 projectors."""
        async with self.session() as s:
            pjclass = await self._class_of(s)
            codes = parse_input_list(await self._call(s, "INST", "?", pjclass))
            result = []
            for code in codes:
                label = None
                if pjclass == 2:
                    reply = await s.request("INNM", "?" + code, 2)
                    label = None if reply.error_code else reply.value
                result.append(InputInfo(code, input_name(code), label))
            return result

    # --- mute, status, identity ------------------------------------------------------

    async def mute(self, target: str = "both", on: bool = True) -> None:
        """Mute (or unmute) video, audio or both."""
        await self._one("AVMT", encode_mute(target, on))

    async def mute_state(self) -> MuteState:
        """Current mute flags."""
        return parse_mute(await self._one("AVMT"))

    async def errors(self) -> dict[str, str]:
        """ERST as {fan, lamp, temperature, cover, filter, other: ok|warning|error}."""
        return parse_errors(await self._one("ERST"))

    async def lamps(self) -> list[Lamp]:
        """Lamp hours and lit flags; empty for a projector without lamps (ERR1)."""
        try:
            return parse_lamps(await self._one("LAMP"))
        except UndefinedCommand:
            return []

    async def name(self) -> str:
        """The projector's NAME."""
        return await self._one("NAME")

    async def pjlink_class(self) -> int:
        """PJLink class (1 or 2)."""
        async with self.session() as s:
            return await self._class_of(s)

    async def serial_number(self) -> str:
        """Serial number (class 2)."""
        return await self._one("SNUM", "?", 2)

    async def software_version(self) -> str:
        """Software version (class 2)."""
        return await self._one("SVER", "?", 2)

    async def info(self) -> ProjectorInfo:
        """Name, manufacturer, product, other info, class (+ serial and version on class 2)."""
        async with self.session() as s:
            pjclass = await self._class_of(s)
            name, manufacturer, product, other = [
                await self._call(s, cmd) for cmd in ("NAME", "INF1", "INF2", "INFO")]
            serial = version = None
            if pjclass == 2:
                serial = await self._call(s, "SNUM", "?", 2)
                version = await self._call(s, "SVER", "?", 2)
            return ProjectorInfo(name, manufacturer, product, other, pjlink_class=pjclass,
                                 serial=serial, software_version=version)

    async def status(self) -> ProjectorStatus:
        """Power, input, mute, errors and lamps in one connection."""
        async with self.session() as s:
            power = parse_power(await self._call(s, "POWR"))
            current = mute = None
            if power is PowerState.ON:
                current = await _optional(s, "INPT", parse_input)
                mute = await _optional(s, "AVMT", parse_mute)
            errors = parse_errors(await self._call(s, "ERST"))
            lamps = await _optional(s, "LAMP", parse_lamps) or []
            return ProjectorStatus(power, current, mute, errors, lamps)


_T = TypeVar("_T")


async def _optional(session: Session, command: str, parse: Callable[[str], _T]) -> _T | None:
    """Query that may legitimately be refused (ERR1/ERR3): None instead of an error."""
    reply = await session.request(command, "?", 1)
    if reply.error_code in ("ERR1", "ERR3"):
        return None
    return parse(check_reply(reply, command, 1))
