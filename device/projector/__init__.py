"""PJLink projector: Protocol, real TCP client, in-memory fake, emulator, UDP discovery, monitor.

Pick a backend at start-up from configuration with ``make_projector`` (never at import time):

    projector = make_projector("pjlink", host="10.0.0.20", password="...")
    projector = make_projector("fake")

Layout: protocol.py/values.py (pure wire format), model.py (projector behaviour),
base.py (Projector Protocol + shared operations), client.py (TCP), fake.py, emulator.py,
discovery.py (UDP SRCH + notifications), monitor.py, errors.py (the exception tree).
"""

from __future__ import annotations

from device.projector.base import Projector
from device.projector.errors import (
    InvalidProjectorArgument,
    OutOfRange,
    ProjectorAuthError,
    ProjectorCommandError,
    ProjectorConnectionError,
    ProjectorError,
    ProjectorFailure,
    ProjectorProtocolError,
    ProjectorTimeout,
    ProjectorUnavailable,
    UndefinedCommand,
)
from device.projector.values import (
    InputInfo,
    Lamp,
    MuteState,
    PowerState,
    ProjectorInfo,
    ProjectorStatus,
)

__all__ = [
    "InputInfo", "InvalidProjectorArgument", "Lamp", "MuteState", "OutOfRange", "PowerState",
    "Projector", "ProjectorAuthError", "ProjectorCommandError", "ProjectorConnectionError",
    "ProjectorError", "ProjectorFailure", "ProjectorInfo", "ProjectorProtocolError",
    "ProjectorStatus", "ProjectorTimeout", "ProjectorUnavailable", "UndefinedCommand",
    "make_projector",
]


def make_projector(backend: str = "pjlink", *, host: str = "", port: int = 4352,
                   password: str | None = None, timeout: float = 5.0,
                   input_aliases: dict[str, str] | None = None) -> Projector:
    """Build the configured backend: "pjlink" (needs host) or "fake"."""
    if backend == "fake":
        from device.projector.fake import FakeProjector

        return FakeProjector(input_aliases=input_aliases)
    if backend == "pjlink":
        if not host:
            raise InvalidProjectorArgument("projector host is not set")
        from device.projector.client import PJLinkClient

        return PJLinkClient(host, port, password, timeout, input_aliases=input_aliases)
    raise InvalidProjectorArgument(f"unknown projector backend {backend!r}: use pjlink or fake")
