"""Service mode: a PIN pad; once unlocked, exit the app or go back."""

from __future__ import annotations

from kiosk.i18n import _
from kiosk.screens.base import KioskScreen
from kiosk.widgets import BigButton

PAD = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "back", "0", "ok")


class ServiceScreen(KioskScreen):
    """Renders `ServicePresenter`."""

    def on_kv_post(self, base_widget) -> None:  # noqa: ANN001
        """Build the PIN pad."""
        for key in PAD:
            label = {"back": _("Erase"), "ok": "OK"}.get(key, key)
            button = BigButton(text=label, size_hint_y=1)
            button.key = key
            button.bind(on_release=lambda b: self.press(b.key))
            self.ids.pad.add_widget(button)

    def press(self, key: str) -> None:
        """A PIN pad key."""
        self.kiosk.service.press(key)
        self.refresh()

    def reset(self, reason: str = "cancelled") -> None:
        """Lock again."""
        self.kiosk.service.reset()

    def refresh(self) -> None:
        """Render the presenter."""
        p = self.kiosk.service
        self.ids.pin.text = p.masked or (_("Enter the PIN") if not p.unlocked else "")
        self.ids.message.text = p.message
        self.ids.pad.opacity = 0 if p.unlocked else 1
        self.ids.pad.disabled = p.unlocked
        self.ids.menu.opacity = 1 if p.unlocked else 0
        self.ids.menu.disabled = not p.unlocked
