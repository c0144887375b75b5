"""The kiosk's one bridge between the Kivy thread and slow work (ARCHITECTURE convention 9).

Kivy draws and handles touches on one thread; nothing slow may run there. Slow work — a
projector that takes seconds to answer PJLink (or never answers), an IPP print job, the
device checks of the service screen, the terminal's connection monitor (health, queue, replica
sync) and its zeroconf browser, the media station's projector steps — goes through this one
event-loop thread. Two calls:

* ``bridge.submit(work, on_done)``: ``work`` is a coroutine, a coroutine function or a blocking
  callable (run in the loop's executor; a coroutine it returns is awaited on the loop); when it
  ends, ``on_done(result, error)`` is called **on the Kivy thread** (``error`` is the exception,
  or None). It returns a `concurrent.futures.Future`: a plain thread that must wait for the
  result (the media station's projector thread, closing at exit) waits on it — never the Kivy
  thread, never the loop's own thread.
* ``bridge.post(fn)`` from any thread: run ``fn`` on the Kivy thread (one ``Clock.schedule_once``
  hop); ``submit`` uses it to hand results back.

Nothing else in the kiosk process starts event loops or threads for such work. The one bridge
is made by the command that starts the kiosk (``ibc kiosk``) and passed to the app, the
terminal mode and the media station; it is closed last.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("ibc.kiosk")
Done = Callable[[Any, BaseException | None], None]


def kivy_post(fn: Callable[[], None]) -> None:
    """Run ``fn`` on the Kivy thread at the next frame."""
    from kivy.clock import Clock

    Clock.schedule_once(lambda _dt: fn())


class Bridge:
    """One asyncio loop on a daemon thread, started on first use."""

    def __init__(self, post: Callable[[Callable[[], None]], None] | None = None) -> None:
        self._post = post or kivy_post
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise RuntimeError("the kiosk bridge is closed")
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever,
                                                name="kiosk-bridge", daemon=True)
                self._thread.start()
            return self._loop

    def post(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the Kivy thread (from any thread)."""
        self._post(fn)

    def submit(self, work: Any, on_done: Done | None = None) -> concurrent.futures.Future:
        """Run ``work`` off the Kivy thread; ``on_done(result, error)`` back on it."""
        loop = self._running_loop()

        async def runner() -> Any:
            if inspect.iscoroutine(work) or inspect.isawaitable(work):
                return await work
            if inspect.iscoroutinefunction(work):
                return await work()
            result = await loop.run_in_executor(None, work)
            if inspect.isawaitable(result):  # a lambda around an async call
                return await result
            return result

        future = asyncio.run_coroutine_threadsafe(runner(), loop)

        def finished(f: concurrent.futures.Future) -> None:
            try:
                result, error = f.result(), None
            except BaseException as exc:  # noqa: BLE001 - handed to on_done, never lost
                result, error = None, exc
                if on_done is None:
                    log.warning("kiosk background work failed: %r", exc)
            if on_done is not None:
                self._post(lambda: on_done(result, error))

        future.add_done_callback(finished)
        return future

    def run_async(self, coro: Any) -> Any:
        """For a plain worker thread (the media station's): run ``coro`` on the loop and wait
        for its result. Never call it from the Kivy thread or the loop's own thread."""
        return self.submit(coro).result()

    def close(self, timeout: float = 2.0) -> None:
        """Stop the loop (pending work is abandoned: the app is closing)."""
        with self._lock:
            self._closed = True
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None  # closing twice (Kivy's on_stop can) is harmless
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            if not loop.is_running():
                loop.close()
