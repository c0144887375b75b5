"""`ibc readers import FILE | set-pin CARD | clear-pin CARD | locked [--json] | unlock CARD |
promote [--dry-run] [--json]`.

A PIN is never an argument (argv is visible in `ps` and shell history): it is read from an
interactive prompt (asked twice) or, when stdin is not a terminal, from its first line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context


def register(sub: Subparsers) -> None:
    """Add `ibc readers` and its actions."""
    p = sub.add_parser("readers", help="readers: import class lists or an ИРБИС RDR export; PINs; "
                                       "cards locked by wrong PINs")
    rsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    i = rsub.add_parser("import", help="import class lists (CSV/XLSX) or an ИРБИС RDR export (ISO)")
    i.add_argument("file")
    i.add_argument("--json", action="store_true")
    i.set_defaults(run=run_import)
    s = rsub.add_parser("set-pin", help="set a reader's PIN (asked at a prompt or read from stdin)")
    s.add_argument("card")
    s.set_defaults(run=run_set_pin)
    c = rsub.add_parser("clear-pin", help="remove a reader's PIN")
    c.add_argument("card")
    c.set_defaults(run=run_clear_pin)
    ls = rsub.add_parser("locked", help="cards locked by wrong PINs")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(run=run_locked)
    u = rsub.add_parser("unlock", help="unlock a card locked by wrong PINs")
    u.add_argument("card")
    u.set_defaults(run=run_unlock)
    pr = rsub.add_parser("promote", help="the school-year move: every pupil one grade up, the last "
                                         "grade archived (once per school year)")
    pr.add_argument("--dry-run", action="store_true", help="only say what would be done")
    pr.add_argument("--json", action="store_true")
    pr.set_defaults(run=run_promote)


def run_import(args: argparse.Namespace, ctx: Context) -> int:
    """Import a class list; bad rows are listed with their line numbers."""
    from dataclasses import asdict

    from library.circulation.readers import import_readers
    from library.circulation.readers_rdr import import_rdr, is_rdr_file
    from library.errors import ImportFormatError

    rdr = Path(args.file).suffix.lower() not in (".csv", ".txt", ".xlsx", ".xlsm") and is_rdr_file(args.file)
    try:
        report = (import_rdr if rdr else import_readers)(ctx.db, args.file, sigla=ctx.settings.school.sigla)
    except (ImportFormatError, OSError) as exc:
        print(f"ibc: {args.file}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(asdict(report), ensure_ascii=False))
    else:
        print(f"read {report.read}, added {report.added}, updated {report.updated}, skipped {report.skipped}")
        for e in report.errors:
            where = f"line {e['line']}" if "line" in e else f"record {e['record']} (byte {e['offset']})"
            print(f"  {where}: {e['reason']}")
    return 0 if report.read and not (report.skipped == report.read) else 1


def _read_pin() -> str | None:
    """The new PIN (a prompt asked twice, or stdin's first line)."""
    from ibc.secret_input import read_secret

    return read_secret("Новый ПИН-код: ", "ibc: ПИН-коды не совпали", limit=64, strip=True)


def _say(ctx: Context, exc: Exception) -> int:
    from library.circulation.errors import CirculationError
    from library.i18n import translator

    msg = exc.message(translator(ctx.settings.ui.language)) if isinstance(exc, CirculationError) else str(exc)
    print(f"ibc: {msg}", file=sys.stderr)
    return 1


def run_set_pin(args: argparse.Namespace, ctx: Context) -> int:
    """`ibc readers set-pin CARD`: the PIN passes the rule (4..8 digits, not trivial)."""
    from library.circulation.errors import CirculationError
    from library.circulation.pins import PinRules, set_pin

    pin = _read_pin()
    if pin is None:
        print("ibc: ПИН-код не введён", file=sys.stderr)
        return 1
    try:
        set_pin(ctx.db, args.card, pin, PinRules.from_settings(ctx.settings.circulation))
    except CirculationError as exc:
        return _say(ctx, exc)
    print(f"ПИН-код читателя {args.card} установлен")
    return 0


def run_clear_pin(args: argparse.Namespace, ctx: Context) -> int:
    """`ibc readers clear-pin CARD`."""
    from library.circulation.errors import CirculationError
    from library.circulation.pins import clear_pin

    try:
        had = clear_pin(ctx.db, args.card)
    except CirculationError as exc:
        return _say(ctx, exc)
    print(f"ПИН-код читателя {args.card} снят" if had else f"У читателя {args.card} не было ПИН-кода")
    return 0


def run_locked(args: argparse.Namespace, ctx: Context) -> int:
    """`ibc readers locked [--json]`: cards locked by wrong PINs, soonest free first."""
    from library.circulation.pin_guard import locked_cards

    with ctx.db.session() as s:
        rows = locked_cards(s)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    for r in rows:
        print(f"{r['card']}  {r['class'] or '-':4} {r['reader']}  неверных ПИН: {r['failures']}, "
              f"ещё {r['minutes_left']} мин.")
    print(f"Заблокировано билетов: {len(rows)}")
    return 0


def run_unlock(args: argparse.Namespace, ctx: Context) -> int:
    """`ibc readers unlock CARD`: the card's wrong PINs are forgotten."""
    from library.circulation.pin_guard import unlock

    with ctx.db.transaction() as s:
        was = unlock(s, args.card)
    if was is None:
        print(f"ibc: нет читателя с билетом {args.card}", file=sys.stderr)
        return 1
    print(f"Билет {args.card} разблокирован" if was else f"Билет {args.card} не был заблокирован")
    return 0


def run_promote(args: argparse.Namespace, ctx: Context) -> int:
    """`ibc readers promote [--dry-run] [--json]`: library/circulation/school_year.py's move
    (the desk's «Новый учебный год» calls the same function); 1 when this year's was done."""
    import datetime as dt

    from library.circulation import school_year as sy
    from server.desk.audit import audit

    day = dt.date.today()
    last, year_end = ctx.settings.school.last_grade, ctx.settings.circulation.school_year_end
    if args.dry_run:
        with ctx.db.session() as s:
            plan = sy.plan(s, day, last_grade=last, year_end=year_end)
    else:
        def record(s: object, done: sy.SchoolYearPlan) -> None:
            audit(s, "cli", "school_year_moved", year=done.year,  # type: ignore[arg-type]
                  pupils=done.pupils_moved, leavers=done.leavers, with_loans=done.leavers_with_loans)
        try:
            plan = sy.promote(ctx.db, day, actor="cli", last_grade=last, year_end=year_end, audit=record)
        except sy.SchoolYearDone as exc:
            print(f"ibc: классы {exc.year}/{exc.year + 1} учебного года уже переведены", file=sys.stderr)
            return 1
    if args.json:
        print(json.dumps(plan.as_dict(), ensure_ascii=False))
        return 0
    title = "Будет сделано" if args.dry_run else "Сделано"
    if args.dry_run and plan.done_at is not None:
        title = f"Классы уже переведены {plan.done_at:%d.%m.%Y}; повторно нельзя. Было бы"
    print(f"{title} ({plan.year}/{plan.year + 1}):")
    for m in plan.moves:
        print(f"  {m.old} → {m.new}: {m.pupils}")
    if plan.leaving:
        print(f"  выпуск {', '.join(plan.leaving)}: {plan.leavers}, с книгами на руках: "
              f"{plan.leavers_with_loans}")
    for name, n in plan.unknown.items():
        print(f"  не тронут (класс не как «5А»): {name}: {n}")
    return 0
