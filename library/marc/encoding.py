"""Per-record character-encoding detection for ISO 2709 records.

The rule (docs/IMPORT.md):
1. leader/09 = 'a' declares UCS/UTF-8: decode as UTF-8.
2. RUSMARC/UNIMARC with a blank leader/09 (ИРБИС, NLR exports): strict UTF-8 if the bytes
   decode, otherwise cp1251 (the ИРБИС "ANSI" code page). ISO 5426 is not supported.
3. MARC21 with a blank leader/09 declares MARC-8. An ESC (0x1B) byte proves MARC-8 (script
   escapes such as the Cyrillic set in 880 fields). Otherwise bytes that decode as strict UTF-8
   are UTF-8 (a common mislabelling); a run of three or more bytes 0xC0-0xFF (Cyrillic words in
   cp1251; MARC-8 never has more than two combining marks in a row) means cp1251; anything
   else is MARC-8 (plain ASCII is MARC-8's basic set).
The chosen name is reported per record in the import report's "encodings" counts.
"""

from __future__ import annotations

import re

UTF8 = "utf-8"
CP1251 = "cp1251"
MARC8 = "marc-8"
# What an import may be told to use instead of the detection (old DOS and Unix exports too).
FORCED = (UTF8, CP1251, "cp866", "koi8-r", MARC8)

_CYRILLIC_RUN = re.compile(rb"[\xa8\xb8\xc0-\xff]{3}")


def detect(raw: bytes, leader: str, family: str) -> str:
    """The encoding of one record: 'utf-8', 'cp1251' or 'marc-8' (see the module rule)."""
    if leader[9:10] == "a":
        return UTF8
    if family != "marc21":
        if raw.isascii():
            return UTF8
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return CP1251
        return UTF8
    if raw.isascii():
        return MARC8
    if b"\x1b" in raw:
        return MARC8
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return UTF8
    if _CYRILLIC_RUN.search(raw):
        return CP1251
    return MARC8


def detect_text(raw: bytes) -> str:
    """Encoding of a text export (ИРБИС text format): strict UTF-8, else cp1251."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return CP1251
    return UTF8
