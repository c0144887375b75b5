"""The record screen: details, copies, where to find the book and how to take it."""

from __future__ import annotations

from kiosk.screens.base import KioskScreen
from kiosk.widgets import CopyRowWidget, FactRow


class RecordScreen(KioskScreen):
    """Renders `RecordPresenter` (the app sets ``kiosk.record`` before showing this screen)."""

    def refresh(self) -> None:
        """Render the current record."""
        p = self.kiosk.record
        if p is None:
            return
        ids = self.ids
        ids.title.text = p.title
        ids.authors.text = p.authors
        ids.annotation.text = p.annotation
        ids.facts.clear_widgets()
        for key, value in p.facts:
            ids.facts.add_widget(FactRow(key=key, value=value))
        ids.copies.clear_widgets()
        for row in p.copies:
            ids.copies.add_widget(CopyRowWidget(label=row.label, status=row.status,
                                                available=row.available))
        ids.where.text = p.where
        ids.how.text = p.how_to_take
        ids.take.opacity = 1 if p.available else 0
        ids.take.disabled = not p.available
        ids.left_scroll.scroll_y = 1

    def back(self) -> None:
        """Back to the results (or home when we came from the attract screen)."""
        self.kiosk.go(self.kiosk.record_return_to)
