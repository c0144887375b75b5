"""In-memory fake projector with the same interface as PJLinkClient (tests, demos, no network).

It runs the same ProjectorModel as the emulator and goes through the same encode/parse code
as the client, so ERR codes and value parsing match the real thing. Set ``offline`` to make
every call fail with ProjectorConnectionError (to exercise monitors and error screens).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from device.projector.base import ProjectorOperations
from device.projector.errors import ProjectorConnectionError
from device.projector.model import ProjectorModel
from device.projector.protocol import (
    Reply,
    encode_command,
    encode_reply,
    parse_command,
    parse_reply,
)


class FakeSession:
    """A session that answers from a ProjectorModel; records every command line sent."""

    def __init__(self, fake: FakeProjector) -> None:
        self._fake = fake

    async def request(self, command: str, param: str, pjclass: int = 1) -> Reply:
        """Encode, execute on the model, encode the reply and parse it back."""
        if self._fake.offline:
            raise ProjectorConnectionError("fake projector is offline")
        line = encode_command(command, param, pjclass)
        self._fake.sent.append(line)
        cmd = parse_command(line)
        value = self._fake.model.execute(cmd.pjclass, cmd.command, cmd.param)
        return parse_reply(encode_reply(cmd.command, value, cmd.pjclass))


class FakeProjector(ProjectorOperations):
    """A projector living in memory; ``model`` holds its state."""

    def __init__(self, model: ProjectorModel | None = None, *,
                 input_aliases: dict[str, str] | None = None, poll_interval: float = 0.01) -> None:
        super().__init__(input_aliases)
        self.model = model or ProjectorModel()
        self.offline = False
        self.poll_interval = poll_interval
        self.sent: list[bytes] = []

    def __repr__(self) -> str:
        return f"FakeProjector({self.model.name!r})"

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[FakeSession]:
        """A batch of commands against the model."""
        if self.offline:
            raise ProjectorConnectionError("fake projector is offline")
        yield FakeSession(self)
