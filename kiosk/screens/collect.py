"""«Сдача учебников»: behind a teacher's or librarian's card, scan a class's textbooks fast,
each confirmed with its pupil's short name and class (`CollectPresenter`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kivy.properties import BooleanProperty

from kiosk.screens.base import KioskScreen
from kiosk.widgets import ItemRow

if TYPE_CHECKING:
    from kiosk.presenters.collect import CollectPresenter

MAX_ROWS = 60  # the newest rows drawn; the count says how many in all


class CollectScreen(KioskScreen):
    """Renders `CollectPresenter`: the card gate first, then the scans."""

    locked = BooleanProperty(True)  # no staff card yet: the gate shows

    @property
    def presenter(self) -> CollectPresenter:
        """The app's CollectPresenter."""
        return self.kiosk.collect

    def on_scan(self, code: str) -> None:
        """A card while closed, a textbook once open."""
        self.act(lambda: self.presenter.scan(code), "collect")

    def press_pin(self, key: str) -> None:
        """A key of the PIN pad."""
        self.kiosk.user_activity()
        self.act(lambda: self.presenter.press_pin(key), "pin")

    def toggle_class(self) -> None:
        """«Только 7А» / «Все классы»."""
        self.presenter.toggle_class()
        self.refresh()

    def idle_kind(self) -> str:
        """Pupils' names on show: the short idle as soon as a card was read."""
        return "personal" if self.presenter.state != "card" else "general"

    def reset(self, reason: str = "cancelled") -> None:
        """The session ended: the batch is forgotten, the gate closes."""
        self.presenter.reset(reason)
        self.refresh()

    def refresh(self) -> None:
        """Render the presenter."""
        p, ids = self.presenter, self.ids
        self.locked = not p.is_open
        ids.prompt.text = p.prompt
        gate = p.gate
        flash = p.flash if p.is_open else gate.flash
        shown = flash is not None and flash.text and (p.is_open or flash.ok is False)
        ids.flash.text = flash.text if shown and flash is not None else ""
        ids.flash.ok = flash.ok if shown and flash is not None else True
        pin = gate.state == "pin"
        ids.pin.text = gate.pin.masked
        ids.pinbox.height = self.kiosk.theme.button_h * 4.1 if pin else 0
        ids.pinbox.opacity = 1 if pin else 0
        ids.pinbox.disabled = not pin
        ids.count.text = p.count_text if p.is_open else ""
        ids.summary.text = p.summary if p.is_open else ""
        has_filter = p.is_open and bool(p.filter_text)
        ids.class_btn.text = p.filter_text
        ids.class_btn.opacity = 1 if has_filter else 0
        ids.class_btn.disabled = not has_filter
        ids.class_btn.size_hint_x = 0.5 if has_filter else 0.001
        ids.buttons.spacing = self.kiosk.theme.pad if has_filter else 0
        items = ids.item_list
        items.clear_widgets()
        for item in p.items[:MAX_ROWS] if p.is_open else ():
            items.add_widget(ItemRow(title=item.title, text=item.text, ok=item.ok))
