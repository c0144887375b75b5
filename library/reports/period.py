"""Report periods: quarters, years, months, date ranges and school terms, in the school's zone.

A period is a closed range of local calendar dates. Queries use the half-open UTC instants
[start, end) computed from it, so a loan at 23:30 Moscow time on 30 September belongs to
September whatever the database stores. Accepted spellings (`parse_period`):

* ``2026Q3`` — calendar quarter; ``2026`` — calendar year; ``2026-09`` — a month;
* ``2026-09-01..2026-11-30`` — a range of dates, both ends included;
* ``term`` (or ``current``) — the current school term up to today, see `school_term`;
* ``month``, ``last-month``, ``quarter``, ``last-quarter``, ``year``, ``school-year`` — relative
  to today (`relative_period`); a period that has not ended is clipped to today.

School terms (четверти) are 1 Sep–31 Oct, 1 Nov–31 Dec, 10 Jan–20 Mar and 1 Apr–31 May. A date
in the holidays between terms (1–9 Jan, 21–31 Mar, June–August) belongs to the term that has
just ended, so the service mode shows the last term's figures during the holidays.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from library.errors import IbcError

MONTHS = ["январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь",
          "октябрь", "ноябрь", "декабрь"]
MONTHS_SHORT = ["янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"]
QUARTER_NAMES = {1: "I", 2: "II", 3: "III", 4: "IV"}
# (term number, start month-day, end month-day); term 1 and 2 lie in the autumn of the school year.
TERMS = [(1, (9, 1), (10, 31)), (2, (11, 1), (12, 31)), (3, (1, 10), (3, 20)), (4, (4, 1), (5, 31))]


class PeriodError(IbcError, ValueError):
    """The period text is not one of the accepted spellings."""

    code = "period"


def local_zone() -> dt.tzinfo:
    """The machine's local time zone (the school's clock)."""
    return dt.datetime.now().astimezone().tzinfo or dt.timezone.utc


@dataclass(frozen=True)
class Month:
    """One calendar month of a period, clipped to the period."""

    key: str
    label: str
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Period:
    """A closed range of local dates with a Russian label."""

    first: dt.date
    last: dt.date
    label: str
    tz: dt.tzinfo = field(default=dt.timezone.utc, compare=False)

    def __post_init__(self):
        if self.last < self.first:
            raise PeriodError(f"the period ends before it starts: {self.first}..{self.last}")

    def instant(self, day: dt.date) -> dt.datetime:
        """Local midnight at the start of `day`, as a UTC datetime."""
        local = dt.datetime.combine(day, dt.time(0), tzinfo=self.tz)
        return local.astimezone(dt.timezone.utc)

    @property
    def start(self) -> dt.datetime:
        """The first instant of the period (UTC)."""
        return self.instant(self.first)

    @property
    def end(self) -> dt.datetime:
        """The instant just after the period (UTC, exclusive)."""
        return self.instant(self.last + dt.timedelta(days=1))

    @property
    def dates(self) -> str:
        """'01.07.2026–30.09.2026'."""
        return f"{self.first:%d.%m.%Y}–{self.last:%d.%m.%Y}"

    @property
    def title(self) -> str:
        """The label with the dates, for page headers."""
        return self.label if self.dates in self.label else f"{self.label} ({self.dates})"

    def months(self) -> list[Month]:
        """The calendar months the period touches, each clipped to the period."""
        out: list[Month] = []
        y, m = self.first.year, self.first.month
        while dt.date(y, m, 1) <= self.last:
            nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
            lo = max(self.first, dt.date(y, m, 1))
            hi = min(self.last + dt.timedelta(days=1), nxt)
            out.append(Month(f"{y:04d}-{m:02d}", f"{MONTHS_SHORT[m - 1]} {y}",
                             self.instant(lo), self.instant(hi)))
            y, m = nxt.year, nxt.month
        return out

    def clipped(self, today: dt.date) -> Period:
        """The part of the period up to `today` (for the current term)."""
        if today >= self.last or today < self.first:
            return self
        return Period(self.first, today, f"{self.label}, по {today:%d.%m.%Y}", self.tz)


def quarter(year: int, q: int, tz: dt.tzinfo = dt.timezone.utc) -> Period:
    """Calendar quarter q of year."""
    if q not in QUARTER_NAMES:
        raise PeriodError(f"quarter must be 1..4, not {q}")
    first = dt.date(year, 3 * q - 2, 1)
    last = dt.date(year + (q == 4), (3 * q) % 12 + 1, 1) - dt.timedelta(days=1)
    return Period(first, last, f"{QUARTER_NAMES[q]} квартал {year} г.", tz)


def school_term(day: dt.date, tz: dt.tzinfo = dt.timezone.utc) -> Period:
    """The school term containing `day`, or the one just ended when `day` is in the holidays."""
    autumn = day.year if day.month >= 9 else day.year - 1
    best = None
    for n, (sm, sd), (em, ed) in TERMS:
        year = autumn if n <= 2 else autumn + 1
        first, last = dt.date(year, sm, sd), dt.date(year, em, ed)
        if first <= day:
            best = (n, first, last)
    if best is None:  # 1–9 January: the second term of the same school year
        n, (sm, sd), (em, ed) = TERMS[1]
        best = (n, dt.date(autumn, sm, sd), dt.date(autumn, em, ed))
    n, first, last = best
    label = f"{n}-я четверть {autumn}/{(autumn + 1) % 100:02d} уч. г."
    return Period(first, last, label, tz)


def school_year(day: dt.date, tz: dt.tzinfo = dt.timezone.utc) -> Period:
    """The school year containing `day`: 1 September to 31 August (the summer closes it)."""
    autumn = day.year if day.month >= 9 else day.year - 1
    return Period(dt.date(autumn, 9, 1), dt.date(autumn + 1, 8, 31),
                  f"{autumn}/{(autumn + 1) % 100:02d} учебный год", tz)


def _month(year: int, month: int, tz: dt.tzinfo) -> Period:
    last = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    return Period(dt.date(year, month, 1), last, f"{MONTHS[month - 1]} {year} г.", tz)


RELATIVE = ("month", "last-month", "quarter", "last-quarter", "year", "school-year")


def relative_period(name: str, today: dt.date, tz: dt.tzinfo = dt.timezone.utc) -> Period:
    """One of RELATIVE around `today`; the current month, quarter or year is clipped to today."""
    q = (today.month - 1) // 3 + 1
    if name == "month":
        return _month(today.year, today.month, tz).clipped(today)
    if name == "last-month":
        before = today.replace(day=1) - dt.timedelta(days=1)
        return _month(before.year, before.month, tz)
    if name == "quarter":
        return quarter(today.year, q, tz).clipped(today)
    if name == "last-quarter":
        return quarter(today.year - (q == 1), (q - 2) % 4 + 1, tz)
    if name == "year":
        return Period(dt.date(today.year, 1, 1), dt.date(today.year, 12, 31), f"{today.year} год",
                      tz).clipped(today)
    if name == "school-year":
        return school_year(today, tz).clipped(today)
    raise PeriodError(f"unknown relative period {name!r}: one of {', '.join(RELATIVE)}")


def parse_period(text: str, *, tz: dt.tzinfo | str | None = None,
                 today: dt.date | None = None) -> Period:
    """A Period from '2026Q3', '2026', '2026-09', '2026-09-01..2026-11-30' or 'term'."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else (tz or local_zone())
    s = (text or "").strip()
    if s.lower() in ("term", "current", "четверть"):
        day = today or dt.datetime.now(zone).date()
        return school_term(day, zone).clipped(day)
    if s.lower() in RELATIVE:
        return relative_period(s.lower(), today or dt.datetime.now(zone).date(), zone)
    if m := re.fullmatch(r"(\d{4})\s*[QqКк]([1-4])", s):
        return quarter(int(m[1]), int(m[2]), zone)
    if re.fullmatch(r"\d{4}", s):
        y = int(s)
        return Period(dt.date(y, 1, 1), dt.date(y, 12, 31), f"{y} год", zone)
    if m := re.fullmatch(r"(\d{4})-(\d{2})", s):
        y, mo = int(m[1]), int(m[2])
        if not 1 <= mo <= 12:
            raise PeriodError(f"no month {mo} in {s!r}")
        return _month(y, mo, zone)
    if ".." in s:
        a, _, b = s.partition("..")
        try:
            first, last = dt.date.fromisoformat(a.strip()), dt.date.fromisoformat(b.strip())
        except ValueError:
            raise PeriodError(f"not a date range YYYY-MM-DD..YYYY-MM-DD: {s!r}") from None
        return Period(first, last, f"{first:%d.%m.%Y}–{last:%d.%m.%Y}", zone)
    raise PeriodError(
        f"unknown period {s!r}: use 2026Q3, 2026, 2026-09, 2026-09-01..2026-11-30, term or "
        f"{', '.join(RELATIVE)}")
