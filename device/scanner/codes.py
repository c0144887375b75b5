"""Barcode value types and check-digit validation (pure Python, no hardware libraries).

A decoder result becomes a `Barcode` only after `validate()` accepted it: EAN-13, EAN-8 and
UPC-A must carry a correct mod-10 check digit, Code 39 a correct mod-43 check character when the
terminal is configured for it. ISBN helpers recognise Bookland EAN-13 (978/979) and convert
between ISBN-13 and ISBN-10.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from typing import Unpack  # Python 3.11+; annotations only


class Format(str, enum.Enum):
    """Symbologies the scanner knows by name."""

    EAN13 = "EAN13"
    EAN8 = "EAN8"
    UPCA = "UPCA"
    UPCE = "UPCE"
    CODE128 = "CODE128"
    CODE39 = "CODE39"
    CODE93 = "CODE93"
    CODABAR = "CODABAR"
    ITF = "ITF"
    QR = "QR"
    DATAMATRIX = "DATAMATRIX"
    UNKNOWN = "UNKNOWN"  # keyboard-wedge input: the scanner does not say which symbology

    def __str__(self) -> str:
        return self.value


# Books (ISBN as EAN-13), inventory stickers (Code 128 / Code 39 / EAN-8 from IRBIS) and reader
# cards (QR or Code 128) are what a school library prints; other symbologies only cost time.
DEFAULT_FORMATS: tuple[Format, ...] = (
    Format.EAN13, Format.EAN8, Format.UPCA, Format.CODE128, Format.CODE39, Format.QR,
)
RETAIL_FORMATS = frozenset({Format.EAN13, Format.EAN8, Format.UPCA, Format.UPCE})
# Symbologies with no mandatory checksum, or a weak mod-10 one: misreads happen here.
WEAK_FORMATS = frozenset({Format.EAN13, Format.EAN8, Format.UPCA, Format.UPCE, Format.CODE39,
                          Format.CODABAR, Format.ITF})

_ALIASES = {
    "EAN": Format.EAN13, "EAN-13": Format.EAN13, "ISBN": Format.EAN13, "EAN-8": Format.EAN8,
    "UPC": Format.UPCA, "UPC-A": Format.UPCA, "UPC-E": Format.UPCE, "CODE-128": Format.CODE128,
    "CODE-39": Format.CODE39, "CODE-93": Format.CODE93, "QRCODE": Format.QR, "QR-CODE": Format.QR,
    "I25": Format.ITF, "DATA-MATRIX": Format.DATAMATRIX,
}


def parse_format(name: str | Format) -> Format:
    """A `Format` from a name such as ``ean13``, ``EAN-13``, ``qrcode``; ValueError otherwise."""
    if isinstance(name, Format):
        return name
    key = name.strip().upper().replace("_", "-").replace(" ", "-")
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        return Format(key.replace("-", ""))
    except ValueError:
        known = ", ".join(f.value for f in Format if f is not Format.UNKNOWN)
        raise ValueError(f"неизвестный формат штрихкода {name!r}; известны: {known}") from None


def parse_formats(names: str | Iterable[str | Format] | None) -> tuple[Format, ...]:
    """Formats from a comma-separated string or an iterable; None gives `DEFAULT_FORMATS`."""
    if names is None:
        return DEFAULT_FORMATS
    if isinstance(names, str):
        names = [n for n in names.split(",") if n.strip()]
    result: list[Format] = []
    for name in names:
        fmt = parse_format(name)
        if fmt not in result:
            result.append(fmt)
    if not result:
        raise ValueError("не задан ни один формат штрихкода")
    return tuple(result)


Point = tuple[int, int]


class BarcodeChanges(TypedDict, total=False):
    """The fields `Barcode.with_` may change."""

    format: Format
    value: str
    points: tuple[Point, ...]
    frame_index: int | None
    source: str
    addon: str
    extra: dict


@dataclass(frozen=True)
class Barcode:
    """One validated barcode read: symbology, text, where it was seen and by what."""

    format: Format
    value: str
    points: tuple[Point, ...] = ()
    frame_index: int | None = None
    source: str = ""
    addon: str = ""  # EAN-2/EAN-5 add-on (price on books), empty when absent or not read
    extra: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def box(self) -> tuple[int, int, int, int] | None:
        """Axis-aligned bounding box ``(x, y, width, height)`` of `points`, or None."""
        if not self.points:
            return None
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)

    @property
    def key(self) -> tuple[str, str]:
        """Identity for de-duplication: UPC-A and EAN-13 with a leading 0 are the same code."""
        if self.format in (Format.EAN13, Format.UPCA):
            return ("GTIN", self.value.zfill(13))
        return (self.format.value, self.value)

    @property
    def is_isbn(self) -> bool:
        """True for a Bookland EAN-13 (prefix 978 or 979)."""
        return self.format is Format.EAN13 and is_isbn13(self.value)

    @property
    def isbn10(self) -> str | None:
        """The ISBN-10 form of a 978 ISBN, else None."""
        return isbn13_to_isbn10(self.value) if self.is_isbn else None

    def with_(self, **changes: Unpack[BarcodeChanges]) -> Barcode:

        """A copy with some fields changed."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        """JSON-friendly form (used by `ibc scan-image --json`)."""
        data: dict[str, object] = {"format": self.format.value, "value": self.value}
        if self.addon:
            data["addon"] = self.addon
        if self.is_isbn:
            data["isbn"] = True
        if self.frame_index is not None:
            data["frame"] = self.frame_index
        if self.points:
            data["points"] = [list(p) for p in self.points]
        if self.source:
            data["source"] = self.source
        return data


def mod10_check_digit(body: str) -> int:
    """GS1 mod-10 check digit for the digits of `body` (EAN-13/EAN-8/UPC-A without the check)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def is_valid_gtin(value: str, length: int | None = None) -> bool:
    """True if `value` is all digits of a GTIN length (8, 12, 13) with a correct check digit."""
    if not value.isascii() or not value.isdigit():
        return False
    if length is not None and len(value) != length:
        return False
    if len(value) not in (8, 12, 13, 14):
        return False
    return mod10_check_digit(value[:-1]) == int(value[-1])


def is_valid_ean13(value: str) -> bool:
    """True for 13 digits with a correct check digit."""
    return is_valid_gtin(value, 13)


def is_valid_ean8(value: str) -> bool:
    """True for 8 digits with a correct check digit."""
    return is_valid_gtin(value, 8)


def is_valid_upca(value: str) -> bool:
    """True for 12 digits with a correct check digit."""
    return is_valid_gtin(value, 12)


def is_isbn13(value: str) -> bool:
    """True for a valid EAN-13 with the Bookland prefix 978 or 979."""
    return is_valid_ean13(value) and value[:3] in ("978", "979")


def isbn10_check_char(body9: str) -> str:
    """ISBN-10 check character (0-9 or X) for nine digits."""
    total = sum((10 - i) * int(d) for i, d in enumerate(body9))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def isbn13_to_isbn10(value: str) -> str | None:
    """ISBN-10 of a 978 ISBN-13 (979 ISBNs have no ISBN-10); None when not convertible."""
    if not is_isbn13(value) or not value.startswith("978"):
        return None
    body = value[3:12]
    return body + isbn10_check_char(body)


def isbn10_to_isbn13(value: str) -> str | None:
    """ISBN-13 (978) of an ISBN-10 with or without hyphens; None when the check fails."""
    clean = value.replace("-", "").replace(" ", "").upper()
    if len(clean) != 10 or not clean[:9].isdigit() or clean[9] not in "0123456789X":
        return None
    if isbn10_check_char(clean[:9]) != clean[9]:
        return None
    body = "978" + clean[:9]
    return body + str(mod10_check_digit(body))


CODE39_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%"


def code39_mod43_valid(value: str) -> bool:
    """True when the last character of a Code 39 text is its correct mod-43 check character."""
    if len(value) < 2 or any(ch not in CODE39_CHARS for ch in value):
        return False
    total = sum(CODE39_CHARS.index(ch) for ch in value[:-1])
    return CODE39_CHARS[total % 43] == value[-1]


def validate(barcode: Barcode, *, code39_check: bool = False) -> Barcode | None:
    """The barcode normalised, or None when its check digit (or charset) is wrong.

    With ``code39_check`` a Code 39 read must end in a correct mod-43 character, which is then
    stripped from the value; without it Code 39 is accepted as read (most library stickers
    printed by IRBIS carry no check character).
    """
    fmt, value = barcode.format, barcode.value
    if fmt is Format.EAN13:
        ok = is_valid_ean13(value)
    elif fmt is Format.EAN8:
        ok = is_valid_ean8(value)
    elif fmt is Format.UPCA:
        ok = is_valid_upca(value)
    elif fmt is Format.UPCE:
        ok = value.isdigit() and len(value) == 8
    elif fmt is Format.CODE39:
        if code39_check:
            if not code39_mod43_valid(value):
                return None
            return barcode.with_(value=value[:-1])
        ok = bool(value) and all(ch in CODE39_CHARS for ch in value)
    else:
        ok = bool(value)
    if ok and barcode.addon and not (barcode.addon.isdigit() and len(barcode.addon) in (2, 5)):
        barcode = barcode.with_(addon="")
    return barcode if ok else None


def infer_format(value: str) -> Format:
    """Best guess of the symbology of a keyboard-wedge text: GTINs by length and check digit."""
    if is_valid_ean13(value):
        return Format.EAN13
    if is_valid_upca(value):
        return Format.UPCA
    if is_valid_ean8(value):
        return Format.EAN8
    return Format.UNKNOWN
