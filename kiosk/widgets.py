"""Reusable kiosk widgets (their layout is in widgets.kv): buttons, header, keyboard, rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.presenters.keyboard import rows

if TYPE_CHECKING:
    from kivy.input.motionevent import MotionEvent


class BigButton(Button):
    """A flat, rounded, big-text button whose text never spills out: a label that does not fit
    (a long translation, the large-text theme) is set a little smaller until it does. The fit is
    measured after layout (a trigger), always from the size the kv rule asked for."""

    MIN_FONT = 14

    def __init__(self, **kwargs):
        self._fitting = False
        self._wanted = 0.0
        self._fit_later = Clock.create_trigger(self._fit, 0)
        super().__init__(**kwargs)
        self._wanted = float(self.font_size)
        self.bind(size=self._fit_later, text=self._fit_later)

    def on_font_size(self, _widget: Widget, value: float) -> None:
        """A size from kv (not from fitting) is the one to fit from."""
        if not self._fitting:
            self._wanted = float(value)
            self._fit_later()

    def _fit(self, *_args) -> None:
        if self.width < 24 or self.height < 24 or not self.text or not self._wanted:
            return
        self._fitting = True
        try:
            size = self._wanted
            self.font_size = size
            self.texture_update()
            while size > self.MIN_FONT and (self.texture_size[1] > self.height - 6
                                            or self.texture_size[0] > self.width - 8):
                size = max(self.MIN_FONT, size * 0.92)
                self.font_size = size
                self.texture_update()
        finally:
            self._fitting = False

    role = StringProperty("accent")  # a kiosk.theme.BUTTON_ROLES name: fill and text colour
    bg = ColorProperty((0.98, 0.58, 0.12, 1))
    fg = ColorProperty((1, 1, 1, 1))
    line = ListProperty([])  # an outline colour, or none
    wrap = BooleanProperty(True)
    compact = BooleanProperty(False)


class Chip(BigButton):
    """A facet or example chip."""

    selected = BooleanProperty(False)
    field = StringProperty("")
    value = StringProperty("")
    wrap = BooleanProperty(False)
    compact = BooleanProperty(True)


class KeyButton(BigButton):
    """One key of the on-screen keyboard."""

    value = StringProperty("")
    wrap = BooleanProperty(False)
    command = BooleanProperty(False)


class Header(BoxLayout):
    """The top bar: home, title, language switch, session countdown."""

    title = StringProperty("")
    show_back = BooleanProperty(False)
    back_action = ObjectProperty(None, allownone=True)


class Panel(BoxLayout):
    """A rounded background panel."""


class ModalVeil(Widget):
    """A dark layer under a dialog: while active it swallows touches meant for the screen."""

    active = BooleanProperty(False)

    def on_touch_down(self, touch: MotionEvent) -> bool:
        """Eat the touch while a dialog is up."""
        return self.active

    def on_touch_up(self, touch: MotionEvent) -> bool:
        """Eat the touch while a dialog is up."""
        return self.active


class WrapLabel(Label):
    """A label that wraps to its width and grows to its text height."""


class OnScreenKeyboard(GridLayout):
    """Big keys from `kiosk.presenters.keyboard`; dispatches ``on_key(value)``."""

    layout = StringProperty("ru")
    key_height = NumericProperty(84)

    def __init__(self, **kwargs):
        self.register_event_type("on_key")
        super().__init__(**kwargs)
        self.bind(layout=self._build, key_height=self._build)
        App.get_running_app().bind(lang=self._build)
        self._build()

    def _build(self, *_args) -> None:
        self.clear_widgets()
        self.cols = 1
        for row in rows(self.layout):
            line = BoxLayout(spacing=6, size_hint_y=None, height=self.key_height)
            for key in row:
                button = KeyButton(text=key.label, value=key.value, size_hint_x=key.width,
                                   command=len(key.value) != 1 or key.value == " ")
                button.bind(on_release=lambda b: self.dispatch("on_key", b.value))
                line.add_widget(button)
            self.add_widget(line)

    def keys(self) -> list[KeyButton]:
        """Every key button (tests press them)."""
        return [k for line in self.children for k in line.children]

    def on_key(self, value: str) -> None:
        """Default handler."""


class ResultRow(ButtonBehavior, BoxLayout):
    """One search hit; pressing opens the record."""

    record_id = NumericProperty(0)
    title = StringProperty("")
    detail = StringProperty("")
    availability = StringProperty("")
    available = BooleanProperty(False)
    place = StringProperty("")
    authors = StringProperty("")
    bbk = StringProperty("")
    cover = StringProperty("")  # a cover image path, or "" for the generated cover
    compact = BooleanProperty(False)  # while typing: more rows above the keyboard


class ItemRow(BoxLayout):
    """A scanned book with its due date or refusal."""

    title = StringProperty("")
    text = StringProperty("")
    ok = BooleanProperty(True)
    loud = BooleanProperty(False)  # a returned book kept for a reader: yellow


class LoanRowWidget(BoxLayout):
    """A loan with its due date and a renew button."""

    loan_id = NumericProperty(0)
    title = StringProperty("")
    due = StringProperty("")
    overdue = BooleanProperty(False)
    can_renew = BooleanProperty(True)
    outcome = StringProperty("")
    on_renew = ObjectProperty(None, allownone=True)


class ArrivalCard(BoxLayout):
    """A new-arrival card on the attract screen (cover, title, authors)."""

    title = StringProperty("")
    detail = StringProperty("")
    bbk = StringProperty("")
    record_id = NumericProperty(0)


class FactRow(BoxLayout):
    """A label/value pair."""

    key = StringProperty("")
    value = StringProperty("")


class FlashBox(BoxLayout):
    """The big coloured message after a scan: green, red, or blue for a neutral hint."""

    text = StringProperty("")
    ok = ObjectProperty(True, allownone=True)  # True, False or None (neutral)
    loud = BooleanProperty(False)  # yellow, over ``ok``: stop, this book is kept for a reader
    lines = ListProperty([])


def app() -> App:
    """The running app (for kv-free Python code)."""
    return App.get_running_app()


PIN_KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "back", "0", "ok")


class PinPad(GridLayout):
    """A 3×4 digit pad; ``callback(key)`` gets '0'…'9', 'back' or 'ok'."""

    callback = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        from kiosk.i18n import _

        for key in PIN_KEYS:
            label = {"back": _("Erase"), "ok": "OK"}.get(key, key)
            button = BigButton(text=label, size_hint_y=1, wrap=False)
            button.key = key
            button.bind(on_release=self._press)
            self.add_widget(button)

    def _press(self, button: BigButton) -> None:
        if self.callback is not None:
            self.callback(button.key)

