"""The self-checkout screen: camera, card, greeting, books with due dates or refusals, done."""

from __future__ import annotations

from kivy.clock import Clock

from kiosk.i18n import _
from kiosk.screens.base import KioskScreen
from kiosk.widgets import ItemRow

DONE_SHOW_S = 8.0  # the thank-you page stays this long, then the session ends


class CheckoutScreen(KioskScreen):
    """Renders `CheckoutPresenter`."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._end = Clock.create_trigger(lambda _dt: self.kiosk.end_session(), DONE_SHOW_S)

    @property
    def presenter(self):  # noqa: ANN201
        """The app's CheckoutPresenter."""
        return self.kiosk.checkout

    def on_scan(self, code: str) -> None:
        """Card first, then books."""
        flash = self.kiosk.guard(lambda: self.presenter.scan(code), "checkout")
        if flash is not None:
            self.kiosk.play(flash.sound)
            if self.presenter.reader is not None:
                self.kiosk.session_reader = self.presenter.reader
        self.refresh()

    def finish(self) -> None:
        """«Done»."""
        self.kiosk.guard(self.presenter.finish, "receipt")
        self.refresh()
        self._end()

    def action(self) -> None:
        """The big green button: «Done» while scanning, «Finish» on the thank-you page."""
        if self.presenter.state == "done":
            self.kiosk.end_session()
        else:
            self.finish()

    def reset(self) -> None:
        """End of session."""
        self._end.cancel()
        self.presenter.reset()

    def refresh(self) -> None:
        """Render the presenter."""
        p = self.presenter
        ids = self.ids
        ids.prompt.text = p.prompt
        ids.greeting.text = p.greeting if p.state != "done" else p.summary
        ids.flash.text = p.flash.text if p.flash else ""
        ids.flash.ok = p.flash.ok if p.flash else True
        ids.action.text = _("Finish") if p.state == "done" else _("Done")
        ids.action.opacity = 0 if p.state == "card" else 1
        ids.action.disabled = p.state == "card"
        ids.camera.opacity = 0 if p.state == "done" else 1
        ids.camera.size_hint_x = 0.001 if p.state == "done" else 0.42
        items = ids.item_list
        items.clear_widgets()
        for item in reversed(p.items):
            items.add_widget(ItemRow(title=item.title, text=item.text, ok=item.ok))
