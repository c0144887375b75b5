"""The attract screen: school name, the clock, three big actions, new arrivals."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from kivy.properties import BooleanProperty, StringProperty

from kiosk.presenters.messages import authors_short
from kiosk.screens.base import KioskScreen
from kiosk.widgets import ArrivalCard

if TYPE_CHECKING:
    from kivy.input.motionevent import MotionEvent

SERVICE_TAPS = 5
SERVICE_WINDOW_S = 3.0


class AttractScreen(KioskScreen):
    """Shown when nobody is using the terminal."""

    clock = StringProperty("")
    date = StringProperty("")
    asleep = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._taps: list[float] = []

    def refresh(self) -> None:
        """Clock, date and the new arrivals strip."""
        p = self.kiosk.attract
        self.clock, self.date = p.clock, p.date
        self.ids.arrivals_title.text = p.arrivals_title
        self.ids.touch_hint.text = p.touch_hint
        box = self.ids.arrivals
        box.clear_widgets()
        for hit in p.arrivals:
            card = ArrivalCard(title=hit.title, detail=authors_short(hit.authors), record_id=hit.id,
                               bbk=hit.bbk or "")
            card.bind(on_touch_up=self._card_touched)
            box.add_widget(card)

    def tick(self) -> None:
        """Update the clock (called by the app every half second)."""
        self.clock, self.date = self.kiosk.attract.clock, self.kiosk.attract.date

    def _card_touched(self, card: ArrivalCard, touch: MotionEvent) -> bool:
        if card.collide_point(*touch.pos) and not self.asleep:
            self.kiosk.open_record(card.record_id)
            return True
        return False

    def on_touch_down(self, touch: MotionEvent) -> bool:
        """The first touch only wakes the sleeping screen."""
        if self.asleep:
            self.asleep = False
            return True
        return super().on_touch_down(touch)

    def school_tapped(self) -> None:
        """Five quick taps on the school name open service mode."""
        now = time.monotonic()
        self._taps = [t for t in self._taps if now - t < SERVICE_WINDOW_S] + [now]
        if len(self._taps) >= SERVICE_TAPS:
            self._taps.clear()
            self.kiosk.go("service")
