"""The search screen: the on-screen keyboard, results as you type, chips and hints."""

from __future__ import annotations

from kivy.clock import Clock

from kiosk.screens.base import KioskScreen
from kiosk.widgets import Chip, ResultRow, WrapLabel

TYPING_PAUSE_S = 0.3  # search after this pause in typing: one query per word, not per key
EXAMPLES = ("Носов", "динозавры", "космос", "сказки")


class SearchScreen(KioskScreen):
    """Renders `SearchPresenter`; keys and chips call the presenter."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._pending = Clock.create_trigger(self._run_search, TYPING_PAUSE_S)

    @property
    def presenter(self):  # noqa: ANN201
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

    def reset(self, reason: str = "cancelled") -> None:
        """End of session."""
        self._pending.cancel()
        self.presenter.reset()

    def refresh(self) -> None:
        """Render the presenter."""
        p = self.presenter
        ids = self.ids
        ids.query.text = p.query + "|"
        ids.heading.text = p.heading
        ids.keyboard.layout = p.layout
        ids.keyboard_box.height = (ids.keyboard.key_height + 6) * 4 if p.keyboard_visible else 0
        ids.keyboard_box.opacity = 1 if p.keyboard_visible else 0
        ids.keyboard.disabled = not p.keyboard_visible
        ids.show_keys.opacity = 0 if p.keyboard_visible else 1
        ids.show_keys.disabled = p.keyboard_visible
        ids.show_keys.width = 0 if p.keyboard_visible else 260 * self.kiosk.theme.scale
        chips = ids.chips
        chips.clear_widgets()
        if p.state == "empty":
            for text in EXAMPLES:
                chip = Chip(text=text, value=text)
                chip.bind(on_release=lambda c: self.use_example(c.value))
                chips.add_widget(chip)
        for c in p.chips:
            chip = Chip(text=c.label, field=c.field, value=c.value, selected=c.selected)
            chip.bind(on_release=self.toggle_facet)
            chips.add_widget(chip)
        show_chips = bool(p.suggestion) or p.state == "empty" or (
            bool(p.chips) and not p.keyboard_visible)
        ids.chips_row.height = self.kiosk.theme.key_h if show_chips else 0
        ids.chips_row.opacity = 1 if show_chips else 0
        ids.chips_row.disabled = not show_chips
        ids.suggestion.text = p.suggestion
        ids.suggestion.opacity = 1 if p.suggestion else 0
        ids.suggestion.disabled = not p.suggestion
        self._render_results(p)
        ids.scroll.scroll_y = 1

    def _render_results(self, p) -> None:  # noqa: ANN001
        """Result rows are reused (building a Kivy widget costs milliseconds): only their texts
        change from one query to the next."""
        results = self.ids.results
        pool = getattr(self, "_pool", None)
        if pool is None:
            pool = self._pool = []
        rows = p.rows
        while len(pool) < len(rows):
            widget = ResultRow()
            widget.bind(on_release=lambda w: self.kiosk.open_record(w.record_id))
            pool.append(widget)
        results.clear_widgets()
        for widget, row in zip(pool, rows):
            widget.record_id, widget.title, widget.detail = row.record_id, row.title, row.detail
            widget.availability, widget.available = row.availability, row.available
            results.add_widget(widget)
        for hint in p.hints:
            results.add_widget(WrapLabel(text="•  " + hint))
