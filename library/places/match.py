"""Which place a copy stands in: folding, the author sign, rules and the precompiled PlaceMap.

Pure apart from `PlaceMap.load` (one read of the places tables). The rule order, from the most
specific (docs/PLACES.md):

1. a rule with a **collection** beats one without (the collection — фонд, Koha's shelving
   location — is the copy's own, so a textbook-fund copy stays with the textbooks whatever its
   ББК);
2. then the longer **shelf-mark prefix**;
3. then the longer **ББК prefix**;
4. then a rule with **letters** beats one without, a narrower range beats a wider one;
5. the **fallback** rule comes last; ties go to the place listed first (sort, then id), then
   to the older rule.

The **author sign** (авторский знак, «Д72») is read from the copy's shelf mark: the shelf mark
is split into parts at spaces and «/»; the first part is the classification (полочный индекс,
«84(2Рос=Рус)6»); the author sign is the first later part that starts with a capital letter
(«Д72», «К98», «В» in «В 26»). A shelf mark of one part is an author sign only when it looks
like one (1–3 letters and 1–4 digits, «Д72») and is not the record's ББК. Only the sign's first
letter is used; Ё counts as Е. ББК indices in shelf marks (for example «я72») are lower case,
so they are never taken for a sign.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from library.places.errors import BadLetters

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

ALPHABET = "АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LETTER_INDEX = {ch: i for i, ch in enumerate(ALPHABET)} | {"Ё": ALPHABET.index("Е")}
_FOLD = str.maketrans({"ё": "е", "–": "-", "—": "-", "‑": "-", "−": "-"})
_PARTS = re.compile(r"[\s/]+")
_SIGN = re.compile(r"^[A-ZА-ЯЁ][A-Za-zА-Яа-яЁё]*-?\d{0,4}\.?$")
_LONE_SIGN = re.compile(r"^[A-ZА-ЯЁ][A-Za-zА-Яа-яЁё]{0,2}-?\d{1,4}\.?$")
_LETTERS = re.compile(r"^\s*(\S)\s*(?:[-–—]\s*(\S)\s*)?$")
RESOLVE_CACHE = 8192  # distinct (shelf mark, collection, ББК, sigla) answers kept per map


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Case, ё and spacing folded, for comparing collections: «Учебный  Фонд» → «учебный фонд»."""
    return " ".join(text.casefold().translate(_FOLD).split())


@lru_cache(maxsize=65536)
def fold_code(text: str) -> str:
    """A shelf mark or ББК index folded for prefix comparison: no spaces, lower case, ё → е."""
    return "".join(text.casefold().translate(_FOLD).split())


def letter_of(ch: str) -> str | None:
    """One letter upper-cased, Ё as Е; None when it is not a Russian or Latin letter."""
    up = ch.upper()
    if up == "Ё":
        return "Е"
    return up if up in LETTER_INDEX else None


def parse_letters(text: str) -> tuple[str, str]:
    """«А-Л», «а–л», «К» → ("А", "Л"), ("К", "К"); BadLetters otherwise."""
    m = _LETTERS.match(text or "")
    first = letter_of(m.group(1)) if m else None
    last = letter_of(m.group(2) or m.group(1)) if m else None
    if first is None or last is None or LETTER_INDEX[first] > LETTER_INDEX[last]:
        raise BadLetters(value=repr(text))
    return first, last


def letters_text(first: str | None, last: str | None) -> str | None:
    """("А", "Л") → «А-Л»; ("К", "К") → «К»."""
    if not first:
        return None
    return first if not last or last == first else f"{first}-{last}"


def shelf_parts(shelf_mark: str | None) -> list[str]:
    """The shelf mark split at spaces and «/»."""
    return [p for p in _PARTS.split(shelf_mark or "") if p]


@lru_cache(maxsize=65536)
def author_sign(shelf_mark: str | None, bbk: str | None = None) -> str | None:
    """The author sign of a shelf mark («84(2Рос=Рус)6 Д72» → «Д72»), see the module docstring."""
    parts = shelf_parts(shelf_mark)
    if len(parts) == 1:
        lone = parts[0]
        if _LONE_SIGN.match(lone) and not any(fold_code(lone) == ix for ix in bbk_indices(bbk)):
            return lone
        return None
    return next((p for p in parts[1:] if _SIGN.match(p)), None)


def author_letter(shelf_mark: str | None, bbk: str | None = None) -> str | None:
    """The first letter of the author sign, upper case, Ё as Е; None without a sign."""
    sign = author_sign(shelf_mark, bbk)
    return letter_of(sign[0]) if sign else None


@lru_cache(maxsize=65536)
def bbk_indices(bbk: str | None) -> tuple[str, ...]:
    """The record's ББК indices («84(2Рос=Рус)6; 84(2Рос=Рус)6-44»), folded."""
    return tuple(f for f in (fold_code(x) for x in (bbk or "").split(";")) if f)


@dataclass(frozen=True)
class PlaceView:
    """A place as a front end shows it."""

    id: int
    name: str            # «Стеллаж 5»
    note: str | None     # «зарубежная проза, буква К»
    room: str | None     # «Абонемент»
    box: tuple[float, float, float, float] | None  # x, y, w, h on the room plan, 0..1, y from the top

    @property
    def label(self) -> str:
        """«Стеллаж 5 — зарубежная проза, буква К» (the name alone without a note)."""
        return f"{self.name} — {self.note}" if self.note else self.name


@dataclass(frozen=True)
class RuleSpec:
    """One rule as the librarian writes it (values as given, not folded)."""

    collection: str | None = None
    shelf: str | None = None
    bbk: str | None = None
    letters: str | None = None  # «А-Л» or «К»
    fallback: bool = False

    @property
    def empty(self) -> bool:
        """True when the rule has no condition."""
        return not (self.collection or self.shelf or self.bbk or self.letters)

    def describe(self, lang: str = "ru") -> str:
        """«фонд «Учебный фонд», ББК 84(4…, буквы А–Л» (or English)."""
        ru = lang == "ru"
        if self.fallback:
            return "всё остальное" if ru else "everything else"
        out = []
        if self.collection:
            out.append(f"фонд «{self.collection}»" if ru else f"collection «{self.collection}»")
        if self.shelf:
            out.append(f"шифр {self.shelf}…" if ru else f"shelf mark {self.shelf}…")
        if self.bbk:
            out.append(f"ББК {self.bbk}…" if ru else f"BBK {self.bbk}…")
        if self.letters:
            text = self.letters.replace("-", "–")
            out.append(f"буквы {text}" if ru else f"letters {text}")
        return ", ".join(out)

    def to_dict(self) -> dict:
        """JSON/TOML-ready: only the conditions that are set."""
        d: dict = {k: v for k, v in (("collection", self.collection), ("shelf", self.shelf),
                                      ("bbk", self.bbk), ("letters", self.letters)) if v}
        if self.fallback:
            d["fallback"] = True
        return d


@dataclass(frozen=True)
class Match:
    """A resolved place and the rule that chose it."""

    place: PlaceView
    rule: RuleSpec
    rule_id: int


class _Rule:
    """A rule compiled for matching: folded values and its rank (higher wins)."""

    __slots__ = ("bbk", "collection", "hi", "id", "lo", "place", "rank", "shelf", "spec")

    def __init__(self, spec: RuleSpec, rule_id: int, place: PlaceView, sort: int):
        self.spec, self.id, self.place = spec, rule_id, place
        self.collection = fold(spec.collection) if spec.collection else None
        self.shelf = fold_code(spec.shelf) if spec.shelf else None
        self.bbk = fold_code(spec.bbk) if spec.bbk else None
        self.lo = self.hi = None
        if spec.letters:
            a, b = parse_letters(spec.letters)
            self.lo, self.hi = LETTER_INDEX[a], LETTER_INDEX[b]
        width = (self.hi - self.lo) if self.lo is not None and self.hi is not None else 0
        self.rank = (not spec.fallback, self.collection is not None, len(self.shelf or ""),
                     len(self.bbk or ""), self.lo is not None, -width, -sort, -place.id, -rule_id)

    def matches(self, collection: str | None, shelf: str, indices: tuple[str, ...],
                letter: int | None) -> bool:
        if self.collection is not None and collection != self.collection:
            return False
        if self.shelf is not None and not shelf.startswith(self.shelf):
            return False
        if self.bbk is not None and not any(ix.startswith(self.bbk) for ix in indices):
            return False
        if self.lo is None:
            return True
        return letter is not None and self.lo <= letter <= self.hi  # type: ignore[operator]


@dataclass(frozen=True)
class PlaceRow:
    """What PlaceMap is built from: a place with its sigla, sort order and rules (id, spec)."""

    view: PlaceView
    sigla: str
    sort: int
    rules: tuple[tuple[int, RuleSpec], ...]


class PlaceMap:
    """Every place of one school (or all schools) with its rules compiled, for fast resolution."""

    def __init__(self, rows: Iterable[PlaceRow], *, sigla: str | None = None, version: int = 0):
        self.sigla, self.version = sigla, version
        rows = sorted(rows, key=lambda r: (r.sort, r.view.name.casefold(), r.view.id))
        self._rows = [r for r in rows if sigla is None or r.sigla == sigla]
        self._by_id = {r.view.id: r.view for r in self._rows}
        per: dict[str | None, list[_Rule]] = {None: []}
        for r in self._rows:
            for rule_id, spec in r.rules:
                compiled = _Rule(spec, rule_id, r.view, r.sort)
                per.setdefault(r.sigla, []).append(compiled)
                per[None].append(compiled)
        self._rules = {k: sorted(v, key=lambda x: x.rank, reverse=True) for k, v in per.items()}
        self._memo: dict[tuple, Match | None] = {}

    @classmethod
    def load(cls, session: Session, sigla: str | None = None) -> PlaceMap:
        """Read the places tables once (every school's places when `sigla` is None)."""
        from library.places.store import load_rows, places_version

        version = places_version(session)
        return cls(load_rows(session, sigla), sigla=sigla, version=version)

    def resolve(self, *, shelf_mark: str | None, collection: str | None, bbk: str | None,
                sigla: str | None = None) -> PlaceView | None:
        """The place of a copy by the most specific matching rule, or None."""
        found = self.match(shelf_mark=shelf_mark, collection=collection, bbk=bbk, sigla=sigla)
        return found.place if found else None

    def match(self, *, shelf_mark: str | None, collection: str | None, bbk: str | None,
              sigla: str | None = None) -> Match | None:
        """Like resolve, with the rule that decided (for `ibc places where`)."""
        key = (shelf_mark, collection, bbk, sigla)
        try:
            return self._memo[key]
        except KeyError:
            pass
        if self.sigla is None:  # every school's places: the copy's school, or all of them
            rules = self._rules.get(sigla, [])
        else:  # one school's places: nothing for another school's copy
            rules = self._rules[None] if sigla in (None, self.sigla) else []
        found = None
        if rules:
            shelf = fold_code(shelf_mark) if shelf_mark else ""
            indices = bbk_indices(bbk)
            first = shelf_parts(shelf_mark)[:1]
            if first:
                indices = (*indices, fold_code(first[0]))
            letter = author_letter(shelf_mark, bbk)
            index = LETTER_INDEX[letter] if letter else None
            coll = fold(collection) if collection else None
            for rule in rules:
                if rule.matches(coll, shelf, indices, index):
                    found = Match(rule.place, rule.spec, rule.id)
                    break
        if len(self._memo) >= RESOLVE_CACHE:
            self._memo.clear()
        self._memo[key] = found
        return found

    def room(self, room: str | None) -> list[PlaceView]:
        """Every place of a room in the librarian's order, for drawing the plan."""
        want = fold(room) if room else None
        return [r.view for r in self._rows if (fold(r.view.room) if r.view.room else None) == want]

    def rooms(self) -> list[str]:
        """The rooms that have places, in the order of their first place."""
        seen: dict[str, str] = {}
        for r in self._rows:
            if r.view.room:
                seen.setdefault(fold(r.view.room), r.view.room)
        return list(seen.values())

    def place(self, place_id: int) -> PlaceView | None:
        """A place by id."""
        return self._by_id.get(place_id)

    def __iter__(self) -> Iterator[PlaceView]:
        return (r.view for r in self._rows)

    def __len__(self) -> int:
        return len(self._rows)


class PlaceCache:
    """One PlaceMap kept until the places version changes (one small query per `get`)."""

    def __init__(self, sigla: str | None = None):
        self.sigla = sigla
        self._map: PlaceMap | None = None

    def get(self, session: Session) -> PlaceMap:
        """The cached map, reloaded when the counter "places" moved."""
        from library.places.store import places_version

        current = self._map
        if current is None or places_version(session) != current.version:
            current = self._map = PlaceMap.load(session, self.sigla)
        return current

    def clear(self) -> None:
        """Forget the map (the next `get` reloads)."""
        self._map = None
