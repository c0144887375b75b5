"""The attract (idle) screen's state: school name, clock and new arrivals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from kiosk.i18n import _
from kiosk.presenters.messages import day_month, weekday
from kiosk.services import CatalogueService, Hit


class AttractPresenter:
    """What the idle screen shows."""

    def __init__(self, catalogue: CatalogueService, school: str,
                 now: Callable[[], dt.datetime] = dt.datetime.now):
        self.catalogue = catalogue
        self.school = school
        self.now = now
        self.arrivals: list[Hit] = []

    def refresh(self) -> None:
        """Reload the new arrivals (errors leave the old list)."""
        self.arrivals = self.catalogue.new_arrivals(limit=4)

    @property
    def clock(self) -> str:
        """'14:05'."""
        return self.now().strftime("%H:%M")

    @property
    def date(self) -> str:
        """'Среда, 5 марта'."""
        today = self.now().date()
        return f"{weekday(today)}, {day_month(today)}"

    @property
    def arrivals_title(self) -> str:
        """Heading of the new arrivals strip."""
        return _("New in the library")

    @property
    def touch_hint(self) -> str:
        """The invitation line."""
        return _("Touch the screen to start")
