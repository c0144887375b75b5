"""A scripted school for the provision tests (library and desk): two classes, three subjects, a
lost copy, a written-off copy, a pupil who left the school.

Hand-computed figures (school year 2026, sigla ИБЦ; the copies of another school ШК2 never count):

- 10А: 3 pupils (a fourth left the school: inactive); 11А: 2 pupils; a teacher; no first grade.
- «Математика 10» (grade 10): 4 copies, 1 lost → 3 usable; «Математика 11» (grade 11): 2 copies,
  1 written off → 1 usable (and 1 more at ШК2); «Русский язык 10–11» (grades 10–11): 4 copies
  (one on loan, one in repair) → 4 usable; «История 10» (grade 10): 2 copies.
- 11А's class sets for 2026: «Математика 11», «Русский язык 10–11» (no history); 10А has none, so
  it needs every title of grade 10: Математика, Русский язык, История.

This year: 10А Математика 3/3 = 100 %; Русский язык 3 of the shared 4 → 100 %; История 2/3 = 66 %;
11А Математика 1/2 = 50 %; Русский язык the 1 left → 50 %. Grade 10: 8 of 9 → 88 %; grade 11:
2 of 4 → 50 %; the school 10 of 13 → 76 %.
Next year (2027, last grade 11): 10А becomes 11А (3 pupils), 11А leaves: Математика 1/3 → short 2,
Русский язык 4/3 → none short. The order: «Математика 11», 2 copies.
"""

from __future__ import annotations

from library.storage.models import ClassSet, Copy, Reader, Record, TextbookTitle

YEAR = 2026
HOME = "ИБЦ"


def script_school(db) -> dict[str, int]:
    """Write the school; returns the record ids by short name."""
    ids: dict[str, int] = {}
    with db.transaction() as s:
        def title(key: str, name: str, subject: str, lo: int, hi: int, statuses: list[str],
                  other: int = 0) -> None:
            rec = Record(key=f"tb-{key}", title=name, authors=["Автор, А. А."], item_type="textbook",
                         version=1)
            for i, status in enumerate(statuses):
                rec.copies.append(Copy(sigla=HOME, barcode=f"TB-{key}-{i}", status=status, version=1))
            for i in range(other):
                rec.copies.append(Copy(sigla="ШК2", barcode=f"TB2-{key}-{i}", status="available", version=1))
            s.add(rec)
            s.flush()
            s.add(TextbookTitle(record_id=rec.id, subject=subject, grade_from=lo, grade_to=hi,
                                fpu_number=f"1.1.{key}"))
            ids[key] = rec.id

        title("m10", "Математика 10", "Математика", 10, 10, ["available"] * 3 + ["lost"])
        title("m11", "Математика 11", "Математика", 11, 11, ["available", "written_off"], other=1)
        title("r1011", "Русский язык 10–11", "Русский язык", 10, 11,
              ["available", "on_loan", "bindery", "available"])
        title("h10", "История 10", "История", 10, 10, ["available", "available"])
        s.add_all([
            Reader(card_number="P10-1", last_name="А", first_name="Аня", class_name="10А"),
            Reader(card_number="P10-2", last_name="Б", first_name="Боря", class_name="10А"),
            Reader(card_number="P10-3", last_name="В", first_name="Вера", class_name="10А", sigla=HOME),
            Reader(card_number="P10-4", last_name="Г", first_name="Гоша", class_name="10А", active=False),
            Reader(card_number="P11-1", last_name="Д", first_name="Даша", class_name="11А"),
            Reader(card_number="P11-2", last_name="Е", first_name="Егор", class_name="11А"),
            Reader(card_number="T-1", last_name="Ж", first_name="Жанна", category="teacher"),
        ])
        s.add_all([ClassSet(school_year=YEAR, class_name="11А", record_id=ids["m11"]),
                   ClassSet(school_year=YEAR, class_name="11А", record_id=ids["r1011"])])
    return ids
