"""The base of every kiosk screen: access to the app, refresh, scans and reset."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kivy.app import App
from kivy.uix.screenmanager import Screen

if TYPE_CHECKING:
    from kiosk.app import KioskApp
    from kiosk.presenters.checkout import Flash


class KioskScreen(Screen):
    """A screen renders its presenter in `refresh` and forwards scans to it."""

    @property
    def kiosk(self) -> KioskApp:
        """The running KioskApp."""
        return App.get_running_app()

    def on_pre_enter(self, *_args) -> None:
        """Render the presenter's current state."""
        self.refresh()

    def refresh(self) -> None:
        """Copy the presenter's view state into the widgets."""

    def idle_kind(self) -> str:
        """general | personal (shows a reader's data: a shorter idle) | closing (thank-you page)."""
        return "general"

    def on_scan(self, code: str) -> None:
        """A barcode arrived while this screen is shown."""

    def reset(self, reason: str = "cancelled") -> None:
        """The session ended: forget everything the reader did."""

    def act(self, action: Callable[[], Flash | None], where: str) -> None:
        """Run a presenter action through the error presenter, sound its flash, re-render."""
        flash = self.kiosk.guard(action, where)
        if flash is not None:
            self.kiosk.play(flash.sound)
        self.refresh()
        self.kiosk.screen_changed()
