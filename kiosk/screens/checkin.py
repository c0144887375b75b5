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

    def on_pre_enter(self, *args) -> None:
        """A teacher's card shown in this session: the hold notice says «Вы»."""
        reader = self.kiosk.session_reader
        self.presenter.formal = reader is not None and reader.formal
        super().on_pre_enter(*args)

    def on_scan(self, code: str) -> None:
        """One book returned; a hold slip, if the return filled a hold, goes to the printer."""
        self.act(lambda: self.presenter.scan(code), "return")
        job = self.presenter.slip_job()
        if job is None:
            return
        slip = self.presenter.slip

        def done(printed: bool | None, error: BaseException | None) -> None:
            if self.presenter.slip_done(slip, bool(printed) and error is None):
                self.refresh()

        self.kiosk.bridge.submit(job, done)

    def reset(self, reason: str = "cancelled") -> None:
        """End of session."""
        self.presenter.reset(reason)

    def refresh(self) -> None:
        """Render the presenter."""
        p = self.presenter
        self.ids.prompt.text = p.prompt
        self.ids.flash.text = p.flash.text if p.flash else ""
        self.ids.flash.ok = p.flash.ok if p.flash else True
        loud = bool(p.flash and p.flash.loud)
        self.ids.flash.loud = loud
        # the hold notice is long: a smaller heading leaves it and its row the room
        theme = self.kiosk.theme
        self.ids.prompt.font_size = theme.font_l if loud else theme.font_xl
        self.ids.done.opacity = 1 if p.items else 0
        self.ids.done.disabled = not p.items
        items = self.ids.item_list
        items.clear_widgets()
        for item in reversed(p.items):
            items.add_widget(ItemRow(title=item.title, text=item.text, ok=item.ok,
                                     loud=item.loud))
