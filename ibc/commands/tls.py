"""`ibc tls show|create`: the school server's TLS certificate (server/tls.py).

``ibc tls create`` makes the self-signed certificate when there is none (install.sh runs it as
the service user); ``--replace`` makes a new one — every terminal must then be enrolled again.
``ibc tls show`` prints where it is and its fingerprint, as terminals see it.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context


def register(sub: Subparsers) -> None:
    """Add the `tls` subcommand."""
    p = sub.add_parser("tls", help="the school server's TLS certificate for the terminals")
    tsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    tsub.add_parser("show", help="where the certificate is and its SHA-256 fingerprint")
    c = tsub.add_parser("create", help="make the self-signed certificate when there is none")
    c.add_argument("--replace", action="store_true",
                   help="make a new one (every terminal must join again)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Show or create the certificate."""
    from ibc.commands.join import data_dir
    from library.tls import short_fingerprint
    from server import tls

    if ctx.settings.server.tls == "off":
        print("ibc tls: [server] tls = \"off\" — сервер работает без шифрования "
              "(TLS is off: development only)", file=sys.stderr)
    try:
        if args.action == "create":
            before = tls.load(ctx.settings, data_dir(ctx))
            cert = tls.ensure(ctx.settings, data_dir(ctx), replace=args.replace)
            made = before is None or before.fingerprint != cert.fingerprint
            print(("Создан новый сертификат" if made else "Сертификат уже есть")
                  + f": {cert.cert} ({'made' if made else 'kept'})")
            if made and before is not None:
                print("Терминалы нужно подключить заново: ibc terminals enroll / join "
                      "(every terminal must join again)")
        else:
            found = tls.load(ctx.settings, data_dir(ctx))
            if found is None:
                print("ibc tls: сертификата ещё нет — его создаст ibc serve или "
                      "`sudo -u ibc ibc tls create` (no certificate yet)", file=sys.stderr)
                return 1
            cert = found
            print(f"Сертификат: {cert.cert}" + (" (свой сертификат школы)" if cert.own else ""))
            print(f"Ключ:       {cert.key}")
    except tls.TlsError as exc:
        print(f"ibc tls: {exc}", file=sys.stderr)
        return 1
    print(f"SHA-256:    {cert.fingerprint}")
    print(f"Кратко:     {short_fingerprint(cert.fingerprint)}")
    return 0
