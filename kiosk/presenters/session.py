"""The idle timer of a reader's session: a countdown that ends the session and clears data.

How long a screen may stay idle depends on what it shows (`KioskScreen.idle_kind`): a general
screen (search, a record) `general` seconds, a screen with a reader's name or loans `personal`
seconds (shorter: a pupil who walks away must not leave his books on show), the thank-you page
`closing` seconds without the "are you still here?" overlay. The header shows the real time left.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.i18n import _, ngettext

CLOSING_S = 12.0  # the thank-you page after «Готово»


@dataclass(frozen=True)
class IdleLimits:
    """Idle seconds per kind of screen, and the length of the warning overlay."""

    general: float = 60.0
    personal: float = 30.0
    closing: float = CLOSING_S
    warn: float = 10.0

    def of(self, kind: str) -> tuple[float, float]:
        """(timeout, warning seconds) for a screen kind: general | personal | closing."""
        if kind == "closing":
            return self.closing, 0.0
        timeout = self.personal if kind == "personal" else self.general
        return timeout, min(self.warn, timeout / 3)


def seconds(n: int) -> str:
    """'30 секунд' with the right plural form (no abbreviation a child trips on)."""
    return ngettext("{n} second", "{n} seconds", n).format(n=n)


class IdleTimer:
    """Counts idle seconds while a session is active; the screen calls `tick` every second."""

    def __init__(self, timeout_s: float, warn_s: float = 10.0):
        self.timeout_s = float(timeout_s)
        self.warn_s = min(float(warn_s), self.timeout_s)
        self.active = False
        self._last = 0.0
        self._now = 0.0

    def limit(self, timeout_s: float, warn_s: float) -> None:
        """Change the timeout (the shown screen changed kind); the idle time so far counts."""
        self.timeout_s = float(timeout_s)
        self.warn_s = min(float(warn_s), self.timeout_s)

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
        return self.active and self.warn_s > 0 and self.remaining <= self.warn_s

    @property
    def countdown_text(self) -> str:
        """The small countdown in the header ('' when no session)."""
        if not self.active:
            return ""
        return seconds(int(self.remaining + 0.999))

    @property
    def warning_text(self) -> str:
        """The overlay's message."""
        return _("Are you still here? Touch the screen. The session ends in {time}.").format(
            time=seconds(int(self.remaining + 0.999)))
