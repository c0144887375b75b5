"""The ISO 2709 framer and directory parser: every kind of breakage, offsets, streaming."""

from __future__ import annotations

import io

import pytest
from marc_fixtures import M21_LEADER, rec, rusmarc

from library.marc.iso2709 import decode_record, encode_record, frame_records, split_fields
from library.marc.model import RecordError
from library.marc.reader import read_iso2709

GOOD = rec(M21_LEADER, ("001", "1"), ("245", "10", [("a", "Title")]))


def frames(data: bytes, chunk_size: int = 1 << 20):
    return list(frame_records(io.BytesIO(data), chunk_size=chunk_size))


def test_frames_records_with_ordinals_and_offsets():
    a, b = GOOD, rusmarc(2)
    got = frames(a + b + a)
    assert [(f.ordinal, f.offset, f.error) for f in got] == [
        (1, 0, None), (2, len(a), None), (3, len(a) + len(b), None)]
    assert got[1].data == b


def test_whitespace_between_records_and_trailing_newline_are_tolerated():
    got = frames(GOOD + b"\r\n" + GOOD + b"\n")
    assert [f.error for f in got] == [None, None]
    assert got[1].offset == len(GOOD) + 2


@pytest.mark.parametrize("chunk", [1, 7, 100, 1 << 20])
def test_chunk_boundaries_do_not_matter(chunk):
    data = GOOD + rusmarc(1) + b"xx" + GOOD + rusmarc(3)
    assert frames(data, chunk) == frames(data)


def test_bad_length_resynchronises_on_the_next_terminator():
    broken = b"12x45" + GOOD[5:]
    got = frames(GOOD + broken + GOOD)
    assert [f.error is None for f in got] == [True, False, True]
    assert "not 5 digits" in got[1].error
    assert got[1].offset == len(GOOD) and got[2].offset == 2 * len(GOOD)


def test_length_not_ending_on_a_terminator():
    wrong = b"%05d" % (len(GOOD) - 3) + GOOD[5:]
    got = frames(wrong + GOOD)
    assert "does not end on a record terminator" in got[0].error
    assert got[1].error is None and got[1].data == GOOD


def test_truncated_last_record():
    got = frames(GOOD + GOOD[:40])
    assert got[0].error is None
    assert "past the end of the file" in got[1].error


def test_short_length():
    assert "shorter than a leader" in frames(b"00010" + GOOD[5:])[0].error


def _reason(raw: bytes) -> str:
    with pytest.raises(RecordError) as info:
        split_fields(raw)
    return info.value.reason


def _patch(raw: bytes, at: int, new: bytes) -> bytes:
    return raw[:at] + new + raw[at + len(new):]


def test_split_fields_reasons():
    assert "position 6 holds byte 0xE0 (Cyrillic 'а' in cp1251)" in _reason(
        _patch(GOOD, 6, "а".encode("cp1251")))
    assert "not 5 digits" in _reason(_patch(GOOD, 12, b"22f00"))
    assert "outside the record" in _reason(_patch(GOOD, 12, b"99937"))
    assert "outside the record" in _reason(_patch(GOOD, 12, b"00000"))
    assert "does not end with 0x1E" in _reason(_patch(GOOD, 12, b"00036"))
    assert "missing record terminator" in _reason(GOOD[:-1] + b"x")
    assert "bad directory entry 1" in _reason(_patch(GOOD, 27, b"00x9"))
    assert "holds byte 0xC3" in _reason(_patch(GOOD, 27, b"\xc3\xb9"))


def test_directory_not_multiple_of_12_and_empty():
    base = int(GOOD[12:17])
    # one extra digit in the directory, base address moved accordingly
    raw = GOOD[:base - 1] + b"1" + GOOD[base - 1:]
    raw = b"%05d" % len(raw) + raw[5:12] + b"%05d" % (base + 1) + raw[17:]
    assert "not a multiple of 12" in _reason(raw)
    empty = b"00026     2200025   4500\x1e\x1d"
    assert "directory is empty" in _reason(empty)


def test_field_past_end_and_missing_field_terminator():
    # directory entry of the 245 claims a longer field
    entry_at = 24 + 12  # second entry
    long = _patch(GOOD, entry_at + 3, b"0999")
    assert "245" in _reason(long) and "past the record end" in _reason(long)
    short = _patch(GOOD, entry_at + 3, b"%04d" % (int(GOOD[entry_at + 3:entry_at + 7]) - 1))
    assert "lacks its terminator" in _reason(short)


def test_pymarc_bad_records_style_file_is_read_record_by_record():
    bad = [_patch(GOOD, 12, b"99937"), _patch(GOOD, 12, b"f0037"),
           b"00026     2200025   4500\x1e\x1d"]
    data = GOOD + b"".join(bad) + GOOD + b"\n"
    got = list(read_iso2709(io.BytesIO(data)))
    assert [p.error is None for p in got] == [True, False, False, False, True]
    assert got[-1].record.first("245").get("a") == "Title"


def test_rusmarc_2_style_cyrillic_leader_is_skipped_not_fatal():
    bad = _patch(rusmarc(1), 6, "а".encode("cp1251"))
    got = list(read_iso2709(io.BytesIO(bad + rusmarc(2))))
    assert "Cyrillic 'а'" in got[0].error
    assert got[1].record.first("200").get("a") == "Книга номер 2"


def test_encode_decode_round_trip_in_each_encoding():
    for encoding in ("utf-8", "cp1251"):
        raw = rusmarc(5, encoding=encoding)
        leader, fields = split_fields(raw)
        record = decode_record(raw, leader, fields, encoding)
        assert encode_record(record, encoding) == raw
        assert record.first("200").get("a") == "Книга номер 5"


def test_decode_only_wanted_tags():
    raw = rusmarc(1)
    leader, fields = split_fields(raw)
    record = decode_record(raw, leader, fields, "cp1251", frozenset({"200"}))
    assert [f.tag for f in record.fields] == ["200"]


def test_three_indicator_bytes_keep_the_first_two():
    # ur.iso's 610 fields carry three indicator bytes (a real export quirk)
    raw = b"00050nam  2200037   450 610000700000\x1e0  \x1fax\x1e\x1d"
    raw = b"%05d" % len(raw) + raw[5:]
    leader, fields = split_fields(raw)
    f = decode_record(raw, leader, fields, "utf-8").first("610")
    assert (f.ind1, f.ind2, f.subfields) == ("0", " ", [("a", "x")])
