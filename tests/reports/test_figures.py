"""The scripted term gives exactly the expected figures, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from scripted_term import MSK, instant
from sqlalchemy import select, update

from config.settings import load_settings
from library.circulation.rules import Policy
from library.circulation.service import CirculationService
from library.reports import build_report, key_figures, parse_period
from library.storage.models import Copy, Record


@pytest.fixture
def q3():
    """III квартал 2026 in Moscow time."""
    return parse_period("2026Q3", tz=MSK)


def test_scripted_term_figures(term, q3):
    r = build_report(term.db, q3, school_name="Школа")
    assert r["summary"] == {
        "titles": 333, "copies": 888, "readers": 47, "active_readers": 5, "visits": 9,
        "loans": 8, "returns": 5, "renewals": 2, "searches": 6, "zero_searches": 4, "plays": 4,
        "on_loan": 7, "overdue": 3, "overrides": 0,
    }
    # 8 ÷ 47, 9 ÷ 47, 8 ÷ 888, 888 ÷ 47, 888 ÷ 41 pupils among the readers, 41 ÷ 41 × 100
    assert r["indicators"] == {
        "loans_per_reader": 0.17, "visits_per_reader": 0.19, "loans_per_copy": 0.01,
        "copies_per_reader": 18.9, "copies_per_pupil": 21.7, "coverage": 100.0,
        "loans": 8, "visits": 9, "readers": 47, "copies": 888, "pupil_readers": 41, "pupils": 41,
        "pupils_source": "readers"}
    c = r["circulation"]
    assert (c["late_returns"], c["on_loan_at_end"], c["overdue_at_end"]) == (2, 7, 3)
    assert c["refusals"] == {"checkout:has_overdue": 1}
    months = {m["month"]: m for m in c["by_month"]}
    assert [months[k]["checkout"] for k in ("2026-07", "2026-08", "2026-09")] == [3, 1, 4]
    assert [months[k]["return"] for k in ("2026-07", "2026-08", "2026-09")] == [2, 1, 2]
    assert [months[k]["visit"] for k in ("2026-07", "2026-08", "2026-09")] == [3, 2, 4]
    # the 23:30 MSK play on 30 Sep is September; 00:30 MSK on 1 Oct (still 30 Sep UTC) is not
    assert [months[k]["play"] for k in ("2026-07", "2026-08", "2026-09")] == [0, 0, 4]

    f = r["fund"]
    assert (f["titles"], f["copies"]) == (333, 888)
    assert f["movement"] == {"titles_added": 3, "copies_added": 3, "written_off": 2, "lost": 1}
    sections = {s["section"]: s for s in f["by_section"]}
    assert sum(s["titles"] for s in f["by_section"]) == 333
    assert sections["84"]["label"] == "84 Художественная литература"
    assert sections["32"]["titles"] == 1 + 1  # demo 32.xx and the imported «Юный робототехник»
    assert {t["type"]: t["titles"] for t in f["by_type"]} == {"book": 291, "textbook": 32,
                                                               "reference": 10}

    rd = r["readers"]
    assert (rd["registered"], rd["new"], rd["active"], rd["active_exact"]) == (47, 2, 5, True)
    classes = {x["class"]: x for x in rd["by_class"]}
    assert [x["class"] for x in rd["by_class"]] == ["1А", "2А", "3Б", "5А", "7В", "9А", "11Б"]
    busy = {k: (v["visits"], v["loans"], v["active"]) for k, v in classes.items() if v["loans"]}
    assert busy == {
        "2А": (1, 1, 1), "5А": (3, 3, 1), "7В": (3, 2, 1), "9А": (1, 1, 1)}
    cats = {x["category"]: x for x in rd["by_category"]}
    assert (cats["pupil"]["registered"], cats["teacher"]["registered"]) == (41, 5)
    assert (cats["teacher"]["loans"], cats["teacher"]["new"]) == (1, 1)

    top = r["reading"]["top_titles"]
    assert [t["loans"] for t in top] == [2, 2, 1, 1, 1, 1]
    with term.db.session() as s:
        twice = {s.scalar(select(Record.title).join(Copy).where(Copy.barcode == term.titles[i]))
                 for i in (1, 3)}
    assert {t["title"] for t in top[:2]} == twice
    assert sum(a["loans"] for a in r["reading"]["top_authors"]) == 8

    assert r["searches"]["top"] == [{"query": "Пушкин", "count": 2}]
    assert r["searches"]["zero_list"] == [{"query": "Гарри Поттер", "count": 2},
                                          {"query": "робототехника", "count": 2}]
    assert r["media"]["by_kind"] == {"video": 3, "audio": 1}
    assert [m["plays"] for m in r["media"]["top"]] == [3, 1]
    assert [g["total"] for g in r["catalogue"]["growth"]] == [333, 333, 333]
    assert [g["added"] for g in r["catalogue"]["growth"]] == [3, 0, 0]
    assert (r["catalogue"]["imports"], r["catalogue"]["imported_records"]) == (1, 3)
    assert r["schools"] == []


def test_other_periods(term):
    oct_ = build_report(term.db, parse_period("2026-10", tz=MSK))["summary"]
    assert (oct_["loans"], oct_["returns"], oct_["zero_searches"], oct_["plays"]) == (1, 1, 1, 1)
    july = build_report(term.db, parse_period("2026-07-01..2026-07-31", tz=MSK))
    assert july["summary"]["loans"] == 3 and july["fund"]["movement"]["titles_added"] == 3
    year = build_report(term.db, parse_period("2026", tz=MSK))["summary"]
    assert (year["loans"], year["returns"]) == (13, 6)  # + the 25 June loan, the demo class set's 3, 5 October both


def test_key_figures_for_the_service_mode(term):
    k = key_figures(term.db, "term", today=dt.date(2026, 9, 29))
    assert k["first"] == "2026-09-01" and k["last"] == "2026-09-29"
    assert (k["loans"], k["returns"], k["visits"], k["plays"]) == (4, 2, 4, 3)
    assert k["period"].startswith("1-я четверть 2026/27 уч. г.")
    # September up to the 29th: 4 loans, 4 visits; 47 readers (41 pupils), 888 copies
    assert (k["loans_per_reader"], k["visits_per_reader"], k["loans_per_copy"]) == (0.09, 0.09, 0.0)
    assert (k["copies_per_reader"], k["copies_per_pupil"], k["coverage"]) == (18.9, 21.7, 100.0)
    with_pupils = key_figures(term.db, "term", today=dt.date(2026, 9, 29), pupils=50)
    assert (with_pupils["copies_per_pupil"], with_pupils["coverage"]) == (17.8, 82.0)
    q = key_figures(term.db, parse_period("2026Q3", tz=MSK))
    assert (q["loans"], q["overdue"]) == (8, 3)


def test_anonymised_loans_make_active_readers_a_lower_bound(term, q3):
    policy = Policy.from_settings(load_settings(environ={}).circulation)
    svc = CirculationService(term.db, policy)
    assert svc.anonymise_returned(now=instant(dt.date(2026, 10, 31))) == 5
    rd = build_report(term.db, q3)["readers"]
    assert rd["active_exact"] is False and rd["unlinked_loans"] == 4
    assert rd["active"] == 4  # A, B, D, E still hold a loan of the quarter; C's was anonymised
    assert build_report(term.db, q3)["summary"]["loans"] == 8  # counts survive anonymisation


def test_union_catalogue_per_school(term, q3):
    with term.db.transaction() as s:
        rec = s.scalar(select(Record).where(Record.title == "Юный робототехник"))
        rec.copies.append(Copy(sigla="Ш2", barcode="2999", status="available"))
    with term.db.transaction() as s:
        s.execute(update(Copy).where(Copy.barcode == "2999")
                  .values(received="20260905", updated_at=instant(dt.date(2026, 9, 5))))
    r = build_report(term.db, q3)
    schools = {x["sigla"]: x for x in r["schools"]}
    assert set(schools) == {"ИБЦ", "Ш2"}
    assert (schools["Ш2"]["titles"], schools["Ш2"]["copies"], schools["Ш2"]["loans"]) == (1, 1, 0)
    assert (schools["ИБЦ"]["copies"], schools["ИБЦ"]["loans"]) == (888, 8)
    one = build_report(term.db, q3, sigla="Ш2")
    assert one["schools"] == [] and one["fund"]["movement"]["copies_added"] == 1
    assert one["summary"]["readers"] == 0
    assert one["summary"]["searches"] == 6  # untagged events (searches) count for every school

