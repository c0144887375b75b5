"""The self-checkout screen: camera, card, PIN, greeting, books with due dates or refusals,
done with «Печатать чек»."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.i18n import _
from kiosk.presenters.messages import camera_hint
from kiosk.screens.base import KioskScreen
from kiosk.widgets import ItemRow

if TYPE_CHECKING:
    from kivy.uix.widget import Widget

    from kiosk.presenters.checkout import CheckoutPresenter


class CheckoutScreen(KioskScreen):
    """Renders `CheckoutPresenter`."""

    @property
    def presenter(self) -> CheckoutPresenter:
        """The app's CheckoutPresenter."""
        return self.kiosk.checkout

    def on_kv_post(self, base_widget: Widget) -> None:
        """The camera's hint («Поднеси ближе») follows the preview."""
        super().on_kv_post(base_widget)
        self.ids.camera.bind(hint=lambda _w, code: self._show_hint(code))

    def _show_hint(self, code: str) -> None:
        p = self.presenter
        refused = p.flash is not None and p.flash.ok is False  # the refusal matters more, and a
        # long one (a blocked card with the librarian's note) needs the room
        self.ids.hint.text = camera_hint(code) if p.state in ("card", "books") and not refused \
            else ""

    def on_leave(self, *_args) -> None:
        """No animation while another screen shows."""
        self.ids.guide.running = False

    def on_scan(self, code: str) -> None:
        """Card first, then books."""
        self.act(lambda: self.presenter.scan(code), "checkout")

    def press_pin(self, key: str) -> None:
        """A key of the PIN pad."""
        self.kiosk.user_activity()
        self.act(lambda: self.presenter.press_pin(key), "pin")

    def finish(self) -> None:
        """«Done»."""
        self.kiosk.guard(self.presenter.finish, "finish")
        self.refresh()
        self.kiosk.screen_changed()  # the thank-you page ends the session by itself

    def print_receipt(self) -> None:
        """«Печатать чек»: the IPP job runs on the kiosk bridge; the page says how it went."""
        p = self.presenter
        job = p.receipt_job()
        if job is None:
            return

        def done(printed: bool | None, error: BaseException | None) -> None:
            ok = p.receipt_done(printed, error)
            self.kiosk.play("success" if ok else "error")
            self.refresh()
            self.kiosk.user_activity()  # a fresh thank-you countdown after printing

        self.kiosk.bridge.submit(job, done)

    def action(self) -> None:
        """The big green button: «Done» while scanning, «Finish» on the thank-you page."""
        if self.presenter.state == "done":
            self.kiosk.end_session("finished")
        else:
            self.finish()

    def reset(self, reason: str = "cancelled") -> None:
        """End of session."""
        self.presenter.reset(reason)

    def idle_kind(self) -> str:
        """The reader's name and books are on show after the card; the thank-you page closes."""
        state = self.presenter.state
        return "closing" if state == "done" else "personal" if state != "card" else "general"

    def refresh(self) -> None:
        """Render the presenter."""
        p = self.presenter
        ids = self.ids
        done, pin = p.state == "done", p.state == "pin"
        ids.prompt.text = p.prompt
        ids.greeting.text = p.summary if done else p.greeting
        ids.holds_note.text = p.holds_note
        ids.flash.text = p.flash.text if (p.flash and (not pin or p.flash.ok is False)) else ""
        # a refusal box carries the message: a smaller heading leaves it the room
        refused = p.flash is not None and p.flash.ok is False
        ids.prompt.font_size = self.kiosk.theme.font_l if refused else self.kiosk.theme.font_xl
        ids.flash.ok = p.flash.ok if p.flash else True
        ids.pin.text = p.pin.masked
        ids.pinbox.height = self.kiosk.theme.button_h * 4.1 if pin else 0
        ids.pinbox.opacity = 1 if pin else 0
        ids.pinbox.disabled = not pin
        ids.action.text = _("Finish") if done else _("Done")
        ids.action.opacity = 0 if p.state in ("card", "pin") else 1
        ids.action.disabled = p.state in ("card", "pin")
        ids.buttons.height = 0 if pin else self.kiosk.theme.button_h
        ids.buttons.opacity = 0 if pin else 1
        ids.print_receipt.opacity = 1 if p.can_print else 0
        ids.print_receipt.disabled = not p.can_print
        ids.print_receipt.size_hint_x = 1 if p.can_print else 0.001
        teacher = p.state == "books" and self.kiosk.teacher_session
        for btn in (ids.media_btn, ids.collect_btn):  # «Сдача учебников»: staff only
            btn.opacity = 1 if teacher else 0
            btn.disabled = not teacher
        ids.teacher_box.size_hint_x = 2 if teacher else 0.001
        ids.buttons.spacing = self.kiosk.theme.pad if (teacher or p.can_print) else 0
        ids.camera_col.opacity = 0 if done else 1
        ids.camera_col.size_hint_x = 0.001 if done else 0.85
        # How to hold it: until the first book, unless a message takes the room.
        guide = p.state in ("card", "books") and not p.items
        ids.guide.what = "card" if p.state == "card" else "book"
        ids.guide.running = guide
        self._show_hint(ids.camera.hint)
        items = ids.item_list
        items.clear_widgets()
        for item in reversed(p.items):
            items.add_widget(ItemRow(title=item.title, text=item.text, ok=item.ok))
