"""`ibc places list|add|set|remove|rule-add|rule-remove|import|export|where`: where books stand.

The librarian names places in plain words («Стеллаж 5 — зарубежная проза, буква К») and says
which copies stand there (collection, shelf-mark prefix, ББК prefix, author-sign letters);
the kiosk shows the place in results, on the record page and on return. docs/PLACES.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ibc.commands import Subparsers
    from ibc.context import Context
    from library.places import PlaceMap, PlacesError, PlaceSpec, RuleSpec
    from library.places.match import PlaceRow
    from library.places.store import Usage


def register(sub: Subparsers) -> None:
    """Add the `places` subcommand (argparse only)."""
    p = sub.add_parser("places", help="места книг: стеллажи, полки, план зала")
    p.add_argument("--sigla", help="школа (по умолчанию [school] sigla)")
    psub = p.add_subparsers(dest="places_action", metavar="ACTION", required=True)
    ls = psub.add_parser("list", help="места, их правила и сколько экземпляров на каждом")
    ls.add_argument("--json", action="store_true", help="вывод в JSON")
    add = psub.add_parser("add", help="добавить место (и его первое правило)")
    add.add_argument("name", help="название, например «Стеллаж 5»")
    _place_options(add)
    _rule_options(add)
    add.add_argument("--json", action="store_true", help="вывод в JSON")
    st = psub.add_parser("set", help="изменить название, пояснение, зал, рамку или порядок")
    st.add_argument("place", help="название или номер места")
    st.add_argument("--name", help="новое название")
    _place_options(st)
    rm = psub.add_parser("remove", help="удалить место и его правила")
    rm.add_argument("place", help="название или номер места")
    ra = psub.add_parser("rule-add", help="добавить месту правило")
    ra.add_argument("place", help="название или номер места")
    _rule_options(ra)
    rr = psub.add_parser("rule-remove", help="удалить правило места по номеру из `list`")
    rr.add_argument("place", help="название или номер места")
    rr.add_argument("number", type=int, help="номер правила (1, 2, …)")
    im = psub.add_parser("import", help="заменить все места школы местами из файла TOML")
    im.add_argument("file", help="файл TOML (docs/PLACES.md)")
    im.add_argument("--dry-run", action="store_true", help="только проверить, ничего не менять")
    im.add_argument("--json", action="store_true", help="отчёт в JSON")
    ex = psub.add_parser("export", help="записать места школы в файл TOML")
    ex.add_argument("file", help="файл TOML или - (на экран)")
    wh = psub.add_parser("where", help="куда ставить экземпляр: штрих-код или шифр")
    wh.add_argument("code", help="штрих-код, инвентарный номер или полочный шифр")
    wh.add_argument("--collection", help="фонд (для шифра без экземпляра)")
    wh.add_argument("--bbk", help="ББК (для шифра без экземпляра)")
    wh.add_argument("--json", action="store_true", help="вывод в JSON")
    p.set_defaults(run=run)


def _place_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--note", help="пояснение: «зарубежная проза, буква К»")
    p.add_argument("--room", help="зал: «Абонемент», «Читальный зал»")
    p.add_argument("--box", metavar="X,Y,W,H", help="рамка на плане зала, доли 0..1, y сверху")
    p.add_argument("--sort", type=int, help="порядок в списке и на плане")


def _rule_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--collection", help="фонд экземпляра (регистр и ё не важны)")
    p.add_argument("--shelf", metavar="PREFIX", help="начало полочного шифра")
    p.add_argument("--bbk", metavar="PREFIX", help="начало индекса ББК: 84(4")
    p.add_argument("--letters", metavar="А-Л", help="буквы авторского знака: К или А-Л")
    p.add_argument("--fallback", action="store_true", help="всё, что не попало в другие места")


class _Out:
    """Russian or English lines by [ui] language, errors translated with library.i18n."""

    def __init__(self, ctx: Context) -> None:
        from library.i18n import translator

        self.ru = ctx.settings.ui.language == "ru"
        self.tr = translator(ctx.settings.ui.language)

    def __call__(self, ru: str, en: str) -> None:
        print(ru if self.ru else en)

    def error(self, exc: PlacesError, as_json: bool = False) -> int:
        if as_json:
            body = {"ok": False, "code": exc.code, "message": exc.message(self.tr)}
            if hasattr(exc, "problems"):
                body["problems"] = [p.to_dict(self.tr) for p in exc.problems]
            print(json.dumps(body, ensure_ascii=False))
        else:
            print(f"ibc places: {exc.message(self.tr)}", file=sys.stderr)
        return 1


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Carry out one places action."""
    from library.places import PlacesError

    out = _Out(ctx)
    sigla = args.sigla or ctx.settings.school.sigla
    action = {"list": _list, "add": _add, "set": _set, "remove": _remove, "rule-add": _rule_add,
              "rule-remove": _rule_remove, "import": _import, "export": _export,
              "where": _where}[args.places_action]
    try:
        return action(args, ctx, sigla, out)
    except PlacesError as exc:
        return out.error(exc, getattr(args, "json", False))


def _rule(args: argparse.Namespace) -> RuleSpec:
    from library.places import RuleSpec

    return RuleSpec(args.collection, args.shelf, args.bbk, args.letters, args.fallback)


def _usage(ctx: Context, sigla: str) -> tuple[PlaceMap, list[PlaceRow], Usage]:
    from library.places import PlaceMap
    from library.places.store import load_rows, usage

    with ctx.db.session() as s:
        pm = PlaceMap.load(s, sigla)
        rows = load_rows(s, sigla)
        return pm, rows, usage(s, sigla, pm)


def _report(pm: PlaceMap, rows: Sequence[PlaceRow], use: Usage, sigla: str) -> dict:
    return {
        "sigla": sigla, "version": pm.version, "copies": use.total, "unmatched": use.unmatched,
        "unmatched_examples": use.examples,
        "places": [{
            "id": r.view.id, "name": r.view.name, "note": r.view.note, "room": r.view.room,
            "box": list(r.view.box) if r.view.box else None, "sort": r.sort,
            "label": r.view.label, "copies": use.per_place.get(r.view.id, 0),
            "rules": [{"n": n, **spec.to_dict(), "text": spec.describe()}
                      for n, (_id, spec) in enumerate(r.rules, 1)]} for r in rows]}


def _list(args: argparse.Namespace, ctx: Context, sigla: str, out: _Out) -> int:
    pm, rows, use = _usage(ctx, sigla)
    if args.json:
        print(json.dumps(_report(pm, rows, use, sigla), ensure_ascii=False))
        return 0
    if not rows:
        out(f"У школы {sigla} нет мест: ibc places add … или ibc places import ФАЙЛ",
            f"School {sigla} has no places: ibc places add … or ibc places import FILE")
    lang = "ru" if out.ru else "en"
    for r in rows:
        room = f"  [{r.view.room}]" if r.view.room else ""
        box = "" if r.view.box else ("  (нет на плане)" if out.ru else "  (not on a plan)")
        n = use.per_place.get(r.view.id, 0)
        print(f"{r.view.id:4}  {r.view.label}{room}{box}  — {n} " + ("экз." if out.ru else "copies"))
        for k, (_id, spec) in enumerate(r.rules, 1):
            print(f"        {k}) {spec.describe(lang)}")
        if not r.rules:
            out("        (без правил: ориентир на плане)", "        (no rules: a landmark on the plan)")
    out(f"Без места: {use.unmatched} экз. из {use.total}",
        f"Without a place: {use.unmatched} of {use.total} copies")
    for e in use.examples:
        what = ", ".join(x for x in (e["shelf_mark"], e["collection"] and f"«{e['collection']}»",
                                     e["bbk"] and f"ББК {e['bbk']}") if x) or "—"
        print(f"    {e['count']:5} " + ("экз." if out.ru else "copies") + f"  {what}")
    return 0


def _add(args: argparse.Namespace, ctx: Context, sigla: str, out: _Out) -> int:
    from library.places import PlaceSpec, RuleSpec
    from library.places.store import add_place

    rule = _rule(args)
    rules = () if rule == RuleSpec() else (rule,)
    spec = PlaceSpec(args.name, args.note, args.room, args.box, args.sort, rules)
    with ctx.db.transaction() as s:
        place = add_place(s, sigla, spec)
        pid, name = place.id, place.name
    if args.json:
        print(json.dumps({"ok": True, "id": pid, "name": name}, ensure_ascii=False))
    else:
        out(f"Место {pid} «{name}» добавлено", f"Place {pid} «{name}» added")
        if not rules:
            out("У него пока нет правил: ibc places rule-add …",
                "It has no rules yet: ibc places rule-add …")
    return 0


def _set(args: argparse.Namespace, ctx: Context, sigla: str, out: _Out) -> int:
    from library.places.store import update_place

    changes = {k: getattr(args, k) for k in ("name", "note", "room", "box", "sort")
               if getattr(args, k) is not None}
    with ctx.db.transaction() as s:
        place = update_place(s, sigla, args.place, **changes)
        name = place.name
    out(f"Место «{name}» изменено", f"Place «{name}» changed")
    return 0


def _remove(args: argparse.Namespace, ctx: Context, sigla: str, out: _Out) -> int:
    from library.places.store import remove_place

    with ctx.db.transaction() as s:
        name = remove_place(s, sigla, args.place)
    out(f"Место «{name}» удалено", f"Place «{name}» removed")
    return 0


def _rule_add(args: argparse.Namespace, ctx: Context, sigla: str, out: _Out) -> int:
    from library.places.store import add_rule, find_place

    with ctx.db.transaction() as s:
        add_rule(s, sigla, args.place, _rule(args))
        name = find_place(s, sigla, args.place).name
    out(f"Правило добавлено месту «{name}»: {_rule(args).describe()}",
        f"Rule added to «{name}»: {_rule(args).describe('en')}")
    return 0


def _rule_remove(args: argparse.Namespace, ctx: Context, sigla: str, out: _Out) -> int:
    from library.places.store import remove_rule

    with ctx.db.transaction() as s:
        spec = remove_rule(s, sigla, args.place, args.number)
    out(f"Правило удалено: {spec.describe()}", f"Rule removed: {spec.describe('en')}")
    return 0


def _import(args: argparse.Namespace, ctx: Context, sigla: str, out: _Out) -> int:
    from pathlib import Path

    from library.places.errors import BadValue, PlacesFileError, Problem
    from library.places.fileformat import loads
    from library.places.store import replace_places

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise BadValue(key=str(path), reason=reason) from None
    data = loads(text, source=str(path))
    if data.sigla and data.sigla != sigla and not args.sigla:
        raise PlacesFileError(str(path), [Problem(None, "sigla", (
            "the file is for {file_sigla}, this school is {sigla}: use --sigla"),
            (("file_sigla", data.sigla), ("sigla", sigla)))])
    count = len(data.places)
    if args.dry_run:  # what the file would match, without writing anything
        report = _dry_run(ctx, sigla, data.places)
    else:
        with ctx.db.transaction() as s:
            replace_places(s, sigla, data.places)
        pm, rows, use = _usage(ctx, sigla)
        report = _report(pm, rows, use, sigla)
    report.update(ok=True, imported=count, dry_run=bool(args.dry_run))
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    if args.dry_run:
        out(f"Файл в порядке: {count} мест (ничего не изменено)",
            f"The file is fine: {count} places (nothing changed)")
    else:
        out(f"Загружено мест: {count} (версия {report['version']})",
            f"Imported {count} places (version {report['version']})")
    out(f"Без места: {report['unmatched']} экз. из {report['copies']}",
        f"Without a place: {report['unmatched']} of {report['copies']} copies")
    for e in report["unmatched_examples"]:
        print(f"    {e['count']:5}  {e['shelf_mark'] or '—'}  {e['collection'] or ''}")
    return 0


def _dry_run(ctx: Context, sigla: str, specs: Sequence[PlaceSpec]) -> dict:
    from library.places.match import PlaceMap, PlaceRow, PlaceView
    from library.places.store import usage

    rows = [PlaceRow(PlaceView(-n, s.name, s.note, s.room, s.box), sigla, s.sort or n * 10,
                     tuple((-(n * 1000 + k), r) for k, r in enumerate(s.rules, 1)))
            for n, s in enumerate(specs, 1)]
    pm = PlaceMap(rows, sigla=sigla)
    with ctx.db.session() as s:
        use = usage(s, sigla, pm)
    rep = _report(pm, rows, use, sigla)
    for p in rep["places"]:
        p["id"] = None
    return rep


def _export(args: argparse.Namespace, ctx: Context, sigla: str, out: _Out) -> int:
    import os
    import tempfile
    from pathlib import Path

    from library.places.fileformat import dumps
    from library.places.store import export_specs

    with ctx.db.session() as s:
        specs = export_specs(s, sigla)
    text = dumps(specs, sigla=sigla)
    if args.file == "-":
        sys.stdout.write(text)
        return 0
    path = Path(args.file)
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
    out(f"Мест записано: {len(specs)} → {path}", f"Wrote {len(specs)} places to {path}")
    return 0


def _where(args: argparse.Namespace, ctx: Context, sigla: str, out: _Out) -> int:
    from library.places import PlaceMap
    from library.places.store import where

    with ctx.db.session() as s:
        pm = PlaceMap.load(s, sigla)
        ans = where(s, args.code, pm, sigla=sigla, collection=args.collection, bbk=args.bbk)
    if args.json:
        print(json.dumps(ans.to_dict(), ensure_ascii=False))
        return 0 if ans.match else 1
    what = f"{ans.barcode} «{ans.title}»" if ans.barcode else (
        f"шифр {ans.code}" if out.ru else f"shelf mark {ans.code}")
    print(f"{what}: {ans.shelf_mark or '—'}" + (f", «{ans.collection}»" if ans.collection else ""))
    sign = ans.sign or "—"
    out(f"  авторский знак: {sign}", f"  author sign: {sign}")
    if ans.match is None:
        out("  место не найдено: ни одно правило не подходит",
            "  no place: no rule matches")
        return 1
    room = f" ({ans.match.place.room})" if ans.match.place.room else ""
    lang = "ru" if out.ru else "en"
    out(f"  место: {ans.match.place.label}{room}", f"  place: {ans.match.place.label}{room}")
    out(f"  правило: {ans.match.rule.describe(lang)}", f"  rule: {ans.match.rule.describe(lang)}")
    return 0
