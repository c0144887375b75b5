"""Streaming MARCXML reader (MARC21/slim namespace or none) with byte offsets.

Uses the expat parser directly rather than ElementTree.iterparse: expat reports the byte
offset of each <record>, which the import report needs, and building no element tree keeps
memory flat on files of any size. Records are handed out after each fed chunk. An XML syntax
error cannot be resynchronised: it ends the file with one error naming line and column.
Each record is stored as UTF-8 ISO 2709 (Record.marc) so that export treats all inputs alike.

Hostile files (docs/IMPORT.md, "Hostile files"):
- entity declarations are refused, as defusedxml does by default (`forbid_entities`,
  `forbid_external`): billion laughs, quadratic blow-up and XXE (`SYSTEM "file:///etc/passwd"`)
  all need one, and MARCXML never does; external entities and parameter entities are never
  read. The file ends with one error at the declaration. (defusedxml itself wraps expat behind
  SAX or ElementTree, which give no byte offsets; its three handlers are reproduced here.)
- one record is capped at MAX_RECORD_BYTES characters of data and MAX_RECORD_FIELDS fields:
  past that its data is dropped at once and the record is reported "too long" at its line and
  offset; the next record is read as usual.
- one XML token (a tag with a giant attribute, a giant comment) is capped at MAX_TOKEN_BYTES:
  expat must buffer a token whole, so longer ones end the file with an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO
from xml.parsers import expat

from library.marc.iso2709 import encode_record
from library.marc.model import (
    MAX_RECORD_BYTES,
    MAX_RECORD_FIELDS,
    ControlField,
    DataField,
    MarcRecord,
    Parsed,
    RecordError,
)

NS = "http://www.loc.gov/MARC21/slim"
MAX_TOKEN_BYTES = 8 << 20  # bytes fed to expat without one event: a token it must buffer whole


class XmlForbidden(RecordError):
    """The MARCXML file declares an entity (billion laughs, XXE): refused, never expanded."""


def _forbid_entity(name: str, *_args: object) -> None:
    raise XmlForbidden(f"entity declarations are not allowed in MARCXML (entity {name!r}): "
                       f"refused as a possible billion-laughs or XXE attack")


def _forbid_external(_context: object, _base: object, system_id: str | None,
                     _public_id: object) -> int:
    raise XmlForbidden(f"external entities are not read ({system_id!r})")


def _local(name: str) -> str:
    return name.rsplit(" ", 1)[-1]


class _Handler:
    def __init__(self, parser: expat.XMLParserType):
        self.parser = parser
        self.done: list[Parsed] = []
        self.ordinal = 0
        self.offset = 0
        self.leader = ""
        self.fields: list = []
        self.current: DataField | ControlField | None = None
        self.code = " "
        self.text: list[str] = []
        self.in_record = False
        self.capture = False
        self.size = 0  # characters of data kept for the current record
        self.too_long: str | None = None  # the reason once the record outgrew the caps
        self.seen = 0  # byte index of the last event (a token being buffered is past it)

    def next_ordinal(self) -> int:
        """The ordinal of the record an error ends: the one being read, else the next."""
        return self.ordinal if self.in_record else self.ordinal + 1

    def _overflow(self, what: str) -> None:
        self.too_long = (f"record too long at line {self.parser.CurrentLineNumber}, offset "
                         f"{self.parser.CurrentByteIndex}: more than {what}; skipped up to "
                         f"its </record>")
        self.fields, self.text, self.current, self.capture = [], [], None, False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.seen = self.parser.CurrentByteIndex
        tag = _local(name)
        if tag == "record":
            self.in_record = True
            self.ordinal += 1
            self.offset = self.parser.CurrentByteIndex
            self.leader, self.fields, self.current = "", [], None
            self.size, self.too_long = 0, None
        elif not self.in_record or self.too_long is not None:
            return
        elif len(self.fields) >= MAX_RECORD_FIELDS and tag in ("controlfield", "datafield"):
            self._overflow(f"{MAX_RECORD_FIELDS} fields")
        elif tag == "leader":
            self.text, self.capture = [], True
        elif tag == "controlfield":
            self.current = ControlField(attrs.get("tag", "").strip(), "")
            self.text, self.capture = [], True
        elif tag == "datafield":
            self.current = DataField(attrs.get("tag", "").strip(),
                                     (attrs.get("ind1") or " ")[:1], (attrs.get("ind2") or " ")[:1])
        elif tag == "subfield":
            self.code = attrs.get("code", "")[:1] or " "
            self.text, self.capture = [], True

    def chars(self, data: str) -> None:
        self.seen = self.parser.CurrentByteIndex
        if self.capture:
            self.size += len(data)
            if self.size > MAX_RECORD_BYTES:
                self._overflow(f"{MAX_RECORD_BYTES} characters of data")
                return
            self.text.append(data)

    def end(self, name: str) -> None:
        self.seen = self.parser.CurrentByteIndex
        tag = _local(name)
        if not self.in_record:
            return
        if self.too_long is not None:
            if tag == "record":
                self.in_record = False
                self.done.append(Parsed(self.ordinal, self.offset, error=self.too_long))
            return
        if tag == "leader":
            self.leader = "".join(self.text)
            self.capture = False
        elif tag == "controlfield":
            # a <datafield> nested in a <controlfield> (malformed) leaves a DataField current
            if isinstance(self.current, ControlField):
                self.current.value = "".join(self.text)
                self.fields.append(self.current)
            self.capture = False
        elif tag == "subfield":
            if isinstance(self.current, DataField):
                self.current.subfields.append((self.code, "".join(self.text)))
            self.capture = False
        elif tag == "datafield":
            self.fields.append(self.current)
        elif tag == "record":
            self.in_record = False
            self.done.append(self._finish())

    def _finish(self) -> Parsed:
        leader = self.leader
        try:
            if len(leader) != 24 or not leader.isascii():
                raise RecordError(f"bad leader {leader!r}: not 24 ASCII characters")
            bad = [f.tag for f in self.fields if len(f.tag) != 3 or not f.tag.isascii()]
            if bad:
                raise RecordError(f"bad tag {bad[0]!r}")
            if not self.fields:
                raise RecordError("no fields")
            record = MarcRecord(leader, self.fields)
            stored = encode_record(record, "utf-8")
        except RecordError as exc:
            return Parsed(self.ordinal, self.offset, error=exc.reason, encoding="utf-8")
        return Parsed(self.ordinal, self.offset, record, "utf-8", stored, "utf-8")


def read_marcxml(stream: BinaryIO, chunk_size: int = 1 << 20) -> Iterator[Parsed]:
    """Yield one Parsed per <record> of a MARCXML file, streaming."""
    parser = expat.ParserCreate(namespace_separator=" ")
    handler = _Handler(parser)
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.chars
    parser.EntityDeclHandler = _forbid_entity
    parser.UnparsedEntityDeclHandler = _forbid_entity
    parser.ExternalEntityRefHandler = _forbid_external
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    fed = 0
    while True:
        chunk = stream.read(chunk_size)
        fed += len(chunk)
        try:
            parser.Parse(chunk, not chunk)
        except expat.ExpatError as exc:
            yield from handler.done
            handler.done = []
            yield Parsed(handler.next_ordinal(), parser.CurrentByteIndex,
                         error=f"XML error at line {exc.lineno}, column {exc.offset}: "
                               f"{expat.ErrorString(exc.code)}; the rest of the file is unreadable")
            return
        except XmlForbidden as exc:
            yield from handler.done
            handler.done = []
            yield Parsed(handler.next_ordinal(), parser.CurrentByteIndex,
                         error=f"line {parser.CurrentLineNumber}: {exc.reason}; "
                               f"the rest of the file is not read")
            return
        yield from handler.done
        handler.done = []
        if not chunk:
            return
        if fed - handler.seen > MAX_TOKEN_BYTES:
            yield Parsed(handler.next_ordinal(), handler.seen,
                         error=f"an XML token longer than {MAX_TOKEN_BYTES} bytes after offset "
                               f"{handler.seen} (a giant tag, attribute or comment); "
                               f"the rest of the file is not read")
            return
