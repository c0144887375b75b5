"""Places: where a copy stands, in plain words, optionally boxed on the room's plan.

The librarian maps collections, shelf-mark prefixes, ББК prefixes and author-sign letters to
places («Стеллаж 5 — зарубежная проза, буква К»); front ends resolve every copy through a
`PlaceMap` loaded once (docs/PLACES.md). Stdlib + SQLAlchemy only.
"""

from library.places.errors import (
    BadBox,
    BadLetters,
    BadRule,
    BadValue,
    PlaceExists,
    PlaceNotFound,
    PlacesError,
    PlacesFileError,
)
from library.places.match import (
    Match,
    PlaceCache,
    PlaceMap,
    PlaceView,
    RuleSpec,
    author_letter,
    author_sign,
)
from library.places.spec import PlaceSpec

__all__ = [
    "BadBox",
    "BadLetters",
    "BadRule",
    "BadValue",
    "Match",
    "PlaceCache",
    "PlaceExists",
    "PlaceMap",
    "PlaceNotFound",
    "PlaceSpec",
    "PlaceView",
    "PlacesError",
    "PlacesFileError",
    "RuleSpec",
    "author_letter",
    "author_sign",
]
