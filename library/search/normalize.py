"""Text normalisation shared by indexing and querying: folding, tokenising, Snowball stemming.

Everything that turns text into index terms lives here, so SQLite and PostgreSQL index exactly
the same tokens. Folding is length-preserving (one character in, one character out) so that word
offsets found in folded text are valid offsets in the original text (used for highlighting).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

# Words are runs of Latin/Cyrillic letters and digits after folding; everything else separates.
WORD_RE = re.compile(r"[0-9a-zа-я]+")
CYRILLIC_RE = re.compile(r"[а-я]")
LATIN_RE = re.compile(r"[a-z]")
APOSTROPHES = "'’`ʼ"

# PyStemmer is faster with its cache off (measured on these machines).
_RU = Stemmer.Stemmer("russian", 0)
_EN = Stemmer.Stemmer("english", 0)

STOPWORDS = frozenset(
    """и в во на с со к ко по о об от до из за для не ни а но же ли или у же бы то как что
    the a an of and or in on at to for by with from is are as""".split()
)


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    low = ch.lower()
    if len(low) != 1:
        low = low[0]
    if low == "ё":
        return "е"
    if "\u00c0" <= low <= "\u024f":  # Latin with diacritics: é → e (never touch Cyrillic й)
        base = unicodedata.normalize("NFD", low)[0]
        return base if base.isascii() else low
    return low


# _fold_char of the lower-case letters it changes (ё, Latin with diacritics): for str.translate.
_FOLD_TABLE = {ord(c): _fold_char(c) for c in map(chr, [0x451, *range(0xC0, 0x250)])
               if c.lower() == c and _fold_char(c) != c}


def fold(text: str) -> str:
    """Lower-case, fold ё→е and Latin diacritics; the result has the same length as the input."""
    if text.isascii():
        return text.lower()
    low = text.lower()
    # The same as per character unless a letter lower-cased into two, or a final sigma
    # (whole-string lower() makes Σ ς at a word's end, per character σ).
    if len(low) == len(text) and "Σ" not in text:
        return low.translate(_FOLD_TABLE)
    return "".join(_fold_char(c) for c in text)


def words(text: str | None) -> list[str]:
    """The folded words of a text (apostrophes inside words are dropped: don't → dont)."""
    if not text:
        return []
    for a in APOSTROPHES:
        if a in text:
            text = text.replace(a, "")
    return WORD_RE.findall(fold(text))


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """(folded word, start, end) for each word, offsets into the original text."""
    return [(m.group(), m.start(), m.end()) for m in WORD_RE.finditer(fold(text))]


def is_cyrillic(word: str) -> bool:
    """True when the word contains Cyrillic letters."""
    return CYRILLIC_RE.search(word) is not None


def is_latin(word: str) -> bool:
    """True when the word has Latin letters and no Cyrillic ones."""
    return LATIN_RE.search(word) is not None and not is_cyrillic(word)


def stem(word: str) -> str:
    """The index term of one folded word: Russian or English Snowball stem by script."""
    if is_cyrillic(word):
        return _RU.stemWord(word)
    if is_latin(word) and not any(c.isdigit() for c in word):
        return _EN.stemWord(word)
    return word


# Stems of words seen before, across records and queries: an import meets the same few
# thousand words again and again, and the per-word script checks cost more than the lookup.
# Bounded: emptied when full (a cache miss only costs the stemming again).
_STEMS: dict[str, str] = {}
STEM_CACHE_MAX = 300_000


def stems(folded_words: list[str]) -> list[str]:
    """Index terms of a list of folded words, in order (cached; misses batched per language)."""
    get = _STEMS.get
    out = [get(w) for w in folded_words]
    if None not in out:
        return out  # type: ignore[return-value]  # no None left: every word was cached
    miss = list(dict.fromkeys(w for w, t in zip(folded_words, out) if t is None))
    new = dict(zip(miss, _stem_uncached(miss)))
    if len(_STEMS) + len(new) > STEM_CACHE_MAX:
        _STEMS.clear()
    _STEMS.update(new)
    return [t if t is not None else new[w] for w, t in zip(folded_words, out)]


def _stem_uncached(folded_words: list[str]) -> list[str]:
    """Index terms of a list of folded words (batched per language for speed)."""
    out = list(folded_words)
    ru_idx = [i for i, w in enumerate(out) if CYRILLIC_RE.search(w)]
    if ru_idx:
        for i, s in zip(ru_idx, _RU.stemWords([out[i] for i in ru_idx])):
            out[i] = s
    en_idx = [i for i, w in enumerate(out)
              if not CYRILLIC_RE.search(w) and LATIN_RE.search(w) and not any(c.isdigit() for c in w)]
    if en_idx:
        for i, s in zip(en_idx, _EN.stemWords([out[i] for i in en_idx])):
            out[i] = s
    return out


def terms(text: str | None) -> list[str]:
    """Index terms of a text: words, folded and stemmed."""
    return stems(words(text))


_CODE_JUNK = re.compile(r"[\s\-‐‑–—./]")


def normalise_code(code: str | None) -> str:
    """ISBN / barcode / inventory number without spaces and hyphens, upper-case (x → X)."""
    if not code:
        return ""
    return _CODE_JUNK.sub("", code).upper()


_ISBN_RUN = re.compile(r"(?:97[89][\s-]?)?(?:\d[\s-]?){9}[\dXx]")


def isbn_variants(code: str | None) -> list[str]:
    """The normalised code plus its ISBN-10 ↔ ISBN-13 (978) twin when it is an ISBN.

    Catalogue ISBNs carry qualifiers ("5-17-015240-X (в пер.)"): the ISBN-looking run is used.
    """
    m = _ISBN_RUN.search(code or "")
    c = normalise_code(m.group() if m else code)
    if not c:
        return []
    out = [c]
    if len(c) == 10 and c[:9].isdigit() and (c[9].isdigit() or c[9] == "X"):
        core = "978" + c[:9]
        check = (10 - sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(core)) % 10) % 10
        out.append(core + str(check))
    elif len(c) == 13 and c.isdigit() and c.startswith("978"):
        core = c[3:12]
        total = sum(int(d) * (10 - i) for i, d in enumerate(core))
        check = (11 - total % 11) % 11
        out.append(core + ("X" if check == 10 else str(check)))
    return out
