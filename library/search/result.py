"""What a search returns: hits for the UI plus totals, suggestion and facets (JSON-ready)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Hit:
    """One found record as the kiosk shows it."""

    id: int
    title: str
    authors: list[str]
    year: int | None
    isbn: str | None
    available: int
    copies: int
    shelf: str | None
    type: str | None = None
    score: float = 0.0
    subtitle: str | None = None
    highlight: dict = field(default_factory=dict)
    spans: dict = field(default_factory=dict)
    # Media only (None for books): "everyone" | "onsite" | "teachers"; on-site items are found
    # but never served for download.
    access: str | None = None
    downloadable: bool | None = None
    # Copies per school (library.schools.holdings): [{"sigla", "name", "available", "total"}],
    # the caller's school first
    schools: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready fields (the same as `dataclasses.asdict`, without deep copies)."""
        return {"id": self.id, "title": self.title, "authors": self.authors, "year": self.year,
                "isbn": self.isbn, "available": self.available, "copies": self.copies,
                "shelf": self.shelf, "type": self.type, "score": self.score,
                "subtitle": self.subtitle, "highlight": self.highlight, "spans": self.spans,
                "access": self.access, "downloadable": self.downloadable,
                "schools": self.schools}


@dataclass
class SearchResult:
    """Hits of one page, the total, a «Возможно, вы искали» suggestion and facets."""

    query: str = ""
    total: int = 0
    total_exact: bool = True
    hits: list[Hit] = field(default_factory=list)
    suggestion: str | None = None
    corrected_query: str | None = None
    ignored: list[str] = field(default_factory=list)
    facets: dict | None = None

    def to_dict(self) -> dict:
        """The JSON shape of `ibc search --json` and the API (plain dicts and lists; built by
        hand: `dataclasses.asdict` deep-copies every span and costs more than the search)."""
        d = {"query": self.query, "total": self.total, "total_exact": self.total_exact,
             "hits": [h.to_dict() for h in self.hits], "suggestion": self.suggestion,
             "corrected_query": self.corrected_query, "ignored": list(self.ignored)}
        if self.facets is not None:
            d["facets"] = self.facets
        return d
