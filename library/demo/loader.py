"""Fill a database with the demo school library (library/demo/catalogue.json).

Idempotent: records are keyed "demo:<n>", readers by card number; running it twice adds
nothing. Copies get in-store EAN-13 barcodes (prefix 2, valid check digit), inventory numbers
and shelf marks «ББК + author sign» («84(2Рос=Рус)6 Д51»: the sign imitates the Хавкина
tables, a letter and two digits that keep alphabetical order). The class set (one textbook in
30 copies) has three copies on loan ("loans" in the JSON), and the school gets the demo places
(library/demo/places.toml) when it has none.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from library.errors import NotFound
from library.isbn import normalise, to_isbn13
from library.storage.database import Database
from library.storage.models import Copy, Event, Loan, MediaItem, Reader, Record, utcnow

OnBatch = Callable[[Session, list[int]], None]
SHELVES = {"book": "Абонемент", "textbook": "Учебный фонд", "reference": "Читальный зал"}


@dataclass
class DemoSummary:
    """What load_demo added."""

    records: int = 0
    copies: int = 0
    readers: int = 0
    media: int = 0
    loans: int = 0
    places: int = 0


def catalogue() -> dict[str, Any]:
    """The shipped demo data."""
    return json.loads((resources.files("library.demo") / "catalogue.json").read_text("utf-8"))


def ean13(body12: str) -> str:
    """Append the EAN-13 check digit to 12 digits."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


def copy_barcode(n: int) -> str:
    """The n-th demo copy's barcode: an in-store EAN-13 starting with 2."""
    return ean13(f"21{n:010d}")


def _age_min(rating: str | None) -> int | None:
    m = re.match(r"(\d+)\+", rating or "")
    return int(m.group(1)) if m else None


def load_demo(db: Database, *, sigla: str = "ИБЦ", on_batch: OnBatch | None = None,
              today: dt.date | None = None) -> DemoSummary:
    """Add the demo titles, copies, readers, loans, media items and places not there yet."""
    data = catalogue()
    summary = DemoSummary()
    with db.transaction() as s:
        have = set(s.scalars(select(Record.key).where(Record.key.like("demo:%"))))
        n_copy = 0
        for i, t in enumerate(data["titles"], 1):
            key = f"demo:{i}"
            n_copies = int(t.get("copies") or 1)
            if key in have:
                n_copy += n_copies
                continue
            raw = normalise(t.get("isbn"))
            isbn = (to_isbn13(raw) or raw) if raw else None
            item_type = t.get("type") or "book"
            rec = Record(
                key=key, source_format="demo", title=t["title"], subtitle=t.get("subtitle"),
                authors=list(t.get("authors") or []), publisher=t.get("publisher"),
                place=t.get("place"), year=t.get("year"), isbn=isbn, isbns=[isbn] if isbn else [],
                subjects=list(t.get("subjects") or []), udc=t.get("udc"), bbk=t.get("bbk"),
                annotation=t.get("annotation"), language=t.get("language"),
                age_rating=t.get("age_rating"), age_min=_age_min(t.get("age_rating")),
                item_type=item_type, pages=t.get("pages"),
            )
            shelf = " ".join(x for x in (t.get("bbk"), _author_mark(t)) if x)
            for _ in range(n_copies):
                n_copy += 1
                rec.copies.append(Copy(
                    sigla=sigla, barcode=copy_barcode(n_copy), inventory_number=str(10000 + n_copy),
                    shelf_mark=shelf, collection=SHELVES.get(item_type, "Абонемент"),
                    status="not_for_loan" if item_type == "reference" else "available",
                ))
                summary.copies += 1
            s.add(rec)
            summary.records += 1
        s.flush()
        if summary.records:  # stamp a change-feed version so terminal replicas receive them
            from library.marc.writer import next_version

            version = next_version(s)
            # in SQL, not through the identity map: it holds flushed objects only weakly
            demo = select(Record.id).where(Record.key.like("demo:%"), Record.version == 0)
            s.execute(update(Copy).where(Copy.record_id.in_(demo), Copy.version == 0)
                      .values(version=version))
            s.execute(update(Record).where(Record.key.like("demo:%"), Record.version == 0)
                      .values(version=version))
        new_ids = list(
            s.scalars(select(Record.id).where(Record.key.like("demo:%"), Record.key.not_in(have)))
        )
        if new_ids:  # the textbooks' subject and grades, read from their titles and subjects
            from library.textbooks.titles import extract

            extract(s, record_ids=new_ids)
        cards = set(s.scalars(select(Reader.card_number)))
        for r in data["readers"]:
            if r["card"] in cards:
                continue
            s.add(Reader(card_number=r["card"], last_name=r["last_name"], first_name=r["first_name"],
                         middle_name=r.get("middle_name"), class_name=r.get("class_name"),
                         category=r.get("category", "pupil"), sigla=sigla))
            summary.readers += 1
        paths = set(s.scalars(select(MediaItem.path).where(MediaItem.path.like("demo/%"))))
        for m in data.get("media", []):
            path = f"demo/{m['file']}"
            if path in paths:
                continue
            s.add(MediaItem(
                path=path, title=m["title"], kind=m["kind"], duration_s=m.get("duration_s"),
                subject=m.get("subject"), class_from=m.get("class_from"), class_to=m.get("class_to"),
                access=m.get("access", "everyone"), licence=m.get("licence"),
                status="missing", error="demo entry: the file is not shipped",
            ))
            summary.media += 1
        s.flush()
        summary.loans = _demo_loans(s, data, have, today or dt.date.today())
        summary.places = _demo_places(s, sigla)
        if on_batch and new_ids:
            on_batch(s, new_ids)
    return summary


def _demo_loans(s: Session, data: dict, had: set[str], today: dt.date) -> int:
    """Lend the last copies of a newly added title to the readers named in data["loans"]
    (due at the end of the school year, as textbooks are), with their checkout events."""
    keys = {t["title"]: f"demo:{i}" for i, t in enumerate(data["titles"], 1)}
    count = 0
    taken: dict[str, int] = {}
    for spec in data.get("loans", []):
        key = keys[spec["title"]]
        if key in had:
            continue
        rec = s.scalar(select(Record).where(Record.key == key))
        reader = s.scalar(select(Reader).where(Reader.card_number == spec["card"]))
        if rec is None or reader is None:  # catalogue.json names a title or card it lacks
            raise NotFound(f"demo loan of {spec['title']!r} to {spec['card']}: no such "
                           + ("title" if rec is None else "reader"))
        taken[key] = taken.get(key, 0) + 1
        copy = rec.copies[-taken[key]]
        issued = utcnow() - dt.timedelta(days=int(spec.get("days_ago", 7)))
        year = issued.year + 1 if (issued.month, issued.day) > (5, 31) else issued.year
        due = max(dt.date(year, 5, 31), today)  # textbooks are due at the school year's end
        s.add(Loan(copy_id=copy.id, reader_id=reader.id, reader_category=reader.category,
                   reader_class=reader.class_name, issued_at=issued, due_date=due,
                   checkout_txn=f"demo-loan-{copy.barcode}", terminal="demo"))
        s.add(Event(ts=issued, kind="checkout", sigla=copy.sigla, terminal="demo",
                    reader_category=reader.category, reader_class=reader.class_name,
                    record_id=rec.id, copy_id=copy.id, payload={}))
        copy.status = "on_loan"
        count += 1
    return count


def _demo_places(s: Session, sigla: str) -> int:
    """The demo places (library/demo/places.toml) for a school that has none."""
    from library.places.fileformat import loads
    from library.places.store import replace_places
    from library.storage.models import Place

    if s.scalar(select(Place.id).where(Place.sigla == sigla).limit(1)) is not None:
        return 0
    text = (resources.files("library.demo") / "places.toml").read_text("utf-8")
    return replace_places(s, sigla, loads(text, source="library/demo/places.toml").places)


_RU = "абвгдежзийклмнопрстуфхцчшщъыьэюя"
_EN = "abcdefghijklmnopqrstuvwxyz"


def _author_mark(t: dict) -> str | None:
    """The author sign for the shelf mark: the first letter of the first author's surname (of
    the title for works without an author) and two digits that keep alphabetical order, as the
    Хавкина tables do («Драгунский» → «Д56»; the real table says «Д72»)."""
    authors = t.get("authors") or []
    word = (authors[0].split(",")[0] if authors else t.get("title") or "").strip()
    if not word:
        return None
    first = word[0].upper().replace("Ё", "Е")
    alphabet = _RU if first.lower() in _RU else _EN
    rest = [ch for ch in word.lower().replace("ё", "е")[1:] if ch in alphabet][:2]
    frac = sum((alphabet.index(ch) + 0.5) / len(alphabet) ** (i + 1) for i, ch in enumerate(rest))
    return f"{first}{11 + int(frac * 88)}"
