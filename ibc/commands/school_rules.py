"""`ibc schools rules SIGLA [--set KEY=VALUE …] [--unset KEY …] [--json]`: a school's
circulation rules where they differ from ``[circulation]`` (library/circulation/school_rules.py,
docs/SCHOOLS.md «Circulation rules per school»). Without --set/--unset it shows the effective
rules, each with where it comes from: «настройки» or «школа»."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context

SOURCES = {"settings": "настройки", "school": "школа"}


def register(ssub: Subparsers) -> None:
    """Add `schools rules` (argparse only)."""
    r = ssub.add_parser("rules", help="правила выдачи школы (отличия от [circulation])")
    r.add_argument("sigla", help="сигла школы")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="set_",
                   help="задать правило школы, например pupil.rules.book.loan_days=21")
    r.add_argument("--unset", action="append", default=[], metavar="KEY",
                   help="вернуть правило к настройкам [circulation]")
    r.add_argument("--json", action="store_true", help="вывод в JSON")


def _pairs(items: list[str]) -> dict[str, str] | None:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            return None
        out[key.strip()] = value.strip()
    return out


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "да" if value else "нет"
    return str(value)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Show or change one school's rules."""
    from library.circulation.school_rules import SchoolRuleError, effective_rules, set_rules
    from library.i18n import translator
    from library.schools import SchoolError, ensure_default, require_school

    home = ctx.settings.school
    circ = ctx.settings.circulation
    changes = _pairs(args.set_)
    if changes is None:
        print("ibc schools rules: --set ждёт КЛЮЧ=ЗНАЧЕНИЕ", file=sys.stderr)
        return 2
    try:
        with ctx.db.transaction() as s:
            ensure_default(s, home.sigla, home.name)
            if changes or args.unset:
                rows = set_rules(s, circ, args.sigla, home.sigla, set_=changes,
                                 unset=args.unset, by="cli")
            else:
                rows = effective_rules(s, circ, require_school(s, args.sigla).sigla)
    except (SchoolError, SchoolRuleError) as exc:
        print(f"ibc schools rules: {exc.message(translator(ctx.settings.ui.language))}",
              file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([r.to_dict() for r in rows], ensure_ascii=False))
        return 0
    width = max(len(r.key) for r in rows)
    for r in rows:
        was = f" (в настройках {_show(r.settings_value)})" if r.source == "school" else ""
        print(f"{r.key:{width}}  {_show(r.value):>5}  {SOURCES[r.source]}{was}")
    return 0
