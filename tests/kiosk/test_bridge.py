"""The kiosk bridge: work off the Kivy thread, results handed back through one ``post`` hop."""

from __future__ import annotations

import asyncio
import queue
import threading
import time

import pytest

from kiosk.bridge import Bridge


@pytest.fixture
def bridge():
    hops: queue.Queue = queue.Queue()
    b = Bridge(post=hops.put)  # the test plays the Kivy thread: it runs what is posted
    yield b, hops
    b.close()


def _handed_back(hops: queue.Queue):
    fn = hops.get(timeout=10)
    fn()


def test_blocking_work_coroutines_and_errors_come_back_through_post(bridge):
    b, hops = bridge
    main = threading.current_thread()
    seen: list = []

    def blocking() -> str:
        assert threading.current_thread() is not main
        time.sleep(0.05)
        return "done"

    async def coroutine() -> int:
        await asyncio.sleep(0.01)
        return 42

    def broken() -> None:
        raise OSError("printer unplugged")

    for work in (blocking, coroutine, coroutine(), broken):
        b.submit(work, lambda result, error: seen.append(
            (result, type(error).__name__ if error else None, threading.current_thread())))
        _handed_back(hops)
    assert [(r, e) for r, e, _ in seen] == [("done", None), (42, None), (42, None),
                                           (None, "OSError")]
    assert all(t is main for _, _, t in seen)  # on_done ran where post runs it


def test_slow_work_does_not_block_the_caller(bridge):
    b, hops = bridge
    release = threading.Event()
    started = time.monotonic()
    future = b.submit(lambda: release.wait(10), lambda *_: None)
    assert time.monotonic() - started < 0.5 and not future.done()
    release.set()
    _handed_back(hops)
    assert future.result(5) is True


def test_a_closed_bridge_refuses_new_work(bridge):
    b, _ = bridge
    b.close()
    with pytest.raises(RuntimeError, match="closed"):
        b.submit(lambda: None)
