"""MARC record → `RecordData` (the Record columns plus copies), for RUSMARC/UNIMARC and MARC21.

RUSMARC/UNIMARC (also ИРБИС native tags): title 200$a (+$h/$i; a volume record with a 461 host
is shown as "Host. Volume"), subtitle 200$e, responsibility 200$f; $g, authors 700/701/702
(and ИРБИС 961) "$a, $g|$b", imprint 210 $a/$c/$d (year falls back to 100$a/9-12), ISBN 010$a,
subjects 606 (with subdivisions) and 610, УДК 675, ББК 686 with $2 rubbk* (and ИРБИС 621),
annotation 330 (and ИРБИС 331), language 101$a, pages 215$a, age rating ИРБИС 900^z.
MARC21: 245 $a$n$p / $b / $c, 100 + 700, 260 or 264, 020, 650/651, 080, 084 with $2 rubbk*,
520, 041$a or 008/35-37, 300$a, 521$a (age, not grade levels).
Copies: 910, 899, 852, 952 (see holdings.py). The record key rule is in `record_key`, the
union key (the same book in another school) in union.py.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from library import isbn as isbnlib
from library.marc.formats import flavour
from library.marc.holdings import read_copy
from library.marc.model import DataField, MarcRecord, Parsed, RecordData, RecordError
from library.marc.union import union_key

_TRAIL = " /:;,=+"
_YEAR = re.compile(r"(1[4-9]\d\d|20\d\d)")
_INT = re.compile(r"\d+")
_AGE_PLUS = re.compile(r"(\d{1,2})\s*\+")
_TEXTBOOK = re.compile(r"учебн|учеб\.|textbook", re.I)
_REFERENCE = re.compile(r"словар|энциклопед|справочн|dictionar|encyclop|handbook", re.I)
_SUBDIV = frozenset("bcdeghjoxyz9v")
_MEDIA_UNIMARC = frozenset("gijklmr")
_MEDIA_MARC21 = frozenset("gijkmor")
# Every tag the mapping (and format detection) reads; the importer decodes only these.
MAPPED_TAGS = frozenset(
    "001 003 008 010 100 101 105 200 210 215 330 331 461 606 610 621 675 686 700 701 702 801 "
    "899 900 903 910 961 020 041 080 084 245 260 264 300 520 521 650 651 852 880 952".split())


def tidy(text: str | None) -> str | None:
    """Strip ISBD punctuation and brackets left at the ends of a value; None when empty."""
    if not text:
        return None
    if "\x88" in text or "\x89" in text:  # UNIMARC non-sorting marks
        text = text.replace("\x88", "").replace("\x89", "")
    if "  " in text or "\n" in text or "\t" in text:
        text = " ".join(text.split())
    text = text.strip().rstrip(_TRAIL).lstrip(" ,;:/")
    if text.endswith(".") and not text.endswith("..") and len(text.rsplit(" ", 1)[-1]) > 4:
        text = text[:-1]
    return text or None


def _join(values: Iterable[str | None], sep: str) -> str | None:
    out = sep.join(v for v in (tidy(x) for x in values) if v)
    return out or None


def _unique(values: Iterable[str | None]) -> list[str]:
    seen, out = set(), []
    for v in values:
        if v and v not in seen:
            seen.add(v)
            out.append(v)
    return out


def _cut(text: str | None, n: int) -> str | None:
    return text[:n] if text else text


def parse_age(text: str | None, plain_number: bool = True) -> int | None:
    """The minimum age from "12+", "(16+)", "12" or "Ages 9-12"; None when absent."""
    if not text:
        return None
    m = _AGE_PLUS.search(text)
    if not m and plain_number:
        m = _INT.search(text)
    if not m:
        return None
    age = int(m.group(1) if m.lastindex else m.group(0))
    return age if 0 <= age <= 21 else None


def _year(text: str | None) -> int | None:
    m = _YEAR.search(text or "")
    return int(m.group(1)) if m else None


def _pages(text: str | None) -> int | None:
    m = _INT.search(text or "")
    if not m:
        return None
    n = int(m.group(0))
    return n if 0 < n < 100_000 else None


def record_key(record: _Index, data: RecordData, scope: str) -> str:
    """The stable key that makes a re-import update in place (documented in docs/IMPORT.md).

    1. 001 (with 003 when present): "001:<003>/<001>";
    2. ИРБИС 903 (шифр), unique only inside one ИРБИС database, so scoped by the importing
       sigla: "903:<sigla>:<903>";
    3. "isbn:<ISBN-13>:<year>:<title hash>";
    4. "desc:<hash of title, responsibility, year, publisher>".
    """
    ident = (record.control("001") or "").strip()
    if ident:
        org = (record.control("003") or "").strip()
        key = f"001:{org}/{ident}" if org else f"001:{ident}"
    else:
        f903 = record.first("903")
        shifr = (f903.get("a") if f903 is not None else None) or ""
        if shifr.strip():
            key = f"903:{scope}:{shifr.strip()}"
        else:
            title = (data.title or "").casefold()
            if data.isbn:
                digest = hashlib.sha1(title.encode()).hexdigest()[:12]
                key = f"isbn:{data.isbn}:{data.year or ''}:{digest}"
            else:
                blob = "|".join([title, (data.responsibility or "").casefold(),
                                 str(data.year or ""), (data.publisher or "").casefold()])
                key = "desc:" + hashlib.sha1(blob.encode()).hexdigest()
    if len(key) > 255:
        key = key[:200] + "#" + hashlib.sha1(key.encode()).hexdigest()
    return key


class _Index:
    """Data fields and control fields by tag, built once per record (the mapping asks for ~30
    tags)."""

    __slots__ = ("by_tag", "controls")

    def __init__(self, record: MarcRecord):
        by_tag: dict[str, list] = {}
        controls: dict[str, str] = {}
        for f in record.fields:
            if type(f) is DataField:
                lst = by_tag.get(f.tag)
                if lst is None:
                    by_tag[f.tag] = [f]
                else:
                    lst.append(f)
            elif isinstance(f, DataField):
                by_tag.setdefault(f.tag, []).append(f)
            elif f.tag not in controls:
                controls[f.tag] = f.value
        self.by_tag = by_tag
        self.controls = controls

    def fields(self, *tags: str) -> list[DataField]:
        if len(tags) == 1:
            return self.by_tag.get(tags[0], [])
        by_tag = self.by_tag
        return [f for t in tags if t in by_tag for f in by_tag[t]]

    def first(self, tag: str) -> DataField | None:
        lst = self.by_tag.get(tag)
        return lst[0] if lst else None

    def control(self, tag: str) -> str | None:
        return self.controls.get(tag)


def _host_title(f461: DataField) -> str | None:
    subs = f461.subfields
    for i, (c, v) in enumerate(subs):
        if c == "1" and v.startswith("200"):
            for c2, v2 in subs[i + 1:]:
                if c2 == "1":
                    break
                if c2 == "a":
                    return v2
    return f461.get("c") if not any(c == "1" for c, _ in subs) else None


def _map_unimarc(rec: MarcRecord, d: RecordData, ix: _Index) -> None:
    f200 = ix.first("200")
    if isinstance(f200, DataField):
        d.title = _join(f200.get_all("a"), " ; ") or ""
        part = _join(f200.get_all("h") + f200.get_all("i"), ". ")
        if part:
            d.title = f"{d.title}. {part}" if d.title else part
        d.subtitle = _join(f200.get_all("e"), " : ")
        d.responsibility = _join(f200.get_all("f") + f200.get_all("g"), " ; ")
    host = next((h for h in (_host_title(f) for f in ix.fields("461")) if h), None)
    if host and rec.leader[8:9] == "2" or (host and not d.title):
        d.title = f"{tidy(host)}. {d.title}" if d.title else tidy(host) or ""
    for f in ix.fields("700", "701", "702", "961"):
        surname = tidy(f.get("a"))
        if surname:
            given = tidy(f.get("g")) or tidy(f.get("b"))
            d.authors.append(f"{surname}, {given}" if given else surname)
    f210 = ix.first("210")
    if isinstance(f210, DataField):
        d.place = _join(f210.get_all("a"), " ; ")
        d.publisher = _join(f210.get_all("c"), " ; ")
        d.year = _year(f210.get("d"))
    f100 = ix.first("100")
    if d.year is None and isinstance(f100, DataField):
        d.year = _year((f100.get("a") or "")[9:13])
    for f in ix.fields("010"):
        d.isbns.extend(isbnlib.variants(f.get("a")))
    for f in ix.fields("606", "610"):
        if f.tag == "610":
            # tidy() gives None for an empty or punctuation-only $a: leave it out here, the
            # item-type guess below joins the subjects as strings
            d.subjects.extend(s for s in (tidy(v) for v in f.get_all("a")) if s)
            continue
        head = tidy(f.get("a"))
        if head:
            subs = [tidy(v) for c, v in f.subfields if c in _SUBDIV]
            d.subjects.append(" -- ".join([head] + [s for s in subs if s]))
    d.udc = _join([f.get("a") for f in ix.fields("675")], "; ")
    bbk = [f.get("a") for f in ix.fields("686")
           if (f.get("2") or "").lower().startswith("rubbk")]
    bbk += [f.get("a") for f in ix.fields("621")]
    d.bbk = _join(bbk, "; ")
    d.annotation = "\n".join(v for f in ix.fields("330", "331")
                             for v in f.get_all("a") if v.strip()) or None
    f101 = ix.first("101")
    if isinstance(f101, DataField):
        d.language = tidy(f101.get("a"))
    f215 = ix.first("215")
    if isinstance(f215, DataField):
        d.pages = _pages(f215.get("a"))
    f900 = ix.first("900")
    if isinstance(f900, DataField):
        d.age_min = parse_age(f900.get("z"))
    # item type
    kind = rec.leader[6:7]
    forms = ""
    f105 = ix.first("105")
    if isinstance(f105, DataField):
        forms = (f105.get("a") or "")[4:8]
    text = " ".join([d.subtitle or ""] + d.subjects)
    if rec.leader[7:8] == "s":
        d.item_type = "periodical"
    elif kind in _MEDIA_UNIMARC:
        d.item_type = "media"
    elif "j" in forms or _TEXTBOOK.search(text):
        d.item_type = "textbook"
    elif any(c in forms for c in "efg") or _REFERENCE.search(text):
        d.item_type = "reference"


def _vernacular(ix: _Index) -> dict[str, list[DataField]]:
    """880 fields (original script, e.g. Cyrillic) keyed by the tag they render."""
    out: dict[str, list[DataField]] = {}
    for f in ix.fields("880"):
        link = f.get("6") or ""
        if len(link) >= 3:
            out.setdefault(link[:3], []).append(f)
    return out


def _map_marc21(rec: MarcRecord, d: RecordData, ix: _Index) -> None:
    alt = _vernacular(ix)

    def pick(tag: str) -> DataField | None:
        alts = alt.get(tag)
        return alts[0] if alts else ix.first(tag)

    f245 = pick("245")
    if isinstance(f245, DataField):
        d.title = _join([v for c, v in f245.subfields if c in "anp"], ". ") or ""
        d.subtitle = _join(f245.get_all("b"), " : ")
        d.responsibility = _join(f245.get_all("c"), " ; ")
    names = alt.get("100", []) + alt.get("700", []) or ix.fields("100", "700")
    for f in names:
        name = tidy(f.get("a"))
        if name:
            d.authors.append(name.rstrip(","))
    imprint = pick("260") or pick("264")
    if isinstance(imprint, DataField):
        d.place = _join(imprint.get_all("a"), " ; ")
        d.publisher = _join(imprint.get_all("b"), " ; ")
        d.year = _year(imprint.get("c"))
    f008 = ix.control("008") or ""
    if d.year is None:
        d.year = _year(f008[7:11])
    for f in ix.fields("020"):
        d.isbns.extend(isbnlib.variants(f.get("a")))
    for f in ix.fields("650", "651"):
        head = tidy(f.get("a"))
        if head:
            subs = [tidy(v) for c, v in f.subfields if c in "xyzv"]
            d.subjects.append(" -- ".join([head] + [s for s in subs if s]))
    d.udc = _join([f.get("a") for f in ix.fields("080")], "; ")
    d.bbk = _join([f.get("a") for f in ix.fields("084")
                   if (f.get("2") or "").lower().startswith("rubbk")], "; ")
    d.annotation = "\n".join(
        " ".join(v for c, v in f.subfields if c in "ab" and v.strip())
        for f in ix.fields("520")) or None
    f041 = ix.first("041")
    lang = f041.get("a") if isinstance(f041, DataField) else None
    if lang and len(lang) > 3 and len(lang) % 3 == 0:
        lang = lang[:3]  # old-style run of codes ("engund")
    d.language = tidy(lang) or (f008[35:38].strip() if f008[35:38].strip().isalpha() else None)
    f300 = ix.first("300")
    if isinstance(f300, DataField):
        d.pages = _pages(f300.get("a"))
    for f in ix.fields("521"):
        if f.ind1 in (" ", "1", "8"):
            d.age_min = parse_age(f.get("a"), plain_number=f.ind1 == "1")
            if d.age_min is not None:
                break
    kind = rec.leader[6:7]
    text = " ".join([d.subtitle or ""] + d.subjects)
    forms = f008[24:28] if kind in ("a", "t") else ""
    if rec.leader[7:8] == "s":
        d.item_type = "periodical"
    elif kind in _MEDIA_MARC21:
        d.item_type = "media"
    elif _TEXTBOOK.search(text):
        d.item_type = "textbook"
    elif any(c in forms for c in "der") or _REFERENCE.search(text):
        d.item_type = "reference"


def to_record_data(parsed: Parsed, scope: str) -> RecordData:
    """Map one decoded record to RecordData; RecordError when it has no title."""
    rec = parsed.record
    if rec is None:  # readers set `error` instead of `record` for what they cannot decode
        raise RecordError(parsed.error or "not decoded")
    fmt = parsed.format_hint or flavour(rec)
    d = RecordData(key="", source_format=fmt, title="")
    ix = _Index(rec)
    if fmt == "marc21":
        _map_marc21(rec, d, ix)
    else:
        _map_unimarc(rec, d, ix)
    if not d.title:
        raise RecordError("no title (245$a / 200$a is missing or empty)")
    d.isbns = _unique(d.isbns)
    d.isbn = isbnlib.preferred(d.isbns)
    d.authors = _unique(d.authors)
    d.subjects = _unique(s for s in d.subjects if s)
    if d.age_min is not None:
        d.age_rating = f"{d.age_min}+"
    if d.language:
        d.language = d.language[:8]
    d.title = d.title[:2000]
    d.subtitle = _cut(d.subtitle, 2000)
    d.responsibility = _cut(d.responsibility, 2000)
    d.publisher = _cut(d.publisher, 500)
    d.place = _cut(d.place, 500)
    d.udc = _cut(d.udc, 255)
    d.bbk = _cut(d.bbk, 255)
    d.key = record_key(ix, d, scope)
    d.union_key = union_key(d.isbn, d.title, d.authors, d.year)
    d.marc = parsed.raw
    d.marc_encoding = parsed.raw_encoding
    tags = ("852", "952") if fmt == "marc21" else ("910", "899") if fmt == "rusmarc" else ("910",)
    copies = (read_copy(f) for f in ix.fields(*tags))
    d.copies = [c for c in copies
                if c.sigla or c.inventory_number or c.barcode or c.rfid or c.shelf_mark]
    return d
