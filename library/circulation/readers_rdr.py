"""Import readers from an ИРБИС readers database (RDR) exported as ISO 2709.

Records are framed and split by the catalogue's own ISO 2709 code (library.marc.iso2709) and
each record's encoding is chosen by library.marc.encoding.detect with the ИРБИС rule (strict
UTF-8 if the bytes decode, else cp1251). Fields used (docs: PROTOCOLS.md (c)):

* 10 surname, 11 first name, 12 patronymic, 30 reader's ticket = our card number;
* 50 category: «учащийся/ученик/школьник» → pupil, «учитель/педагог/преподаватель» → teacher,
  «сотрудник» → staff, anything else (or nothing) → pupil.

ИРБИС stores these as plain values (the text after the two indicator bytes); some exports put
them in subfield ^A, so the plain value is taken first and ^A otherwise.

The class: ИРБИС has no standard class field. A value shaped like a class («5А», «11 б», «5-А»)
is looked for in field 50 (any subfield or the value itself, e.g. «учащийся 5А» or ^A учащийся
^B 5А), then in 51, 52 and 53 (where schools put a «класс» worksheet field); the first match
wins, «5 класс» counts too. A record without a ticket (field 30) is skipped and reported with its
ordinal and byte offset. The good records are upserted by card number in one transaction; the
report has the class-list report's shape, with errors as {"record", "offset", "reason"}.
"""

from __future__ import annotations

import re
from pathlib import Path

from library.circulation.readers import ReaderImportReport, normalise_class, upsert_readers
from library.errors import ImportFormatError
from library.marc import encoding as enc
from library.marc.formats import ISO2709, sniff
from library.marc.iso2709 import frame_records, split_fields
from library.marc.model import RecordError
from library.storage.database import Database

CATEGORY_WORDS = (
    (("учащ", "учени", "школьн"), "pupil"),
    (("учител", "педагог", "преподават"), "teacher"),
    (("сотрудн",), "staff"),
)
CLASS_TAGS = ("50", "51", "52", "53")
_CLASS_IN_TEXT = re.compile(r"(?<![\dА-ЯЁа-яёA-Za-z])(1[01]|[1-9])\s*-?\s*([А-ЯЁа-яё])(?![А-ЯЁа-яё\d])")
_CLASS_WORD = re.compile(r"(?<![\dА-ЯЁа-яё])(1[01]|[1-9])\s*-?\s*([А-ЯЁа-яё])?\s*класс", re.IGNORECASE)


def is_rdr_file(path: str | Path) -> bool:
    """True for .iso/.mrc files and for files whose content starts with a 5-digit record length."""
    path = Path(path)
    if path.suffix.lower() in (".iso", ".mrc"):
        return True
    try:
        with open(path, "rb") as fh:
            return sniff(fh.read(64)) == ISO2709
    except OSError:
        return False


def _decode_fields(raw: bytes) -> dict[str, list[tuple[str, dict[str, str]]]]:
    """Tag (without leading zeros) → list of (plain value, {subfield code: value})."""
    leader, fields = split_fields(raw)
    encoding = enc.detect(raw, leader, "unimarc")  # ИРБИС rule: UTF-8 if valid, else cp1251
    n_ind = int(leader[10]) if leader[10:11].isdigit() else 2
    out: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for entry in fields:
        # split_fields gives (tag, bytes) or, in its newer form, (tag, start, end) into raw
        tag = entry[0]
        data = entry[1] if len(entry) == 2 else raw[entry[1]:entry[2]]
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise RecordError(f"field {tag}: cannot decode as {encoding}: {exc.reason}") from exc
        if tag[:2] != "00":
            text = text[n_ind:]
        head, *parts = text.split("\x1f")
        subs: dict[str, str] = {}
        for p in parts:
            if p:
                subs.setdefault(p[0].lower(), p[1:].strip())
        out.setdefault(tag.lstrip("0") or "0", []).append((head.strip(), subs))
    return out


def _value(fields: dict, tag: str) -> str:
    """The plain value of the first field `tag`, else its ^A, else ''."""
    for head, subs in fields.get(tag, []):
        value = head or subs.get("a", "")
        if value:
            return value
    return ""


def category_of(text: str) -> str:
    """Map an ИРБИС category text onto pupil/teacher/staff (unknown → pupil)."""
    low = text.lower()
    for stems, category in CATEGORY_WORDS:
        if any(s in low for s in stems):
            return category
    return "pupil"


def class_of(fields: dict) -> str | None:
    """The first class-like value («5А») in fields 50, 51, 52, 53, 24, normalised; else None."""
    for tag in CLASS_TAGS:
        for head, subs in fields.get(tag, []):
            for text in (head, *subs.values()):
                m = _CLASS_WORD.search(text) or _CLASS_IN_TEXT.search(text)
                if m:
                    return normalise_class(m.group(1) + (m.group(2) or ""))
    return None


def read_rdr(path: str | Path) -> tuple[list[dict], ReaderImportReport]:
    """Parse an RDR ISO 2709 file into reader dicts plus a report of skipped records."""
    report = ReaderImportReport()
    readers: list[dict] = []
    seen: dict[str, int] = {}
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise ImportFormatError(f"cannot read: {exc.strerror}") from exc
    with fh:
        for frame in frame_records(fh):
            report.read += 1
            try:
                if frame.error:
                    raise RecordError(frame.error)
                fields = _decode_fields(frame.data)
                card = _value(fields, "30")
                if not card:
                    raise RecordError("no reader's ticket (field 30)")
                if card in seen:
                    raise RecordError(f"ticket {card} repeats record {seen[card]}")
                last, first = _value(fields, "10"), _value(fields, "11")
                if not last:
                    raise RecordError("no surname (field 10)")
                category = category_of(" ".join(
                    [h for h, _ in fields.get("50", [])]
                    + [v for _, s in fields.get("50", []) for v in s.values()]))
                class_name = class_of(fields)
            except (RecordError, ValueError) as exc:
                report.skipped += 1
                report.errors.append({"record": frame.ordinal, "offset": frame.offset,
                                      "reason": getattr(exc, "reason", str(exc))})
                continue
            seen[card] = frame.ordinal
            readers.append({"card_number": card, "last_name": last, "first_name": first,
                            "middle_name": _value(fields, "12") or None, "class_name": class_name,
                            "category": category})
    if report.read == 0:
        raise ImportFormatError("no ISO 2709 records in the file")
    return readers, report


def import_rdr(db: Database, path: str | Path, *, sigla: str = "") -> ReaderImportReport:
    """Read an RDR export and upsert its readers by card number in one transaction."""
    readers, report = read_rdr(path)
    return upsert_readers(db, readers, report, sigla=sigla)
