"""The behaviour of a PJLink projector as a pure state machine, shared by the emulator and the fake.

``ProjectorModel.execute(pjclass, command, param)`` returns the reply value ("OK", "1",
"ERR3", ...) exactly as a projector would put it after ``=``. Time comes from an injectable
clock so warm-up and cool-down are testable without sleeping.

Rules modelled on the spec and common projectors (documented where a projector may differ):
- POWR 1 in standby starts warm-up (state 3) then on (1); POWR 0 when on starts cooling (2)
  then standby (0). POWR 1 while cooling and POWR 0 while warming answer ERR3; repeating the
  current target answers OK. With ``fault`` set, POWR 1 answers ERR4 (lamp failure).
- INPT, AVMT, FREZ and IRES need the power on: otherwise ERR3 (set and query).
- An input code that is well formed but not installed answers ERR2; a malformed one ERR2.
- Class 1 commands answer only as class 1; INPT/INST exist in both; class 2 commands on a
  class 1 projector answer ERR1. Query-only commands given a parameter other than "?" answer ERR2.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from device.projector.values import (
    ERROR_FIELDS,
    Lamp,
    MuteState,
    PowerState,
    encode_errors,
    encode_lamps,
    encode_mute_state,
    input_class,
    is_input_code,
)

CLASS1_COMMANDS = {"POWR", "INPT", "AVMT", "ERST", "LAMP", "INST", "NAME", "INF1", "INF2",
                   "INFO", "CLSS"}
CLASS2_COMMANDS = {"INPT", "INST", "SNUM", "SVER", "INNM", "IRES", "RRES", "FILT", "RLMP",
                   "RFIL", "SVOL", "MVOL", "FREZ"}


@dataclass
class ProjectorModel:
    """State of one emulated projector; mutate the fields freely in tests."""

    pjclass: int = 2
    name: str = "IBC-PROJ"
    manufacturer: str = "IBC"
    product: str = "Emulator 1"
    other: str = "ibc-kiosk PJLink emulator"
    serial: str = "EMU0001"
    software_version: str = "1.0"
    mac: str = "02:00:00:00:43:52"
    inputs: dict[str, str] = field(default_factory=lambda: {
        "11": "Computer", "21": "Video", "31": "DVI-D", "32": "HDMI1", "33": "HDMI2",
        "52": "LAN"})
    input: str = "32"
    warm_up_s: float = 0.0
    cool_down_s: float = 0.0
    lamps: list[Lamp] = field(default_factory=lambda: [Lamp(1200, False)])
    errors: dict[str, str] = field(default_factory=lambda: {name: "ok" for name in ERROR_FIELDS})
    fault: bool = False
    busy: bool = False
    filter_hours: int = 300
    resolution: str = "1920x1080"
    clock: Callable[[], float] = time.monotonic
    mute: MuteState = MuteState(False, False)
    frozen: bool = False
    speaker_volume: int = 10
    microphone_volume: int = 10
    _power: PowerState = PowerState.STANDBY
    _until: float = 0.0

    @property
    def power(self) -> PowerState:
        """Current power state, advancing warm-up/cool-down by the clock."""
        if self._power in (PowerState.WARMING, PowerState.COOLING) and self.clock() >= self._until:
            self._power = PowerState.ON if self._power is PowerState.WARMING else PowerState.STANDBY
            self._light()
        return self._power

    def set_power_now(self, state: PowerState) -> None:
        """Jump straight to a power state (test set-up)."""
        self._power = state
        self._until = self.clock()
        self._light()

    def _light(self) -> None:
        lit = self._power in (PowerState.ON, PowerState.WARMING)
        self.lamps = [Lamp(lamp.hours, lit) for lamp in self.lamps]

    def _start(self, state: PowerState, seconds: float) -> None:
        final = PowerState.ON if state is PowerState.WARMING else PowerState.STANDBY
        self._power = state if seconds > 0 else final
        self._until = self.clock() + seconds
        self._light()

    def execute(self, pjclass: int, command: str, param: str) -> str:
        """Run one command and return the reply value ("OK", a value or "ERRn")."""
        allowed = CLASS1_COMMANDS if pjclass == 1 else CLASS2_COMMANDS
        if command not in allowed or pjclass > self.pjclass:
            return "ERR1"
        if self.busy:
            return "ERR3"
        handler = getattr(self, f"_cmd_{command.lower()}")
        return handler(pjclass, param)

    # --- class 1 ---------------------------------------------------------------------

    def _cmd_powr(self, pjclass: int, param: str) -> str:
        state = self.power
        if param == "?":
            return state.value
        if param == "1":
            if self.fault:
                return "ERR4"
            if state is PowerState.COOLING:
                return "ERR3"
            if state is PowerState.STANDBY:
                self._start(PowerState.WARMING, self.warm_up_s)
            return "OK"
        if param == "0":
            if state is PowerState.WARMING:
                return "ERR3"
            if state is PowerState.ON:
                self._start(PowerState.COOLING, self.cool_down_s)
            return "OK"
        return "ERR2"

    def _cmd_inpt(self, pjclass: int, param: str) -> str:
        if param != "?" and (not is_input_code(param, pjclass) or param not in self.inputs):
            return "ERR2"
        if self.power is not PowerState.ON:
            return "ERR3"
        if param == "?":
            return self.input
        self.input = param
        return "OK"

    def _cmd_avmt(self, pjclass: int, param: str) -> str:
        if param not in ("?", "10", "11", "20", "21", "30", "31"):
            return "ERR2"
        if self.power is not PowerState.ON:
            return "ERR3"
        if param == "?":
            return encode_mute_state(self.mute)
        on = param[1] == "1"
        video = on if param[0] in "13" else self.mute.video
        audio = on if param[0] in "23" else self.mute.audio
        self.mute = MuteState(video, audio)
        return "OK"

    def _query(self, param: str, value: Callable[[], str]) -> str:
        return value() if param == "?" else "ERR2"

    def _cmd_erst(self, pjclass: int, param: str) -> str:
        return self._query(param, lambda: encode_errors(self.errors))

    def _cmd_lamp(self, pjclass: int, param: str) -> str:
        if not self.lamps:  # laser/LED light source: spec says ERR1
            return "ERR1"
        self.power  # noqa: B018 - advance the clock so the lit flags are current
        return self._query(param, lambda: encode_lamps(self.lamps))

    def _cmd_inst(self, pjclass: int, param: str) -> str:
        codes = [code for code in self.inputs if pjclass == 2 or input_class(code) == 1]
        return self._query(param, lambda: " ".join(codes))

    def _cmd_name(self, pjclass: int, param: str) -> str:
        return self._query(param, lambda: self.name)

    def _cmd_inf1(self, pjclass: int, param: str) -> str:
        return self._query(param, lambda: self.manufacturer)

    def _cmd_inf2(self, pjclass: int, param: str) -> str:
        return self._query(param, lambda: self.product)

    def _cmd_info(self, pjclass: int, param: str) -> str:
        return self._query(param, lambda: self.other)

    def _cmd_clss(self, pjclass: int, param: str) -> str:
        return self._query(param, lambda: str(self.pjclass))

    # --- class 2 ---------------------------------------------------------------------

    def _cmd_snum(self, pjclass: int, param: str) -> str:
        return self._query(param, lambda: self.serial)

    def _cmd_sver(self, pjclass: int, param: str) -> str:
        return self._query(param, lambda: self.software_version)

    def _cmd_innm(self, pjclass: int, param: str) -> str:
        code = param[1:] if param.startswith("?") else ""
        return self.inputs.get(code, "ERR2")

    def _cmd_ires(self, pjclass: int, param: str) -> str:
        if param != "?":
            return "ERR2"
        return self.resolution if self.power is PowerState.ON else "ERR3"

    def _cmd_rres(self, pjclass: int, param: str) -> str:
        return self._query(param, lambda: "1920x1080")

    def _cmd_filt(self, pjclass: int, param: str) -> str:
        return self._query(param, lambda: str(self.filter_hours))

    def _cmd_rlmp(self, pjclass: int, param: str) -> str:
        return self._query(param, lambda: "ELPLP96")

    def _cmd_rfil(self, pjclass: int, param: str) -> str:
        return self._query(param, lambda: "ELPAF32")

    def _cmd_svol(self, pjclass: int, param: str) -> str:
        if param not in ("0", "1"):
            return "ERR2"
        self.speaker_volume = max(0, min(20, self.speaker_volume + (1 if param == "1" else -1)))
        return "OK"

    def _cmd_mvol(self, pjclass: int, param: str) -> str:
        if param not in ("0", "1"):
            return "ERR2"
        step = 1 if param == "1" else -1
        self.microphone_volume = max(0, min(20, self.microphone_volume + step))
        return "OK"

    def _cmd_frez(self, pjclass: int, param: str) -> str:
        if param not in ("?", "0", "1"):
            return "ERR2"
        if self.power is not PowerState.ON:
            return "ERR3"
        if param == "?":
            return "1" if self.frozen else "0"
        self.frozen = param == "1"
        return "OK"
