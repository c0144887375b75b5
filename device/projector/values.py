"""PJLink parameter values: power states, input codes and names, mute, error status, lamps.

Pure functions and small value types; no sockets. Parsers take the value part of a reply
(the text after ``=``) and raise ProjectorProtocolError when a projector sent nonsense;
functions that take caller input raise InvalidProjectorArgument.

Input names: a PJLink input is ``<type><n>``; type 1 RGB, 2 VIDEO, 3 DIGITAL, 4 STORAGE,
5 NETWORK, 6 INTERNAL (class 2 only); n is 1-9 (class 1) or 1-9, A-Z (class 2). So
``DIGITAL1`` is ``31`` and ``RGB2`` is ``12``. Names like ``HDMI1`` are not PJLink: they are
vendor-specific aliases. DEFAULT_INPUT_ALIASES follows Epson (HDMI1 = 32, HDMI2 = 33) and
callers may pass their own table.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from device.projector.errors import InvalidProjectorArgument, ProjectorProtocolError


class PowerState(str, enum.Enum):
    """POWR ? answers."""

    STANDBY = "0"
    ON = "1"
    COOLING = "2"
    WARMING = "3"

    @property
    def label(self) -> str:
        """Lower-case English name used in JSON output ("standby", "on", ...)."""
        return self.name.lower()


def parse_power(value: str) -> PowerState:
    """Parse a POWR value (0 standby, 1 on, 2 cooling, 3 warm-up)."""
    try:
        return PowerState(value)
    except ValueError:
        raise ProjectorProtocolError(f"bad POWR value {value!r}") from None


INPUT_TYPES = {
    "1": "RGB", "2": "VIDEO", "3": "DIGITAL", "4": "STORAGE", "5": "NETWORK", "6": "INTERNAL",
}
_TYPE_CODES = {name: code for code, name in INPUT_TYPES.items()}
CLASS1_INDEXES = "123456789"
CLASS2_INDEXES = "123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Vendor-specific, not PJLink: Epson maps HDMI1/HDMI2 to DIGITAL2/DIGITAL3 (EB-1470Ui manual).
DEFAULT_INPUT_ALIASES: dict[str, str] = {"HDMI1": "32", "HDMI2": "33"}
_NAME_RE = re.compile(r"^(RGB|VIDEO|DIGITAL|STORAGE|NETWORK|INTERNAL)([1-9A-Z])$")


def is_input_code(code: str, pjclass: int = 2) -> bool:
    """True if ``code`` is a valid PJLink input code for the given class."""
    if len(code) != 2:
        return False
    types = "12345" if pjclass == 1 else "123456"
    indexes = CLASS1_INDEXES if pjclass == 1 else CLASS2_INDEXES
    return code[0] in types and code[1] in indexes


def input_class(code: str) -> int:
    """The lowest PJLink class able to address this input code (1 or 2)."""
    return 1 if is_input_code(code, 1) else 2


def input_name(code: str) -> str:
    """Standard name of an input code: "31" -> "DIGITAL1"."""
    if not is_input_code(code):
        raise InvalidProjectorArgument(f"not a PJLink input code: {code!r}")
    return INPUT_TYPES[code[0]] + code[1]


def resolve_input(name_or_code: str, aliases: dict[str, str] | None = None) -> str:
    """Turn "31", "DIGITAL1" or an alias ("HDMI1") into a PJLink input code."""
    text = name_or_code.strip().upper()
    table = DEFAULT_INPUT_ALIASES if aliases is None else {k.upper(): v for k, v in aliases.items()}
    if text in table:
        text = table[text].strip().upper()
    if is_input_code(text):
        return text
    match = _NAME_RE.match(text)
    if match:
        return _TYPE_CODES[match.group(1)] + match.group(2)
    known = ", ".join(sorted(table)) or "none"
    raise InvalidProjectorArgument(
        f"unknown input {name_or_code!r}: use a code like 31, a name like DIGITAL1 "
        f"or an alias ({known})"
    )


def parse_input(value: str) -> str:
    """Parse an INPT ? value into an input code."""
    code = value.strip().upper()
    if not is_input_code(code):
        raise ProjectorProtocolError(f"bad INPT value {value!r}")
    return code


def parse_input_list(value: str) -> list[str]:
    """Parse an INST ? value ("11 21 31 32") into input codes."""
    return [parse_input(item) for item in value.split()]


@dataclass(frozen=True)
class InputInfo:
    """One available input: its code, standard name and (class 2) the projector's label."""

    code: str
    name: str
    label: str | None = None


@dataclass(frozen=True)
class MuteState:
    """Audio/video mute flags."""

    video: bool
    audio: bool


MUTE_TARGETS = {"video": "1", "audio": "2", "both": "3"}


def encode_mute(target: str, on: bool) -> str:
    """AVMT parameter for muting ``target`` (video/audio/both) on or off."""
    try:
        return MUTE_TARGETS[target.lower()] + ("1" if on else "0")
    except KeyError:
        raise InvalidProjectorArgument(
            f"unknown mute target {target!r}: use video, audio or both") from None


def parse_mute(value: str) -> MuteState:
    """Parse an AVMT ? value (11, 21, 31, 30; 10/20 also accepted)."""
    table = {
        "11": MuteState(True, False), "21": MuteState(False, True), "31": MuteState(True, True),
        "30": MuteState(False, False), "10": MuteState(False, False), "20": MuteState(False, False),
    }
    try:
        return table[value]
    except KeyError:
        raise ProjectorProtocolError(f"bad AVMT value {value!r}") from None


def encode_mute_state(state: MuteState) -> str:
    """The AVMT ? answer a projector gives for ``state``."""
    if state.video and state.audio:
        return "31"
    if state.video:
        return "11"
    return "21" if state.audio else "30"


ERROR_FIELDS = ("fan", "lamp", "temperature", "cover", "filter", "other")
ERROR_LEVELS = {"0": "ok", "1": "warning", "2": "error"}
_LEVEL_CODES = {name: code for code, name in ERROR_LEVELS.items()}


def parse_errors(value: str) -> dict[str, str]:
    """Parse ERST ? (6 digits) into {fan, lamp, temperature, cover, filter, other: level}."""
    if len(value) != 6 or any(ch not in ERROR_LEVELS for ch in value):
        raise ProjectorProtocolError(f"bad ERST value {value!r}")
    return {name: ERROR_LEVELS[ch] for name, ch in zip(ERROR_FIELDS, value)}


def encode_errors(errors: dict[str, str]) -> str:
    """The ERST value for an error dict (missing fields are "ok")."""
    unknown = set(errors) - set(ERROR_FIELDS)
    if unknown:
        raise InvalidProjectorArgument(f"unknown error fields: {sorted(unknown)}")
    try:
        return "".join(_LEVEL_CODES[errors.get(name, "ok")] for name in ERROR_FIELDS)
    except KeyError as exc:
        raise InvalidProjectorArgument(f"bad error level {exc.args[0]!r}") from None


@dataclass(frozen=True)
class Lamp:
    """One lamp: cumulative hours and whether it is lit."""

    hours: int
    on: bool


def parse_lamps(value: str) -> list[Lamp]:
    """Parse LAMP ? ("1200 1 30 0") into lamps (at most 8 pairs)."""
    parts = value.split()
    if not parts or len(parts) % 2 or len(parts) > 16:
        raise ProjectorProtocolError(f"bad LAMP value {value!r}")
    lamps = []
    for hours, lit in zip(parts[::2], parts[1::2]):
        if not hours.isdigit() or lit not in ("0", "1"):
            raise ProjectorProtocolError(f"bad LAMP value {value!r}")
        lamps.append(Lamp(int(hours), lit == "1"))
    return lamps


def encode_lamps(lamps: list[Lamp]) -> str:
    """The LAMP ? value for a list of lamps."""
    return " ".join(f"{lamp.hours} {1 if lamp.on else 0}" for lamp in lamps)


def parse_class(value: str) -> int:
    """Parse CLSS ? into 1 or 2."""
    if value not in ("1", "2"):
        raise ProjectorProtocolError(f"bad CLSS value {value!r}")
    return int(value)


def parse_resolution(value: str) -> tuple[int, int] | None:
    """Parse IRES/RRES ("1920x1080"); None for "-" (no signal) or "*" (unknown)."""
    if value in ("-", "*"):
        return None
    match = re.fullmatch(r"(\d+)[xX](\d+)", value)
    if not match:
        raise ProjectorProtocolError(f"bad resolution {value!r}")
    return int(match.group(1)), int(match.group(2))


def parse_int(value: str, command: str) -> int:
    """Parse a plain counter such as FILT ? (filter hours)."""
    if not value.isdigit():
        raise ProjectorProtocolError(f"bad {command} value {value!r}")
    return int(value)


def parse_flag(value: str, command: str) -> bool:
    """Parse a 0/1 value such as FREZ ?."""
    if value not in ("0", "1"):
        raise ProjectorProtocolError(f"bad {command} value {value!r}")
    return value == "1"


@dataclass(frozen=True)
class ProjectorInfo:
    """Identity of a projector (NAME, INF1, INF2, INFO, CLSS; SNUM/SVER for class 2)."""

    name: str
    manufacturer: str
    product: str
    other: str
    pjlink_class: int
    serial: str | None = None
    software_version: str | None = None


@dataclass(frozen=True)
class ProjectorStatus:
    """One snapshot of a projector; input/mute are None when the power state hides them."""

    power: PowerState
    input: str | None = None
    mute: MuteState | None = None
    errors: dict[str, str] = field(default_factory=dict)
    lamps: list[Lamp] = field(default_factory=list)

    @property
    def lamp_hours(self) -> int | None:
        """Hours of the first lamp, if the projector has one."""
        return self.lamps[0].hours if self.lamps else None

    def to_dict(self) -> dict:
        """Plain JSON-ready form."""
        return {
            "power": self.power.label,
            "input": self.input,
            "input_name": input_name(self.input) if self.input else None,
            "mute": None if self.mute is None else {"video": self.mute.video,
                                                    "audio": self.mute.audio},
            "errors": dict(self.errors),
            "lamps": [{"hours": lamp.hours, "on": lamp.on} for lamp in self.lamps],
        }
