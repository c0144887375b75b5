"""What a search returns: hits for the UI plus totals, suggestion and facets (JSON-ready)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


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
        """The JSON shape of `ibc search --json` and the API."""
        d = asdict(self)
        if d["facets"] is None:
            d.pop("facets")
        return d
