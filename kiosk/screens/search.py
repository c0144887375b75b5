"""The search screen: the on-screen keyboard, results as you type, chips and hints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kivy.clock import Clock
from kivy.properties import BooleanProperty

from kiosk.screens.base import KioskScreen
from kiosk.widgets import Chip, ResultRow, WrapLabel

if TYPE_CHECKING:
    from kiosk.presenters.search import SearchPresenter

TYPING_PAUSE_S = 0.3  # search after this pause in typing: one query per word, not per key


class SearchScreen(KioskScreen):
    """Renders `SearchPresenter`; keys and chips call the presenter."""

    typing = BooleanProperty(True)  # the keyboard is open: compact rows

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._rendering = False
        self._pending = Clock.create_trigger(self._run_search, TYPING_PAUSE_S)

    @property
    def presenter(self) -> SearchPresenter:
        """The app's SearchPresenter."""
        return self.kiosk.search

    def key(self, value: str) -> None:
        """A key of the on-screen keyboard was pressed: only the query line changes now; the
        results follow after the typing pause."""
        if self.presenter.press(value):
            self._pending()
            self.ids.query.text = self.presenter.query + "|"
        else:
            self.refresh()

    def on_scan(self, code: str) -> None:
        """A scanned ISBN or barcode is searched as typed text."""
        self.presenter.set_query(code)
        self.search_now()

    def search_now(self) -> None:
        """Search at once (tests and chips do not wait for the typing pause)."""
        self._pending.cancel()
        self._run_search()

    def _run_search(self, *_args) -> None:
        self.kiosk.guard(self.presenter.search, "search")
        self.refresh()

    def use_example(self, text: str) -> None:
        """An example chip of the empty state."""
        self.presenter.set_query(text)
        self.search_now()

    def use_suggestion(self) -> None:
        """Accept «Did you mean …?»."""
        page = self.presenter.page
        if page and page.suggestion:
            self.presenter.set_query(page.suggestion)
            self.search_now()

    def toggle_facet(self, chip: Chip) -> None:
        """Select or clear a facet chip."""
        self.presenter.toggle_facet(chip.field, chip.value)
        self.search_now()

    def show_keyboard(self) -> None:
        """Bring the keyboard back."""
        self.presenter.keyboard_visible = True
        self.refresh()

    def scrolled(self, scroll_y: float) -> None:
        """The reader scrolled the results (a drag, not our reset to the top): fold the
        keyboard, the reader is looking now, not typing."""
        if self._rendering or scroll_y >= 0.999 or not self.presenter.keyboard_visible:
            return
        Clock.schedule_once(self._fold, 0)

    def _fold(self, _dt: float) -> None:
        if self.kiosk.current == "search" and self.presenter.keyboard_visible:
            self.presenter.keyboard_visible = False
            self.refresh(keep_scroll=True)

    def reset(self, reason: str = "cancelled") -> None:
        """End of session."""
        self._pending.cancel()
        self.presenter.reset()

    def refresh(self, keep_scroll: bool = False) -> None:
        """Render the presenter."""
        self._rendering = True
        try:
            self._refresh(keep_scroll)
        finally:
            self._rendering = False

    def _refresh(self, keep_scroll: bool) -> None:
        p = self.presenter
        ids = self.ids
        self.typing = p.keyboard_visible
        ids.query.text = p.query + "|"
        ids.heading.text = p.heading
        ids.keyboard.layout = p.layout
        ids.keyboard_box.height = (ids.keyboard.key_height + 6) * 4 if p.keyboard_visible else 0
        ids.keyboard_box.opacity = 1 if p.keyboard_visible else 0
        ids.keyboard.disabled = not p.keyboard_visible
        ids.show_keys.opacity = 0 if p.keyboard_visible else 1
        ids.show_keys.disabled = p.keyboard_visible
        ids.show_keys.width = 0 if p.keyboard_visible else 260 * self.kiosk.theme.scale
        show_chips = bool(p.suggestion) or p.state == "empty" or (
            bool(p.chips) and not p.keyboard_visible)
        self._render_chips(p, show_chips and (p.state == "empty" or not p.keyboard_visible))
        ids.chips_row.height = self.kiosk.theme.key_h if show_chips else 0
        ids.chips_row.opacity = 1 if show_chips else 0
        ids.chips_row.disabled = not show_chips
        ids.suggestion.text = p.suggestion
        ids.suggestion.opacity = 1 if p.suggestion else 0
        ids.suggestion.disabled = not p.suggestion
        self._render_results(p)
        if not keep_scroll:
            ids.scroll.scroll_y = 1

    def _render_chips(self, p: SearchPresenter, shown: bool) -> None:
        """Chips are built only when they show (not while typing: a chip widget costs ~2 ms,
        and a keystroke's search must stay fast), and not again for the same set."""
        wanted: list[tuple] = []
        if shown and p.state == "empty":
            wanted += [("example", label, query, False) for label, query in p.examples]
        if shown:
            wanted += [(c.field, c.label, c.value, c.selected) for c in p.chips]
        if wanted == getattr(self, "_chips_shown", None):
            return
        self._chips_shown = wanted
        chips = self.ids.chips
        chips.clear_widgets()
        for field, label, value, selected in wanted:
            if field == "example":
                chip = Chip(text=label, value=value)
                chip.bind(on_release=lambda c: self.use_example(c.value))
            else:
                chip = Chip(text=label, field=field, value=value, selected=selected)
                chip.bind(on_release=self.toggle_facet)
            chips.add_widget(chip)

    def _render_results(self, p: SearchPresenter) -> None:
        """Result rows are reused (building a Kivy widget costs milliseconds): only their texts
        change from one query to the next."""
        results = self.ids.results
        pool: list[ResultRow] | None = getattr(self, "_pool", None)
        if pool is None:
            pool = []
            self._pool = pool
        rows = p.rows
        while len(pool) < len(rows):
            widget = ResultRow()
            widget.bind(on_release=lambda w: self.kiosk.open_record(w.record_id))
            pool.append(widget)
        results.clear_widgets()
        compact = p.keyboard_visible
        for widget, row in zip(pool, rows):
            widget.record_id, widget.title, widget.detail = row.record_id, row.title, row.detail
            widget.availability, widget.available = row.availability, row.available
            widget.place, widget.authors, widget.bbk = row.place, row.authors, row.bbk
            widget.compact = compact
            cover = self.kiosk.cover_for(row.isbn) if row.isbn else None
            widget.cover = str(cover) if cover else ""
            results.add_widget(widget)
        for hint in p.hints:
            results.add_widget(WrapLabel(text="•  " + hint))
