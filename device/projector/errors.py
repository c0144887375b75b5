"""The one exception tree of the PJLink projector layer.

    ProjectorError                      base of everything raised by device.projector
    ├── ProjectorAuthError              password missing or wrong (``PJLINK ERRA``)
    ├── ProjectorCommandError           the projector answered ``ERRn`` (has .command, .err)
    │   ├── UndefinedCommand            ERR1: command not supported by this projector/class
    │   ├── OutOfRange                  ERR2: parameter out of range (e.g. no such input)
    │   ├── ProjectorUnavailable        ERR3: busy, or not possible in this power state
    │   └── ProjectorFailure            ERR4: projector/display failure (lamp, fan, ...)
    ├── ProjectorProtocolError          bytes that are not PJLink (bad greeting/reply, too long)
    ├── ProjectorTimeout                no answer in time, or a power wait that did not settle
    ├── ProjectorConnectionError        cannot connect, or the projector dropped the connection
    └── InvalidProjectorArgument        a caller passed a bad value (also a ValueError)

Socket and OS errors are mapped to these at the boundary (client, discovery) with
``raise ... from``; messages are technical English, front ends turn them into Russian text.
"""

from __future__ import annotations

from library.errors import IbcError


class ProjectorError(IbcError):
    """Base of all projector errors."""

    code = "projector"


class ProjectorAuthError(ProjectorError):
    """The projector needs a password, or refused the one given (PJLINK ERRA)."""


class ProjectorCommandError(ProjectorError):
    """The projector answered a command with an ERRn code."""

    code = "projector_command"
    err = ""  # the PJLink answer: ERR1..ERR4

    def __init__(self, command: str, message: str | None = None) -> None:
        self.command = command
        super().__init__(message or f"{command}: {self.err} {self.__doc__ or ''}".strip())


class UndefinedCommand(ProjectorCommandError):
    """undefined command (ERR1)"""

    err = "ERR1"


class OutOfRange(ProjectorCommandError):
    """parameter out of range (ERR2)"""

    err = "ERR2"


class ProjectorUnavailable(ProjectorCommandError):
    """unavailable now: busy or wrong power state (ERR3)"""

    err = "ERR3"


class ProjectorFailure(ProjectorCommandError):
    """projector or display failure (ERR4)"""

    err = "ERR4"


class ProjectorProtocolError(ProjectorError):
    """The peer sent something that is not valid PJLink."""


class ProjectorTimeout(ProjectorError):
    """The projector did not answer (or settle) within the time allowed."""


class ProjectorConnectionError(ProjectorError):
    """The projector cannot be reached, or it closed the connection."""


class InvalidProjectorArgument(ProjectorError, ValueError):
    """A caller passed a value PJLink cannot express (unknown input name, bad mute target...)."""


ERROR_CODES: dict[str, type[ProjectorCommandError]] = {
    cls.err: cls for cls in (UndefinedCommand, OutOfRange, ProjectorUnavailable, ProjectorFailure)
}
