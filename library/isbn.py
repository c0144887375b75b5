"""ISBN helpers: normalise, validate and convert between ISBN-10 and ISBN-13 (pure functions).

Catalogue data carries ISBNs with hyphens, spaces, qualifiers ("5-17-015240-X (в пер.)"),
lower-case x and sometimes a wrong check digit. `normalise` keeps only the ISBN characters;
`variants` gives every form worth indexing (as written plus the ISBN-13), so that a search by
the barcode on the back of the book (always ISBN-13/EAN-13) finds a record catalogued with an
ISBN-10.
"""

from __future__ import annotations

import re

_CANDIDATE = re.compile(r"(?:97[89][\s-]?)?(?:\d[\s-]?){9}[\dXx]|97[89]\d{10}")


def normalise(text: str | None) -> str | None:
    """The first ISBN-looking run in `text` as bare digits (X upper-case), else None."""
    if not text:
        return None
    match = _CANDIDATE.search(text)
    if not match:
        return None
    digits = re.sub(r"[\s-]", "", match.group(0)).upper()
    if len(digits) == 13 and "X" in digits:
        return None
    if len(digits) not in (10, 13):
        return None
    return digits


def is_valid10(isbn: str) -> bool:
    """True when `isbn` is 10 characters with a correct mod-11 check digit."""
    if len(isbn) != 10 or not isbn[:9].isdigit() or not (isbn[9].isdigit() or isbn[9] == "X"):
        return False
    total = sum(w * int(c) for w, c in zip(range(10, 1, -1), isbn))
    total += 10 if isbn[9] == "X" else int(isbn[9])
    return total % 11 == 0


def is_valid13(isbn: str) -> bool:
    """True when `isbn` is 13 digits (978/979) with a correct EAN-13 check digit."""
    if len(isbn) != 13 or not isbn.isdigit() or isbn[:3] not in ("978", "979"):
        return False
    return int(isbn[12]) == _check13(isbn[:12])


def is_valid(isbn: str) -> bool:
    """True for a valid ISBN-10 or ISBN-13 in normalised form."""
    return is_valid10(isbn) or is_valid13(isbn)


def _check13(first12: str) -> int:
    total = sum(map(int, first12[0::2])) + 3 * sum(map(int, first12[1::2]))
    return (10 - total % 10) % 10


def to_isbn13(isbn: str) -> str | None:
    """The ISBN-13 of a valid normalised ISBN-10 or ISBN-13, else None."""
    if is_valid13(isbn):
        return isbn
    if is_valid10(isbn):
        body = "978" + isbn[:9]
        return body + str(_check13(body))
    return None


def to_isbn10(isbn: str) -> str | None:
    """The ISBN-10 of a valid 978-prefixed ISBN-13 (or a valid ISBN-10), else None."""
    if is_valid10(isbn):
        return isbn
    if is_valid13(isbn) and isbn.startswith("978"):
        body = isbn[3:12]
        check = (11 - sum((10 - i) * int(c) for i, c in enumerate(body)) % 11) % 11
        return body + ("X" if check == 10 else str(check))
    return None


def variants(text: str | None) -> list[str]:
    """Normalised forms worth storing: the ISBN as written plus its ISBN-13 when different."""
    isbn = normalise(text)
    if not isbn:
        return []
    out = [isbn]
    thirteen = to_isbn13(isbn)
    if thirteen and thirteen != isbn:
        out.append(thirteen)
    return out


def preferred(candidates: list[str]) -> str | None:
    """The first valid ISBN among normalised `candidates` as ISBN-13; else the first one."""
    for isbn in candidates:
        thirteen = to_isbn13(isbn)
        if thirteen:
            return thirteen
    return candidates[0] if candidates else None
