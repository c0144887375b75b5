"""The queue screen («Встать в очередь»): the card [+ PIN] when the session has no reader yet,
then the place in the queue or the refusal in words, with the way back to the book."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.screens.base import KioskScreen

if TYPE_CHECKING:
    from kiosk.presenters.holds import HoldPresenter


class HoldScreen(KioskScreen):
    """Renders `HoldPresenter` (the app starts it from the record page)."""

    @property
    def presenter(self) -> HoldPresenter:
        """The app's HoldPresenter."""
        return self.kiosk.holds

    def on_scan(self, code: str) -> None:
        """The reader's card."""
        self.act(lambda: self.presenter.scan(code), "hold")

    def press_pin(self, key: str) -> None:
        """A key of the PIN pad."""
        self.kiosk.user_activity()
        self.act(lambda: self.presenter.press_pin(key), "pin")

    def back(self) -> None:
        """Back to the book's page."""
        self.kiosk.go("record" if self.kiosk.record is not None else "attract")

    def reset(self, reason: str = "cancelled") -> None:
        """End of session."""
        self.presenter.reset(reason)

    def idle_kind(self) -> str:
        """Personal once a card was shown."""
        return "general" if self.presenter.state == "card" else "personal"

    def refresh(self) -> None:
        """Render the presenter."""
        p = self.presenter
        ids = self.ids
        card, pin, done = p.state == "card", p.state == "pin", p.state == "done"
        ids.heading.text = p.heading
        ids.camera_col.opacity = 0 if done else 1
        ids.camera_col.size_hint_x = 0.001 if done else 0.85
        flash = p.flash
        shown = flash is not None and bool(flash.text) and (done or flash.ok is False or card)
        ids.flash.text = flash.text if shown and flash is not None else ""
        ids.flash.ok = flash.ok if flash is not None else True
        ids.note.text = p.waiting_note
        ids.pin.text = p.gate.pin.masked
        ids.pinbox.height = self.kiosk.theme.button_h * 4.1 if pin else 0
        ids.pinbox.opacity = 1 if pin else 0
        ids.pinbox.disabled = not pin
        ids.done.opacity = 1 if done else 0
        ids.done.disabled = not done
