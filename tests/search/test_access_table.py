"""library.access: every audience × level × action of the one media access table (docs/MEDIA.md)."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import column, select, table
from sqlalchemy.dialects import sqlite

from library.access import (
    TABLE,
    Action,
    Audience,
    Level,
    audience_of,
    downloadable,
    level_of,
    may,
    permitted,
    runs_station,
)

Y, N = True, False
# (audience, level): (see, play, download) — the table of docs/MEDIA.md, written out by hand.
EXPECTED = {
    ("anonymous", "everyone"): (Y, Y, Y), ("anonymous", "onsite"): (Y, Y, N),
    ("anonymous", "teachers"): (N, N, N),
    ("pupil", "everyone"): (Y, Y, Y), ("pupil", "onsite"): (Y, Y, N),
    ("pupil", "teachers"): (N, N, N),
    ("teacher", "everyone"): (Y, Y, Y), ("teacher", "onsite"): (Y, Y, N),
    ("teacher", "teachers"): (Y, Y, Y),
    ("staff", "everyone"): (Y, Y, Y), ("staff", "onsite"): (Y, Y, N),
    ("staff", "teachers"): (Y, Y, Y),
}
ACTIONS = (Action.SEE, Action.PLAY, Action.DOWNLOAD)
CASES = list(itertools.product(Audience, Level, ACTIONS))


def test_the_table_covers_every_audience_and_level():
    assert set(EXPECTED) == {(a.value, lv.value) for a in Audience for lv in Level}
    assert set(TABLE) == set(Audience) and all(set(row) == set(Level) for row in TABLE.values())


@pytest.mark.parametrize(("audience", "level", "action"), CASES,
                         ids=[f"{a}-{lv}-{x}" for a, lv, x in CASES])
def test_every_audience_level_and_action(audience, level, action):
    want = EXPECTED[audience.value, level.value][ACTIONS.index(action)]
    assert may(audience.value, level.value, action) is want
    assert (action in TABLE[audience][level]) is want


def test_categories_map_onto_audiences():
    assert audience_of(None) is audience_of("") is Audience.ANONYMOUS
    assert audience_of("pupil") is Audience.PUPIL
    assert audience_of("teacher") is Audience.TEACHER
    assert {audience_of(c) for c in ("staff", "librarian", "admin")} == {Audience.STAFF}
    # an unknown category is a pupil, never more
    assert audience_of("guest") is audience_of("Teacher") is Audience.PUPIL


def test_unknown_levels_are_teachers_only():
    for odd in (None, "", "strange-level", "EVERYONE", "on-site"):
        assert level_of(odd) is Level.TEACHERS
        for a in Audience:
            for x in ACTIONS:
                assert may(a.value, odd, x) is may(a.value, "teachers", x), (odd, a, x)


def test_who_runs_the_station_and_what_is_downloadable():
    assert [c for c in ("pupil", None, "guest", "teacher", "staff", "librarian")
            if runs_station(c)] == ["teacher", "staff", "librarian"]
    assert (downloadable("everyone"), downloadable("onsite"), downloadable("teachers"),
            downloadable("strange-level")) == (True, False, True, True)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("who", [None, "pupil", "teacher", "staff", "guest"])
def test_the_sql_condition_agrees_with_may(who, action):
    """`permitted` in SQL keeps exactly the rows `may` allows, unknown and NULL levels included."""
    import sqlite3

    levels = ["everyone", "teachers", "onsite", "strange-level", None]
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE m (access TEXT)")
    con.executemany("INSERT INTO m VALUES (?)", [(lv,) for lv in levels])
    m = table("m", column("access"))
    stmt = select(m.c.access).where(permitted(m.c.access, who, action))
    sql = str(stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    got = {row[0] for row in con.execute(sql)}
    assert got == {lv for lv in levels if may(who, lv, action)}
