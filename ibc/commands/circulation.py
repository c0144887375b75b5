"""Librarian circulation commands: checkout, checkin, renew, loans, overdue, anonymise."""

from __future__ import annotations

import json
import sys
import uuid


def register(sub) -> None:  # noqa: ANN001
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
    p = sub.add_parser("anonymise", help="unlink readers from loans returned long ago")
    p.set_defaults(run=run_anonymise)
    register_readers(sub)


def _common(p, run) -> None:  # noqa: ANN001
    p.add_argument("--txn", metavar="ID", help="client transaction id (repeat-safe); default random")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def _refused(ctx, exc, as_json: bool) -> int:  # noqa: ANN001
    from library.i18n import translator

    msg = exc.message(translator(ctx.settings.ui.language))
    if as_json:
        print(json.dumps({"ok": False, "code": exc.code, "message": msg}, ensure_ascii=False))
    else:
        print(f"ibc: {msg}", file=sys.stderr)
    return 1


def _done(ctx, out, as_json: bool) -> int:  # noqa: ANN001
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
    print(line + (" (повтор)" if out.replayed and ru else " (repeat)" if out.replayed else ""))
    return 0


def _act(ctx, args, fn) -> int:  # noqa: ANN001
    from ibc.wiring import circulation
    from library.circulation.errors import CirculationError

    svc = circulation(ctx)
    try:
        out = fn(svc, args.txn or uuid.uuid4().hex)
    except CirculationError as exc:
        return _refused(ctx, exc, args.json)
    return _done(ctx, out, args.json)


def run_checkout(args, ctx) -> int:  # noqa: ANN001
    """`ibc checkout`."""
    return _act(ctx, args, lambda s, t: s.checkout(args.reader, args.item, t, terminal="cli"))


def run_checkin(args, ctx) -> int:  # noqa: ANN001
    """`ibc checkin`."""
    return _act(ctx, args, lambda s, t: s.checkin(args.item, t, terminal="cli"))


def run_renew(args, ctx) -> int:  # noqa: ANN001
    """`ibc renew`."""
    return _act(ctx, args, lambda s, t: s.renew(args.reader, args.item, t, terminal="cli"))


def run_loans(args, ctx) -> int:  # noqa: ANN001
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


def run_overdue(args, ctx) -> int:  # noqa: ANN001
    """`ibc overdue`: every overdue loan with the reader's card and class (librarian view)."""
    import datetime as dt

    from sqlalchemy import select

    from library.storage import Copy, Loan, Reader, Record

    today = dt.date.today()
    with ctx.db.session() as s:
        rows = s.execute(
            select(Loan.due_date, Copy.barcode, Record.title, Reader.card_number, Reader.last_name,
                   Reader.first_name, Reader.class_name)
            .join(Copy, Loan.copy_id == Copy.id).join(Record, Copy.record_id == Record.id)
            .outerjoin(Reader, Loan.reader_id == Reader.id)
            .where(Loan.returned_at.is_(None), Loan.due_date < today).order_by(Loan.due_date)
        ).all()
    items = [{"due_date": r[0].isoformat(), "days": (today - r[0]).days, "barcode": r[1], "title": r[2],
              "card": r[3], "reader": f"{r[4]} {r[5]}".strip(), "class": r[6]} for r in rows]
    if args.json:
        print(json.dumps(items, ensure_ascii=False))
    else:
        for i in items:
            print(f"{i['due_date']} (+{i['days']} д.)  {i['class'] or '-':4} {i['reader']}  {i['barcode']}  {i['title']}")
        print(f"Всего просрочено: {len(items)}")
    return 0


def run_anonymise(args, ctx) -> int:  # noqa: ANN001
    """`ibc anonymise`."""
    from ibc.wiring import circulation

    n = circulation(ctx).anonymise_returned()
    print(f"anonymised {n} returned loans")
    return 0


def register_readers(sub) -> None:  # noqa: ANN001
    """`ibc readers import FILE`."""
    p = sub.add_parser("readers", help="readers: import class lists (CSV/XLSX)")
    p.add_argument("action", choices=["import"])
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_readers)


def run_readers(args, ctx) -> int:  # noqa: ANN001
    """Import a class list; bad rows are listed with their line numbers."""
    from dataclasses import asdict

    from library.circulation.readers import import_readers
    from library.errors import ImportFormatError

    try:
        report = import_readers(ctx.db, args.file, sigla=ctx.settings.school.sigla)
    except (ImportFormatError, OSError) as exc:
        print(f"ibc: {args.file}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(asdict(report), ensure_ascii=False))
    else:
        print(f"read {report.read}, added {report.added}, updated {report.updated}, skipped {report.skipped}")
        for e in report.errors:
            print(f"  line {e['line']}: {e['reason']}")
    return 0 if report.read and not (report.skipped == report.read) else 1
