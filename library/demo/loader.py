"""Fill a database with the demo school library (library/demo/catalogue.json).

Idempotent: records are keyed "demo:<n>", readers by card number; running it twice adds
nothing. Copies get in-store EAN-13 barcodes (prefix 2, valid check digit) and inventory numbers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from library.isbn import normalise, to_isbn13
from library.storage.models import Copy, MediaItem, Reader, Record

OnBatch = Callable[[Session, list[int]], None]
SHELVES = {"book": "Абонемент", "textbook": "Учебный фонд", "reference": "Читальный зал"}


@dataclass
class DemoSummary:
    """What load_demo added."""

    records: int = 0
    copies: int = 0
    readers: int = 0
    media: int = 0


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


def load_demo(db, *, sigla: str = "ИБЦ", on_batch: OnBatch | None = None) -> DemoSummary:  # noqa: ANN001
    """Add the demo titles, copies, readers and media items that are not there yet."""
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
            for obj in s.identity_map.values():
                if isinstance(obj, (Record, Copy)) and not obj.version:
                    obj.version = version
            s.flush()
        new_ids = list(
            s.scalars(select(Record.id).where(Record.key.like("demo:%"), Record.key.not_in(have)))
        )
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
        if on_batch and new_ids:
            on_batch(s, new_ids)
    return summary


def _author_mark(t: dict) -> str | None:
    """A short author sign for the shelf mark: the first letter of the first author's surname."""
    authors = t.get("authors") or []
    return authors[0][:1].upper() if authors else (t["title"][:1].upper() if t.get("title") else None)
