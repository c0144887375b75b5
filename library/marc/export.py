"""Exporting the catalogue: ISO 2709 (RUSMARC in cp1251 or UTF-8, MARC21 in UTF-8) and MARCXML.

Each record is rebuilt from the MARC it was imported from (Record.marc + Record.marc_encoding),
so every field comes back as it was; only the holdings fields are regenerated from the Copy
rows (see holdings.write_copy: unchanged copies give back their original field, changed ones
get the changed subfields rewritten, new ones a new field, deleted ones disappear). Records
created without MARC are synthesised from their columns.

Format selection: `rusmarc` writes the UNIMARC-family records (RUSMARC, UNIMARC, ИРБИС),
`marc21` the MARC21 ones (no cross-format conversion is attempted; other records are counted
as skipped), `marcxml` writes every record. Encoding marks: UTF-8 output sets leader/09 = 'a'
(and RUSMARC 100$a/26-29 = "50  "), cp1251 output blanks leader/09 (and turns a "50  " in
100$a/26-29 into the ИРБИС/NLR value "0189").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import Row, exists, select

from library.marc.holdings import CopyFields, identity, read_copy, write_copy
from library.marc.iso2709 import decode_record, encode_record, split_fields
from library.marc.model import ControlField, DataField, Field, MarcRecord, RecordError
from library.storage.models import Copy, Record

if TYPE_CHECKING:
    from typing import Unpack  # Python 3.11+; annotations only

    import pymarc

    from library.storage.database import Database

    _Row = Row[Unpack[tuple[Any, ...]]]  # a result row of any width

R = Record.__table__
C = Copy.__table__
FORMATS = ("rusmarc", "marc21", "marcxml")
UNIMARC_FAMILY = ("rusmarc", "unimarc")


@dataclass
class ExportReport:
    """Counts of an export run."""

    written: int = 0
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """JSON form."""
        return {"written": self.written, "skipped": self.skipped, "warnings": self.warnings[:1000]}


def _holdings_tags(fmt: str) -> tuple[str, ...]:
    if fmt == "marc21":
        return ("852", "952")
    if fmt == "rusmarc":
        return ("910", "899")
    return ("910",)


def _match_copies(originals: list[DataField],
                  copies: Sequence[CopyFields]) -> list[tuple[DataField, CopyFields]]:
    """Pair original holdings fields with copy rows (by sigla + identifiers, then order)."""
    free = list(copies)
    pairs = []
    for f in originals:
        was = read_copy(f)
        ident = identity(was)
        hit = None
        for c in free:
            if was.sigla and c.sigla != was.sigla:
                continue
            if any(ident) and any(a and a == b for a, b in zip(ident, identity(c))):
                hit = c
                break
            if not any(ident) and not any(identity(c)):
                hit = c
                break
        if hit is not None:
            free.remove(hit)
            pairs.append((f, hit))
    return pairs


def rebuild(rec: MarcRecord, fmt: str, copies: Sequence[CopyFields]) -> MarcRecord:
    """The record with its holdings fields regenerated from `copies` (Copy rows)."""
    tags = _holdings_tags(fmt)
    originals = [f for f in rec.fields if isinstance(f, DataField) and f.tag in tags]
    pairs = {id(f): c for f, c in _match_copies(originals, copies)}
    used = {id(c) for c in pairs.values()}
    fields: list[Field] = []
    for f in rec.fields:
        if isinstance(f, DataField) and f.tag in tags:
            c = pairs.get(id(f))
            if c is not None:
                fields.append(write_copy(f.tag, c, f, keep_absent_sigla=True))
            continue
        fields.append(f)
    default_tag = originals[0].tag if originals else ("952" if fmt == "marc21" else "910")
    fields.extend(write_copy(default_tag, c) for c in copies if id(c) not in used)
    return MarcRecord(rec.leader, fields)


def synthesise(row: _Row) -> MarcRecord:
    """A minimal MARC record from Record columns, for records that came without MARC."""
    fields: list = []
    if row.source_format == "marc21":
        leader = "00000nam a2200000 i 4500"
        add = fields.append
        add(ControlField("001", row.key))
        for isbn in row.isbns or []:
            add(DataField("020", " ", " ", [("a", isbn)]))
        for tag, value in (("080", row.udc),):
            if value:
                add(DataField(tag, " ", " ", [("a", value)]))
        if row.bbk:
            add(DataField("084", " ", " ", [("a", row.bbk), ("2", "rubbk")]))
        for i, name in enumerate(row.authors or []):
            add(DataField("100" if i == 0 else "700", "1", " ", [("a", name)]))
        subs = [("a", row.title)] + ([("b", row.subtitle)] if row.subtitle else []) \
            + ([("c", row.responsibility)] if row.responsibility else [])
        add(DataField("245", "1", "0", subs))
        imprint = [(c, v) for c, v in (("a", row.place), ("b", row.publisher),
                                       ("c", str(row.year) if row.year else None)) if v]
        if imprint:
            add(DataField("260", " ", " ", imprint))
        if row.annotation:
            add(DataField("520", " ", " ", [("a", row.annotation)]))
        if row.age_rating:
            add(DataField("521", " ", " ", [("a", row.age_rating)]))
        for s in row.subjects or []:
            add(DataField("650", " ", "4", [("a", s)]))
        return MarcRecord(leader, fields)
    leader = "00000nam a2200000 i 450 "
    add = fields.append
    add(ControlField("001", row.key))
    for isbn in row.isbns or []:
        add(DataField("010", " ", " ", [("a", isbn)]))
    if row.language:
        add(DataField("101", "0", " ", [("a", row.language)]))
    subs = [("a", row.title)] + ([("e", row.subtitle)] if row.subtitle else []) \
        + ([("f", row.responsibility)] if row.responsibility else [])
    add(DataField("200", "1", " ", subs))
    imprint = [(c, v) for c, v in (("a", row.place), ("c", row.publisher),
                                   ("d", str(row.year) if row.year else None)) if v]
    if imprint:
        add(DataField("210", " ", " ", imprint))
    if row.annotation:
        add(DataField("330", " ", " ", [("a", row.annotation)]))
    for s in row.subjects or []:
        add(DataField("606", " ", " ", [("a", s)]))
    if row.udc:
        add(DataField("675", " ", " ", [("a", row.udc)]))
    if row.bbk:
        add(DataField("686", " ", " ", [("a", row.bbk), ("2", "rubbk")]))
    for i, name in enumerate(row.authors or []):
        surname, _, given = name.partition(", ")
        add(DataField("700" if i == 0 else "701", " ", "1",
                      [("a", surname)] + ([("g", given)] if given else [])))
    if row.age_rating:
        add(DataField("900", " ", " ", [("z", row.age_rating)]))
    return MarcRecord(leader, fields)


def mark_encoding(rec: MarcRecord, fmt: str, encoding: str) -> MarcRecord:
    """Set leader/09 (and RUSMARC 100$a/26-29) to declare the output encoding."""
    utf8 = encoding == "utf-8"
    leader = rec.leader[:9] + ("a" if utf8 else " ") + rec.leader[10:]
    fields = rec.fields
    if fmt in UNIMARC_FAMILY:
        fields = []
        for f in rec.fields:
            if isinstance(f, DataField) and f.tag == "100":
                subs = []
                for c, v in f.subfields:
                    if c == "a" and len(v) >= 30:
                        sets = v[26:30]
                        if utf8:
                            sets = "50  "
                        elif sets.startswith("50"):
                            sets = "0189"
                        v = v[:26] + sets + v[30:]
                    subs.append((c, v))
                f = DataField(f.tag, f.ind1, f.ind2, subs)
            fields.append(f)
    return MarcRecord(leader, fields)


def stored_record(marc: bytes, marc_encoding: str) -> MarcRecord:
    """Decode the MARC kept in Record.marc."""
    leader, fields = split_fields(marc)
    return decode_record(marc, leader, fields, marc_encoding or "utf-8")


def _chunks(ids: Iterable[int], n: int) -> Iterator[list[int]]:
    chunk: list[int] = []
    for i in ids:
        chunk.append(int(i))
        if len(chunk) >= n:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _rows(db: Database, ids: Iterable[int] | None, sigla: str | None,
          chunk: int) -> Iterator[tuple[_Row, list[_Row]]]:
    cols = [R.c.id, R.c.key, R.c.source_format, R.c.marc, R.c.marc_encoding, R.c.title,
            R.c.subtitle, R.c.responsibility, R.c.authors, R.c.publisher, R.c.place, R.c.year,
            R.c.isbns, R.c.subjects, R.c.udc, R.c.bbk, R.c.annotation, R.c.language,
            R.c.age_rating]
    base = select(*cols).where(R.c.deleted.is_(False)).order_by(R.c.id)
    if sigla:
        base = base.where(exists().where((C.c.record_id == R.c.id) & (C.c.sigla == sigla)))
    with db.session() as s:
        pages: Iterator[Sequence[_Row]]
        if ids is not None:
            pages = (s.execute(base.where(R.c.id.in_(part))).all() for part in _chunks(ids, chunk))
        else:
            def keyset() -> Iterator[Sequence[_Row]]:
                last = 0
                while True:
                    page = s.execute(base.where(R.c.id > last).limit(chunk)).all()
                    if not page:
                        return
                    last = page[-1].id
                    yield page
            pages = keyset()
        for page in pages:
            q = select(C).where(C.c.record_id.in_([r.id for r in page])).order_by(C.c.id)
            if sigla:
                q = q.where(C.c.sigla == sigla)
            copies: dict[int, list] = {}
            for c in s.execute(q):
                copies.setdefault(c.record_id, []).append(c)
            for r in page:
                yield r, copies.get(r.id, [])


QUERY_PAGE = 200  # library.search.search returns at most 200 hits per call
QUERY_MAX = 100_000  # a selection, not a dump (`ibc export` without --query exports all)


def query_ids(db: Database, query: str, *, audience: str = "staff", page: int = QUERY_PAGE,
              max_ids: int = QUERY_MAX, filters: dict | None = None) -> list[int]:
    """Record ids found by a catalogue search, in rank order, for `export_records(ids=...)`.

    Pages through `library.search.search` (read-only, `page` hits at a time) until a page comes
    back short or adds nothing new. Each call ranks offset + page candidates, so paging is
    quadratic in the number of matches: fine for a selection, slow for tens of thousands.
    `audience` "staff" also finds teachers-only media; `filters` are the search's facet filters
    (library.search.plan.filter_sql). ValueError when the search module is missing.
    """
    try:
        from library.search import search
    except ImportError:
        raise ValueError("--query needs the search module (library.search)") from None
    ids: list[int] = []
    seen: set[int] = set()
    offset = 0
    with db.session() as session:
        while len(ids) < max_ids:
            result = search(session, query, limit=page, offset=offset, audience=audience,
                            filters=filters)
            fresh = [h.id for h in result.hits if h.id not in seen]
            for rid in fresh:
                seen.add(rid)
                ids.append(rid)
            if len(result.hits) < page or not fresh:
                break
            offset += page
    return ids[:max_ids]


def export_records(db: Database, out: BinaryIO, *, fmt: str = "rusmarc", encoding: str | None = None,  # noqa: C901
                   ids: Iterable[int] | None = None, sigla: str | None = None,
                   chunk: int = 500) -> ExportReport:
    """Write records to a binary stream in `fmt`; `ids` (any iterable, e.g. from search) and
    `sigla` narrow the selection; returns counts."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    encoding = (encoding or ("cp1251" if fmt == "rusmarc" else "utf-8")).lower()
    if encoding in ("utf8",):
        encoding = "utf-8"
    if encoding not in ("utf-8", "cp1251") or (fmt != "rusmarc" and encoding != "utf-8"):
        raise ValueError(f"{fmt} is exported in utf-8{' or cp1251' if fmt == 'rusmarc' else ''}")
    report = ExportReport()
    writer = None
    if fmt == "marcxml":
        from pymarc import XMLWriter

        writer = XMLWriter(out)
    try:
        for row, copies in _rows(db, ids, sigla, chunk):
            family = "marc21" if row.source_format == "marc21" else "rusmarc"
            if fmt != "marcxml" and family != fmt:
                report.skipped += 1
                continue
            try:
                rec = stored_record(row.marc, row.marc_encoding) if row.marc else synthesise(row)
                rec = rebuild(rec, row.source_format, copies)
                rec = mark_encoding(rec, row.source_format, encoding)
                if writer is not None:
                    writer.write(to_pymarc(rec))
                else:
                    try:
                        out.write(encode_record(rec, encoding))
                    except UnicodeEncodeError:
                        out.write(encode_record(rec, encoding, "replace"))
                        report.warnings.append(f"record {row.id}: characters outside {encoding}"
                                               " replaced by '?'")
            except (RecordError, ValueError) as exc:
                report.skipped += 1
                report.warnings.append(f"record {row.id}: {exc}")
                continue
            report.written += 1
    finally:
        if writer is not None:
            writer.close(close_fh=False)
    return report


def to_pymarc(rec: MarcRecord) -> pymarc.Record:
    """A pymarc.Record for MARCXML output."""
    import pymarc
    from pymarc import Indicators, Subfield

    out = pymarc.Record(leader=rec.leader, force_utf8=True)
    for f in rec.fields:
        if isinstance(f, ControlField):
            out.add_field(pymarc.Field(tag=f.tag, data=f.value))
        else:
            out.add_field(pymarc.Field(tag=f.tag, indicators=Indicators(f.ind1, f.ind2),
                                       subfields=[Subfield(c, v) for c, v in f.subfields]))
    return out
