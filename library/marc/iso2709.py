"""ISO 2709 framing, directory parsing and writing, as pure byte functions.

Why not pymarc's MARCReader here: on a file with a broken record it either stops or silently
mis-frames the rest, it cannot say at which byte offset a record starts, it decodes only by the
leader/09 flag (RUSMARC in cp1251 comes out as garbage by default), and building pymarc objects
is about three times slower than slicing the directory. This module therefore frames records
itself (`frame_records`, streaming, memory bounded by one record), checks the leader and the
directory with a precise reason for every kind of breakage (`split_fields`), and decodes fields
into the lean `MarcRecord` (`decode_record`). pymarc is still used for MARC-8 decoding and for
MARCXML output.

Framing rule: a record starts at the first byte that is not inter-record whitespace; its length
is leader/00-04. When that length is not digits or does not end on a record terminator (0x1D),
everything up to the next record that frames after a terminator is reported as ONE broken
stretch and reading resumes there, so one bad record never aborts the file and a run of
garbage (50 MB of 0x1D bytes, random bytes) is one error, skipped at regular-expression speed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

from library.marc.model import ControlField, DataField, Field, MarcRecord, RecordError

RT = 0x1D  # record terminator
FT = 0x1E  # field terminator
SF = 0x1F  # subfield delimiter
_BETWEEN = frozenset(b" \t\r\n\x00\x1a")  # tolerated between records (editors add newlines)
_GAP = re.compile(rb"[ \t\r\n\x00\x1a]*")
_RT_RUN = re.compile(rb"\x1d*+")
# After the last terminator of a run a record may start again: a gap, then five digits (or the
# buffer's end inside the gap or the digits, to be read on with more data).
_AFTER_RT = re.compile(rb"[ \t\r\n\x00\x1a]*+(?:[0-9]{5}|[0-9]{0,4}\Z)")
_MAX_GAP_KEPT = 1 << 20  # a longer gap after a broken record's terminator is garbage as well
_DIRECTORY = re.compile(rb"(?:[\x20-\x7e]{3}[0-9]{9})+")
_SINGLE_BYTE = frozenset({"cp1251", "cp866", "koi8-r", "latin-1", "iso8859-1", "iso8859-5"})


class Frame(NamedTuple):
    """Raw bytes of one record with its ordinal (1-based) and byte offset in the file.

    A broken stretch has an error reason and no data (it may be megabytes of garbage).
    """

    ordinal: int
    offset: int
    data: bytes
    error: str | None


def frame_records(stream: BinaryIO, chunk_size: int = 1 << 20) -> Iterator[Frame]:
    """Yield each record's raw bytes from a binary stream, or a Frame with an error reason.

    Memory is bounded by one record (at most 99,999 bytes, ISO 2709's own limit) plus a chunk,
    whatever the file holds. After a record that does not frame (its length is not digits or
    does not end on a record terminator), everything up to the next record that does frame
    after a terminator is ONE error, however long: a run of 50 MB of 0x1D bytes or of random
    bytes is one line in the report, skipped at regular-expression speed.
    """
    buf = b""
    base = 0  # file offset of buf[0]
    pos = 0
    eof = False
    ordinal = 0

    def more() -> bool:
        """Append a chunk, first dropping what lies before `pos` (indices shift by `pos`)."""
        nonlocal buf, base, pos, eof
        if eof:
            return False
        chunk = stream.read(chunk_size)
        if not chunk:
            eof = True
            return False
        if pos:
            buf = buf[pos:]
            base += pos
            pos = 0
        buf += chunk
        return True

    def fault() -> str | None:
        """Why the record at `pos` does not frame, or None when it does (reads on as needed)."""
        while len(buf) - pos < 5 and more():
            pass
        head = buf[pos:pos + 5]
        if not (len(head) == 5 and head.isdigit()):
            return f"bad record length {head!r}: not 5 digits"
        length = int(head)
        if length < 26:
            return f"bad record length {head.decode()}: shorter than a leader"
        while len(buf) - pos < length and more():
            pass
        if len(buf) - pos < length:
            return f"record length {length} runs past the end of the file"
        if buf[pos + length - 1] != RT:
            return f"record length {length} does not end on a record terminator"
        return None

    def resynchronise() -> None:
        """Move `pos` past a broken stretch: to the next record after a terminator that frames,
        else to the end of the file."""
        nonlocal pos
        i = pos + 1
        while True:
            j = buf.find(b"\x1d", i)  # memchr speed through garbage
            if j < 0:  # no terminator left in the buffer: all of it is garbage
                pos = len(buf)
                if not more():
                    return
                i = pos
                continue
            k = _RT_RUN.match(buf, j).end()  # type: ignore[union-attr]  # past a run of them
            m = _AFTER_RT.match(buf, k)
            if k < len(buf) and m is None:
                i = k
                continue
            if m is not None and m.end() - k >= 5 and buf[m.end() - 5:m.end()].isdigit():
                pos = m.end() - 5
                if fault() is None:
                    return
                i = pos + 1
                continue
            # a terminator, a gap and maybe the first digits up to the buffer's end: read on
            pos = len(buf) if len(buf) - k > _MAX_GAP_KEPT else k - 1
            if not more():
                pos = len(buf)
                return
            i = pos

    while True:
        while True:
            if pos < len(buf) and buf[pos] in _BETWEEN:
                pos = _GAP.match(buf, pos).end()  # type: ignore[union-attr]  # * always matches
            if pos + 5 <= len(buf) or not more():
                break
        if pos >= len(buf):
            return
        ordinal += 1
        head = buf[pos:pos + 5]
        if head.isdigit():
            length = int(head)
            if length >= 26:
                while len(buf) - pos < length and more():
                    pass
                if len(buf) - pos >= length and buf[pos + length - 1] == RT:
                    yield Frame(ordinal, base + pos, buf[pos:pos + length], None)
                    pos += length
                    continue
        reason = fault() or "cannot frame the record"
        start = base + pos
        resynchronise()
        end = base + pos
        tail = "up to the end of the file" if pos >= len(buf) and eof else f"up to offset {end}"
        yield Frame(ordinal, start, b"", f"{reason}; {end - start} bytes skipped {tail}")


def _non_ascii(data: bytes) -> tuple[int, int]:
    if data.isascii():
        return -1, 0
    for i, b in enumerate(data):
        if b > 0x7F:
            return i, b
    return -1, 0


def _describe_byte(b: int) -> str:
    try:
        ch = bytes([b]).decode("cp1251")
    except UnicodeDecodeError:
        return f"byte 0x{b:02X}"
    if "\u0400" <= ch <= "\u04ff":
        return f"byte 0x{b:02X} (Cyrillic '{ch}' in cp1251)"
    return f"byte 0x{b:02X}"


def split_fields(raw: bytes) -> tuple[str, list[tuple[str, int, int]]]:
    """Check leader and directory; return the leader and (tag, start, end) of each field's data
    in `raw` (end excludes the field terminator).

    Raises RecordError with a precise reason for every structural fault.
    """
    n = len(raw)
    if n < 26:
        raise RecordError(f"record of {n} bytes is shorter than a leader and a directory")
    if raw[-1] != RT:
        raise RecordError("missing record terminator (0x1D) at the end of the record")
    leader_b = raw[:24]
    i, b = _non_ascii(leader_b)
    if i >= 0:
        raise RecordError(f"bad leader: position {i} holds {_describe_byte(b)}, not ASCII")
    leader = leader_b.decode("ascii")
    if not leader_b[12:17].isdigit():
        raise RecordError(f"bad base address {leader[12:17]!r} in leader/12-16: not 5 digits")
    base = int(leader_b[12:17])
    if base < 25 or base >= n:
        raise RecordError(f"bad base address {base}: outside the record (length {n})")
    if raw[base - 1] != FT:
        raise RecordError(f"bad base address {base}: the directory does not end with 0x1E there")
    directory = raw[24:base - 1]
    if not directory:
        raise RecordError("no fields: the directory is empty")
    i, b = _non_ascii(directory)
    if i >= 0:
        raise RecordError(f"bad directory: entry {i // 12 + 1} holds {_describe_byte(b)}")
    if len(directory) % 12:
        raise RecordError(f"directory of {len(directory)} bytes is not a multiple of 12")
    if not _DIRECTORY.fullmatch(directory):
        for k in range(0, len(directory), 12):
            entry = directory[k:k + 12]
            if not entry[3:12].isdigit():
                raise RecordError(f"bad directory entry {k // 12 + 1} {entry.decode('ascii')!r}")
    text = directory.decode("ascii")
    limit = n - 1
    fields = [(text[k:k + 3], base + int(text[k + 7:k + 12]), int(text[k + 3:k + 7]))
              for k in range(0, len(text), 12)]
    for i, (tag, start, length) in enumerate(fields):
        end = start + length
        if end > limit or not length:
            raise RecordError(f"field {tag} (directory entry {i + 1}) runs past the record end")
        if raw[end - 1] != FT:
            raise RecordError(f"field {tag} (directory entry {i + 1}) lacks its terminator 0x1E")
        fields[i] = (tag, start, end - 1)
    return leader, fields


def _in_order(raw: bytes, fields: list[tuple[str, int, int]]) -> bool:
    """True when the fields lie back to back in directory order up to the record terminator."""
    expect = fields[0][1] if fields else 0
    for _, s, e in fields:
        if s != expect:
            return False
        expect = e + 1
    return expect == len(raw) - 1


def is_control_tag(tag: str) -> bool:
    """True for control-field tags 001-009 (and 00X variants)."""
    return tag[:2] == "00"


def decode_record(raw: bytes, leader: str, fields: list[tuple[str, int, int]], encoding: str,
                  wanted: frozenset[str] | None = None) -> MarcRecord:
    """Decode split fields with one encoding ('utf-8', 'cp1251', 'marc-8', ...).

    `wanted` limits decoding to those tags (the importer needs only the mapped ones; the
    original bytes are stored as they are).
    """
    out: list[Field] = []
    tag = ""
    try:
        if encoding == "marc-8":
            from pymarc.marc8 import marc8_to_unicode

            for tag, s, e in fields:
                if wanted is not None and tag not in wanted:
                    continue
                data = raw[s:e]
                if tag[:2] == "00":
                    out.append(ControlField(tag, marc8_to_unicode(data, hide_utf8_warnings=True)))
                    continue
                parts = data.split(b"\x1f")
                head = parts[0].decode("ascii", "replace")
                subs = [(chr(p[0]), marc8_to_unicode(p[1:], hide_utf8_warnings=True))
                        for p in parts[1:] if p]
                out.append(DataField(tag, head[0:1] or " ", head[1:2] or " ", subs))
            return MarcRecord(leader, out)
        if encoding in _SINGLE_BYTE:
            text = raw.decode(encoding)  # one decode; byte offsets equal character offsets
            pieces = ((tag, text[s:e]) for tag, s, e in fields
                      if wanted is None or tag in wanted)
        elif fields and _in_order(raw, fields):
            # Usual layout: decode the data area once and split on field terminators.
            texts = raw[fields[0][1]:-1].decode(encoding).split("\x1e")
            if len(texts) != len(fields) + 1:
                raise RecordError("a field terminator inside field data")
            pieces = ((f[0], t) for f, t in zip(fields, texts)
                      if wanted is None or f[0] in wanted)
        else:
            pieces = ((tag, raw[s:e].decode(encoding)) for tag, s, e in fields
                      if wanted is None or tag in wanted)
        append = out.append
        for tag, value in pieces:
            if tag[0] == "0" and tag[1] == "0":
                append(ControlField(tag, value))
                continue
            sparts = value.split("\x1f")
            head = sparts[0]
            append(DataField(tag, head[0:1] or " ", head[1:2] or " ",
                             [(p[0], p[1:]) for p in sparts[1:] if p]))
    except UnicodeDecodeError as exc:
        where = f"field {tag}" if tag else "record"
        raise RecordError(f"{where}: cannot decode as {encoding}: {exc.reason} "
                          f"at byte {exc.start}") from exc
    return MarcRecord(leader, out)


def encode_record(record: MarcRecord, encoding: str, errors: str = "strict") -> bytes:
    """Serialise a MarcRecord as ISO 2709 in `encoding`, recomputing length and base address."""
    directory = bytearray()
    body = bytearray()
    for f in record.fields:
        if isinstance(f, ControlField):
            data = f.value.encode(encoding, errors)
        else:
            data = (f.ind1 + f.ind2).encode(encoding, errors) + b"".join(
                b"\x1f" + (c + v).encode(encoding, errors) for c, v in f.subfields
            )
        data += b"\x1e"
        tag = f.tag.encode("ascii")
        if len(tag) != 3:
            raise RecordError(f"tag {f.tag!r} is not 3 characters")
        if len(data) > 9999 or len(body) > 99999:
            raise RecordError(f"field {f.tag} too long for ISO 2709")
        directory += tag + b"%04d%05d" % (len(data), len(body))
        body += data
    base = 24 + len(directory) + 1
    total = base + len(body) + 1
    if total > 99999:
        raise RecordError(f"record of {total} bytes is too long for ISO 2709")
    leader = (record.leader + " " * 24)[:24]
    leader = "%05d" % total + leader[5:12] + "%05d" % base + leader[17:]
    if leader[20:24].strip() == "":
        leader = leader[:20] + "4500"
    return leader.encode("ascii") + bytes(directory) + b"\x1e" + bytes(body) + b"\x1d"
