"""The 'my books' screen: loans with due dates, overdue marked, renew buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.screens.base import KioskScreen
from kiosk.widgets import LoanRowWidget

if TYPE_CHECKING:
    from kiosk.presenters.loans import LoansPresenter


class HoldRowWidget(BoxLayout):
    """One of the reader's holds: the title, «В очереди: 2-й» or «Ждёт тебя…», «Отменить»."""

    hold_id = NumericProperty(0)
    title = StringProperty("")
    text = StringProperty("")
    waiting = BooleanProperty(False)
    on_cancel = ObjectProperty(None, allownone=True)


class LoansScreen(KioskScreen):
    """Renders `LoansPresenter`; a reader already known in this session skips the card."""

    @property
    def presenter(self) -> LoansPresenter:
        """The app's LoansPresenter."""
        return self.kiosk.loans

    def on_pre_enter(self, *args) -> None:
        """Reuse the reader of this session, if any."""
        reader = self.kiosk.session_reader
        if reader is not None and self.presenter.reader is None:
            self.kiosk.guard(lambda: self.presenter.use_reader(reader), "loans")
        super().on_pre_enter(*args)

    def on_scan(self, code: str) -> None:
        """The reader's card."""
        self.act(lambda: self.presenter.scan(code), "loans")

    def press_pin(self, key: str) -> None:
        """A key of the PIN pad."""
        self.kiosk.user_activity()
        self.act(lambda: self.presenter.press_pin(key), "pin")

    def pin_button(self) -> None:
        """«Сменить PIN» / «Придумать PIN»."""
        self.act(self.presenter.start_pin_change, "pin")

    def pin_back(self) -> None:
        """«Назад» from the PIN step: nothing changed."""
        self.act(self.presenter.cancel_pin_change, "pin")

    def renew(self, loan_id: int) -> None:
        """A renew button."""
        self.act(lambda: self.presenter.renew(loan_id), "renew")

    def cancel_hold(self, hold_id: int) -> None:
        """«Отменить» on a hold."""
        self.act(lambda: self.presenter.cancel_hold(hold_id), "hold")

    def reset(self, reason: str = "cancelled") -> None:
        """End of session."""
        self.presenter.reset(reason)

    def idle_kind(self) -> str:
        """Loans are personal as soon as a card was shown."""
        return "general" if self.presenter.state == "card" else "personal"

    def refresh(self) -> None:
        """Render the presenter."""
        p = self.presenter
        ids = self.ids
        ids.heading.text = p.heading
        ids.holds_note.text = p.holds_note
        card, pin = p.state == "card", p.state in ("pin", "new_pin")
        ids.camera_col.opacity = 1 if card else 0
        ids.camera_col.size_hint_x = 0.85 if card else 0.001
        notice = p.notice
        ids.flash.text = notice.text if notice else ""
        ids.flash.ok = notice.ok if notice else True
        ids.pin.text = p.pin.masked
        # The new-PIN step also shows its hint: a slightly lower pad keeps it all on the screen.
        rows_h = 3.9 if p.state == "new_pin" else 4.1
        ids.pinbox.height = self.kiosk.theme.button_h * rows_h if pin else 0
        ids.pinbox.opacity = 1 if pin else 0
        ids.pinbox.disabled = not pin
        label, changing = p.pin_button, p.state == "new_pin"
        ids.pin_btn.text = label
        for button, shown in ((ids.pin_btn, bool(label)), (ids.pin_back, changing)):
            button.opacity = 1 if shown else 0
            button.disabled = not shown
        # «Назад» sits under the typed PIN, beside the pad: the step fits 1280×800 without the
        # camera column; «Сменить PIN» has its own bar under the list.
        ids.pin_back.height = self.kiosk.theme.button_h if changing else 0
        ids.pinbar.height = self.kiosk.theme.button_h if label else 0
        rows = ids.rows
        rows.clear_widgets()
        for row in (p.rows if p.state == "list" else []):
            rows.add_widget(LoanRowWidget(loan_id=row.loan_id, title=row.title, due=row.due,
                                          overdue=row.overdue, can_renew=row.can_renew,
                                          outcome=row.outcome, on_renew=self.renew))
        for hold in p.hold_rows:
            rows.add_widget(HoldRowWidget(hold_id=hold.hold_id, title=hold.title, text=hold.text,
                                          waiting=hold.waiting, on_cancel=self.cancel_hold))
