"""The union catalogue import: the same book from two schools becomes one record with both
schools' copies (library/marc/union.py, links.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from marc_fixtures import RUS_LEADER, rec
from sqlalchemy import func, select

from ibc.cli import main
from library.marc.importer import import_files
from library.marc.union import normalise, union_key
from library.search import index_records
from library.search import schema as search_schema
from library.storage.models import Copy, Record, RecordKey


def book(ident: str, title: str, *, isbn: str | None = None, author: str | None = None,
         year: int | None = None, copies: int = 1, prefix: str = "") -> bytes:
    """A RUSMARC record with 001 `ident` and `copies` 910 fields (barcodes from `prefix`)."""
    fields: list[tuple] = [("001", ident)]
    if isbn:
        fields.append(("010", "  ", [("a", isbn)]))
    fields.append(("200", "1 ", [("a", title)]))
    if year:
        fields.append(("210", "  ", [("a", "М."), ("c", "Дрофа"), ("d", str(year))]))
    if author:
        fields.append(("700", " 1", [("a", author), ("g", "А. С.")]))
    for k in range(copies):
        fields.append(("910", "  ", [("a", "0"), ("b", f"{prefix}{ident}-{k}"),
                                     ("h", f"{prefix}{ident}{k:02d}")]))
    return rec(RUS_LEADER, *fields)


def school_a(titles: dict[str, str] | None = None) -> list[bytes]:
    t = titles or {}
    return [book("A1", t.get("A1", "Капитанская дочка"), isbn="5-17-015240-X", author="Пушкин",
                 year=2002, copies=2, prefix="a"),
            book("A2", t.get("A2", "Ёлка и ёжик: сказки"), author="Ёлкин", year=2010, prefix="a"),
            book("A3", "Сказки", author="Пушкин", year=2010, prefix="a"),
            book("A4", "Только в школе А", year=2001, prefix="a")]


def school_b(copies: int = 2, title: str = "КАПИТАНСКАЯ ДОЧКА. Повесть") -> list[bytes]:
    return [book("B1", title, isbn="9785170152407", author="Пушкин", year=2003,
                 copies=copies, prefix="b"),
            book("B2", "ЕЛКА и  ежик — сказки", author="Елкин, А.", year=2010, prefix="b"),
            book("B3", "Сказки", author="Пушкин", year=2015, prefix="b"),  # another edition
            book("B4", "Только в школе Б", prefix="b")]  # no ISBN, no year: never merged


def write(tmp_path, name: str, records: list[bytes]):
    path = tmp_path / name
    path.write_bytes(b"".join(records))
    return path


def holdings(db, title_like: str) -> dict[str, list[str]]:
    """Sigla → barcodes of the copies of the one record whose title starts so."""
    with db.session() as s:
        rid = s.scalar(select(Record.id).where(Record.title.like(f"{title_like}%")))
        out: dict[str, list[str]] = {}
        for sigla, barcode in s.execute(select(Copy.sigla, Copy.barcode)
                                        .where(Copy.record_id == rid).order_by(Copy.barcode)):
            out.setdefault(sigla, []).append(barcode)
        return out


def test_union_key_rule():
    assert normalise("  Ёлка, и ЁЖИК!  (сказки) ") == "елка и ежик сказки"
    assert union_key("5-17-015240-X", "x", [], None) == "isbn:9785170152407"
    assert union_key("9785170152407", "y", ["Z"], 1999) == "isbn:9785170152407"
    assert union_key(None, "Ёлка: сказки.", ["Ёлкин, А. С."], 2010) == "tay:елка сказки|елкин|2010"
    assert union_key("123", "Ёлка", [], 2010) == "tay:елка||2010"  # an invalid ISBN is not one
    assert union_key(None, "Ёлка", ["Ёлкин"], None) is None  # no year: never merged
    assert union_key(None, "", [], 2010) is None
    long = union_key(None, "о" * 400, [], 2010)
    assert long is not None and len(long) <= 255


def test_two_schools_one_record_each_book(db, tmp_path):
    a = import_files(db, [write(tmp_path, "a.iso", school_a())], sigla="A",
                     on_batch=index_records)
    assert (a.added, a.updated, a.merged, a.merges) == (4, 0, 0, [])
    b = import_files(db, [write(tmp_path, "b.iso", school_b())], sigla="B",
                     on_batch=index_records)
    assert (b.read, b.added, b.updated, b.merged, b.skipped) == (4, 2, 0, 2, 0)
    with db.session() as s:
        assert s.scalar(select(func.count(Record.id))) == 6
        ids = dict(s.execute(select(Record.title, Record.id)).all())
        # the first importer's fields stay
        assert "КАПИТАНСКАЯ ДОЧКА. Повесть" not in ids and ids["Капитанская дочка"]
        keys = {(k.key, k.sigla): (k.record_id, k.owner) for k in s.scalars(select(RecordKey))}
    assert [(m["record_id"], m["union_key"], m["schools"]) for m in b.merges] == [
        (ids["Капитанская дочка"], "isbn:9785170152407", ["A"]),
        (ids["Ёлка и ёжик: сказки"], "tay:елка и ежик сказки|елкин|2010", ["A"])]
    assert [m["record"] for m in b.merges] == [1, 2]
    assert keys[("001:B1", "B")] == (ids["Капитанская дочка"], False)
    assert keys[("001:A1", "A")] == (ids["Капитанская дочка"], True)
    assert holdings(db, "Капитанская") == {"A": ["aA100", "aA101"], "B": ["bB100", "bB101"]}
    assert holdings(db, "Ёлка") == {"A": ["aA200"], "B": ["bB200"]}
    # the false-merge guard: one title and author, another year → another record
    with db.session() as s:
        tales = s.execute(select(Record.id, Record.year).where(Record.title == "Сказки")
                          .order_by(Record.year)).all()
    assert [y for _, y in tales] == [2010, 2015]
    # the search index holds the merged record once, with both schools' copies
    with db.session() as s:
        docs = s.execute(select(search_schema.docs.c.record_id, search_schema.docs.c.copies)
                         .where(search_schema.docs.c.record_id == ids["Капитанская дочка"])).all()
    assert [c for _, c in docs] == [4]


def test_reimport_by_one_school_changes_only_its_copies(db, tmp_path):
    import_files(db, [write(tmp_path, "a.iso", school_a())], sigla="A")
    import_files(db, [write(tmp_path, "b.iso", school_b())], sigla="B")
    with db.session() as s:
        a_copies = dict(s.execute(select(Copy.barcode, Copy.id).where(Copy.sigla == "A")).all())
        rid = s.scalar(select(Record.id).where(Record.title == "Капитанская дочка"))
        v_before = s.scalar(select(Record.version).where(Record.id == rid))
    # B re-imports with one copy fewer and another title: B's copies change, the fields do not
    again = import_files(db, [write(tmp_path, "b2.iso", school_b(copies=1, title="Дочка"))],
                         sigla="B")
    assert (again.added, again.updated, again.merged) == (0, 4, 0)
    assert holdings(db, "Капитанская") == {"A": ["aA100", "aA101"], "B": ["bB100"]}
    with db.session() as s:
        assert dict(s.execute(select(Copy.barcode, Copy.id).where(Copy.sigla == "A")).all()) == a_copies
        rec_b = s.get(Record, rid)
        assert rec_b is not None and rec_b.title == "Капитанская дочка"
        assert rec_b.version > v_before  # the change feed sends the new copies
    # A (the owner) re-imports with a corrected title: the fields follow A, B's copies stay
    a2 = import_files(db, [write(tmp_path, "a2.iso", school_a({"A1": "Капитанская дочка (1836)"}))],
                      sigla="A")
    assert (a2.added, a2.updated, a2.merged) == (0, 4, 0)
    assert holdings(db, "Капитанская") == {"A": ["aA100", "aA101"], "B": ["bB100"]}
    with db.session() as s:
        assert s.scalar(select(Record.title).where(Record.id == rid)) == "Капитанская дочка (1836)"
        assert s.scalar(select(func.count(Record.id))) == 6


def test_one_schools_own_records_are_never_merged(db, tmp_path):
    """Two records of one school with one union key stay two (and neither loses copies), and a
    third school's book joins only one of them."""
    twins = [book("A1", "Атлас", isbn="5-17-015240-X", year=2002, prefix="a"),
             book("A2", "Атлас. Том 2", isbn="5-17-015240-X", year=2002, prefix="a")]
    first = import_files(db, [write(tmp_path, "a.iso", twins)], sigla="A")
    assert (first.added, first.merged) == (2, 0)
    again = import_files(db, [write(tmp_path, "a.iso", twins)], sigla="A")
    assert (again.added, again.updated, again.merged) == (0, 2, 0)
    b = import_files(db, [write(tmp_path, "b.iso",
                                [book("B1", "Атлас", isbn="5-17-015240-X", year=2002,
                                      prefix="b")])], sigla="B")
    assert (b.added, b.merged) == (0, 1)
    with db.session() as s:
        assert s.scalar(select(func.count(Record.id))) == 2
        by_record = sorted(s.execute(select(Copy.record_id, Copy.sigla)).all())
    assert [s for _, s in by_record].count("A") == 2 and [s for _, s in by_record].count("B") == 1


def test_a_copy_of_a_sigla_already_there_is_not_merged(db, tmp_path):
    """A record whose copies name a sigla the existing record already holds stays apart: the
    per-(record, sigla) copy merge would otherwise replace those copies."""
    import_files(db, [write(tmp_path, "a.iso", school_a())], sigla="A")
    shared = rec(RUS_LEADER, ("001", "C1"), ("010", "  ", [("a", "5-17-015240-X")]),
                 ("200", "1 ", [("a", "Капитанская дочка")]),
                 ("910", "  ", [("a", "0"), ("b", "c1"), ("h", "c1"), ("d", "A")]))
    c = import_files(db, [write(tmp_path, "c.iso", [shared])], sigla="C")
    assert (c.added, c.merged) == (1, 0)
    assert holdings(db, "Капитанская") == {"A": ["aA100", "aA101"]}


def test_one_file_under_another_school_updates_the_same_copies(db, tmp_path):
    """The same file (copies naming their library in 910^d) imported again under another
    --school: one key is one record, and its copies are the same copies, updated in place (no
    second record whose barcodes would clash)."""
    named = [rec(RUS_LEADER, ("001", f"N{n}"), ("200", "1 ", [("a", f"Книга {n}")]),
                 ("910", "  ", [("a", "0"), ("b", f"n{n}"), ("h", f"n{n}"), ("d", "ИБЦ")]))
             for n in range(3)]
    path = write(tmp_path, "named.iso", named)
    assert import_files(db, [path], sigla="A").added == 3
    with db.session() as s:
        before = sorted(s.execute(select(Copy.id, Copy.record_id, Copy.barcode)).all())
    b = import_files(db, [path], sigla="B")
    assert (b.added, b.updated, b.merged, b.warning_count) == (0, 0, 3, 0)
    assert [m["schools"] for m in b.merges] == [["A", "ИБЦ"]] * 3
    with db.session() as s:
        assert sorted(s.execute(select(Copy.id, Copy.record_id, Copy.barcode)).all()) == before
        assert s.scalar(select(func.count(Record.id))) == 3


def test_legacy_records_are_claimed_by_their_reimport(db, tmp_path):
    """Records written without the union (before migration 0020, or by the ИРБИС sync) are
    updated in place by the next import of their file, which records their keys."""
    path = write(tmp_path, "a.iso", school_a())
    old = import_files(db, [path], sigla="A", union=False)
    assert old.added == 4
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(RecordKey)) == 0
    again = import_files(db, [path], sigla="A")
    assert (again.added, again.updated, again.merged) == (0, 4, 0)
    b = import_files(db, [write(tmp_path, "b.iso", school_b())], sigla="B")
    assert (b.added, b.merged) == (2, 2)


def test_cli_school_and_sigla_alias(db_url, tmp_path, capsys):
    a, b = write(tmp_path, "a.iso", school_a()), write(tmp_path, "b.iso", school_b())
    assert main(["--db", db_url, "import", str(a), "--sigla", "A", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["added"] == 4
    assert main(["--db", db_url, "import", str(b), "--school", "B", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["added"], report["merged"]) == (2, 2)
    assert [m["schools"] for m in report["merges"]] == [["A"], ["A"]]
    assert main(["--db", db_url, "import", str(b), "--school", "B", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "added 0, updated 4, skipped 0" in out and "merged" not in out
    c = write(tmp_path, "c.iso", [book("C1", "Капитанская дочка", isbn="5-17-015240-X",
                                       prefix="c")])
    assert main(["--db", db_url, "import", str(c), "--school", "C"]) == 0
    out, err = capsys.readouterr()
    assert "no school 'C' in the schools table" in err
    assert main(["--db", db_url, "schools", "add", "C", "Школа C"]) == 0
    assert main(["--db", db_url, "import", str(c), "--school", "C"]) == 0
    assert "no school" not in capsys.readouterr().err
    assert "merged into other schools' records 1" in out
    assert "isbn:9785170152407; also held by A, B" in out


@pytest.mark.parametrize("size", [1, 1000])
def test_merge_inside_one_batch_and_across_batches(db, tmp_path, size):
    """B's file holds A's book twice under two keys: only one joins A's record."""
    import_files(db, [write(tmp_path, "a.iso", school_a())], sigla="A")
    dup = [book("B1", "Капитанская дочка", isbn="5-17-015240-X", prefix="b"),
           book("B9", "Капитанская дочка", isbn="5-17-015240-X", prefix="b")]
    b = import_files(db, [write(tmp_path, "b.iso", dup)], sigla="B", batch_size=size)
    assert (b.added, b.merged) == (1, 1)
    with db.session() as s:
        assert s.scalar(select(func.count(Record.id))) == 5


def test_a_reimport_with_another_title_moves_the_union_key(db, tmp_path):
    """The owner corrects a title: its key row takes the new union key, so another school's
    book with the corrected title joins it and one with the old title no longer does."""
    import_files(db, [write(tmp_path, "a.iso", [book("A1", "Сказки", author="Пушкин",
                                                      year=2010, prefix="a")])], sigla="A")
    again = import_files(db, [write(tmp_path, "a2.iso", [book("A1", "Сказки о царе Салтане",
                                                              author="Пушкин", year=2010,
                                                              prefix="a")])], sigla="A")
    assert (again.added, again.updated) == (0, 1)
    with db.session() as s:
        row = s.get(RecordKey, ("001:A1", "A"))
        assert row is not None and row.union_key == "tay:сказки о царе салтане|пушкин|2010"
    old = import_files(db, [write(tmp_path, "b.iso", [book("B1", "Сказки", author="Пушкин",
                                                           year=2010, prefix="b")])], sigla="B")
    new = import_files(db, [write(tmp_path, "c.iso", [book("C1", "СКАЗКИ о царе Салтане",
                                                           author="Пушкин", year=2010,
                                                           prefix="c")])], sigla="C")
    assert (old.added, old.merged, new.added, new.merged) == (1, 0, 0, 1)
