"""Plain value types shared by the MARC readers, the mapping, the importer and the exporter.

A `MarcRecord` is a lean, decoded MARC record (leader + ordered fields). It is deliberately not
a pymarc object: building pymarc Records costs more than the whole rest of an import, and the
readers here must report byte offsets and precise reasons that pymarc does not give.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from library.errors import ImportFormatError

# Bounds on one record in the text containers (ИРБИС text, MARCXML), whatever the file holds.
# ISO 2709 bounds itself: a record's length is five digits (at most 99,999 bytes), so a record
# that passes these caps is still refused by encode_record when it is stored; the caps only stop
# a file without separators (or one giant element) from growing memory before that.
MAX_RECORD_BYTES = 1 << 20  # text bytes of one record
MAX_RECORD_FIELDS = 10_000  # ISO 2709 has room for at most 8,331 directory entries


class RecordError(ImportFormatError):
    """One record cannot be read or mapped; the batch goes on without it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class ControlField:
    """A control field (tags 001-009): tag plus a string value."""

    tag: str
    value: str


@dataclass(slots=True)
class DataField:
    """A data field: tag, two indicators and ordered (code, value) subfields."""

    tag: str
    ind1: str = " "
    ind2: str = " "
    subfields: list[tuple[str, str]] = field(default_factory=list)

    def get(self, code: str) -> str | None:
        """The first value of subfield `code`, else None."""
        for c, v in self.subfields:
            if c == code:
                return v
        return None

    def get_all(self, code: str) -> list[str]:
        """Every value of subfield `code`, in order."""
        return [v for c, v in self.subfields if c == code]


Field = ControlField | DataField


@dataclass(slots=True)
class MarcRecord:
    """A decoded MARC record: the 24-character leader and its fields in file order."""

    leader: str
    fields: list[Field]

    def get_fields(self, *tags: str) -> list[Field]:
        """Fields with any of `tags`, in record order."""
        return [f for f in self.fields if f.tag in tags]

    def first(self, tag: str) -> Field | None:
        """The first field with `tag`, else None."""
        for f in self.fields:
            if f.tag == tag:
                return f
        return None

    def control(self, tag: str) -> str | None:
        """The value of the first control field `tag`, else None."""
        f = self.first(tag)
        return f.value if isinstance(f, ControlField) else None

    def tags(self) -> set[str]:
        """The set of tags present."""
        return {f.tag for f in self.fields}


@dataclass(slots=True)
class Parsed:
    """One unit out of a reader: a decoded record, or the reason it could not be read.

    `raw` and `raw_encoding` are what the database keeps in Record.marc / Record.marc_encoding
    (original ISO 2709 bytes where there are some, else a UTF-8 ISO 2709 rendering).
    """

    ordinal: int
    offset: int | None
    record: MarcRecord | None = None
    encoding: str | None = None
    raw: bytes | None = None
    raw_encoding: str | None = None
    error: str | None = None
    format_hint: str | None = None


@dataclass(slots=True)
class CopyData:
    """A copy (экземпляр) as read from a holdings field (ИРБИС 910, RUSMARC 899, MARC21 852/952)."""

    sigla: str | None = None
    inventory_number: str | None = None
    barcode: str | None = None
    rfid: str | None = None
    shelf_mark: str | None = None
    collection: str | None = None
    status: str = "available"
    status_code: str | None = None
    price: str | None = None
    received: str | None = None
    note: str | None = None
    source_tag: str | None = None


@dataclass(slots=True)
class RecordData:
    """The Record columns extracted from one MARC record, plus its copies."""

    key: str
    source_format: str
    title: str
    subtitle: str | None = None
    responsibility: str | None = None
    authors: list[str] = field(default_factory=list)
    publisher: str | None = None
    place: str | None = None
    year: int | None = None
    isbn: str | None = None
    isbns: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    udc: str | None = None
    bbk: str | None = None
    annotation: str | None = None
    language: str | None = None
    age_rating: str | None = None
    age_min: int | None = None
    item_type: str = "book"
    pages: int | None = None
    marc: bytes | None = None
    marc_encoding: str | None = None
    copies: list[CopyData] = field(default_factory=list)
    union_key: str | None = None  # library.marc.union: the same book in another school
