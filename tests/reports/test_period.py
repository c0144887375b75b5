"""Period parsing: quarters, years, months, ranges, school terms; local-midnight UTC bounds."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from library.reports import PeriodError, parse_period, school_term

MSK = ZoneInfo("Europe/Moscow")
D = dt.date


@pytest.mark.parametrize("text, first, last, label", [
    ("2026Q3", D(2026, 7, 1), D(2026, 9, 30), "III квартал 2026 г."),
    ("2026q4", D(2026, 10, 1), D(2026, 12, 31), "IV квартал 2026 г."),
    ("2026Q1", D(2026, 1, 1), D(2026, 3, 31), "I квартал 2026 г."),
    ("2026", D(2026, 1, 1), D(2026, 12, 31), "2026 год"),
    ("2026-02", D(2026, 2, 1), D(2026, 2, 28), "февраль 2026 г."),
    ("2026-09-01..2026-11-30", D(2026, 9, 1), D(2026, 11, 30), "01.09.2026–30.11.2026"),
])
def test_spellings(text, first, last, label):
    p = parse_period(text, tz=MSK)
    assert (p.first, p.last, p.label) == (first, last, label)


@pytest.mark.parametrize("bad", ["", "2026Q5", "2026-13", "2026-09-31..2026-10-01",
                                 "2026-10-01..2026-09-01", "вчера"])
def test_bad_spellings(bad):
    with pytest.raises(PeriodError):
        parse_period(bad, tz=MSK)


def test_bounds_are_local_midnights_in_utc():
    p = parse_period("2026Q3", tz="Europe/Moscow")
    assert p.start == dt.datetime(2026, 6, 30, 21, tzinfo=dt.timezone.utc)
    assert p.end == dt.datetime(2026, 9, 30, 21, tzinfo=dt.timezone.utc)
    months = p.months()
    assert [m.key for m in months] == ["2026-07", "2026-08", "2026-09"]
    assert months[0].start == p.start and months[-1].end == p.end
    assert all(a.end == b.start for a, b in zip(months, months[1:]))


def test_range_months_are_clipped():
    months = parse_period("2026-09-15..2026-11-10", tz=dt.timezone.utc).months()
    assert [m.key for m in months] == ["2026-09", "2026-10", "2026-11"]
    assert months[0].start.day == 15 and months[-1].end.day == 11


@pytest.mark.parametrize("day, first, last, n", [
    (D(2026, 9, 1), D(2026, 9, 1), D(2026, 10, 31), 1),
    (D(2026, 11, 24), D(2026, 11, 1), D(2026, 12, 31), 2),
    (D(2027, 1, 5), D(2026, 11, 1), D(2026, 12, 31), 2),   # winter holidays: term 2
    (D(2027, 1, 10), D(2027, 1, 10), D(2027, 3, 20), 3),
    (D(2027, 3, 25), D(2027, 1, 10), D(2027, 3, 20), 3),   # spring holidays: term 3
    (D(2027, 5, 31), D(2027, 4, 1), D(2027, 5, 31), 4),
    (D(2027, 7, 15), D(2027, 4, 1), D(2027, 5, 31), 4),    # summer: the last term
])
def test_school_terms(day, first, last, n):
    p = school_term(day)
    assert (p.first, p.last) == (first, last)
    assert p.label.startswith(f"{n}-я четверть 2026/27")


def test_current_term_and_clipping():
    p = parse_period("term", today=D(2026, 11, 24), tz=MSK)
    assert (p.first, p.last) == (D(2026, 11, 1), D(2026, 11, 24))
    assert p.title == "2-я четверть 2026/27 уч. г., по 24.11.2026 (01.11.2026–24.11.2026)"
    assert parse_period("term", today=D(2027, 7, 1), tz=MSK).last == D(2027, 5, 31)


@pytest.mark.parametrize("name, first, last, title", [
    ("month", D(2026, 10, 1), D(2026, 10, 5), "октябрь 2026 г., по 05.10.2026 (01.10.2026–05.10.2026)"),
    ("last-month", D(2026, 9, 1), D(2026, 9, 30), "сентябрь 2026 г. (01.09.2026–30.09.2026)"),
    ("quarter", D(2026, 10, 1), D(2026, 10, 5), "IV квартал 2026 г., по 05.10.2026 (01.10.2026–05.10.2026)"),
    ("last-quarter", D(2026, 7, 1), D(2026, 9, 30), "III квартал 2026 г. (01.07.2026–30.09.2026)"),
    ("year", D(2026, 1, 1), D(2026, 10, 5), "2026 год, по 05.10.2026 (01.01.2026–05.10.2026)"),
    ("school-year", D(2026, 9, 1), D(2026, 10, 5),
     "2026/27 учебный год, по 05.10.2026 (01.09.2026–05.10.2026)"),
])
def test_relative_periods(name, first, last, title):
    p = parse_period(name, today=D(2026, 10, 5), tz=MSK)
    assert (p.first, p.last, p.title) == (first, last, title)


def test_relative_periods_across_a_year_and_the_summer():
    jan = D(2027, 1, 15)
    assert (parse_period("last-month", today=jan).first, parse_period("last-month", today=jan).last) \
        == (D(2026, 12, 1), D(2026, 12, 31))
    assert parse_period("last-quarter", today=jan).label == "IV квартал 2026 г."
    summer = parse_period("school-year", today=D(2027, 7, 1))
    assert (summer.first, summer.last) == (D(2026, 9, 1), D(2027, 7, 1))
    whole = parse_period("school-year", today=D(2027, 9, 1))
    assert (whole.first, whole.last, whole.label) == (D(2027, 9, 1), D(2027, 9, 1),
                                                     "2027/28 учебный год, по 01.09.2027")
