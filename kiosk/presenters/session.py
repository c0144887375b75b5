"""The idle timer of a reader's session: a countdown that ends the session and clears data."""

from __future__ import annotations

from kiosk.i18n import _


class IdleTimer:
    """Counts idle seconds while a session is active; the screen calls `tick` every second."""

    def __init__(self, timeout_s: float, warn_s: float = 10.0):
        self.timeout_s = float(timeout_s)
        self.warn_s = min(float(warn_s), self.timeout_s)
        self.active = False
        self._last = 0.0
        self._now = 0.0

    def start(self, now: float) -> None:
        """A session begins (a reader left the attract screen)."""
        self.active = True
        self._last = self._now = now

    def touch(self, now: float) -> None:
        """The reader did something: restart the countdown."""
        self._last = self._now = now

    def stop(self) -> None:
        """The session ended."""
        self.active = False

    def tick(self, now: float) -> bool:
        """Advance the clock; True exactly when the session has just expired."""
        self._now = now
        if self.active and self.remaining <= 0:
            self.active = False
            return True
        return False

    @property
    def remaining(self) -> float:
        """Seconds left before the session ends."""
        return max(0.0, self.timeout_s - (self._now - self._last))

    @property
    def warning(self) -> bool:
        """True in the last seconds, when the big 'are you still here?' overlay shows."""
        return self.active and self.remaining <= self.warn_s

    @property
    def countdown_text(self) -> str:
        """The small countdown in the header ('' when no session)."""
        if not self.active:
            return ""
        return _("{s} s").format(s=int(self.remaining + 0.999))

    @property
    def warning_text(self) -> str:
        """The overlay's message."""
        return _("Are you still here? Touch the screen. The session ends in {s} s.").format(
            s=int(self.remaining + 0.999))
