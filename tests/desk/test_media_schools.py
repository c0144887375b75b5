"""The desk's media page names each item's school, «весь город» for a shared one
(docs/SCHOOLS.md «Media per school») — SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest

from tests.desk.conftest import logged_in


@pytest.fixture
def settings(tmp_path):
    from config.settings import load_settings

    st = load_settings(environ={})
    st.data_dir = str(tmp_path / "data")
    return st


def test_the_media_page_shows_the_school_column(desk):
    from library import schools
    from library.storage.models import MediaItem

    make, db = desk
    with db.transaction() as s:
        schools.add_school(s, "ГИМН5", "Гимназия № 5")
        s.add_all([MediaItem(path="/m/g.mp4", title="Урок гимназии", kind="video", sigla="ГИМН5"),
                   MediaItem(path="/m/x.mp4", title="Урок ЛИЦ", kind="video", sigla="ЛИЦ2")])
    page = logged_in(make).get("/desk/media").text
    assert ">Школа</th>" in page
    cells = dict(re.findall(r"<td>([^<]+)<br>.*?<td class=\"media-school\">([^<]*)</td>", page, re.S))
    assert cells["Урок гимназии"] == "Гимназия № 5"
    assert cells["Фотосинтез"] == "весь город"  # scanned before schools: shared
    assert cells["Урок ЛИЦ"] == "ЛИЦ2"  # a sigla with no school row: named by itself
