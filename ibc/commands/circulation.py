"""Librarian circulation commands: checkout, checkin, renew, loans, overdue, anonymise, cards
(`ibc readers` is ibc/commands/readers.py)."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context
    from library.circulation.errors import CirculationError
    from library.circulation.service import CirculationService
    from library.circulation.values import LoanOutcome
    from library.storage import Reader


def register(sub: Subparsers) -> None:
    """Add the circulation subcommands."""
    p = sub.add_parser("checkout", help="lend a copy to a reader")
    p.add_argument("--reader", required=True, metavar="CARD")
    p.add_argument("--item", required=True, metavar="BARCODE")
    _common(p, run_checkout)
    p = sub.add_parser("checkin", help="take a copy back")
    p.add_argument("--item", required=True, metavar="BARCODE")
    _common(p, run_checkin)
    p = sub.add_parser("renew", help="extend a reader's loan")
    p.add_argument("--reader", required=True, metavar="CARD")
    p.add_argument("--item", required=True, metavar="BARCODE")
    _common(p, run_renew)
    p = sub.add_parser("loans", help="a reader's open loans")
    p.add_argument("--reader", required=True, metavar="CARD")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_loans)
    p = sub.add_parser("overdue", help="every overdue loan")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_overdue)
    p = sub.add_parser("anonymise", help="unlink readers from loans returned long ago; erase the "
                                        "names of leavers archived long ago")
    p.set_defaults(run=run_anonymise)
    from ibc.commands import readers

    readers.register(sub)
    register_cards(sub)


def _common(p: argparse.ArgumentParser, run: Callable[[argparse.Namespace, Context], int]) -> None:
    p.add_argument("--txn", metavar="ID", help="client transaction id (repeat-safe); default random")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def _refused(ctx: Context, exc: CirculationError, as_json: bool) -> int:
    from library.i18n import translator

    msg = exc.message(translator(ctx.settings.ui.language))
    if as_json:
        print(json.dumps({"ok": False, "code": exc.code, "message": msg}, ensure_ascii=False))
    else:
        print(f"ibc: {msg}", file=sys.stderr)
    return 1


def _done(ctx: Context, out: LoanOutcome, as_json: bool) -> int:
    ru = ctx.settings.ui.language == "ru"
    if as_json:
        print(json.dumps({"ok": True, **out.to_dict()}, ensure_ascii=False))
        return 0
    due = f"{out.due_date:%d.%m.%Y}" if out.due_date else ""
    if out.action == "checkout":
        line = f"Выдано: «{out.title}», вернуть до {due}" if ru else f"Lent: {out.title}, due {due}"
    elif out.action == "renew":
        line = f"Продлено: «{out.title}» до {due}" if ru else f"Renewed: {out.title} until {due}"
    else:
        where = f" → {out.shelf}" if out.shelf else ""
        line = f"Принято: «{out.title}»{where}" if ru else f"Returned: {out.title}{where}"
        if out.hold_id:  # the return filled a hold: the copy goes to the hold shelf
            until = f"{out.hold_until:%d.%m}" if out.hold_until else ""
            line += (f"\nОтложите для: {out.hold_for} — до {until}" if ru
                     else f"\nSet aside for: {out.hold_for} — until {until}")
    print(line + (" (повтор)" if out.replayed and ru else " (repeat)" if out.replayed else ""))
    return 0


def _act(ctx: Context, args: argparse.Namespace,
         fn: Callable[[CirculationService, str], LoanOutcome]) -> int:
    from ibc.wiring import circulation
    from library.circulation.errors import CirculationError

    svc = circulation(ctx)
    try:
        out = fn(svc, args.txn or uuid.uuid4().hex)
    except CirculationError as exc:
        return _refused(ctx, exc, args.json)
    return _done(ctx, out, args.json)


def run_checkout(args: argparse.Namespace, ctx: Context) -> int:
    """`ibc checkout`."""
    return _act(ctx, args, lambda s, t: s.checkout(args.reader, args.item, t, terminal="cli"))


def run_checkin(args: argparse.Namespace, ctx: Context) -> int:
    """`ibc checkin`."""
    return _act(ctx, args, lambda s, t: s.checkin(args.item, t, terminal="cli"))


def run_renew(args: argparse.Namespace, ctx: Context) -> int:
    """`ibc renew`."""
    return _act(ctx, args, lambda s, t: s.renew(args.reader, args.item, t, terminal="cli"))


def run_loans(args: argparse.Namespace, ctx: Context) -> int:
    """`ibc loans --reader CARD`."""
    from ibc.wiring import circulation
    from library.circulation.errors import CirculationError

    try:
        loans = circulation(ctx).loans(args.reader)
    except CirculationError as exc:
        return _refused(ctx, exc, args.json)
    if args.json:
        print(json.dumps([{
            "loan_id": v.loan_id, "barcode": v.barcode, "title": v.title, "authors": v.authors,
            "issued": v.issued.isoformat(), "due_date": v.due_date.isoformat(),
            "renewals": v.renewals, "overdue": v.overdue} for v in loans], ensure_ascii=False))
        return 0
    for v in loans:
        mark = "  ПРОСРОЧЕНО" if v.overdue else ""
        print(f"{v.due_date:%d.%m.%Y}  {v.barcode}  {v.title}{mark}")
    if not loans:
        print("Нет книг на руках" if ctx.settings.ui.language == "ru" else "No loans")
    return 0


def run_overdue(args: argparse.Namespace, ctx: Context) -> int:
    """`ibc overdue`: every overdue loan with the reader's card and class (librarian view)."""
    import datetime as dt

    from library.reports.overdue import open_overdue

    with ctx.db.session() as s:
        rows = open_overdue(s, dt.date.today())
    items = [{"due_date": x.due_date.isoformat(), "days": x.days, "barcode": x.barcode,
              "title": x.title, "card": x.card, "reader": x.full_name, "class": x.class_name}
             for x in rows]
    if args.json:
        print(json.dumps(items, ensure_ascii=False))
    else:
        for i in items:
            print(f"{i['due_date']} (+{i['days']} д.)  {i['class'] or '-':4} {i['reader']}  "
                  f"{i['barcode']}  {i['title']}")
        print(f"Всего просрочено: {len(items)}")
    return 0


def run_anonymise(args: argparse.Namespace, ctx: Context) -> int:
    """`ibc anonymise`."""
    from ibc.wiring import circulation
    from library.circulation.school_year import anonymise_archived

    svc = circulation(ctx)
    holds = svc.anonymise_holds()
    n = svc.anonymise_returned()
    print(f"anonymised {n} returned loans")
    print(f"anonymised {holds} closed holds")
    gone = anonymise_archived(ctx.db, ctx.settings.circulation.archived_keep_days)
    print(f"anonymised {gone} archived readers (archived over "
          f"{ctx.settings.circulation.archived_keep_days} days ago, no book on loan)")
    return 0


def register_cards(sub: Subparsers) -> None:
    """`ibc cards [--class 5А] [--card N ...] -o cards.pdf`."""
    p = sub.add_parser("cards", help="print reader cards (PDF, 10 per A4 page)")
    p.add_argument("--class", dest="class_name", metavar="CLASS",
                   help="every active reader of a class, e.g. 5А")
    p.add_argument("--card", nargs="+", action="extend", default=[], metavar="N", help="card numbers")
    p.add_argument("-o", "--output", required=True, metavar="FILE.pdf")
    p.set_defaults(run=run_cards)


def run_cards(args: argparse.Namespace, ctx: Context) -> int:
    """Print the cards of the selected readers only; an unknown class or card is an error."""
    from sqlalchemy import select

    from library.circulation.cards import render_cards
    from library.circulation.readers import normalise_class
    from library.storage import Reader

    if not args.class_name and not args.card:
        print("ibc: укажите --class или --card: кому печатать билеты", file=sys.stderr)
        return 1
    chosen: dict[str, dict] = {}
    with ctx.db.session() as s:
        if args.class_name:
            try:
                klass = normalise_class(args.class_name)
            except ValueError:
                klass = None
            rows = s.scalars(select(Reader).where(Reader.class_name == klass, Reader.active.is_(True))
                             .order_by(Reader.last_name, Reader.first_name)).all() if klass else []
            if not rows:
                print(f"ibc: класс «{args.class_name}» не найден (нет читателей)", file=sys.stderr)
                return 1
            chosen.update({r.card_number: _card_data(r) for r in rows})
        if args.card:
            by_card = {r.card_number: r for r in s.scalars(
                select(Reader).where(Reader.card_number.in_(args.card)))}
            missing = [c for c in args.card if c not in by_card]
            if missing:
                print(f"ibc: нет читателей с билетами: {', '.join(missing)}", file=sys.stderr)
                return 1
            chosen.update({c: _card_data(by_card[c]) for c in args.card})
    try:
        pages = render_cards(chosen.values(), args.output, school_name=ctx.settings.school.name)
    except OSError as exc:
        print(f"ibc: {args.output}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"Билетов: {len(chosen)}, страниц: {pages} → {args.output}")
    return 0


def _card_data(r: Reader) -> dict:
    """Only the fields a card shows, detached from the session."""
    return {"card_number": r.card_number, "last_name": r.last_name, "first_name": r.first_name,
            "class_name": r.class_name, "category": r.category}
