"""The search screen's state: the query, the keyboard layout, results, chips and hints."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.i18n import N_, _, language
from kiosk.presenters.keyboard import CLEAR, HIDE, LAYOUT_PREFIX, TextBuffer
from kiosk.presenters.messages import authors_short, books
from kiosk.services import CatalogueService, Hit, SearchPage

# Example chips of the empty search: the label in the reader's language, the query in the
# catalogue's (Russian) words.
EXAMPLES = ((N_("Nosov"), "Носов"), (N_("dinosaurs"), "динозавры"), (N_("space"), "космос"),
            (N_("fairy tales"), "сказки"))


@dataclass(frozen=True)
class Row:
    """One result line as the list shows it."""

    record_id: int
    title: str
    detail: str
    availability: str
    available: bool
    place: str = ""
    authors: str = ""
    bbk: str = ""
    isbn: str = ""


@dataclass(frozen=True)
class Chip:
    """A facet chip."""

    field: str
    value: str
    label: str
    selected: bool


def availability(hit: Hit) -> tuple[str, bool]:
    """'On the shelf: 2' or 'All copies are out' — of this school when the catalogue holds
    several schools' copies (then a title only other schools have says so)."""
    if any(not c.own for c in hit.schools):
        own = next((c for c in hit.schools if c.own), None)
        if own is not None and own.available:
            return _("On the shelf: {n}").format(n=own.available), True
        elsewhere = sum(c.available for c in hit.schools if not c.own)
        if own is not None and own.total:
            if elsewhere:
                return _("All ours are out · other schools: {n}").format(n=elsewhere), False
            return _("All copies are out"), False
        if elsewhere:
            return _("Only in other schools: {n} on the shelf").format(n=elsewhere), False
        return _("Only in other schools, all out"), False
    if hit.available:
        return _("On the shelf: {n}").format(n=hit.available), True
    if hit.copies:
        return _("All copies are out"), False
    return _("No copies"), False


class SearchPresenter:
    """Keys in, results out; `search` is called by the screen after a short pause in typing."""

    def __init__(self, catalogue: CatalogueService, page_size: int = 20):
        self.catalogue = catalogue
        self.page_size = page_size
        self.buffer = TextBuffer()
        self.layout = self.default_layout()
        self.keyboard_visible = True
        self.facets: dict[str, str] = {}
        self.page: SearchPage | None = None

    @property
    def query(self) -> str:
        """The text typed so far."""
        return self.buffer.text

    def press(self, value: str) -> bool:
        """Apply an on-screen key; True when the query changed (a search is due)."""
        if value.startswith(LAYOUT_PREFIX):
            self.layout = value[len(LAYOUT_PREFIX):]
            return False
        if value == HIDE:
            self.keyboard_visible = False
            return False
        changed = self.buffer.press(value)
        if value == CLEAR:
            self.facets.clear()
            self.page = None
        return changed

    def set_query(self, text: str) -> None:
        """Replace the query (a suggestion was accepted)."""
        self.buffer.text = text[: self.buffer.max_len]

    def toggle_facet(self, field: str, value: str) -> None:
        """Select or clear a chip."""
        if self.facets.get(field) == value:
            del self.facets[field]
        else:
            self.facets[field] = value

    def search(self) -> SearchPage | None:
        """Run the query (empty query: no page)."""
        if not self.query.strip():
            self.page = None
            return None
        self.page = self.catalogue.search(self.query.strip(), limit=self.page_size,
                                          facets=dict(self.facets))
        return self.page

    def reset(self) -> None:
        """Forget everything (end of session)."""
        self.buffer.text = ""
        self.facets.clear()
        self.page = None
        self.layout = self.default_layout()
        self.keyboard_visible = True

    @staticmethod
    def default_layout() -> str:
        """ЙЦУКЕН for Russian, QWERTY first in English (the other is one key away)."""
        return "en" if language() == "en" else "ru"

    @property
    def examples(self) -> list[tuple[str, str]]:
        """(label, query) of the example chips."""
        return [(_(label), query) for label, query in EXAMPLES]

    # --- view state -----------------------------------------------------------------------------
    @property
    def state(self) -> str:
        """empty | results | no_results."""
        if self.page is None:
            return "empty"
        return "results" if self.page.hits else "no_results"

    @property
    def heading(self) -> str:
        """The line above the results."""
        page = self.page
        if page is None:  # state "empty"
            return _("Type a title, an author or a topic")
        if not page.hits:  # state "no_results"
            return _("Nothing found for “{q}”").format(q=page.query)
        return _("Found: {books}").format(books=books(page.total))

    @property
    def suggestion(self) -> str:
        """'Did you mean …?' text, or ''."""
        if self.page and self.page.suggestion:
            return _("Did you mean “{s}”?").format(s=self.page.suggestion)
        return ""

    @property
    def hints(self) -> list[str]:
        """Helpful tips shown when nothing matched."""
        if self.state != "no_results":
            return []
        return [_("Check the spelling"), _("Try one word, for example the author's surname"),
                _("Ask the librarian: we may get the book for you")]

    @property
    def rows(self) -> list[Row]:
        """The result lines."""
        if not self.page:
            return []
        out = []
        for hit in self.page.hits:
            authors = authors_short(hit.authors)
            detail = authors
            if hit.year:
                detail = f"{detail} · {hit.year}" if detail else str(hit.year)
            text, ok = availability(hit)
            place = hit.place.name if hit.place is not None else ""
            out.append(Row(hit.id, hit.title, detail, text, ok, place, authors, hit.bbk or "",
                           hit.isbn or ""))
        return out

    @property
    def chips(self) -> list[Chip]:
        """Facet chips of the current page plus the selected ones."""
        if not self.page:
            return []
        chips = []
        # «Только наша школа» first: in a city's catalogue it is the chip a pupil needs most
        for fv in sorted(self.page.facets, key=lambda f: f.field != "school"):
            if fv.field == "available":
                label = _("On the shelf")
            elif fv.field == "school":
                label = _("Only our school")
            else:
                label = fv.label or fv.value
            chips.append(Chip(fv.field, fv.value, f"{label} ({fv.count})",
                              self.facets.get(fv.field) == fv.value))
        return chips
