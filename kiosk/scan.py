"""Barcodes into the UI: keyboard-wedge input (USB scanner, or typing in demo mode) and the
one bridge from scanner threads to the UI thread.

A USB barcode scanner is a keyboard: it types the code and presses Enter. `KeystrokeAssembler`
turns such keystrokes into codes; in demo mode a person typing digits + Enter is the "fake
scanner". Camera sources run their own thread and must call `ScanBridge.post`, which hops onto
the Kivy clock (kiosk threads rule: nothing else touches widgets from a thread).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from device.scanner.codes import Barcode

MAX_CODE = 64


class KeystrokeAssembler:
    """Characters in, a code out on Enter; with ``max_gap_s`` human typing is dropped."""

    def __init__(self, max_gap_s: float | None = None):
        self.max_gap_s = max_gap_s
        self._chars: list[str] = []
        self._last = 0.0

    def feed(self, char: str, now: float = 0.0) -> None:
        """One typed character."""
        if self.max_gap_s is not None and self._chars and now - self._last > self.max_gap_s:
            self._chars.clear()  # too slow for a scanner: a person pressed keys
        if char.isprintable() and len(self._chars) < MAX_CODE:
            self._chars.append(char)
        self._last = now

    def enter(self) -> str | None:
        """Enter was pressed: the code, or None when nothing was typed."""
        code = "".join(self._chars).strip()
        self._chars.clear()
        return code or None


class ScanBridge:
    """Hands barcodes from any thread to ``deliver`` on the UI thread."""

    def __init__(self, deliver: Callable[[str], None]):
        self.deliver = deliver

    def post(self, code: str | Barcode) -> None:
        """Called from a camera/HID thread."""
        from kivy.clock import Clock

        code = str(getattr(code, "value", code))
        Clock.schedule_once(lambda _dt: self.deliver(code))
