"""Detecting what a file and a record are: container (ISO 2709, MARCXML, ИРБИС text) and
bibliographic format (MARC21, RUSMARC, UNIMARC).

Record format rule (docs/IMPORT.md): 245 present → MARC21; 200 present → UNIMARC family;
otherwise an 008 control field → MARC21, UNIMARC-only tags (010, 101, 210, 801) → UNIMARC family,
else MARC21. Within the UNIMARC family a record is RUSMARC when 801$a is "RU" or 100$a/22-24
(language of cataloguing) is "rus"; otherwise UNIMARC.
"""

from __future__ import annotations

from library.marc.model import DataField, MarcRecord

ISO2709 = "iso2709"
MARCXML = "marcxml"
IRBIS_TEXT = "irbis-text"

_UNIMARC_ONLY = ("010", "101", "210", "801", "700", "701")


def family(tags: set[str] | list[str]) -> str:
    """'marc21' or 'unimarc' from the tags a record carries."""
    tags = set(tags)
    if "245" in tags:
        return "marc21"
    if "200" in tags:
        return "unimarc"
    if "008" in tags:
        return "marc21"
    if any(t in tags for t in _UNIMARC_ONLY):
        return "unimarc"
    return "marc21"


def flavour(record: MarcRecord, fam: str | None = None) -> str:
    """'marc21', 'rusmarc' or 'unimarc' for a decoded record."""
    fam = fam or family(record.tags())
    if fam == "marc21":
        return "marc21"
    for f in record.fields:
        if isinstance(f, DataField):
            if f.tag == "801" and (f.get("a") or "").strip().upper() == "RU":
                return "rusmarc"
            if f.tag == "100" and (f.get("a") or "")[22:25] == "rus":
                return "rusmarc"
    return "unimarc"


def sniff(head: bytes) -> str | None:
    """The container of a file from its first bytes: ISO 2709, MARCXML, ИРБИС text or None."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n\x00")
    if text[:1] == b"<":
        return MARCXML
    if text[:5].isdigit():
        return ISO2709
    if text[:1] == b"#" and text[1:2].isdigit():
        return IRBIS_TEXT
    return None
