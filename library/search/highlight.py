"""Marking matched words in a title or author for the UI to bold: «[Война] и [мир]» + offsets."""

from __future__ import annotations

from collections.abc import Set

from library.search.normalize import stems, word_spans
from library.search.plan import Group

_STEMS: dict[str, str] = {}
_STEMS_MAX = 50_000


def _stems_cached(ws: list[str]) -> list[str]:
    # Titles and authors of hits repeat from query to query: remember their words' stems
    # (a plain dict, cleared when full; a miss just stems the words again, thread-safe).
    known = [st for st in (_STEMS.get(w) for w in ws) if st is not None]
    if len(known) == len(ws):
        return known
    out = stems(ws)
    if len(_STEMS) > _STEMS_MAX:
        _STEMS.clear()
    _STEMS.update(zip(ws, out))
    return out


def spans(text: str | None, groups: list[Group], phrase_terms: Set[str] = frozenset()) -> list[list[int]]:
    """[start, end) offsets of words of the text whose stems match the query."""
    if not text:
        return []
    found = word_spans(text)
    sts = _stems_cached([w for w, _, _ in found])
    out = []
    for (_, a, b), st in zip(found, sts):
        if st in phrase_terms or any(g.weight > 0 and g.matches(st) for g in groups):
            out.append([a, b])
    return out


def mark(text: str | None, offsets: list[list[int]], left: str = "[", right: str = "]") -> str:
    """The text with matched words wrapped in brackets."""
    if not text:
        return text or ""
    out, pos = [], 0
    for a, b in offsets:
        out.append(text[pos:a] + left + text[a:b] + right)
        pos = b
    out.append(text[pos:])
    return "".join(out)
