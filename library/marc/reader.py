"""One entry point for reading any supported MARC file as a stream of `Parsed` records.

`read_file(path)` sniffs the container (ISO 2709, MARCXML, ИРБИС text), then yields one
`Parsed` per record in file order: either a decoded `MarcRecord` with the detected encoding and
the bytes to keep, or an error with the record's ordinal, byte offset and reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO

from library.errors import ImportFormatError
from library.marc import encoding as enc
from library.marc.formats import IRBIS_TEXT, ISO2709, MARCXML, family, sniff
from library.marc.iso2709 import decode_record, frame_records, split_fields
from library.marc.model import Parsed, RecordError


def read_iso2709(stream: BinaryIO, wanted: frozenset[str] | None = None,
                 stride: tuple[int, int] | None = None,
                 encoding: str | None = None) -> Iterator[Parsed]:
    """Yield Parsed records of an ISO 2709 stream, detecting family and encoding per record.

    With `wanted`, only those tags are decoded into Parsed.record (Parsed.raw keeps them all).
    With `stride` (k, n), only records whose ordinal - 1 is k modulo n are checked and yielded
    (every record is still framed, which is cheap): n reader processes share one file.
    With `encoding` every record is decoded in it instead of the detected one (library.marc.
    encoding.FORCED: an old export in cp866 or KOI8-R, which no rule can tell apart).
    """
    part, parts = stride or (0, 1)
    for frame in frame_records(stream):
        if parts > 1 and (frame.ordinal - 1) % parts != part:
            continue
        if frame.error:
            yield Parsed(frame.ordinal, frame.offset, error=frame.error)
            continue
        raw = frame.data
        try:
            leader, fields = split_fields(raw)
            fam = family([f[0] for f in fields])
            charset = encoding or enc.detect(raw, leader, fam)
            record = decode_record(raw, leader, fields, charset, wanted)
        except RecordError as exc:
            yield Parsed(frame.ordinal, frame.offset, error=exc.reason)
            continue
        yield Parsed(frame.ordinal, frame.offset, record, charset, raw, charset,
                     format_hint=None if fam == "unimarc" else "marc21")


def detect_container(path: str | os.PathLike[str]) -> str:
    """ISO2709, MARCXML or IRBIS_TEXT for a file; ImportFormatError when it is none of them."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise ImportFormatError(f"{path}: cannot read: {exc.strerror}") from exc
    kind = sniff(head)
    if kind is None:
        if not head.strip():
            raise ImportFormatError(f"{path}: the file is empty")
        raise ImportFormatError(f"{path}: not ISO 2709, MARCXML or ИРБИС text (starts {head[:16]!r})")
    return kind


def read_file(path: str | os.PathLike[str], wanted: frozenset[str] | None = None,
              stride: tuple[int, int] | None = None,
              encoding: str | None = None) -> Iterator[Parsed]:
    """Yield every record of a MARC file as Parsed (ImportFormatError if it cannot be opened).

    `stride` (ISO 2709 only; see read_iso2709) yields every n-th record. `encoding` (one of
    library.marc.encoding.FORCED) replaces the per-record detection of ISO 2709 and ИРБИС text;
    MARCXML declares its own (ImportFormatError if one is forced).
    """
    kind = detect_container(path)
    if encoding is not None:
        if encoding not in enc.FORCED:
            raise ImportFormatError(f"unknown encoding {encoding!r}; use one of {', '.join(enc.FORCED)}")
        if kind == MARCXML or (kind == IRBIS_TEXT and encoding == enc.MARC8):
            raise ImportFormatError(f"{path}: {kind} cannot be read as {encoding}")
    if stride is not None and stride[1] > 1 and kind != ISO2709:
        raise ImportFormatError(f"{path}: only ISO 2709 files can be read in parts")
    with open(path, "rb") as fh:
        if kind == ISO2709:
            yield from read_iso2709(fh, wanted, stride, encoding)
        elif kind == MARCXML:
            from library.marc.marcxml import read_marcxml

            yield from read_marcxml(fh)
        elif kind == IRBIS_TEXT:
            from library.marc.irbis_text import read_irbis_text

            yield from read_irbis_text(fh, encoding=encoding)
