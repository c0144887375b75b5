"""Hold rules as pure functions: the state table, who may place a hold, the pickup date, expiry."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from config.settings import HoldsSettings, load_settings
from library.circulation import errors as E
from library.circulation import holds as H
from library.circulation.overrides import RENEW_OVERRIDABLE, Waiver, overridable
from library.circulation.rules import Calendar, Policy

MONDAY = dt.date(2026, 10, 5)

ALLOWED = {
    ("new", "place"): "queued",
    ("queued", "trap"): "waiting",
    ("queued", "fulfil"): "fulfilled",
    ("waiting", "fulfil"): "fulfilled",
    ("queued", "expire"): "expired",
    ("waiting", "expire"): "expired",
    ("queued", "cancel"): "cancelled",
    ("waiting", "cancel"): "cancelled",
}


@pytest.fixture
def policy() -> Policy:
    return Policy.from_settings(load_settings(environ={}).circulation)


@pytest.mark.parametrize("state,event", list(itertools.product(H.HOLD_STATES, H.HOLD_EVENTS)))
def test_state_table_every_pair(state, event):
    """Every (state, event) pair: the allowed ones move as written, every other is HoldClosed."""
    if (state, event) in ALLOWED:
        assert H.hold_transition(state, event) == ALLOWED[(state, event)]
    else:
        with pytest.raises(E.HoldClosed):
            H.hold_transition(state, event)


def test_state_table_is_exactly_the_allowed_pairs():
    assert H.HOLD_TRANSITIONS == ALLOWED
    # a closed hold never opens again; a waiting one is never queued again
    assert not any(s in ("fulfilled", "expired", "cancelled") for s, _ in H.HOLD_TRANSITIONS)
    with pytest.raises(ValueError):
        H.hold_transition("queued", "lend")


def facts(**kw) -> H.PlaceFacts:
    base = dict(category="pupil", blocked=False, active_holds=0, already_queued=False,
                has_copy=False, item_type="book", holdable_copies=2, on_shelf_copies=0)
    base.update(kw)
    return H.PlaceFacts(**base)


def test_place_allowed_when_every_copy_is_out(policy):
    H.check_place(policy, H.HoldRules(), facts())


@pytest.mark.parametrize("kw,rules,error", [
    ({}, H.HoldRules(enabled=False), E.HoldsOff),
    ({"blocked": True}, H.HoldRules(), E.ReaderBlocked),
    ({"active_holds": 3}, H.HoldRules(), E.HoldLimitReached),
    ({"already_queued": True}, H.HoldRules(), E.AlreadyQueued),
    ({"has_copy": True}, H.HoldRules(), E.AlreadyHaveIt),
    ({"holdable_copies": 0}, H.HoldRules(), E.NoLoanableCopy),
    ({"item_type": "reference"}, H.HoldRules(), E.NoLoanableCopy),
    ({"on_shelf_copies": 1}, H.HoldRules(), E.HoldOnShelf),
])
def test_place_refusals(policy, kw, rules, error):
    with pytest.raises(error):
        H.check_place(policy, rules, facts(**kw))


def test_place_refusal_order_and_codes(policy):
    """The first rule broken is the one said; the codes the kiosk knows."""
    with pytest.raises(E.HoldLimitReached) as exc:
        H.check_place(policy, H.HoldRules(), facts(active_holds=3, already_queued=True,
                                                   on_shelf_copies=1))
    assert exc.value.params == {"count": 3}
    assert E.HoldOnShelf.code == "hold_on_shelf" and E.ReservedForAnother.code == "reserved"
    assert E.RenewalHeld.code == "renewal_held"


def test_age_rating_is_the_checkouts_rule(policy):
    """A pupil too young for the book cannot queue for it (the checkout would refuse it at the
    shelf); old enough, a teacher, or an unknown class (no age) may."""
    with pytest.raises(E.AgeRestricted) as exc:
        H.check_place(policy, H.HoldRules(), facts(class_name="5А", age_min=16))
    assert exc.value.params == {"age": "16+"}
    H.check_place(policy, H.HoldRules(), facts(class_name="11А", age_min=16))
    H.check_place(policy, H.HoldRules(), facts(category="teacher", age_min=18))
    H.check_place(policy, H.HoldRules(), facts(class_name=None, age_min=16))


def test_on_shelf_setting_allows_it(policy):
    H.check_place(policy, H.HoldRules(on_shelf=True), facts(on_shelf_copies=1))


def test_limits_per_category(policy):
    """pupil 3, teacher 10, staff 10 by default; 0 means no holds at all."""
    assert [policy.category(c).max_holds for c in ("pupil", "teacher", "staff")] == [3, 10, 10]
    H.check_place(policy, H.HoldRules(), facts(category="teacher", active_holds=9))
    with pytest.raises(E.HoldLimitReached):
        H.check_place(policy, H.HoldRules(), facts(category="teacher", active_holds=10))
    settings = load_settings(environ={})
    settings.circulation.pupil.max_holds = 0
    none = Policy.from_settings(settings.circulation)
    with pytest.raises(E.HoldLimitReached):
        H.check_place(none, H.HoldRules(), facts())


def test_pickup_date_skips_closed_days_and_holidays():
    sundays = Calendar(frozenset({7}))
    # trapped Monday: five open days after it are Tue..Sat
    assert H.pickup_until(sundays, MONDAY, 5) == dt.date(2026, 10, 10)
    # trapped Wednesday: Thu, Fri, Sat, (Sun closed), Mon, Tue
    assert H.pickup_until(sundays, dt.date(2026, 10, 7), 5) == dt.date(2026, 10, 13)
    weekend_and_holiday = Calendar(frozenset({6, 7}), frozenset({dt.date(2026, 11, 4)}))
    # Friday 30 Oct, 3 days: Mon 2, Tue 3, (Wed 4 holiday), Thu 5
    assert H.pickup_until(weekend_and_holiday, dt.date(2026, 10, 30), 3) == dt.date(2026, 11, 5)
    # a holiday range (winter break) is skipped whole
    winter = Calendar.parse([7], ["2026-12-31..2027-01-11"])
    assert H.pickup_until(winter, dt.date(2026, 12, 30), 1) == dt.date(2027, 1, 12)
    assert H.pickup_until(sundays, MONDAY, 0) == dt.date(2026, 10, 6)  # at least one open day


def test_expiry():
    assert not H.waiting_expired(MONDAY, MONDAY)  # the last day itself still counts
    assert H.waiting_expired(MONDAY, MONDAY + dt.timedelta(days=1))
    assert not H.waiting_expired(None, MONDAY)
    assert not H.queued_expired(MONDAY, MONDAY + dt.timedelta(days=400), 0)  # 0: never
    assert not H.queued_expired(MONDAY, MONDAY + dt.timedelta(days=30), 30)
    assert H.queued_expired(MONDAY, MONDAY + dt.timedelta(days=31), 30)


def test_renewal_held_unless_a_copy_is_on_the_shelf_and_overridable():
    H.check_renewal(0, 0)
    H.check_renewal(2, 1)  # a copy on the shelf serves the queue: the loan may be renewed
    with pytest.raises(E.RenewalHeld):
        H.check_renewal(1, 0)
    waiver = Waiver(RENEW_OVERRIDABLE)
    H.check_renewal(1, 0, waiver)
    assert waiver.skipped == ["renewal_held"]
    assert overridable("renew", "renewal_held") and not overridable("checkout", "reserved")


def test_short_name_and_wait_days():
    assert H.short_name("Анна", "Кузнецова", "5А") == "Анна К., 5А"
    assert H.short_name("Мария", "Иванова", None) == "Мария И."
    assert H.short_name("Мария", "", None) == "Мария"
    assert H.wait_days(MONDAY, MONDAY + dt.timedelta(days=3)) == 3
    assert H.wait_days(MONDAY, MONDAY - dt.timedelta(days=3)) == 0


def test_rules_from_settings():
    s = HoldsSettings(enabled=False, pickup_days=3, on_shelf=True, queue_days=30,
                      shelf_note="шкаф у окна")
    assert H.HoldRules.from_settings(s) == H.HoldRules(False, 3, True, 30, "шкаф у окна")
    assert H.HoldRules.from_settings(None) == H.HoldRules()
    assert H.HoldRules.from_settings(load_settings(environ={}).holds) == H.HoldRules()
    with pytest.raises(ValueError):
        HoldsSettings(pickup_days=0)
