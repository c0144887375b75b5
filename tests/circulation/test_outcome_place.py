"""LoanOutcome.place: the copy's place in plain words on checkout, renew and return (SQLite and
PostgreSQL), kept through exactly-once replay; from_dict reads older and newer outcomes."""

import datetime as dt

from library.circulation.values import LoanOutcome
from library.places import PlaceSpec, RuleSpec
from library.places.store import add_place, remove_place


def test_no_places_means_no_place(service):
    assert service.checkout("C5A", "1001", "t1").place is None
    assert service.checkin("1001", "t2").place is None


def test_outcomes_carry_the_place(service, lib):
    with lib.transaction() as s:
        add_place(s, "ИБЦ", PlaceSpec("Стеллаж 2", "русская классика", "Абонемент",
                                      rules=(RuleSpec(bbk="84(2Рос"),)))
        add_place(s, "ИБЦ", PlaceSpec("Учебники", rules=(RuleSpec(collection="Учебный фонд"),)))
    out = service.checkout("C5A", "1001", "t1")
    assert out.place == "Стеллаж 2 — русская классика" and out.shelf == "84(2Рос=Рус)1"
    assert service.renew("C5A", "1001", "t2").place == "Стеллаж 2 — русская классика"
    back = service.checkin("1001", "t3")
    assert back.place == "Стеллаж 2 — русская классика"
    with lib.transaction() as s:  # the cache follows the places version
        remove_place(s, "ИБЦ", "Стеллаж 2")
    assert service.checkin("1001", "t3").place == back.place  # a replay answers as the first time
    service.checkout("C5A", "1002", "t4")
    assert service.checkin("1002", "t5").place is None


def test_from_dict_round_trip_and_other_versions():
    out = LoanOutcome("checkin", "t", 1, "1001", "Война и мир", "Толстой", dt.date(2026, 10, 19),
                      "84 Т", place="Стеллаж 2 — русская классика")
    assert LoanOutcome.from_dict(out.to_dict()) == out
    old = {k: v for k, v in out.to_dict().items() if k != "place"}  # stored before places
    assert LoanOutcome.from_dict(old).place is None
    newer = {**out.to_dict(), "room": "Абонемент"}  # a newer version's extra key
    assert LoanOutcome.from_dict(newer) == out
