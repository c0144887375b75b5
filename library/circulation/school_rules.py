"""Circulation rule overrides per school: the one home of «which rules lend this copy».

One `ibc serve` may lend for a whole city's schools. ``[circulation]`` of the settings is every
school's rules; a school may set some of them differently, stored in the database (table
``school_rules``, migration 0024_school_rules: sigla, key, value), so that every worker process
of the server reads the same overrides at once — nothing about them is kept in a process but a
cache keyed by the rows themselves.

The keys are the settings' own paths inside ``[circulation]`` (``pupil.rules.book.loan_days``,
``pupil.max_items``) and only those a school would set differently: per reader category the
loan limit, the holds limit, the age check, and per item type the loan days, renewals, renewal
days and «due at the end of the school year»; and ``renew_overdue``. A value is checked by the
settings' own model (its bounds), so a school cannot store what ``[circulation]`` would refuse.
Not per school: the blocks (``block_on_overdue``, ``block_on_lost``: a reader's restriction is
shown when the session opens, before any copy says which school lends), PINs, the calendar,
privacy (one city-wide setting each).

Whose rules: a loan and a renewal follow **the copy's school** (Koha's default, «the item's home
library»); a hold (a record, no copy yet) follows the reader's school. The default school has no
overrides — its rules are ``[circulation]`` — and so do copies whose sigla names no school.

    rule_keys(circ) -> list[str]                           the keys a school may set
    effective_rules(session, circ, sigla) -> [RuleView]     every key: value and where it comes from
    set_rules(session, circ, sigla, default_sigla, set_=..., unset=...) -> [RuleView]
    overrides(conn, sigla) -> tuple[(key, value), ...]      one indexed read
    apply_overrides(policy, rows) -> Policy                  pure
    SchoolPolicies(base).get(conn, sigla) -> Policy          what the service asks once per request
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, bindparam, delete, select
from sqlalchemy.orm import Session

from library.circulation.rules import Policy
from library.errors import RuleError
from library.schools import require_school
from library.storage.models import SchoolRule, utcnow

N_ = str  # marks msgids for extraction; translation happens in front ends

CATEGORIES = ("pupil", "teacher", "staff")
CATEGORY_FIELDS = ("max_items", "max_holds", "check_age")
LOAN_FIELDS = ("loan_days", "renewals", "renew_days", "school_year")
TOP_FIELDS = ("renew_overdue",)
SETTINGS = "settings"  # where a rule comes from: «настройки»
SCHOOL = "school"  # «школа»
_CACHE_MAX = 256


class SchoolRuleError(RuleError):
    """A school rule cannot be set as asked (library.errors.RuleError)."""

    code = "school_rule"
    template = N_("The school rule is not valid")


class UnknownRuleKey(SchoolRuleError):
    code, template = "unknown_rule_key", N_(
        "There is no rule {key} a school may set: ibc schools rules SIGLA lists them")


class BadRuleValue(SchoolRuleError):
    """A value that is not of the rule's kind or outside the settings' bounds."""

    code, template = "bad_rule_value", N_("Rule {key}: {reason}")

    def message(self, translate: Any = None) -> str:
        """«Rule pupil.max_items: must be at most 500», the reason translated too."""
        tr = translate or (lambda s: s)
        reason = tr(str(self.params.get("reason", ""))).format(**self.params)
        return tr(self.template).format(key=self.params.get("key", ""), reason=reason)


class DefaultSchoolRules(SchoolRuleError):
    code, template = "default_school_rules", N_(
        "The rules of the default school {sigla} are the [circulation] settings: change them there")


NOT_INT = N_("must be a whole number")
NOT_BOOL = N_("must be true or false")
AT_LEAST = N_("must be at least {n}")
AT_MOST = N_("must be at most {n}")
NOT_VALID = N_("is not allowed by the settings")


class CirculationModel(Protocol):
    """The ``[circulation]`` settings object (config.settings.CirculationSettings, a pydantic
    model: library/ does not import config/): dumped to read the keys, validated to check a
    value against the settings' own bounds."""

    def model_dump(self) -> dict[str, Any]: ...
    def model_validate(self, obj: Any) -> Any: ...


@dataclass(frozen=True)
class RuleView:
    """One rule of a school as `ibc schools rules` shows it."""

    key: str
    value: Any
    source: str  # SETTINGS or SCHOOL
    settings_value: Any

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"key": self.key, "value": self.value, "source": self.source,
                "settings": self.settings_value}


def rule_keys(circ: CirculationModel) -> list[str]:
    """Every key a school may set, in the settings' order (the item types the settings name)."""
    tree = circ.model_dump()
    keys: list[str] = []
    for cat in CATEGORIES:
        keys += [f"{cat}.{f}" for f in CATEGORY_FIELDS]
        for item_type in tree[cat]["rules"]:
            keys += [f"{cat}.rules.{item_type}.{f}" for f in LOAN_FIELDS]
    return keys + list(TOP_FIELDS)


def _get(tree: Mapping[str, Any], key: str) -> Any:
    node: Any = tree
    for part in key.split("."):
        node = node[part]
    return node


def _put(tree: dict[str, Any], key: str, value: Any) -> None:
    *path, last = key.split(".")
    node = tree
    for part in path:
        node = node[part]
    node[last] = value


def _parse(key: str, raw: Any, like: Any) -> Any:
    """`raw` (text from the command line, or a stored JSON value) as the kind of `like`."""
    if isinstance(like, bool):
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word in ("true", "yes", "1", "да", "on"):
            return True
        if word in ("false", "no", "0", "нет", "off"):
            return False
        raise BadRuleValue(key=key, reason=NOT_BOOL)
    if isinstance(raw, bool):
        raise BadRuleValue(key=key, reason=NOT_INT)
    try:
        return int(str(raw).strip())
    except ValueError:
        raise BadRuleValue(key=key, reason=NOT_INT) from None


def _refusal(key: str, error: dict[str, Any]) -> BadRuleValue:
    """A pydantic error of the settings model in our words."""
    ctx = error.get("ctx") or {}
    kind = error.get("type", "")
    if kind in ("greater_than_equal", "greater_than"):
        n: Any = ctx.get("ge", ctx.get("gt", 0))
        return BadRuleValue(key=key, reason=AT_LEAST, n=n if kind.endswith("equal") else n + 1)
    if kind in ("less_than_equal", "less_than"):
        n = ctx.get("le", ctx.get("lt", 0))
        return BadRuleValue(key=key, reason=AT_MOST, n=n if kind.endswith("equal") else n - 1)
    return BadRuleValue(key=key, reason=NOT_VALID)


def _validate(circ: CirculationModel, values: Mapping[str, Any]) -> None:
    """The settings with `values` put in must pass the settings' own model, else BadRuleValue
    naming the first key it refuses."""
    tree = circ.model_dump()
    for key, value in values.items():
        _put(tree, key, value)
    try:
        circ.model_validate(tree)
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        errors: list[dict[str, Any]] = list(getattr(exc, "errors", lambda: [])())
        first = errors[0] if errors else {}
        loc = ".".join(str(p) for p in first.get("loc", ()))
        key = loc if loc in values else next(iter(values), "")
        raise _refusal(key, first) from None


def _stored(session: Session, sigla: str) -> dict[str, Any]:
    return {r.key: json.loads(r.value)
            for r in session.scalars(select(SchoolRule).where(SchoolRule.sigla == sigla))}


def effective_rules(session: Session, circ: CirculationModel, sigla: str) -> list[RuleView]:
    """Every key a school may set with the value its loans get and where it comes from (a
    stored key the settings no longer have, e.g. an item type removed, is not shown)."""
    tree = circ.model_dump()
    mine = _stored(session, sigla.strip())
    return [RuleView(k, mine[k] if k in mine else _get(tree, k),
                     SCHOOL if k in mine else SETTINGS, _get(tree, k)) for k in rule_keys(circ)]


def set_rules(session: Session, circ: CirculationModel, sigla: str, default_sigla: str, *,
              set_: Mapping[str, Any] | None = None, unset: Iterable[str] = (),
              by: str | None = None) -> list[RuleView]:
    """Set and unset a school's overrides (all or nothing) and return its effective rules.
    SchoolNotFound, DefaultSchoolRules (the default school's rules are the settings),
    UnknownRuleKey, BadRuleValue (checked by the settings' model together with the school's
    other overrides)."""
    school = require_school(session, sigla).sigla
    if school == default_sigla:
        raise DefaultSchoolRules(sigla=school)
    keys = set(rule_keys(circ))
    tree = circ.model_dump()
    mine = _stored(session, school)
    changes: dict[str, Any] = {}
    for key, raw in (set_ or {}).items():
        key = key.strip()
        if key not in keys:
            raise UnknownRuleKey(key=key)
        changes[key] = _parse(key, raw, _get(tree, key))
    gone = [k.strip() for k in unset]
    for key in gone:
        if key not in keys and key not in mine:
            raise UnknownRuleKey(key=key)
    merged = {k: v for k, v in mine.items() if k in keys and k not in gone}
    merged.update(changes)
    _validate(circ, merged)
    if gone:
        session.execute(delete(SchoolRule).where(SchoolRule.sigla == school,
                                                 SchoolRule.key.in_(gone)))
    now = utcnow()
    for key, value in changes.items():
        row = session.get(SchoolRule, (school, key))
        if row is None:
            session.add(SchoolRule(sigla=school, key=key, value=json.dumps(value),
                                   changed_at=now, changed_by=by))
        else:
            row.value, row.changed_at, row.changed_by = json.dumps(value), now, by
    session.flush()
    return effective_rules(session, circ, school)


_OVERRIDES = (select(SchoolRule.key, SchoolRule.value)
              .where(SchoolRule.sigla == bindparam("sigla")).order_by(SchoolRule.key))


def overrides(conn: Connection, sigla: str | None) -> tuple[tuple[str, str], ...]:
    """A school's stored overrides as (key, JSON value) rows: one read of the primary key. An
    empty sigla is no school's: no read."""
    if not sigla:
        return ()
    return tuple((str(k), str(v)) for k, v in conn.execute(_OVERRIDES, {"sigla": sigla}))


def apply_overrides(policy: Policy, rows: Iterable[tuple[str, str]]) -> Policy:
    """`policy` with the overrides put in (pure). A key the policy cannot take — stale after a
    settings change, or a value of the wrong kind — is skipped: lending goes on by the settings."""
    cats = dict(policy.categories)
    top: dict[str, Any] = {}
    for key, raw in rows:
        try:
            value = json.loads(raw)
        except ValueError:
            continue
        parts = key.split(".")
        if len(parts) == 1 and key in TOP_FIELDS and isinstance(value, bool):
            top[key] = value
            continue
        if not parts or parts[0] not in CATEGORIES:
            continue
        cat = cats.get(parts[0]) or policy.category(parts[0])
        if len(parts) == 2 and parts[1] in CATEGORY_FIELDS:
            if isinstance(value, bool) != (parts[1] == "check_age") or not isinstance(value, int):
                continue
            changed: dict[str, Any] = {parts[1]: value}
            cats[parts[0]] = dataclasses.replace(cat, **changed)
        elif len(parts) == 4 and parts[1] == "rules" and parts[3] in LOAN_FIELDS:
            if isinstance(value, bool) != (parts[3] == "school_year") or not isinstance(value, int):
                continue
            rule = cat.rules.get(parts[2]) or cat.rule(parts[2])
            rules = dict(cat.rules)
            field: dict[str, Any] = {parts[3]: value}
            rules[parts[2]] = dataclasses.replace(rule, **field)
            cats[parts[0]] = dataclasses.replace(cat, rules=rules)
    return dataclasses.replace(policy, categories=cats, **top)


class SchoolPolicies:
    """The service's question «which policy lends for this school?», asked once per request:
    the school's rows are read every time (the database is the only state, so a change made
    through another worker process counts at once), the Policy built from them is cached by the
    rows themselves (no invalidation needed: other rows, another entry)."""

    def __init__(self) -> None:
        self._base: Policy | None = None
        self._built: dict[tuple[tuple[str, str], ...], Policy] = {}

    def get(self, conn: Connection, base: Policy, sigla: str | None) -> Policy:
        """`base` (the settings' policy) with school `sigla`'s overrides; `base` itself when it
        has none (the default school, a sigla naming no school)."""
        rows = overrides(conn, sigla)
        if not rows:
            return base
        if base is not self._base:
            self._base, self._built = base, {}
        found = self._built.get(rows)
        if found is None:
            if len(self._built) >= _CACHE_MAX:
                self._built.clear()
            found = self._built[rows] = apply_overrides(base, rows)
        return found


__all__ = ["BadRuleValue", "DefaultSchoolRules", "RuleView",
           "SchoolPolicies", "SchoolRuleError", "UnknownRuleKey", "apply_overrides",
           "effective_rules", "overrides", "rule_keys", "set_rules"]
