"""Service mode behind a PIN: the only way out of the fullscreen kiosk."""

from __future__ import annotations

import hashlib
import hmac

from kiosk.i18n import _

MAX_ATTEMPTS = 5


def pin_matches(entered: str, expected: str) -> bool:
    """Compare a PIN with a plain one or with ``sha256:<hex>`` in constant time."""
    if not expected:
        return False
    if expected.startswith("sha256:"):
        digest = hashlib.sha256(entered.encode()).hexdigest()
        return hmac.compare_digest(digest, expected[7:].strip().lower())
    return hmac.compare_digest(entered, expected.strip())


class ServicePresenter:
    """PIN entry, then the service menu."""

    def __init__(self, pin: str | None):
        self.pin = pin or ""
        self.reset()

    def reset(self) -> None:
        """Lock again."""
        self.entered = ""
        self.unlocked = False
        self.failures = 0
        self.message = ""

    def press(self, key: str) -> None:
        """A key of the PIN pad: a digit, 'back' or 'ok'."""
        if key == "back":
            self.entered = self.entered[:-1]
        elif key == "ok":
            self._check()
        elif key.isdigit() and len(self.entered) < 12:
            self.entered += key

    def _check(self) -> None:
        if not self.pin:
            self.message = _("Service mode is not configured on this terminal.")
        elif self.failures >= MAX_ATTEMPTS:
            self.message = _("Too many attempts.")
        elif pin_matches(self.entered, self.pin):
            self.unlocked = True
            self.message = ""
        else:
            self.failures += 1
            self.message = _("Wrong PIN.")
        self.entered = ""

    @property
    def masked(self) -> str:
        """Dots instead of digits."""
        return "•" * len(self.entered)
