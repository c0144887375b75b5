"""ИРБИС64 records as a small value type, and their conversion to and from library.marc.

An ИРБИС record is its MFN, version, status flags and ordered fields; a field is a numeric tag,
an optional value before the first subfield, and ordered ``^code value`` subfields. Subfield
codes are case-insensitive in ИРБИС (``^A`` is ``^a``): lookups ignore case, codes are kept as
written so a record read and written back is unchanged.

Status flags (PythonIrbis irbis/_common.py: LOGICALLY_DELETED = 1, PHYSICALLY_DELETED = 2,
ABSENT = 4, NON_ACTUALIZED = 8, NEW_RECORD = 16, LAST = 32, LOCKED = 64).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from library.marc.model import ControlField, DataField, MarcRecord

LOGICALLY_DELETED = 1
PHYSICALLY_DELETED = 2
ABSENT = 4
NON_ACTUALIZED = 8
NEW_RECORD = 16
LAST = 32
LOCKED = 64


@dataclass(slots=True)
class Field:
    """One repeat of a field: numeric tag, the text before the first ``^``, the subfields."""

    tag: int
    value: str = ""
    subfields: list[tuple[str, str]] = field(default_factory=list)

    def get(self, code: str) -> str | None:
        """The first value of subfield `code` (case-insensitive), else None."""
        code = code.lower()
        for c, v in self.subfields:
            if c.lower() == code:
                return v
        return None

    def get_all(self, code: str) -> list[str]:
        """Every value of subfield `code`, in order."""
        code = code.lower()
        return [v for c, v in self.subfields if c.lower() == code]

    def set(self, code: str, value: str | None) -> Field:
        """Set the first subfield `code` to `value` (added at the end if absent); None removes
        every `code` subfield."""
        if value is None:
            return self.remove(code)
        low = code.lower()
        for i, (c, _) in enumerate(self.subfields):
            if c.lower() == low:
                self.subfields[i] = (c, value)
                return self
        self.subfields.append((code, value))
        return self

    def add(self, code: str, value: str) -> Field:
        """Append a subfield (repeats allowed)."""
        self.subfields.append((code, value))
        return self

    def remove(self, code: str) -> Field:
        """Remove every subfield `code`."""
        low = code.lower()
        self.subfields[:] = [(c, v) for c, v in self.subfields if c.lower() != low]
        return self

    def copy(self) -> Field:
        return Field(self.tag, self.value, list(self.subfields))


@dataclass(slots=True)
class IrbisRecord:
    """A record of an ИРБИС64 database; ``mfn`` 0 is a new record (the server assigns one)."""

    mfn: int = 0
    version: int = 0
    status: int = 0
    fields: list[Field] = field(default_factory=list)
    database: str = ""

    @property
    def deleted(self) -> bool:
        """Logically (or physically) deleted."""
        return bool(self.status & (LOGICALLY_DELETED | PHYSICALLY_DELETED))

    @property
    def locked(self) -> bool:
        return bool(self.status & LOCKED)

    def fields_of(self, tag: int) -> list[Field]:
        """Every repeat of field `tag`, in order (``fields`` is the attribute: all of them)."""
        return [f for f in self.fields if f.tag == tag]

    def field(self, tag: int) -> Field | None:
        """The first repeat of field `tag`, else None."""
        for f in self.fields:
            if f.tag == tag:
                return f
        return None

    def first(self, tag: int, code: str | None = None) -> str | None:
        """The first value of subfield `code` among the repeats of `tag` (with no code: the first
        repeat's value before its subfields); None when there is none."""
        for f in self.fields:
            if f.tag != tag:
                continue
            if code is None:
                return f.value
            found = f.get(code)
            if found is not None:
                return found
        return None

    def add_field(self, tag: int, value: str = "",
                  subfields: Iterable[tuple[str, str]] = ()) -> Field:
        """Append a new repeat of `tag` and return it."""
        new = Field(tag, value, list(subfields))
        self.fields.append(new)
        return new

    def set_field(self, tag: int, value: str = "",
                  subfields: Iterable[tuple[str, str]] = ()) -> Field:
        """Replace the first repeat of `tag` (or add it) and return it."""
        new = Field(tag, value, list(subfields))
        for i, f in enumerate(self.fields):
            if f.tag == tag:
                self.fields[i] = new
                return new
        self.fields.append(new)
        return new

    def remove_field(self, tag: int, which: Field | None = None) -> int:
        """Remove one repeat (`which`, compared by identity) or every repeat of `tag`; returns
        how many were removed."""
        before = len(self.fields)
        self.fields[:] = [f for f in self.fields
                          if not (f.tag == tag and (which is None or f is which))]
        return before - len(self.fields)

    def set_subfield(self, tag: int, code: str, value: str | None) -> Field:
        """Set subfield `code` of the first repeat of `tag` (the field is added if absent)."""
        target = self.field(tag) or self.add_field(tag)
        return target.set(code, value)

    def copy(self) -> IrbisRecord:
        return IrbisRecord(self.mfn, self.version, self.status, [f.copy() for f in self.fields],
                           self.database)


# Fields ИРБИС keeps as a plain value, without subfields: in the catalogue 903 (record key) and
# 920 (worksheet, e.g. PAZK: PythonIrbis tests/data/records.txt); in readers (ManagedIrbis
# Readers/ReaderInfo.cs) 10/11/12 names, 17 phone, 18 …, 21 birth date, 22 pass, 23 sex,
# 30 card, 32 e-mail, 33 notes, 50 category, 130 password.
CATALOGUE_PLAIN_TAGS = frozenset({903, 920})
READER_PLAIN_TAGS = frozenset({10, 11, 12, 17, 18, 21, 22, 23, 30, 32, 33, 50, 130})


def from_marc(marc: MarcRecord, mfn: int = 0,
              plain_tags: frozenset[int] = frozenset()) -> IrbisRecord:
    """An ИРБИС record from a decoded MARC record (RUSMARC ISO 2709 as ИРБИС exports it): numeric
    tags, control fields as values, data fields' subfields kept in order; indicators are dropped
    (ИРБИС64's native records have none). library.marc reads a value that has no subfield code
    as ``^a`` (irbis_text.parse_lines); for the `plain_tags` a lone ``^a`` becomes the value
    again."""
    rec = IrbisRecord(mfn=mfn)
    for f in marc.fields:
        if not f.tag.isdigit():
            continue
        tag = int(f.tag)
        if isinstance(f, ControlField):
            rec.add_field(tag, f.value)
        elif tag in plain_tags and len(f.subfields) == 1 and f.subfields[0][0].lower() == "a":
            rec.add_field(tag, f.subfields[0][1])
        else:
            rec.add_field(tag, "", f.subfields)
    return rec


def to_marc(record: IrbisRecord, leader: str = "00000nam  2200000   450 ") -> MarcRecord:
    """A MarcRecord for library.marc's mapping (tags zero-padded; a value before the first
    subfield becomes ``^a`` as library.marc.irbis_text reads an ИРБИС text export)."""
    fields: list[ControlField | DataField] = []
    for f in record.fields:
        tag = str(f.tag).zfill(3)
        if tag[:2] == "00":
            fields.append(ControlField(tag, f.value))
            continue
        subs = [(c.lower(), v) for c, v in f.subfields]
        if f.value:
            subs.insert(0, ("a", f.value))
        fields.append(DataField(tag, " ", " ", subs))
    return MarcRecord(leader, fields)
