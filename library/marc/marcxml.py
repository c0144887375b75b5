"""Streaming MARCXML reader (MARC21/slim namespace or none) with byte offsets.

Uses the expat parser directly rather than ElementTree.iterparse: expat reports the byte
offset of each <record>, which the import report needs, and building no element tree keeps
memory flat on files of any size. Records are handed out after each fed chunk. An XML syntax
error cannot be resynchronised: it ends the file with one error naming line and column.
Each record is stored as UTF-8 ISO 2709 (Record.marc) so that export treats all inputs alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO
from xml.parsers import expat

from library.marc.iso2709 import encode_record
from library.marc.model import ControlField, DataField, MarcRecord, Parsed, RecordError

NS = "http://www.loc.gov/MARC21/slim"


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

    def start(self, name: str, attrs: dict) -> None:
        tag = _local(name)
        if tag == "record":
            self.in_record = True
            self.ordinal += 1
            self.offset = self.parser.CurrentByteIndex
            self.leader, self.fields, self.current = "", [], None
        elif not self.in_record:
            return
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
        if self.capture:
            self.text.append(data)

    def end(self, name: str) -> None:
        tag = _local(name)
        if not self.in_record:
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
    parser.buffer_text = True
    while True:
        chunk = stream.read(chunk_size)
        try:
            parser.Parse(chunk, not chunk)
        except expat.ExpatError as exc:
            yield from handler.done
            handler.done = []
            yield Parsed(handler.ordinal + 1, parser.CurrentByteIndex,
                         error=f"XML error at line {exc.lineno}, column {exc.offset}: "
                               f"{expat.ErrorString(exc.code)}; the rest of the file is unreadable")
            return
        yield from handler.done
        handler.done = []
        if not chunk:
            return
