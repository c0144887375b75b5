"""`ibc schools add|list`: the schools one server serves (library/schools.py, docs/SCHOOLS.md).

The default school (``[school] sigla`` and ``name``) is always there: it is added on first use.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from ibc.commands import school_rules

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context


def register(sub: Subparsers) -> None:
    """Add the `schools` subcommand (argparse only)."""
    p = sub.add_parser("schools", help="школы, которые обслуживает сервер (город: много школ)")
    ssub = p.add_subparsers(dest="schools_action", metavar="ACTION", required=True)
    add = ssub.add_parser("add", help="добавить школу")
    add.add_argument("sigla", help="сигла школы, как в экземплярах каталога (например, ГИМН5)")
    add.add_argument("name", help="название, например «Гимназия № 5»")
    add.add_argument("--address", help="адрес школы")
    add.add_argument("--json", action="store_true", help="вывод в JSON")
    ls = ssub.add_parser("list", help="все школы; школа по умолчанию ([school]) первой")
    ls.add_argument("--json", action="store_true", help="вывод в JSON")
    school_rules.register(ssub)
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Carry out one schools action."""
    from library.i18n import translator
    from library.schools import SchoolError, add_school, ensure_default, list_schools

    if args.schools_action == "rules":
        return school_rules.run(args, ctx)
    home = ctx.settings.school
    try:
        with ctx.db.transaction() as s:
            ensure_default(s, home.sigla, home.name)
            if args.schools_action == "add":
                added = add_school(s, args.sigla, args.name, args.address)
                if args.json:
                    print(json.dumps(added.to_dict(), ensure_ascii=False))
                else:
                    print(f"Школа добавлена: {added.sigla} — {added.name}")
                return 0
            rows = list_schools(s, home.sigla)
    except SchoolError as exc:
        print(f"ibc schools: {exc.message(translator(ctx.settings.ui.language))}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([dict(r.to_dict(), default=r.sigla == home.sigla) for r in rows],
                         ensure_ascii=False))
        return 0
    for r in rows:
        mark = "  (по умолчанию)" if r.sigla == home.sigla else ""
        print(f"{r.sigla:12} {r.name}{mark}" + (f" — {r.address}" if r.address else ""))
    return 0
