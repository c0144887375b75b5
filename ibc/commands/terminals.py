"""`ibc terminals enroll|list|revoke` and `ibc librarian token`: server credentials;
`ibc librarian add|passwd|disable|list|school`: accounts of the librarian's desk (server/desk/accounts.py).
A desk password comes from a prompt (asked twice) or the first line of stdin, never from argv."""

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
    e.add_argument("--school", metavar="SIGLA",
                   help="the school the terminal lends for (default: [school] sigla); "
                        "ibc schools list")
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
    a = lsub.add_parser("add", help="add a desk account (password at a prompt or from stdin)")
    a.add_argument("name", help="login name: a-z 0-9 _ . -, e.g. ivanova")
    a.add_argument("--role", choices=("librarian", "admin"), default="librarian")
    a.add_argument("--school", metavar="SIGLA",
                   help="the school the account works for (default: every school); ibc schools list")
    sc = lsub.add_parser("school", help="set the school a desk account works for")
    sc.add_argument("name")
    sc.add_argument("school", metavar="SIGLA", nargs="?", default=None,
                    help="the school's sigla; left out: every school (the city's administrator)")
    pw = lsub.add_parser("passwd", help="set a desk account's password (prompt or stdin)")
    pw.add_argument("name")
    d = lsub.add_parser("disable", help="disable a desk account and end its sessions")
    d.add_argument("name")
    ls2 = lsub.add_parser("list", help="list desk accounts")
    ls2.add_argument("--json", action="store_true", help="machine-readable output")
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
            school = row["sigla"] or ctx.settings.school.sigla if row["role"] == "terminal" else ""
            print(f"{row['name']:24} {row['role']:10} {state:20} last seen {row['last_seen'] or '-'}"
                  + (f"  школа {school}" if school else ""))
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
    from library.i18n import translator
    from library.schools import SchoolError
    from library.tls import short_fingerprint
    from server import security, tls

    try:
        enrolment = security.new_enrolment(ctx.db, ctx.settings, data_dir(ctx), args.minutes,
                                           sigla=args.school)
    except tls.TlsError as exc:
        print(f"ibc terminals enroll: {exc}", file=sys.stderr)
        return 1
    except SchoolError as exc:
        print(f"ibc terminals enroll: {exc.message(translator(ctx.settings.ui.language))}",
              file=sys.stderr)
        return 1
    code, minutes, fp = enrolment.code, enrolment.minutes, enrolment.fingerprint
    print(code)
    print(f"Код подключения терминала действует {minutes} мин. "
          f"(one-time terminal enrolment code, valid {minutes} min)")
    if args.school:
        print(f"Терминал будет выдавать книги школы {args.school.strip()}")
    if fp is None:
        print("ВНИМАНИЕ: TLS выключен ([server] tls = \"off\"): терминал подключится без "
              "шифрования (development only)")
    else:
        print(f"Сертификат сервера: {short_fingerprint(fp)} (SHA-256 {fp})")
        print("На терминале: ibc terminals join " + code + " — терминал покажет тот же "
              "отпечаток; код проверяет сертификат до отправки чего-либо")
    return 0


def _read_password() -> str | None:
    """A new password (a prompt asked twice, or stdin's first line)."""
    from ibc.secret_input import read_secret

    return read_secret("Новый пароль: ", "ibc librarian: пароли не совпали", limit=1024)


def _desk_accounts(args: argparse.Namespace, ctx: Context) -> int:
    """`ibc librarian add|passwd|disable|list|school`."""
    import sys

    from library.i18n import translator
    from library.schools import SchoolError, ensure_default
    from server.desk import accounts
    from server.desk.errors import AccountError

    if getattr(args, "school", None):  # the default school may be named before it was used
        with ctx.db.transaction() as s:
            ensure_default(s, ctx.settings.school.sigla, ctx.settings.school.name)

    try:
        if args.action == "list":
            rows = accounts.list_accounts(ctx.db)
            if args.json:
                print(json.dumps(rows, ensure_ascii=False))
                return 0
            if not rows:
                print("Учётных записей нет: ibc librarian add ИМЯ")
            for row in rows:
                state = f"отключена {row['disabled_at'][:16]}" if row["disabled_at"] else "активна"
                school = f"  школа {row['school']}" if row["school"] else ""
                print(f"{row['name']:24} {row['role']:10} создана {row['created_at'][:16]}  {state}"
                      + school)
            return 0
        if args.action == "school":
            done = accounts.set_school(ctx.db, args.name, args.school)
            where = f"школа {args.school.strip()}" if args.school else "все школы"
            print(f"{accounts.check_name(args.name)}: {where}" + ("" if done else " (без изменений)"))
            return 0
        if args.action == "disable":
            done = accounts.disable(ctx.db, args.name)
            print(f"{args.name}: отключена" if done else f"{args.name}: уже отключена")
            return 0
        password = _read_password()
        if password is None:
            print("ibc librarian: пароль не введён", file=sys.stderr)
            return 1
        if args.action == "add":
            accounts.add_account(ctx.db, args.name, password, args.role, school=args.school)
            where = f", школа {args.school.strip()}" if args.school else ""
            print(f"{accounts.check_name(args.name)}: учётная запись добавлена ({args.role}{where})")
        else:
            accounts.set_password(ctx.db, args.name, password)
            print(f"{accounts.check_name(args.name)}: пароль изменён, открытые сеансы завершены")
        return 0
    except AccountError as exc:
        print(f"ibc librarian: {exc}", file=sys.stderr)
        return 1
    except SchoolError as exc:
        print(f"ibc librarian: {exc.message(translator(ctx.settings.ui.language))}", file=sys.stderr)
        return 1


def run_librarian(args: argparse.Namespace, ctx: Context) -> int:
    """Create a librarian token, or manage desk accounts."""
    from server import security

    if args.action != "token":
        return _desk_accounts(args, ctx)

    try:
        token = security.create_librarian_token(ctx.db, args.name)
    except security.EnrolError as exc:
        print(f"ibc librarian: {exc}")
        return 1
    print(token)
    return 0
