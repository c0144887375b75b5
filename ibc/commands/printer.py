"""`ibc printer list|status|test [--uri ipp://...] [--json]`: find, check and test the IPP printer.

The printer is the one at --uri, else [printer] uri, else the one DNS-SD finds by [printer]
name (or the first that answers). Errors print one Russian line to stderr and return 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.settings import PrinterSettings
    from ibc.commands import Subparsers
    from ibc.context import Context

ACTIONS = ("list", "status", "test")


def register(sub: Subparsers) -> None:
    """Add the `printer` subcommand (argparse only, nothing heavy imported)."""
    p = sub.add_parser("printer", help="IPP printer: list, status, test page")
    p.add_argument("action", choices=ACTIONS, help="what to do")
    p.add_argument("--uri", help="printer address ipp://host:port/path (default: settings, else DNS-SD)")
    p.add_argument("--name", help="printer name to look for with DNS-SD")
    p.add_argument("--timeout", type=float, default=3.0, help="seconds for discovery/answers")
    p.add_argument("--interface", action="append", metavar="ADDR",
                   help="limit DNS-SD to this interface address (repeatable)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)


def test_page_pdf() -> bytes:
    """A one-page A4 PDF «Проверка печати» in a Cyrillic font."""
    import io
    from datetime import datetime

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from library.pdf import cyrillic_font

    font = cyrillic_font()
    buf = io.BytesIO()
    page = canvas.Canvas(buf, pagesize=A4)
    page.setTitle("Проверка печати")
    width, height = A4
    page.setFont(font, 28)
    page.drawCentredString(width / 2, height - 150, "Проверка печати")
    page.setFont(font, 14)
    page.drawCentredString(width / 2, height - 190, "ИБЦ — информационно-библиотечный центр")
    page.drawCentredString(width / 2, height - 215, datetime.now().strftime("%d.%m.%Y %H:%M"))
    page.showPage()
    page.save()
    return buf.getvalue()


def describe_error(exc: Exception) -> str:
    """One Russian line for a printer error."""
    from device.printer import errors as e

    if isinstance(exc, e.PrinterNotFound):
        return ("Принтер не найден: включите МФУ и подключите его к сети школы "
                "или укажите [printer] uri в /etc/ibc/ibc.toml")
    if isinstance(exc, e.PrinterUnavailable):
        return f"Принтер не отвечает: проверьте питание и сеть ({exc})"
    if isinstance(exc, e.PrintJobFailed):
        return f"Принтер не принял задание: {exc}"
    return f"Ошибка принтера: {exc}"


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Execute one printer action; returns the exit code."""
    import asyncio

    from device.printer import PrinterError

    try:
        return asyncio.run(_run(args, ctx.settings.printer))
    except PrinterError as exc:
        print(f"ibc printer: {describe_error(exc)}", file=sys.stderr)
        return 1


async def _run(args: argparse.Namespace, conf: PrinterSettings) -> int:
    from zeroconf import InterfaceChoice
    from zeroconf.asyncio import AsyncZeroconf

    from device.printer import find_printer, make_printer
    from device.printer.discovery import discover_printers

    uri = args.uri or conf.uri
    aiozc = None if (uri and args.action != "list") else AsyncZeroconf(
        interfaces=args.interface or InterfaceChoice.All)
    try:
        if args.action == "list":
            if aiozc is None:  # not reached: `list` always browses (aiozc made above)
                raise RuntimeError("ibc printer list without a zeroconf instance")
            found = await discover_printers(aiozc, timeout=args.timeout)
            if args.json:
                print(json.dumps([p.to_dict() for p in found], ensure_ascii=False, indent=2))
            elif not found:
                print("Принтеры не найдены (DNS-SD _ipp._tcp/_ipps._tcp)")
            for p in [] if args.json else found:
                print(f"{p.name}\t{p.uri}\t{p.make_and_model}\tUUID {p.uuid}")
            return 0
        if uri:
            printer = make_printer(uri=uri, timeout=max(args.timeout, 1.0))
        else:
            wanted = type("Wanted", (), {"uri": "", "name": args.name or conf.name})()
            printer = await find_printer(wanted, aiozc, timeout=args.timeout)
        where = getattr(printer, "uri", "")
        if args.action == "status":
            state = await printer.state()
            if args.json:
                print(json.dumps({"uri": where, **state.to_dict()}, ensure_ascii=False, indent=2))
            else:
                print(f"{state.name or where}: {state.describe()}")
            return 0 if state.ready else 1
        job = await printer.print_pdf(test_page_pdf(), "Проверка печати")
        if args.json:
            print(json.dumps({"uri": where, "job_id": job}, ensure_ascii=False))
        else:
            print(f"Задание {job} отправлено на принтер {where}")
        return 0
    finally:
        if aiozc is not None:
            await aiozc.async_close()
