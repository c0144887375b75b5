"""Migrations 0008 (tombstones) and 0009 (lessons) on SQLite and PostgreSQL: down and up again,
rows still at version 0 stamped, the delete triggers in place after the round trip."""

from __future__ import annotations

from alembic import command
from sqlalchemy import func, select, text

from library.storage.migrate import alembic_config, head_revision
from library.storage.models import Copy, Counter, Lesson, Record, Tombstone


def test_round_trip_stamps_version_zero_and_keeps_the_triggers(db):
    command.downgrade(alembic_config(db), "0007_places")
    assert db.schema_revision() == "0007_places"
    with db.transaction() as s:
        rec = Record(key="old", title="Без версии", version=0)
        rec.copies.append(Copy(sigla="ИБЦ", barcode="1", version=0))
        s.add(rec)
        s.add(Record(key="new", title="С версией", version=1))
        s.execute(text("UPDATE counters SET value = 1 WHERE name = 'catalogue'"))
    db.upgrade()
    assert db.schema_revision() == head_revision()
    with db.session() as s:
        assert s.get(Counter, "catalogue").value == 2
        assert dict(s.execute(select(Record.key, Record.version)).all()) == {"old": 2, "new": 1}
        assert s.scalar(select(Copy.version)) == 2
    with db.transaction() as s:
        s.add(Lesson(teacher="reader-1", name="Рим", media_ids=[1, 2]))
        s.execute(text("DELETE FROM records WHERE key = 'old'"))  # its copy by ON DELETE CASCADE
    with db.session() as s:
        stones = {(t.kind, t.version) for t in s.scalars(select(Tombstone))}
        assert {k for k, _ in stones} == {"r", "c"} and {v for _, v in stones} == {3, 4}
        assert s.get(Counter, "catalogue").value == 4

    command.downgrade(alembic_config(db), "0007_places")
    with db.transaction() as s:  # no trigger left behind
        s.execute(text("DELETE FROM records WHERE key = 'new'"))
    db.upgrade()
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Tombstone)) == 0
        assert s.scalar(select(func.count()).select_from(Lesson)) == 0
