"""`ibc textbooks provision [--year Y] [--json] [-o FILE.pdf|.xlsx|.csv]` and `ibc textbooks order
[--year Y] [--first-grade N] [--json] [-o FILE]`: textbook provision per class and subject, next
year's needs and the order list (library/textbooks/provision.py; docs/TEXTBOOKS.md «Обеспеченность
и заказ»). Added to `ibc textbooks` by ibc/commands/textbooks.py."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ibc.context import Context

SUFFIXES = (".pdf", ".xlsx", ".csv")


def add_actions(psub: Any) -> None:
    """Add `provision` and `order` to the `textbooks` subcommand's actions (argparse only)."""
    for name, help_text, run in (
            ("provision", "обеспеченность учебниками по классам и предметам (PDF, XLSX, CSV)",
             run_provision),
            ("order", "потребность на следующий год и заказ учебников (PDF, XLSX, CSV)", run_order)):
        p = psub.add_parser(name, help=help_text)
        p.add_argument("--year", type=int, metavar="Y",
                       help="учебный год по его сентябрю: 2026 для 2026/27 (по умолчанию текущий)")
        p.add_argument("--school", metavar="SIGLA", help="только одна школа сводного каталога")
        p.add_argument("--first-grade", type=int, metavar="N",
                       help="учеников первых классов на следующий год (по умолчанию как в этом)")
        p.add_argument("--json", action="store_true", help="вывод в JSON")
        p.add_argument("-o", "--output", metavar="FILE", help="FILE.pdf, FILE.xlsx или FILE.csv")
        p.set_defaults(run=run)


def _figures(args: argparse.Namespace, ctx: Context) -> tuple[Any, Any, Any, dt.date] | None:
    from library.textbooks.provision import (
        ProvisionInvalid,
        current_year,
        next_year,
        order_list,
        provision,
    )

    if args.output and Path(args.output).suffix.lower() not in SUFFIXES:
        print(f"ibc textbooks: {args.output}: the file must end in .pdf, .xlsx or .csv", file=sys.stderr)
        return None
    day = dt.date.today()
    year = args.year if args.year is not None else current_year(day, ctx.settings.circulation.school_year_end)
    home = ctx.settings.school.sigla
    try:
        with ctx.db.session() as s:
            prov = provision(s, year, home=home, sigla=args.school)
            nxt = next_year(s, year, home=home, last_grade=ctx.settings.school.last_grade,
                            first_grade=args.first_grade, sigla=args.school)
            order = order_list(s, nxt)
    except ProvisionInvalid as exc:
        print(f"ibc textbooks: {exc}", file=sys.stderr)
        return None
    return prov, nxt, order, day


def _write(data: bytes, output: str) -> bool:
    try:
        Path(output).write_bytes(data)
    except OSError as exc:
        print(f"ibc textbooks: cannot write {output}: {exc.strerror or exc}", file=sys.stderr)
        return False
    return True


def run_provision(args: argparse.Namespace, ctx: Context) -> int:
    """Print or write the provision report."""
    from library.textbooks.provision_report import provision_file, shown_percent, year_title

    got = _figures(args, ctx)
    if got is None:
        return 2
    prov, nxt, order, day = got
    if args.output:
        fmt = Path(args.output).suffix.lower().lstrip(".")
        data = provision_file(prov, nxt, order, fmt, school=ctx.settings.school.name, day=day)
        if not _write(data, args.output):
            return 1
    if args.json:
        print(json.dumps(prov.as_dict() | {"next_year": nxt.as_dict(),
                                           "order": [x.as_dict() for x in order]}, ensure_ascii=False))
        return 0
    if not args.output:
        for n in prov.needs:
            print(f"{n.sigla}  {n.class_name:4}  {n.subject[:30]:30}  {n.copies:4} / {n.pupils:<4} "
                  f"{shown_percent(n.percent)}" + (f"  не хватает {n.shortfall}" if n.shortfall else ""))
    t = prov.total()
    print(f"{args.output + ': ' if args.output else ''}{year_title(prov.year)}: обеспеченность "
          f"{shown_percent(t.percent)} ({t.provided} из {t.needed}), не хватает {t.shortfall}")
    return 0


def run_order(args: argparse.Namespace, ctx: Context) -> int:
    """Print or write next year's order list."""
    from library.textbooks.provision_report import order_file, year_title

    got = _figures(args, ctx)
    if got is None:
        return 2
    _prov, nxt, order, day = got
    if args.output:
        fmt = Path(args.output).suffix.lower().lstrip(".")
        if not _write(order_file(order, nxt.year, fmt, school=ctx.settings.school.name, day=day),
                      args.output):
            return 1
    if args.json:
        print(json.dumps({"year": nxt.year, "order": [x.as_dict() for x in order]}, ensure_ascii=False))
        return 0
    if not args.output:
        for x in order:
            print(f"{x.sigla}  {x.grades:5}  {x.subject[:24]:24}  {(x.title or '—')[:50]:50}  {x.copies}")
    print(f"{args.output + ': ' if args.output else ''}{year_title(nxt.year)}: купить "
          f"{sum(x.copies for x in order)} экз., строк заказа: {len(order)}")
    return 0
