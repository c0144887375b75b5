"""`ibc holds place|list|cancel|expire|shelf|transfers`: holds (reservations) for the librarian.

The rules are library/circulation/holds.py, the writes CirculationService's (exactly once);
docs/HOLDS.md. Exit codes: 0 done, 1 refused (a named refusal), 2 bad input (argparse).
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context
    from library.circulation.errors import CirculationError
    from library.circulation.service import CirculationService
    from library.circulation.values import HoldView, ShelfEntry, TransferView

STATES = {"queued": "в очереди", "waiting": "ждёт на полке заказов", "fulfilled": "выдан",
          "expired": "истёк", "cancelled": "отменён", "transit": "едет из другой школы"}


def register(sub: Subparsers) -> None:
    """Add the `holds` subcommand (argparse only)."""
    p = sub.add_parser("holds", help="заказы (очередь на книги): поставить, список, отменить, "
                                     "снять просроченные, полка заказов")
    psub = p.add_subparsers(dest="holds_action", metavar="ACTION", required=True)
    pl = psub.add_parser("place", help="поставить читателя в очередь на книгу")
    pl.add_argument("card", help="номер читательского билета")
    pl.add_argument("record_id", type=int, help="номер записи каталога")
    pl.add_argument("--txn", metavar="ID", help="id транзакции (повтор безопасен); по умолчанию случайный")
    pl.add_argument("--pickup", metavar="SIGLA",
                    help="школа, где забрать книгу (по умолчанию: школа читателя)")
    pl.add_argument("--json", action="store_true", help="вывод в JSON")
    ls = psub.add_parser("list", help="действующие заказы: все или одного читателя")
    ls.add_argument("--card", help="только заказы этого читателя")
    ls.add_argument("--json", action="store_true", help="вывод в JSON")
    cn = psub.add_parser("cancel", help="отменить заказ (библиотекарь)")
    cn.add_argument("hold_id", type=int, help="номер заказа")
    cn.add_argument("--txn", metavar="ID", help="id транзакции (повтор безопасен); по умолчанию случайный")
    cn.add_argument("--json", action="store_true", help="вывод в JSON")
    ex = psub.add_parser("expire", help="снять невостребованные заказы (ежедневно, таймер systemd)")
    ex.add_argument("--json", action="store_true", help="отчёт в JSON")
    sh = psub.add_parser("shelf", help="полка заказов: что ждёт читателей, что снять сегодня")
    sh.add_argument("--json", action="store_true", help="вывод в JSON")
    tr = psub.add_parser("transfers", help="книги в пути между школами (запросы других школ)")
    tr.add_argument("--school", metavar="SIGLA", help="только в эту школу и из неё")
    tr.add_argument("--all", action="store_true", help="и полученные (история)")
    tr.add_argument("--json", action="store_true", help="вывод в JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Carry out one holds action."""
    from ibc.wiring import circulation
    from library.circulation.errors import CirculationError

    svc = circulation(ctx)
    try:
        if args.holds_action == "place":
            return _view(svc.place_hold(args.card, args.record_id, args.txn or uuid.uuid4().hex,
                                        terminal="cli", by="cli", pickup=args.pickup),
                         args.json, "Заказ принят", _several(ctx))
        if args.holds_action == "transfers":
            return _transfers(svc.transfers(args.school, open_only=not args.all), args.json)
        if args.holds_action == "cancel":
            return _view(svc.cancel_hold(args.hold_id, args.txn or uuid.uuid4().hex,
                                         terminal="cli", by="cli"), args.json, "Заказ отменён",
                         _several(ctx))
        if args.holds_action == "list":
            return _list(svc, args, _several(ctx))
        if args.holds_action == "expire":
            report = svc.expire_holds()
            if args.json:
                print(json.dumps(report.to_dict(), ensure_ascii=False))
                return 0
            print(f"Истекло невостребованных: {len(report.expired_waiting)}; "
                  f"истекло в очереди: {len(report.expired_queued)}; "
                  f"отменено (читатель выбыл): {len(report.cancelled_inactive)}")
            for e in report.passed_on:
                print(f"Отложите для: {e.reader} — до {_day(e)}  {e.barcode}  «{e.title}»")
            for e in report.take_off:
                print(f"Снять с полки заказов: {e.barcode}  «{e.title}»")
            return 0
        shelf = svc.hold_shelf()
        if args.json:
            print(json.dumps(shelf.to_dict(), ensure_ascii=False))
            return 0
        for e in shelf.waiting:
            cart = "  (на тележке возврата: возврат без связи)" if e.offline else ""
            print(f"до {_day(e)}  {e.barcode}  «{e.title}» — для: {e.reader or '-'}{cart}")
        for e in shelf.take_off:
            print(f"Снять с полки заказов: {e.barcode}  «{e.title}»")
        print(f"На полке заказов: {len(shelf.waiting)}; снять сегодня: {len(shelf.take_off)}")
        return 0
    except CirculationError as exc:
        return _refused(ctx, exc, args.json)


def _day(e: ShelfEntry) -> str:
    return f"{e.pickup_until:%d.%m}" if e.pickup_until else "-"


def _several(ctx: Context) -> bool:
    """True when the service has several schools: the lines name the pickup school."""
    from library.schools import list_schools

    with ctx.db.session() as s:
        return len(list_schools(s)) > 1


def _line(v: HoldView, schools: bool = False) -> str:
    if v.state == "queued":
        state = f"в очереди {v.position}-й"
    elif v.state == "waiting" and v.pickup_until:
        state = f"ждёт на полке заказов до {v.pickup_until:%d.%m.%Y} ({v.barcode})"
    elif v.state == "transit" and v.from_school:
        state = f"едет из: {v.from_school}"
    else:
        state = STATES.get(v.state, v.state)
    where = ""
    if schools and v.pickup_name:
        where = f"; забрать: {v.pickup_name}"
        if v.request and v.state == "queued":
            where += f" (запрос в другую школу{': ' + v.from_school if v.from_school else ''})"
    return f"№ {v.hold_id}  «{v.title}» — {state}{where}"


def _view(v: HoldView, as_json: bool, said: str, schools: bool = False) -> int:
    if as_json:
        print(json.dumps({"ok": True, **v.to_dict()}, ensure_ascii=False))
    else:
        print(f"{said}: {_line(v, schools)}" + (" (повтор)" if v.replayed else ""))
    return 0


def _transfers(rows: list[TransferView], as_json: bool) -> int:
    if as_json:
        print(json.dumps([t.to_dict() for t in rows], ensure_ascii=False))
        return 0
    for t in rows:
        why = f"для: {t.reader}" if t.reader else ("домой" if not t.hold_id else "заказ закончился")
        got = f"получена {t.received_at:%d.%m.%Y}" if t.received_at else "в пути"
        print(f"{t.sent_at:%d.%m.%Y}  {t.barcode}  «{t.title}»: {t.from_name} → {t.to_name} "
              f"({why}; {got})")
    print(f"Книг в пути: {sum(1 for t in rows if t.received_at is None)}")
    return 0


def _list(svc: CirculationService, args: argparse.Namespace, schools: bool = False) -> int:
    if args.card:
        mine = svc.holds(args.card)
        if args.json:
            print(json.dumps([v.to_dict() for v in mine], ensure_ascii=False))
            return 0
        for v in mine:
            print(_line(v, schools))
        if not mine:
            print("Заказов нет")
        return 0
    every = svc.all_holds()
    if args.json:
        print(json.dumps([{**v.to_dict(), "reader": name, "card": card} for v, name, card in every],
                         ensure_ascii=False))
        return 0
    for v, name, card in every:
        print(f"{_line(v, schools)} — {name or '-'} ({card or '-'})")
    print(f"Действующих заказов: {len(every)}")
    return 0


def _refused(ctx: Context, exc: CirculationError, as_json: bool) -> int:
    from library.i18n import translator

    msg = exc.message(translator(ctx.settings.ui.language))
    if as_json:
        print(json.dumps({"ok": False, "code": exc.code, "message": msg}, ensure_ascii=False))
    else:
        print(f"ibc holds: {msg}", file=sys.stderr)
    return 1
