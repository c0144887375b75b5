"""The ИРБИС text exchange format: one `#tag: value` line per field, `*****` between records.

Example (PythonIrbis tests/data/records.txt)::

    #200: ^VКн. 3^AСтранные люди
    #910: ^A0^B1759089^DФ104^U2018/45^Y45^C20180607
    *****

Rules kept here (docs/IMPORT.md): encoding per record is strict UTF-8, else cp1251. Subfield
codes are case-insensitive in ИРБИС and are lower-cased. Text before the first `^` becomes
subfield a (ИРБИС fields such as 610 or 903 often have no subfields). Tags are zero-padded to
three digits (`#10` → 010); tags 1-9 become control fields; ИРБИС technical tags above 999
(e.g. 1119, a GUID) cannot live in ISO 2709 and are dropped. A record is rejected with the line
number when a line lacks the `#`, lacks the `:` after the tag, or an empty line sits between
fields, and with the line and offset when it outgrows 1 MiB or 10,000 lines (no separators):
then everything up to the next `*****` is skipped as one error, with memory bounded. The
leader is synthesised: leader/06 from 900^t, leader/07 from the 920 worksheet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from library.marc.encoding import detect_text
from library.marc.iso2709 import encode_record
from library.marc.model import (
    MAX_RECORD_BYTES,
    MAX_RECORD_FIELDS,
    ControlField,
    DataField,
    Field,
    MarcRecord,
    Parsed,
    RecordError,
)

SEPARATOR = b"*****"
_LINE = re.compile(r"#(\d{1,4}):\s?(.*)\Z", re.S)
_LEVELS = {"PAZK": "m", "SPEC": "m", "NJ": "s", "NJK": "s", "NJP": "s", "ASP": "a", "IBIS": "m"}


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n] + "…"


def parse_lines(lines: list[tuple[int, str]]) -> MarcRecord:
    """Turn numbered `#tag: value` lines of one record into a MarcRecord (RecordError on faults)."""
    fields: list[Field] = []
    blank_at = None
    for number, line in lines:
        if not line.strip():
            if fields and blank_at is None:
                blank_at = number
            continue
        if blank_at is not None:
            raise RecordError(f"line {blank_at}: empty line inside the record")
        m = _LINE.match(line)
        if not m:
            if not line.startswith("#"):
                raise RecordError(f"line {number}: expected '#tag: value', got {_short(line)!r}")
            if re.match(r"#\d{1,4}\b", line):
                raise RecordError(f"line {number}: no ':' after the tag in {_short(line)!r}")
            raise RecordError(f"line {number}: bad tag in {_short(line)!r}")
        tag, value = m.group(1), m.group(2)
        if len(tag) > 3:
            continue
        tag = tag.zfill(3)
        if tag[:2] == "00":
            fields.append(ControlField(tag, value))
            continue
        parts = value.split("^")
        subs = [(p[0].lower(), p[1:]) for p in parts[1:] if p]
        if parts[0]:
            subs.insert(0, ("a", parts[0]))
        fields.append(DataField(tag, " ", " ", subs))
    if not fields:
        raise RecordError("empty record")
    return MarcRecord(_leader(fields), fields)


def _leader(fields: list[Field]) -> str:
    doc_type, level = "a", "m"
    for f in fields:
        if isinstance(f, DataField) and f.tag == "900":
            t = (f.get("t") or "").strip()
            if len(t) == 1 and t.isalpha():
                doc_type = t.lower()
        elif isinstance(f, DataField) and f.tag == "920":
            level = _LEVELS.get((f.get("a") or "").strip().upper(), level)
    return f"00000n{doc_type}{level} a2200000 i 450 "


def read_irbis_text(stream: BinaryIO, max_bytes: int = MAX_RECORD_BYTES,
                    max_lines: int = MAX_RECORD_FIELDS, encoding: str | None = None) -> Iterator[Parsed]:
    """Yield one Parsed per record of an ИРБИС text export, streaming line by line.

    Memory is bounded whatever the file holds: lines are read at most `max_bytes` + 1 bytes at
    a time, and a record that grows past `max_bytes` or `max_lines` (a file without `*****`
    separators, one endless line, random bytes) is dropped on the spot and reported once,
    "record too long at line N, offset X", with everything up to the next separator skipped.
    """
    ordinal = 0
    offset = 0  # file offset of the next read
    start_offset = 0
    lines: list[tuple[int, bytes]] = []
    size = 0
    number = 0
    line_start = True  # the next read starts a line (a read stops at max_bytes + 1 bytes)
    too_long: str | None = None  # set once the current record outgrew the caps

    def finish() -> Parsed:
        nonlocal ordinal
        ordinal += 1
        if too_long is not None:
            return Parsed(ordinal, start_offset, error=too_long)
        raw = b"".join(line for _, line in lines)
        charset = encoding or detect_text(raw)
        try:
            text_lines = [(n, b.decode(charset).rstrip("\r\n")) for n, b in lines]
            record = parse_lines(text_lines)
            stored = encode_record(record, "utf-8")
        except (RecordError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "reason", None) or str(exc)
            return Parsed(ordinal, start_offset, error=reason, encoding=charset)
        return Parsed(ordinal, start_offset, record, charset, stored, "utf-8",
                      format_hint="rusmarc")

    while True:
        line = stream.readline(max_bytes + 1)
        if not line:
            break
        whole = line_start
        line_start = line.endswith(b"\n")
        at = offset
        offset += len(line)
        if whole:
            number += 1
            if line.rstrip(b"\r\n").strip() == SEPARATOR:
                if too_long is not None or any(b.strip() for _, b in lines):
                    yield finish()
                lines, size, too_long = [], 0, None
                start_offset = offset
                continue
            if not lines and too_long is None and not line.strip():
                start_offset = offset
                continue
        if too_long is not None:
            continue  # skipping to the next separator
        size += len(line)
        if size > max_bytes or len(lines) >= max_lines:
            too_long = (f"record too long at line {number}, offset {at}: more than "
                        + (f"{max_bytes} bytes" if size > max_bytes else f"{max_lines} lines")
                        + " without a '*****' separator; skipped up to the next separator")
            lines = []  # the memory goes now, not at the separator
            continue
        lines.append((number, line))
    if too_long is not None or any(b.strip() for _, b in lines):
        yield finish()
