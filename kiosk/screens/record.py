"""The record screen: cover and details; the copies' summary, the place on the room plan,
the copies grouped by place and status, and how to take the book."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.screens.base import KioskScreen
from kiosk.widgets import FactRow


class CopyGroupRow(BoxLayout):
    """«На полке — 27» | «Шкаф учебников · шифр 20я71 П38»."""

    status = StringProperty("")
    detail = StringProperty("")
    available = BooleanProperty(False)


class RecordScreen(KioskScreen):
    """Renders `RecordPresenter` (the app sets ``kiosk.record`` before showing this screen)."""

    available = BooleanProperty(False)

    def refresh(self) -> None:
        """Render the current record."""
        p = self.kiosk.record
        if p is None:
            return
        ids = self.ids
        r = p.record
        ids.title.text = p.title
        ids.authors.text = p.authors
        ids.annotation.text = p.annotation
        ids.cover.title, ids.cover.author, ids.cover.bbk = r.title, p.authors, r.bbk or ""
        cover = self.kiosk.cover_for(r.isbn, tuple(c.barcode for c in r.copies[:5]))
        ids.cover.source = str(cover) if cover else ""
        ids.facts.clear_widgets()
        for key, value in p.facts:
            ids.facts.add_widget(FactRow(key=key, value=value))
        self.available = bool(p.available)
        ids.summary.text = p.summary
        ids.schools.text = "\n".join(p.schools)
        ids.where.text = p.where
        ids.plan.places = p.plan
        ids.plan.room = p.room_name
        ids.groups.clear_widgets()
        groups = p.groups
        for g in groups if len(groups) > 1 else ():  # one group: the summary says it all
            detail = " · ".join(x for x in (g.place, g.detail) if x)
            ids.groups.add_widget(CopyGroupRow(status=f"{g.status}: {g.count}", detail=detail,
                                               available=g.available))
        ids.where_scroll.scroll_y = 1
        ids.how.text = p.how_to_take
        ids.take.opacity = 1 if p.available else 0
        ids.take.disabled = not p.available
        ids.take.height = self.kiosk.theme.button_h if p.available else 0
        # «Встать в очередь»: every copy is out; «Попросить из другой школы»: none here
        queue = p.can_queue or p.can_request
        ids.queue.text = p.hold_label
        ids.queue.opacity = 1 if queue else 0
        ids.queue.disabled = not queue
        ids.queue.height = self.kiosk.theme.button_h * 1.2 if queue else 0
        ids.left_scroll.scroll_y = 1

    def back(self) -> None:
        """Back to the results (or home when we came from the attract screen)."""
        self.kiosk.go(self.kiosk.record_return_to)
