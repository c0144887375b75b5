"""USB keyboard-wedge barcode scanners: tell a scanner's burst of keystrokes from a person typing.

A wedge scanner "types" the code in a few milliseconds per character and presses Enter. The
`KeystrokeAssembler` is pure: feed it ``(char, timestamp)`` key events and it returns a code
when fast keystrokes (at most `max_gap_s` apart) end in Enter; slower human typing is dropped.
`HidSource` wraps it as a `BarcodeSource`; the Kivy app feeds it from `Window.on_key_down`
(no evdev or root access needed).
"""

from __future__ import annotations

import time

from device.scanner.base import CodeCallback
from device.scanner.codes import Barcode, infer_format

ENTER_KEYS = frozenset({"\r", "\n", "enter", "return", "kp_enter", "numpadenter"})


class KeystrokeAssembler:
    """Assembles scanner bursts from key events; ignores human-speed typing."""

    def __init__(self, max_gap_s: float = 0.05, min_length: int = 4, max_length: int = 128):
        self.max_gap_s = max_gap_s
        self.min_length = min_length
        self.max_length = max_length
        self._chars: list[str] = []
        self._last_t: float | None = None

    def reset(self) -> None:
        """Drop any partial burst."""
        self._chars.clear()
        self._last_t = None

    def feed(self, char: str, t: float) -> str | None:
        """Process one key (a character, or ``"enter"``) pressed at `t` seconds; a code or None."""
        fast = self._last_t is not None and t - self._last_t <= self.max_gap_s
        if char.lower() in ENTER_KEYS or char in ENTER_KEYS:
            code = "".join(self._chars)
            ok = fast and self.min_length <= len(code) <= self.max_length
            self.reset()
            return code if ok else None
        if len(char) != 1 or not char.isprintable():
            self.reset()  # shift, arrows, function keys: not part of a wedge burst
            return None
        if not fast:
            self._chars.clear()  # a slow key starts a new candidate burst
        self._chars.append(char)
        self._last_t = t
        if len(self._chars) > self.max_length:
            self.reset()
        return None


class HidSource:
    """A keyboard-wedge scanner as a `BarcodeSource`; the UI calls `feed_key` for each key."""

    def __init__(self, max_gap_s: float = 0.05, min_length: int = 4, name: str = "usb"):
        self.name = name
        self.assembler = KeystrokeAssembler(max_gap_s, min_length)
        self._callback: CodeCallback | None = None

    @property
    def available(self) -> bool:
        """True between start() and stop()."""
        return self._callback is not None

    @property
    def last_error(self) -> Exception | None:
        """Always None: keyboard input cannot fail here."""
        return None

    def start(self, callback: CodeCallback) -> None:
        """Begin delivering codes assembled from `feed_key` calls."""
        self.assembler.reset()
        self._callback = callback

    def stop(self) -> None:
        """Stop delivering."""
        self._callback = None

    def feed_key(self, char: str, t: float | None = None) -> Barcode | None:
        """Feed one key event; delivers and returns a `Barcode` when a scan burst completes."""
        value = self.assembler.feed(char, time.monotonic() if t is None else t)
        if value is None or self._callback is None:
            return None
        code = Barcode(infer_format(value), value, source=self.name)
        self._callback(code)
        return code
