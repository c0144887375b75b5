"""Test fixture data for the relevance suite: the demo catalogue and real RUSMARC records.

Titles from library/demo/catalogue.json are inserted directly through the ORM (Record + N Copy
rows with barcodes), real NLR records from TEST1.ISO through pymarc (the colleague's importer
is not used here, so the suite depends only on search), then the search index is built.
"""

from __future__ import annotations

import json
from pathlib import Path

from library.search import index_records
from library.storage.models import Copy, CopyStatus, Record

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "library" / "demo" / "catalogue.json"
TEST1 = Path("marc/rusmarc/loge-gh_rusmarc/TEST1.ISO")


def demo_titles() -> list[dict]:
    """The demo catalogue's titles (empty when the file is not there)."""
    if not CATALOGUE.exists():
        return []
    return json.loads(CATALOGUE.read_text("utf-8"))["titles"]


def insert_titles(session, titles: list[dict], key_prefix: str = "rel",
                  series: int = 2) -> list[int]:
    """Insert catalogue titles with copies; copy n of title i has barcode <series>000<i><n>."""
    ids = []
    for i, t in enumerate(titles, 1):
        rec = Record(
            key=f"{key_prefix}:{i}", source_format="demo", title=t["title"],
            subtitle=t.get("subtitle"), authors=list(t.get("authors") or []),
            publisher=t.get("publisher"), place=t.get("place"), year=t.get("year"),
            isbn=t.get("isbn"), isbns=[t["isbn"]] if t.get("isbn") else [],
            subjects=list(t.get("subjects") or []), bbk=t.get("bbk"), udc=t.get("udc"),
            annotation=t.get("annotation"), language=t.get("language"),
            age_rating=t.get("age_rating"), item_type=t.get("type") or "book",
            pages=t.get("pages"), popularity=int(t.get("popularity") or 0))
        n = int(t.get("copies") or 1)
        rec.copies = [Copy(barcode=f"{series}000{i:04d}{c}",
                           inventory_number=f"И-{series}-{i}-{c}",
                           shelf_mark=t.get("bbk"), sigla="ИБЦ",
                           status=CopyStatus.AVAILABLE.value if c else CopyStatus.ON_LOAN.value)
                      for c in range(n)]
        session.add(rec)
        session.flush()
        ids.append(rec.id)
    index_records(session, ids)
    return ids


def _subs(field, code: str) -> list[str]:
    return [v.strip() for v in field.get_subfields(code) if v and v.strip()]


def marc_titles(path: Path) -> list[dict]:
    """RUSMARC records of a cp1251 ISO 2709 file as catalogue-title dicts (fixture mapping)."""
    import pymarc

    out = []
    with open(path, "rb") as f:
        for rec in pymarc.MARCReader(f, file_encoding="cp1251", to_unicode=True):
            if rec is None or not rec.get_fields("200"):
                continue
            f200 = rec.get_fields("200")[0]
            title = " ".join(_subs(f200, "a")) or "?"
            host = [" ".join(_subs(f, "a")) for f in rec.get_fields("461")]
            if host and host[0]:
                title = f"{host[0]}. {title}"
            authors = [", ".join(_subs(f, "a") + _subs(f, "b"))
                       for tag in ("700", "701", "702") for f in rec.get_fields(tag)]
            year = None
            for f in rec.get_fields("210"):
                for d in _subs(f, "d"):
                    digits = "".join(c for c in d if c.isdigit())[:4]
                    year = int(digits) if len(digits) == 4 else year
            isbns = [v for f in rec.get_fields("010") for v in _subs(f, "a")]
            subjects = [v for tag in ("606", "610") for f in rec.get_fields(tag) for v in _subs(f, "a")]
            bbk = next((v for f in rec.get_fields("686") for v in _subs(f, "a")), None)
            out.append({
                "title": title, "subtitle": "; ".join(_subs(f200, "e")) or None,
                "authors": authors, "year": year, "isbn": isbns[0] if isbns else None,
                "subjects": subjects, "bbk": bbk, "language": "rus", "type": "book",
                "annotation": " ".join(_subs(f200, "f")) or None, "copies": 1,
            })
    return out
