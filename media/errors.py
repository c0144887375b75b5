"""The media library's errors (light: no VLC, no X, no database imported here).

    MediaError (library.errors.IbcError)   a media request cannot be done
    ├── MediaNotFound, LessonNotFound, NothingToPlay, MediaItemUnavailable, NotPlayable
    │                                      refusals of the station
    ├── ScreenUnavailable                  no display for a film, or no such output
    ├── PlayerUnavailable                  libvlc could not be started with these options
    ├── PlaybackProblem                    the player failed in a way the teacher sees or hears
    │                                      (reported as the station's ``last_error``, not raised)
    ├── ProjectorProblem                   the projector failed (reported, playback goes on)
    └── SidecarError                       a description file is unreadable (also a ValueError)

Each has a stable ``code``, an English ``template`` (the gettext msgid of library/locale; the
class's, or one given per instance for errors with several wordings) and ``params``: front ends
translate with ``message(translate)``. ``str(error)`` is the Russian text (the CLI and the logs
of a Russian school).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from library.errors import IbcError

N_ = str  # marks msgids for extraction; translation happens in front ends


class MediaError(IbcError):
    """A media request cannot be done: ``code``, ``template`` (English msgid) and ``params``.
    ``message`` (a ready text) is only for words that come from elsewhere (a sidecar parser)."""

    code = "media"
    template = N_("The media station refused the request")

    def __init__(self, message: str | None = None, *, template: str | None = None,
                 **params: Any) -> None:
        self.params = params
        self._text = message
        if template is not None:
            self.template = template
        super().__init__(message if message is not None else self.message(_russian()))

    def message(self, translate: Callable[[str], str] | None = None) -> str:
        """The text in the language of ``translate`` (English without one)."""
        if self._text is not None:
            return self._text
        text = (translate or (lambda s: s))(self.template)
        try:
            return text.format(**self.params)
        except (KeyError, IndexError, ValueError):
            return text


def _russian() -> Callable[[str], str]:
    from library.i18n import translator

    return translator("ru")


class MediaNotFound(MediaError):
    """No such item, or hidden from this audience (the same answer: nothing to tell)."""

    code, template = "media_not_found", N_("There is no such media item: {id}")


class LessonNotFound(MediaError):
    """The teacher has no lesson of that name."""

    code, template = "lesson_not_found", N_("There is no lesson “{name}”")


class NothingToPlay(MediaError):
    """An empty playlist."""

    code, template = "nothing_to_play", N_("There is nothing to play")


class MediaItemUnavailable(MediaError):
    """The file is missing or broken (the last scan said why)."""

    code, template = "media_item_unavailable", N_("“{title}” is unavailable: {reason}")


class NotPlayable(MediaError):
    """A picture, a PDF or a presentation: not for the player."""

    code, template = "not_playable", N_("“{title}” cannot be played in the player ({kind})")


REFUSALS: tuple[type[MediaError], ...] = (MediaNotFound, LessonNotFound, NothingToPlay,
                                          MediaItemUnavailable, NotPlayable)


class ScreenUnavailable(MediaError, RuntimeError):
    """There is no display to show a film on, or the chosen output is not there (the wording
    is chosen per case: ``ScreenUnavailable(template=NO_DISPLAY)``)."""

    code, template = "screen_unavailable", N_("There is no screen for the film")

    NO_DISPLAY = N_("no graphical session: the DISPLAY variable is not set")
    NO_ACCESS = N_("no access to the display {display}: {error}")
    NO_OUTPUTS = N_("the display has no outputs")
    NO_OUTPUT_NUMBER = N_("there is no output number {index}: there are {count} outputs ({names})")
    NO_OUTPUT_NAMED = N_("there is no output “{name}”; there are: {names}")


class PlayerUnavailable(MediaError, RuntimeError):
    """libvlc could not be started with these options."""

    code, template = "player_unavailable", N_("libvlc did not start with the options {options}")


class PlaybackProblem(MediaError):
    """The player failed in a way the teacher sees or hears; ``kind`` is video, audio, codec
    or open. Reported (the station's ``last_error``), never raised to the caller of play."""

    code, template = "playback_problem", N_("Playback failed")

    NO_VIDEO_OUTPUT = N_("The video could not be shown: no suitable video output module "
                         "(install the vlc-plugin-video-output package and check the projector's "
                         "screen)")
    NO_AUDIO_OUTPUT = N_("The sound could not be played: the sound device is unavailable "
                         "(check [media] audio_output and the speakers or HDMI cable)")
    CODEC = N_("The video could not be shown: the format “{codec}” is not supported — convert "
               "the file to MP4 (H.264)")
    NO_DECODER = N_("The file could not be played: VLC does not know its format — convert it "
                    "to MP4 (H.264)")
    OPEN_FAILED = N_("The file could not be opened: {error}")
    NOT_PLAYABLE = N_("The file cannot be played: {path}")
    VLC_FAILED = N_("VLC cannot play {path}{detail}")
    NO_SCREEN = N_("The video could not be shown: {error}")

    def __init__(self, template: str, kind: str = "open", **params: Any) -> None:
        self.kind = kind
        super().__init__(template=template, **params)


class ProjectorProblem(MediaError):
    """The projector failed (warm-up, input, power); playback goes on without it."""

    code, template = "projector_problem", N_("projector error: {error}")

    NOT_SET_UP = N_("the projector is not set up ([projector] host)")
    TIMEOUT = N_("the projector does not answer or did not warm up in time: {error}")
    NO_CONNECTION = N_("no connection to the projector: {error}")
    BAD_PASSWORD = N_("the projector refused the PJLink password: {error}")
    BUSY = N_("the projector is busy or off (ERR3): {error}")
    FAULT = N_("projector fault (ERR4): {error}")
    OUT_OF_RANGE = N_("the projector did not accept the input or parameter (ERR2): {error}")
    UNDEFINED = N_("the projector does not support the command (ERR1): {error}")


class SidecarError(MediaError, ValueError):
    """A sidecar file could not be read or has a wrong value (reported, never fatal)."""

    code = "sidecar"
