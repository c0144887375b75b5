"""Wrong-layout (ЙЦУКЕН ↔ QWERTY) and Latin → Cyrillic transliteration of folded words."""

from __future__ import annotations

_LAT = "`qwertyuiop[]asdfghjkl;'zxcvbnm,."
_CYR = "ёйцукенгшщзхъфывапролджэячсмитьбю"
_TO_CYR = dict(zip(_LAT, _CYR))
_TO_LAT = dict(zip(_CYR, _LAT))
_TO_LAT["е"] = "t"  # ё is folded to е before we get here; е sits on the T key

# Punctuation keys that carry Cyrillic letters: a query typed in the wrong layout keeps them,
# so the raw query (before tokenising) is converted as a whole.
LAYOUT_PUNCT = set("[];',.`")


def to_cyrillic_layout(text: str) -> str:
    """What the text would be had it been typed with the Russian layout on (djqyf → война)."""
    return "".join(_TO_CYR.get(c, c) for c in text.lower())


def to_latin_layout(text: str) -> str:
    """What the text would be had it been typed with the English layout on (руддщ → hello)."""
    return "".join(_TO_LAT.get(c, c) for c in text.lower())


def swap_layout(text: str) -> str:
    """Convert in the direction the text's letters suggest (Latin → ЙЦУКЕН, else → QWERTY)."""
    lat = sum(1 for c in text.lower() if "a" <= c <= "z")
    cyr = sum(1 for c in text.lower() if "а" <= c <= "я" or c == "ё")
    return to_cyrillic_layout(text) if lat >= cyr else to_latin_layout(text)


# Common Russian romanisations (ГОСТ/passport/informal); longest sequences first.
_TRANSLIT = [
    ("shch", "щ"), ("sch", "щ"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("tz", "ц"),
    ("ch", "ч"), ("sh", "ш"), ("yu", "ю"), ("ju", "ю"), ("iu", "ю"), ("ya", "я"), ("ja", "я"),
    ("ia", "я"), ("yo", "е"), ("jo", "е"), ("ye", "е"), ("je", "е"), ("oy", "ой"),
    ("ay", "ай"), ("ey", "ей"), ("iy", "ий"), ("yy", "ый"), ("uy", "уй"),
    ("a", "а"), ("b", "б"), ("v", "в"), ("w", "в"), ("g", "г"), ("d", "д"), ("e", "е"),
    ("z", "з"), ("i", "и"), ("j", "й"), ("y", "ы"), ("k", "к"), ("l", "л"), ("m", "м"),
    ("n", "н"), ("o", "о"), ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"),
    ("f", "ф"), ("h", "х"), ("c", "к"), ("q", "к"), ("x", "кс"),
]


def transliterate(word: str) -> str:
    """Latin romanisation → Cyrillic (voyna → война, tolstoy → толстой); other letters kept."""
    out = []
    i = 0
    w = word.lower()
    while i < len(w):
        for lat, cyr in _TRANSLIT:
            if w.startswith(lat, i):
                out.append(cyr)
                i += len(lat)
                break
        else:
            out.append(w[i])
            i += 1
    return "".join(out)
