"""`FakeSource`: a scripted or hand-fed barcode source for tests, demos and kiosks without a camera."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from device.scanner.base import CodeCallback
from device.scanner.codes import Barcode, Format, infer_format, parse_format


def _as_barcode(item: str | Barcode, fmt: str | Format | None, name: str) -> Barcode:
    if isinstance(item, Barcode):
        return item
    return Barcode(parse_format(fmt) if fmt else infer_format(item), item, source=name)


class FakeSource:
    """Delivers codes given by `inject()` or by a script of ``(delay_s, code)`` steps."""

    def __init__(self, script: Iterable[tuple[float, str | Barcode]] = (), name: str = "fake"):
        self.name = name
        self.script = list(script)
        self._callback: CodeCallback | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.delivered: list[Barcode] = []

    @property
    def available(self) -> bool:
        """True between start() and stop()."""
        return self._callback is not None

    @property
    def last_error(self) -> Exception | None:
        """Always None: the fake does not fail."""
        return None

    def start(self, callback: CodeCallback) -> None:
        """Begin delivering; a non-empty script plays on a daemon thread."""
        self._callback = callback
        self._stop.clear()
        if self.script:
            self._thread = threading.Thread(target=self._play, name=f"{self.name}-script",
                                            daemon=True)
            self._thread.start()

    def _play(self) -> None:
        for delay, item in self.script:
            if self._stop.wait(delay):
                return
            self.inject(item)

    def inject(self, item: str | Barcode, fmt: str | Format | None = None) -> Barcode | None:
        """Deliver one code now on the caller's thread (ignored when not started)."""
        callback = self._callback
        if callback is None:
            return None
        code = _as_barcode(item, fmt, self.name)
        self.delivered.append(code)
        callback(code)
        return code

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the script has played; True when it finished."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def stop(self) -> None:
        """Stop the script and forget the callback."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None
        self._callback = None
