"""The desk's MARC upload joins books another school already has to their records and says how
many (library/marc/links.py; the job page's count line), on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.desk.conftest import logged_in
from tests.desk.test_catalogue import _finished, _marc, _upload


def test_upload_counts_the_records_joined_to_other_schools(desk, tmp_path):
    from library.marc.importer import import_files
    from library.storage.models import Copy, Record

    make, db = desk
    other = tmp_path / "other.mrc"
    # another school's file (its copies name ИБЧ in 852$a); _marc gives n its own ISBN
    other.write_bytes(_marc(1, "8001", title="Союзный каталог").replace("ИБЦ".encode(), "ИБЧ".encode())
                      + _marc(2, "8002", title="Только там").replace("ИБЦ".encode(), "ИБЧ".encode()))
    assert import_files(db, [other], sigla="ИБЧ").added == 2
    with db.session() as s:
        before = s.scalar(select(func.count()).select_from(Record))
    client = logged_in(make)
    text = _finished(client, _upload(client, _marc(1, "7001", title="Союзный каталог"))
                     .headers["location"])
    assert 'id="added">0<' in text and 'id="merged">1<' in text
    assert "Добавлено к записям других школ" in text
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Record)) == before
        rid = s.scalar(select(Record.id).where(Record.title == "Союзный каталог"))
        siglas = sorted(s.scalars(select(Copy.sigla).where(Copy.record_id == rid)))
    assert siglas == ["ИБЦ", "ИБЧ"]
    # an upload that joins nothing shows no such line
    plain = _finished(client, _upload(client, _marc(9, "7009", title="Своя книга"))
                      .headers["location"])
    assert 'id="added">1<' in plain and 'id="merged"' not in plain
