"""One monitor per projector: polls in a background asyncio task, keeps the last good state.

Modelled on Home Assistant's IPP coordinator: the monitor owns the projector's I/O, exposes
``available`` and ``last_error``, and keeps ``state`` from the last successful poll when the
projector goes away, so screens can show "projector unreachable, was: on, HDMI1".
It only awaits the projector's async calls, so it never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from device.projector.base import Projector
from device.projector.errors import ProjectorError, ProjectorTimeout
from device.projector.values import ProjectorStatus

log = logging.getLogger(__name__)


class ProjectorMonitor:
    """Polls ``projector.status()`` every ``interval`` seconds."""

    def __init__(self, projector: Projector, interval: float = 30.0,
                 timeout: float | None = None) -> None:
        self.projector = projector
        self.interval = interval
        self.timeout = timeout
        self.available = False
        self.last_error: ProjectorError | None = None
        self.state: ProjectorStatus | None = None
        self.updated_at: float | None = None
        self.polls = 0
        self._listeners: list[Callable[[ProjectorMonitor], None]] = []
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> ProjectorMonitor:
        self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    def add_listener(self, callback: Callable[[ProjectorMonitor], None]) -> Callable[[], None]:
        """Call ``callback(monitor)`` after every poll; returns a function that removes it."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback)

    async def refresh(self) -> ProjectorStatus | None:
        """Poll once now; returns the new state, or None on failure (see last_error)."""
        async with self._lock:
            try:
                if self.timeout is None:
                    status = await self.projector.status()
                else:
                    status = await asyncio.wait_for(self.projector.status(), self.timeout)
            except TimeoutError as exc:
                self._fail(ProjectorTimeout(f"status poll took longer than {self.timeout} s"), exc)
                status = None
            except ProjectorError as exc:
                self._fail(exc, None)
                status = None
            else:
                self.state = status
                self.available = True
                self.last_error = None
                self.updated_at = time.time()
            self.polls += 1
        for callback in list(self._listeners):
            try:
                callback(self)
            except Exception:  # a broken listener must not stop monitoring
                log.exception("projector monitor listener failed")
        return status

    def _fail(self, error: ProjectorError, cause: BaseException | None) -> None:
        if cause is not None:
            error.__cause__ = cause
        if self.available or self.last_error is None:
            log.info("projector unavailable: %s", error)
        self.available = False
        self.last_error = error

    def start(self) -> None:
        """Start background polling (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="projector-monitor")

    async def stop(self) -> None:
        """Stop background polling and wait for the task to end."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def running(self) -> bool:
        """True while the background task is polling."""
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(self.interval)
