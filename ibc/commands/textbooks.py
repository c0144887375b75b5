"""`ibc textbooks list|set|clear|extract|fpu-import`: textbook titles (subject, grades, series/УМК,
federal list number). The rules are library.textbooks.titles'; docs/TEXTBOOKS.md."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context
    from library.textbooks.titles import TextbookError


def register(sub: Subparsers) -> None:
    """Add the `textbooks` subcommand (argparse only)."""
    p = sub.add_parser("textbooks", help="учебники: предмет, классы, УМК, номер в ФПУ")
    psub = p.add_subparsers(dest="textbooks_action", metavar="ACTION", required=True)
    ls = psub.add_parser("list", help="учебники каталога с предметом, классами и экземплярами")
    ls.add_argument("--subject", help="только этот предмет")
    ls.add_argument("--grade", type=int, help="только для этого класса (1-11)")
    ls.add_argument("--json", action="store_true", help="вывод в JSON")
    st = psub.add_parser("set", help="задать учебнику предмет, классы, УМК, номер в ФПУ")
    st.add_argument("record_id", type=int, help="номер записи каталога")
    st.add_argument("--subject", help="предмет: «Математика»")
    st.add_argument("--grades", help="класс или классы: 5 или 5-6")
    st.add_argument("--series", help="серия, УМК: «Школа России»")
    st.add_argument("--fpu", help="номер в федеральном перечне: 1.1.2.1.1.1")
    st.add_argument("--json", action="store_true", help="вывод в JSON")
    cl = psub.add_parser("clear", help="убрать данные учебника у записи")
    cl.add_argument("record_id", type=int, help="номер записи каталога")
    ex = psub.add_parser("extract", help="взять предмет и классы из каталога (MARC) там, "
                                          "где их не задали вручную")
    ex.add_argument("--dry-run", action="store_true", help="только показать, ничего не менять")
    ex.add_argument("--json", action="store_true", help="отчёт в JSON")
    fp = psub.add_parser("fpu-import", help="сверить каталог с федеральным перечнем (CSV)")
    fp.add_argument("file", help="файл CSV федерального перечня учебников")
    fp.add_argument("--dry-run", action="store_true", help="только проверить, ничего не менять")
    fp.add_argument("--json", action="store_true", help="отчёт в JSON")
    fm = psub.add_parser("fpu-missing", help="учебники загруженного перечня, которых нет в каталоге")
    fm.add_argument("--grade", type=int, help="только для этого класса (1-11)")
    fm.add_argument("--json", action="store_true", help="вывод в JSON")
    from ibc.commands import textbooks_provision  # provision and order (their own `run`)

    textbooks_provision.add_actions(psub)
    p.set_defaults(run=run)
    from ibc.commands.textbooks_classes import add_actions  # issue, owing: the class sets

    add_actions(psub)


class _Out:
    """Russian or English lines by [ui] language; errors translated with library.i18n."""

    def __init__(self, ctx: Context) -> None:
        from library.i18n import translator

        self.ru = ctx.settings.ui.language == "ru"
        self.tr = translator(ctx.settings.ui.language)

    def __call__(self, ru: str, en: str) -> None:
        print(ru if self.ru else en)

    def error(self, exc: TextbookError, as_json: bool = False) -> int:
        if as_json:
            print(json.dumps({"ok": False, "code": exc.code, "message": exc.message(self.tr)},
                             ensure_ascii=False))
        else:
            print(f"ibc textbooks: {exc.message(self.tr)}", file=sys.stderr)
        return 1


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Carry out one textbooks action."""
    from library.textbooks.titles import TextbookError

    out = _Out(ctx)
    action = {"list": _list, "set": _set, "clear": _clear, "extract": _extract,
              "fpu-import": _fpu, "fpu-missing": _fpu_missing}[args.textbooks_action]
    try:
        return action(args, ctx, out)
    except TextbookError as exc:
        return out.error(exc, getattr(args, "json", False))


def _list(args: argparse.Namespace, ctx: Context, out: _Out) -> int:
    from library.textbooks.titles import textbook_records

    with ctx.db.session() as s:
        rows = textbook_records(s, grade=args.grade, subject=args.subject)
    if args.json:
        print(json.dumps([r.to_dict() for r in rows], ensure_ascii=False))
        return 0
    if not rows:
        out("Учебников не найдено", "No textbooks found")
    for r in rows:
        grades = r.grades or "—"
        extra = "  ".join(x for x in (r.series and f"[{r.series}]",
                                      r.fpu_number and f"ФПУ {r.fpu_number}") if x)
        print(f"{r.record_id:6}  {r.subject or '—'}  {grades}  {r.title}  "
              f"{r.available}/{r.copies}" + (f"  {extra}" if extra else ""))
    out(f"Всего: {len(rows)}", f"Total: {len(rows)}")
    return 0


def _set(args: argparse.Namespace, ctx: Context, out: _Out) -> int:
    from library.textbooks.titles import TitleData, get_title, grades_text, set_title, validate

    with ctx.db.transaction() as s:
        old = get_title(s, args.record_id)
        have = (TitleData(old.subject, old.grade_from, old.grade_to, old.series, old.fpu_number)
                if old else TitleData())
        typed = validate(args.subject, args.grades, args.series, args.fpu)
        data = TitleData(
            typed.subject if args.subject is not None else have.subject,
            typed.grade_from if args.grades is not None else have.grade_from,
            typed.grade_to if args.grades is not None else have.grade_to,
            typed.series if args.series is not None else have.series,
            typed.fpu_number if args.fpu is not None else have.fpu_number)
        row = set_title(s, args.record_id, data, source="desk")
        result = {"ok": True, "record_id": row.record_id, "subject": row.subject,
                  "grades": grades_text(row.grade_from, row.grade_to), "series": row.series,
                  "fpu_number": row.fpu_number, "source": row.source}
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        out(f"Запись {args.record_id}: {result['subject'] or '—'}, классы {result['grades'] or '—'}",
            f"Record {args.record_id}: {result['subject'] or '—'}, grades {result['grades'] or '—'}")
    return 0


def _clear(args: argparse.Namespace, ctx: Context, out: _Out) -> int:
    from library.textbooks.titles import clear_title

    with ctx.db.transaction() as s:
        had = clear_title(s, args.record_id)
    if had:
        out(f"Запись {args.record_id}: данные учебника убраны",
            f"Record {args.record_id}: textbook data removed")
    else:
        out(f"У записи {args.record_id} не было данных учебника",
            f"Record {args.record_id} had no textbook data")
    return 0


def _extract(args: argparse.Namespace, ctx: Context, out: _Out) -> int:
    from library.textbooks.titles import extract

    with ctx.db.transaction(write=not args.dry_run) as s:
        report = extract(s, dry_run=args.dry_run)
    if args.json:
        print(json.dumps({"dry_run": args.dry_run, **report.to_dict()}, ensure_ascii=False))
        return 0
    for item in report.items:
        print(f"{item['record_id']:6}  {item['subject'] or '—'}  {item['grades'] or '—'}  {item['title']}")
    head = "Проверка: " if args.dry_run else ""
    out(f"{head}учебников {report.checked}, заполнено {report.filled}, "
        f"оставлено как задано {report.kept}, без данных {report.nothing}",
        f"{'Dry run: ' if args.dry_run else ''}textbooks {report.checked}, filled {report.filled}, "
        f"kept as set {report.kept}, nothing found {report.nothing}")
    return 0


def _fpu(args: argparse.Namespace, ctx: Context, out: _Out) -> int:
    from library.textbooks.titles import import_fpu

    try:
        with open(args.file, "rb") as f:
            data = f.read()
    except OSError as exc:
        print(f"ibc textbooks: не прочитать {args.file}: {exc.strerror}" if out.ru
              else f"ibc textbooks: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    with ctx.db.transaction(write=not args.dry_run) as s:
        report = import_fpu(s, data, dry_run=args.dry_run)
    body = report.to_dict(out.tr)
    if args.json:
        print(json.dumps({"dry_run": args.dry_run, **body}, ensure_ascii=False))
        return 0
    names = {"matched": ("найдено", "matched"), "unmatched": ("нет в каталоге", "not in the catalogue"),
             "kept": ("оставлено как задано", "kept as set"), "error": ("ошибка", "error")}
    for item in body["items"]:
        if item["status"] == "matched" and not args.dry_run:
            continue
        word = names[item["status"]][0 if out.ru else 1]
        line = f"{item['line']:5}  {item['number'] or '—'}  {item['title'][:60]}  — {word}"
        if item.get("message"):
            line += f": {item['message']}"
        print(line)
    out(f"Строк {body['rows']}: найдено {body['matched']} (записей {body['records']}), нет в каталоге "
        f"{body['unmatched']}, оставлено как задано {body['kept']}, ошибок {body['errors']}",
        f"Rows {body['rows']}: matched {body['matched']} ({body['records']} records), not in the "
        f"catalogue {body['unmatched']}, kept as set {body['kept']}, errors {body['errors']}")
    return 0


def _fpu_missing(args: argparse.Namespace, ctx: Context, out: _Out) -> int:
    from library.textbooks.titles import fpu_list

    with ctx.db.session() as s:
        summary, rows = fpu_list(s, grade=args.grade, missing_only=True)
    if args.json:
        print(json.dumps({"entries": summary.entries, "missing": summary.missing,
                          "items": [r.to_dict() for r in rows]}, ensure_ascii=False))
        return 0
    if not summary.entries:
        out("Перечень ещё не загружали: ibc textbooks fpu-import ФАЙЛ",
            "No federal list uploaded yet: ibc textbooks fpu-import FILE")
        return 0
    for r in rows:
        print(f"{r.number}  {r.subject or '—'}  {r.grades or '—'}  {r.title}  {r.authors}")
    out(f"В перечне {summary.entries}, нет в каталоге {summary.missing}; показано {len(rows)}",
        f"In the list {summary.entries}, not in the catalogue {summary.missing}; shown {len(rows)}")
    return 0
