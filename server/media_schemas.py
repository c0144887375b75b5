"""Request and response bodies of the media remote control (/api/v1/media/...)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from library.text import NO_CONTROLS_PATTERN

MediaId = Annotated[int, Field(ge=1, le=2**62)]
LessonName = Annotated[str, Field(min_length=1, max_length=100, pattern=NO_CONTROLS_PATTERN)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PlayIn(_In):
    """What to play: exactly one of item_id, lesson (the teacher's own) or items."""

    item_id: MediaId | None = None
    lesson: LessonName | None = None
    items: list[MediaId] | None = Field(None, min_length=1, max_length=200)
    projector: bool = Field(False, description="switch the projector on and select its input first")
    resume: bool = Field(True, description="start where this teacher stopped (item_id/items)")

    @model_validator(mode="after")
    def _exactly_one(self) -> PlayIn:
        given = [x for x in (self.item_id, self.lesson, self.items) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of item_id, lesson, items")
        return self


class SeekIn(_In):
    """A position within the current item."""

    position_s: float = Field(ge=0, le=86_400)


class VolumeIn(_In):
    """Volume in percent."""

    volume: int = Field(ge=0, le=100)


class LessonIn(_In):
    """A teacher's lesson: an ordered list of media items."""

    name: LessonName
    items: list[MediaId] = Field(min_length=1, max_length=200)


class ProjectorOut(BaseModel):
    """The projector as the station last saw it (power/input re-read about every second)."""

    configured: bool
    state: str = Field(description="unused | warming | ready | error | off (station automation)")
    power: str | None = Field(None, description="standby | on | cooling | warming (PJLink)")
    input: str | None = Field(None, description="input name, e.g. DIGITAL2")
    input_code: str | None = Field(None, description="PJLink input code, e.g. 32")
    muted: bool | None = None
    faults: dict[str, str] = {}
    last_error: str | None = Field(None, description="Russian text of the last projector failure")
    checked_at: float | None = Field(None, description="Unix time power/input were read")


class ScreenOut(BaseModel):
    """Where the film is shown on the station PC."""

    output: str = Field(description="the output the film window covers, e.g. HDMI-1 1920×1080+1280+0")
    visible: bool = Field(description="false after a tap on the film brought the controls back")
    covers_panel: bool = Field(description="the film shares the one screen with the kiosk")
    vout: str | None = Field(None, description="VLC's video output module, e.g. xcb_x11")
    aout: str | None = Field(None, description="VLC's audio output module, e.g. pulse")


class StationOut(BaseModel):
    """The media station's state."""

    enabled: bool = Field(description="false when this server has no station ([media] station)")
    state: str = Field(description="idle | opening | playing | paused | stopped | ended | error")
    media_id: int | None
    title: str | None
    index: int
    count: int
    position_s: float
    duration_s: float | None
    volume: int | None
    started_by_me: bool
    last_error: str | None
    screen: ScreenOut | None = Field(None, description="the film window; null before the first film")
    projector: ProjectorOut
    control_free_in_s: int | None = Field(None, description=(
        "another teacher controls the station for this many more seconds (their commands only "
        "until then: 409 station_busy for others); null when it is free or yours"))


class StepOut(StationOut):
    """State after next/previous; ``moved`` is false at either end of the playlist."""

    moved: bool


class LessonsOut(BaseModel):
    """The session teacher's lessons: name → media ids."""

    lessons: dict[str, list[int]]
