"""The media library's errors (light: no VLC, no X, no database imported here).

    MediaError (library.errors.IbcError)   a media request cannot be done
    ├── MediaNotFound, LessonNotFound, NothingToPlay, MediaItemUnavailable, NotPlayable
    │                                      refusals of the station: a stable ``code``, an English
    │                                      ``template`` (the gettext msgid of library/locale) and
    │                                      ``params``; front ends translate (``message(tr)``)
    ├── ScreenUnavailable                  no display for a film, or no such output
    ├── PlayerUnavailable                  libvlc could not be started with these options
    └── SidecarError                       a description file is unreadable (also a ValueError)

``str(error)`` is the Russian text (the CLI and the logs of a Russian school).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from library.errors import IbcError

N_ = str  # marks msgids for extraction; translation happens in front ends


class MediaError(IbcError):
    """A media request cannot be done. Coded refusals carry a template and params; the older
    ones (screen, player) a ready Russian message."""

    code = "media"
    template = N_("The media station refused the request")

    def __init__(self, message: str | None = None, **params: Any) -> None:
        self.params = params
        self._text = message
        super().__init__(message if message is not None else self.message(_russian()))

    def message(self, translate: Callable[[str], str] | None = None) -> str:
        """The text in the language of ``translate`` (English without one)."""
        if self._text is not None:
            return self._text
        return (translate or (lambda s: s))(self.template).format(**self.params)


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
    """There is no display to show a film on, or the chosen output is not there."""

    code = "screen_unavailable"


class PlayerUnavailable(MediaError, RuntimeError):
    """libvlc could not be started with these options."""

    code = "player_unavailable"


class SidecarError(MediaError, ValueError):
    """A sidecar file could not be read or has a wrong value (reported, never fatal)."""

    code = "sidecar"
