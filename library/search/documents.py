"""Turning a catalogue record into an index document (backend-independent)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from library.search.access import OPEN, level_of
from library.search.facets import SEP, bbk_section, decade
from library.search.normalize import isbn_variants, normalise_code, stems, words
from library.search.schema import FIELD_COLUMNS

# Which PostgreSQL tsvector weight each field gets (tiers and field queries filter on them).
PG_WEIGHTS = {"title_t": "A", "author_t": "B", "subject_t": "C", "body_t": "D"}
MAX_POSITIONS = 255


@dataclass
class Document:
    """One record's row of search_docs plus its lookup codes and surface words."""

    row: dict
    codes: set[str] = field(default_factory=set)
    surface: dict[str, str] = field(default_factory=dict)

    def terms(self) -> set[str]:
        """Distinct terms over every field (what the vocabulary counts)."""
        return doc_terms(self.row)


def doc_terms(row: dict) -> set[str]:
    """Distinct terms of a search_docs row."""
    out: set[str] = set()
    for col in FIELD_COLUMNS:
        if row.get(col):
            out.update(row[col].split())
    return out


def _field(texts: Iterable[str | None], seen: tuple[list[str], list[str]]) -> str:
    """A field's terms; its words and terms are added to `seen` (for the surface words)."""
    ws = [w for t in texts if t for w in words(t)]
    ts = stems(ws)
    seen[0].extend(ws)
    seen[1].extend(ts)
    return " ".join(ts)


def build_document(rec: Mapping[Any, Any], copy_stats: dict | None = None,
                   copy_codes: Iterable[str | None] = (), media_access: str | None = None) -> Document:
    """The index document of one record given as a mapping of records columns (dict, RowMapping).

    `media_access` is MediaItem.access of a media record (missing → teachers only).
    """
    seen: tuple[list[str], list[str]] = ([], [])
    authors = list(rec.get("authors") or [])
    subjects = list(rec.get("subjects") or [])
    stats = copy_stats or {}
    age = rec.get("age_rating") or (f"{rec['age_min']}+" if rec.get("age_min") is not None else None)
    row = {
        "record_id": rec["id"],
        "title_t": _field([rec.get("title")], seen),
        "author_t": _field(authors, seen),
        "subject_t": _field(subjects, seen),
        "body_t": _field([rec.get("subtitle"), rec.get("responsibility"), rec.get("annotation"),
                          rec.get("publisher"),
                          rec.get("place")], seen),
        "facet_authors": SEP.join(a.strip() for a in authors[:3] if a and a.strip()),
        "facet_subjects": SEP.join(s.strip() for s in subjects[:5] if s and s.strip()),
        "year": rec.get("year"),
        "decade": decade(rec.get("year")),
        "bbk_section": bbk_section(rec.get("bbk")),
        "item_type": rec.get("item_type") or "book",
        "language": rec.get("language"),
        "age_rating": age,
        "available": int(stats.get("available") or 0),
        "copies": int(stats.get("copies") or 0),
        "popularity": int(rec.get("popularity") or 0),
        "access": level_of(media_access) if rec.get("item_type") == "media" else OPEN,
    }
    codes: set[str] = set()
    for isbn in [rec.get("isbn"), *(rec.get("isbns") or [])]:
        codes.update(isbn_variants(isbn))
    for c in copy_codes:
        if normalise_code(c):
            codes.add(normalise_code(c))
    # each term's first word in field order (title, authors, subjects, the rest)
    surface = dict(zip(reversed(seen[1]), reversed(seen[0])))
    return Document(row, {c for c in codes if len(c) <= 64}, surface)


def tsvector_literal(row: dict) -> str:
    """A PostgreSQL tsvector literal of the row's tokens, weighted per field, positions kept."""
    positions: dict[str, list[str]] = {}
    pos = 1
    for col in FIELD_COLUMNS:
        weight = PG_WEIGHTS[col]
        for tok in (row.get(col) or "").split():
            if pos > 16383:
                break
            lst = positions.setdefault(tok, [])
            if len(lst) < MAX_POSITIONS:
                lst.append(f"{pos}{weight}")
            pos += 1
        pos += 2  # no phrase across fields
    return " ".join(f"'{tok}':{','.join(p)}" for tok, p in positions.items())
