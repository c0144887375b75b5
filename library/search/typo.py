"""Bounded typo candidates: SymSpell-style deletion neighbourhoods over the index vocabulary.

Each vocabulary term (a stem) is stored under the keys obtained by deleting up to two characters
from its first ``PREFIX_LEN`` characters. A query word generates the same kind of keys; terms
sharing a key are candidates, verified with the optimal-string-alignment distance. The work per
query is a few dozen indexed key look-ups, never a scan of the vocabulary.
"""

from __future__ import annotations

from itertools import combinations

PREFIX_LEN = 7
MAX_EDITS = 2
MIN_KEY_LEN = 3


def deletion_keys(term: str, max_edits: int = MAX_EDITS) -> set[str]:
    """The term's prefix and every string made by deleting up to max_edits characters of it."""
    s = term[:PREFIX_LEN]
    keys = {s} if len(s) >= MIN_KEY_LEN or s == term else set()
    n = len(s)
    for k in range(1, max_edits + 1):
        if n - k < MIN_KEY_LEN:
            break
        for drop in combinations(range(n), k):
            keys.add("".join(c for i, c in enumerate(s) if i not in drop))
    return keys


def indexable(term: str) -> bool:
    """Only alphabetic terms of three letters or more get typo keys."""
    return len(term) >= MIN_KEY_LEN and term.isalpha()


def allowed_edits(word: str) -> int:
    """How many edits a typed word of this length may carry (short words: none)."""
    n = len(word)
    if n <= 3:
        return 0
    if n <= 6:
        return 1
    return 2


def osa_distance(a: str, b: str, limit: int = MAX_EDITS) -> int:
    """Optimal string alignment distance (Damerau transpositions), limit+1 when larger."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        best = cur[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            best = min(best, v)
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return min(prev[-1], limit + 1)


def prefix_distance(typed: str, term: str, limit: int = MAX_EDITS) -> int:
    """Distance between a partly typed word and the best-matching beginning of a term."""
    best = limit + 1
    for n in range(max(0, len(typed) - limit), min(len(term), len(typed) + limit) + 1):
        best = min(best, osa_distance(typed, term[:n], limit))
        if best == 0:
            break
    return best
