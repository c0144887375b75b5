"""The self-return screen: scan books, each confirmed with where to put it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.screens.base import KioskScreen
from kiosk.widgets import ItemRow

if TYPE_CHECKING:
    from kiosk.presenters.checkin import ReturnPresenter


class CheckinScreen(KioskScreen):
    """Renders `ReturnPresenter`."""

    @property
    def presenter(self) -> ReturnPresenter:
        """The app's ReturnPresenter."""
        return self.kiosk.returns

    def on_scan(self, code: str) -> None:
        """One book returned."""
        self.act(lambda: self.presenter.scan(code), "return")

    def reset(self, reason: str = "cancelled") -> None:
        """End of session."""
        self.presenter.reset(reason)

    def refresh(self) -> None:
        """Render the presenter."""
        p = self.presenter
        self.ids.prompt.text = p.prompt
        self.ids.flash.text = p.flash.text if p.flash else ""
        self.ids.flash.ok = p.flash.ok if p.flash else True
        self.ids.done.opacity = 1 if p.items else 0
        self.ids.done.disabled = not p.items
        items = self.ids.item_list
        items.clear_widgets()
        for item in reversed(p.items):
            items.add_widget(ItemRow(title=item.title, text=item.text, ok=item.ok))
