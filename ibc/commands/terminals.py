"""`ibc terminals enroll|list|revoke` and `ibc librarian token`: server credentials."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context


def register(sub: Subparsers) -> None:
    """Add the `terminals` and `librarian` subcommands."""
    p = sub.add_parser("terminals", help="enrol, list and revoke kiosk terminals")
    tsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    e = tsub.add_parser("enroll", aliases=["enrol"], help="print a one-time enrolment code")
    e.add_argument("--minutes", type=int, help="validity (default: [server] enrol_code_minutes)")
    ls = tsub.add_parser("list", help="list terminals and librarian credentials")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    r = tsub.add_parser("revoke", help="revoke a terminal (or librarian) by name")
    r.add_argument("name")
    from ibc.commands import join

    join.add_parser(tsub)  # run on the terminal: `ibc terminals join CODE`
    p.set_defaults(run=run)
    lib = sub.add_parser("librarian", help="librarian credentials for the API's admin endpoints")
    lsub = lib.add_subparsers(dest="action", metavar="ACTION", required=True)
    t = lsub.add_parser("token", help="create a librarian token (shown once)")
    t.add_argument("name", help="who holds it, e.g. ivanova")
    lib.set_defaults(run=run_librarian)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Carry out one terminals action."""
    from server import security

    if args.action == "join":
        from ibc.commands.join import run as join

        return join(args, ctx)
    if args.action in ("enroll", "enrol"):
        return _enroll(args, ctx)
    if args.action == "list":
        rows = security.list_credentials(ctx.db)
        if args.json:
            print(json.dumps(rows, ensure_ascii=False))
        for row in [] if args.json else rows:
            state = "отключён (revoked)" if row["revoked"] else "активен (active)"
            print(f"{row['name']:24} {row['role']:10} {state:20} last seen {row['last_seen'] or '-'}")
        return 0
    if not security.revoke(ctx.db, args.name):
        print(f"ibc terminals: нет терминала {args.name!r} (no such terminal)")
        return 1
    print(f"{args.name}: отключён (revoked)")
    return 0


def _enroll(args: argparse.Namespace, ctx: Context) -> int:
    """Print a one-time code that also carries a check of the server's certificate
    (library/tls.py), and the certificate's fingerprint for the technician to compare."""
    import sys

    from ibc.commands.join import data_dir
    from library.tls import enrolment_code, short_fingerprint
    from server import security, tls

    fp = None
    if ctx.settings.server.tls == "on":
        try:
            cert = tls.load(ctx.settings, data_dir(ctx))
        except tls.TlsError as exc:
            print(f"ibc terminals enroll: {exc}", file=sys.stderr)
            return 1
        if cert is None:
            print("ibc terminals enroll: у сервера ещё нет сертификата — запустите сервер "
                  "(systemctl start ibc-server) или `sudo -u ibc ibc tls create` "
                  "(no server certificate yet)", file=sys.stderr)
            return 1
        fp = cert.fingerprint
    minutes = args.minutes or ctx.settings.server.enrol_code_minutes
    code = enrolment_code(security.create_enrol_code(ctx.db, minutes), fp)
    print(code)
    print(f"Код подключения терминала действует {minutes} мин. "
          f"(one-time terminal enrolment code, valid {minutes} min)")
    if fp is None:
        print("ВНИМАНИЕ: TLS выключен ([server] tls = \"off\"): терминал подключится без "
              "шифрования (development only)")
    else:
        print(f"Сертификат сервера: {short_fingerprint(fp)} (SHA-256 {fp})")
        print("На терминале: ibc terminals join " + code + " — терминал покажет тот же "
              "отпечаток; код проверяет сертификат до отправки чего-либо")
    return 0


def run_librarian(args: argparse.Namespace, ctx: Context) -> int:
    """Create a librarian token."""
    from server import security

    try:
        token = security.create_librarian_token(ctx.db, args.name)
    except security.EnrolError as exc:
        print(f"ibc librarian: {exc}")
        return 1
    print(token)
    return 0
