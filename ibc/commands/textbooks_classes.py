"""`ibc textbooks issue CLASS [--year Y] [--school SIGLA] [--dry-run] [--json]` and `ibc
textbooks owing [--class C] [--school SIGLA] [--json] [--csv FILE] [-o FILE.xlsx]`: the class
issue (automatic allocation) and who still holds textbooks (the files:
library/textbooks/owing_file.py, as the desk's downloads). The rules are
library.textbooks.issue's (the desk's /desk/textbooks/classes calls the same); `ibc textbooks`
itself is ibc/commands/textbooks.py, which adds these two actions."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ibc.context import Context


def add_actions(psub: Any) -> None:
    """Add `issue` and `owing` to the `ibc textbooks` subparsers."""
    i = psub.add_parser("issue", help="выдать комплект учебников классу (автоматически)")
    i.add_argument("class_name", metavar="CLASS", help="класс: 7А")
    i.add_argument("--year", type=int, help="учебный год по его первому году: 2026 для 2026/27")
    i.add_argument("--dry-run", action="store_true", help="только показать, ничего не выдавать")
    i.add_argument("--json", action="store_true", help="отчёт в JSON")
    i.add_argument("--school", metavar="SIGLA",
                   help="класс этой школы, её книги (по умолчанию: [school] sigla); ibc schools list")
    i.set_defaults(run=run_issue)
    o = psub.add_parser("owing", help="кто ещё не сдал учебники, по классам")
    o.add_argument("--class", dest="class_name", help="только этот класс")
    o.add_argument("--json", action="store_true", help="вывод в JSON")
    o.add_argument("--csv", metavar="FILE", help="записать список в файл CSV")
    o.add_argument("-o", "--output", metavar="FILE.xlsx", help="записать список в файл XLSX")
    o.add_argument("--school", metavar="SIGLA",
                   help="читатели этой школы (по умолчанию: [school] sigla); ibc schools list")
    o.set_defaults(run=run_owing)


def _ru(ctx: Context) -> bool:
    return bool(ctx.settings.ui.language == "ru")


def _class(value: str) -> str | None:
    from library.circulation.readers import normalise_class
    from library.circulation.school_year import grade_of
    from library.errors import IbcError

    try:
        norm = normalise_class(value)
    except IbcError:
        return None
    return norm if norm and grade_of(norm) is not None else None


def _school(args: argparse.Namespace, ctx: Context, what: str) -> Any:
    """The Scope of `--school` (default: the default school, which in a single-school install
    filters nothing); None after printing the refusal for a sigla no school has."""
    from library.i18n import translator
    from library.schools import SchoolError, ensure_default, require_school, scope

    default = ctx.settings.school
    with ctx.db.transaction() as s:
        ensure_default(s, default.sigla, default.name)
        try:
            code = require_school(s, args.school).sigla if args.school else default.sigla
        except SchoolError as exc:
            print(f"ibc textbooks {what}: {exc.message(translator(ctx.settings.ui.language))}",
                  file=sys.stderr)
            return None
        return scope(s, code, default.sigla)


def run_issue(args: argparse.Namespace, ctx: Context) -> int:
    """Lend the class's set to each pupil (exactly once; a re-run goes on where it stopped)."""
    from ibc.wiring import circulation
    from library.textbooks import issue as T

    cls = _class(args.class_name)
    if cls is None:
        print("ibc textbooks issue: " + ("класс должен быть вида 7А" if _ru(ctx)
                                         else "the class must be like 7А"), file=sys.stderr)
        return 2
    year = args.year or T.current_year(dt.date.today(), ctx.settings.circulation.school_year_end)
    school = _school(args, ctx, "issue")
    if school is None:
        return 2
    svc = circulation(ctx)
    report = T.issue_class(svc, year, cls, "cli", dry_run=args.dry_run, terminal="cli", school=school)
    with ctx.db.session() as s:
        titles = {t.record_id: t.title for t in T.set_titles(s, year, cls, school=school)}
    if args.json:
        body = report.to_dict()
        body["missing_titles"] = {titles.get(k, str(k)): v for k, v in report.missing.items()}
        print(json.dumps(body, ensure_ascii=False))
        return 0 if not report.refused else 1
    ru = _ru(ctx)
    if not report.titles:
        print(f"{cls} {year}/{year + 1}: " + ("комплект пуст" if ru else "the set is empty"))
        return 1
    for x in report.lent:
        print(f"{x.barcode}\t{x.title}\t{x.pupil}")
    if ru:
        verb = "Будет выдано" if args.dry_run else "Выдано"
    else:
        verb = "Would lend" if args.dry_run else "Lent"
    print(f"{cls} {year}/{year + 1}: {verb}: {len(report.lent)}; "
          + (f"уже на руках: {report.held_before}" if ru else f"already held: {report.held_before}"))
    for rid, n in report.missing.items():
        name = titles.get(rid, str(rid))
        print(f"Не хватает: {name} — {n}" if ru else f"Missing: {name} — {n}")
    from library.circulation.errors import error_from_dict
    from library.i18n import translator

    words = translator("ru" if ru else "en")
    for pupil, title, code, params in report.refused:
        why = error_from_dict({"code": code, "params": params}).message(words)
        print(f"{'Не выдано' if ru else 'Refused'}: {pupil} — {title}: {why}", file=sys.stderr)
    return 0 if not report.refused else 1


def run_owing(args: argparse.Namespace, ctx: Context) -> int:
    """Open textbook loans per class (leavers included)."""
    from library.textbooks import issue as T

    cls: str | None = None
    if args.class_name:
        cls = _class(args.class_name)
        if cls is None:
            print("ibc textbooks owing: " + ("класс должен быть вида 7А" if _ru(ctx)
                                             else "the class must be like 7А"), file=sys.stderr)
            return 2
    school = _school(args, ctx, "owing")
    if school is None:
        return 2
    with ctx.db.session() as s:
        rows = T.owing(s, cls, school=school)
    files = [(p, f) for p, f in ((args.csv, "csv"), (args.output, "xlsx")) if p]
    if files:
        from library.textbooks.owing_file import owing_file

        for path, fmt in files:
            try:
                with open(path, "wb") as fh:
                    fh.write(owing_file(rows, fmt, dt.date.today()))
            except OSError as exc:
                print(f"ibc textbooks owing: {path}: {exc.strerror}", file=sys.stderr)
                return 1
            print(f"{'Записано' if _ru(ctx) else 'Written'}: {path} ({len(rows)})")
        return 0
    if args.json:
        print(json.dumps([{"class": r.class_name, "card": r.card, "pupil": r.pupil, "active": r.active,
                           "title": r.title, "barcode": r.barcode, "inventory": r.inventory,
                           "due": r.due.isoformat(), "lost": r.lost} for r in rows], ensure_ascii=False))
        return 0
    ru = _ru(ctx)
    last = None
    for r in rows:
        if r.class_name != last:
            last = r.class_name
            print(f"== {r.class_name or ('без класса' if ru else 'no class')}")
        flags = ("" if r.active else (" (выбыл)" if ru else " (left)")) + \
            ((" утерян" if ru else " lost") if r.lost else "")
        print(f"{r.barcode or r.inventory}\t{r.title}\t{r.pupil}{flags}")
    print(f"{'Не сдано' if ru else 'Still held'}: {len(rows)}")
    return 0
