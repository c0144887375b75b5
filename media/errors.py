"""The media library's errors (light: no VLC, no X, no database imported here).

    MediaError (library.errors.IbcError)   a media request cannot be done; Russian message
    ├── ScreenUnavailable                  no display for a film, or no such output
    ├── PlayerUnavailable                  libvlc could not be started with these options
    └── SidecarError                       a description file is unreadable (also a ValueError)
"""

from __future__ import annotations

from library.errors import IbcError


class MediaError(IbcError):
    """A media request cannot be done; the message is Russian, for the user."""

    code = "media"


class ScreenUnavailable(MediaError, RuntimeError):
    """There is no display to show a film on, or the chosen output is not there."""

    code = "screen_unavailable"


class PlayerUnavailable(MediaError, RuntimeError):
    """libvlc could not be started with these options."""

    code = "player_unavailable"


class SidecarError(MediaError, ValueError):
    """A sidecar file could not be read or has a wrong value (reported, never fatal)."""

    code = "sidecar"
