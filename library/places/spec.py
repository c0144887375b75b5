"""A place as the librarian writes it (PlaceSpec) and the checks every way in goes through:
the `ibc places` commands, the TOML file, the demo and the replica."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from library.places.errors import BadBox, BadRule, BadValue
from library.places.match import RuleSpec, letters_text, parse_letters

NAME_MAX, NOTE_MAX, ROOM_MAX, CODE_MAX = 100, 255, 100, 255
EPS = 1e-9

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class PlaceSpec:
    """One place with its rules, before it has an id."""

    name: str
    note: str | None = None
    room: str | None = None
    box: Box | None = None
    sort: int | None = None
    rules: tuple[RuleSpec, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """JSON/TOML-ready: keys with a value only."""
        d: dict[str, Any] = {"name": self.name}
        for key in ("note", "room"):
            if getattr(self, key):
                d[key] = getattr(self, key)
        if self.box is not None:
            d["box"] = list(self.box)
        if self.sort is not None:
            d["sort"] = self.sort
        d["rules"] = [r.to_dict() for r in self.rules]
        return d


def clean_text(value: Any, key: str, limit: int, *, required: bool = False) -> str | None:
    """Stripped text of at most `limit` characters, no control characters; None when empty."""
    if value is None:
        if required:
            raise BadValue(key=key, reason="is required")
        return None
    if not isinstance(value, str):
        raise BadValue(key=key, reason="must be text")
    text = value.strip()
    if not text:
        if required:
            raise BadValue(key=key, reason="is required")
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise BadValue(key=key, reason="must not contain control characters")
    if len(text) > limit:
        raise BadValue(key=key, reason="is too long (at most {n} characters)", n=limit)
    return text


def parse_box(value: Any) -> Box | None:
    """«0.05,0.1,0.2,0.08» or four numbers → (x, y, w, h); None for None or ""; BadBox else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        parts: Sequence[Any] = [p for p in value.replace(";", ",").split(",")]
        try:
            nums = [float(p) for p in parts]
        except ValueError:
            raise BadBox(value=repr(value)) from None
    elif isinstance(value, (list, tuple)):
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value):
            raise BadBox(value=repr(value))
        nums = [float(v) for v in value]
    else:
        raise BadBox(value=repr(value))
    if len(nums) != 4 or not all(math.isfinite(n) for n in nums):
        raise BadBox(value=repr(value))
    x, y, w, h = nums
    if not (0 <= x <= 1 and 0 <= y <= 1 and 0 < w <= 1 and 0 < h <= 1
            and x + w <= 1 + EPS and y + h <= 1 + EPS):
        raise BadBox(value=repr(value))
    return (x, y, w, h)


def clean_rule(rule: RuleSpec) -> RuleSpec:
    """The rule with its values checked and tidied («а–л» → «А-Л»); BadRule when empty."""
    collection = clean_text(rule.collection, "collection", CODE_MAX)
    shelf = clean_text(rule.shelf, "shelf", CODE_MAX)
    bbk = clean_text(rule.bbk, "bbk", CODE_MAX)
    letters = None
    if rule.letters is not None and str(rule.letters).strip():
        if not isinstance(rule.letters, str):
            raise BadValue(key="letters", reason="must be text")
        letters = letters_text(*parse_letters(rule.letters))
    out = RuleSpec(collection, shelf, bbk, letters, bool(rule.fallback))
    if out.fallback != out.empty:
        raise BadRule()
    return out


def clean_place(spec: PlaceSpec) -> PlaceSpec:
    """The place with every value checked; raises the first PlacesError found."""
    name = clean_text(spec.name, "name", NAME_MAX, required=True)
    assert name is not None
    sort = spec.sort
    if sort is not None and (isinstance(sort, bool) or not isinstance(sort, int)
                             or abs(sort) > 1_000_000):
        raise BadValue(key="sort", reason="must be a whole number")
    return PlaceSpec(name, clean_text(spec.note, "note", NOTE_MAX),
                     clean_text(spec.room, "room", ROOM_MAX), parse_box(spec.box), sort,
                     tuple(clean_rule(r) for r in spec.rules))
