"""`ibc irbis emulate`: an ИРБИС64 server emulator for tests and demos (ils/irbis/emulator.py).

    ibc irbis emulate --port 6666 --user librarian --password secret --catalogue IBIS.iso \
        [--database IBIS] [--readers RDR.iso | --demo-readers 20] [--store irbis.sqlite]

The catalogue and readers files are RUSMARC ISO 2709 (cp1251 or UTF-8), ИРБИС text or MARCXML,
read with library.marc; MFNs follow the file order from 1. With --store every write is kept in
SQLite and a restart continues from it. docs/IRBIS.md says what is emulated and what is not.
Errors print one Russian line to stderr and return 1 (2 for a usage error); Ctrl+C stops it.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context


def register(sub: Subparsers) -> None:
    """Add the `irbis` subcommand (argparse only, nothing heavy imported)."""
    p = sub.add_parser("irbis", help="ИРБИС64: эмулятор сервера для тестов и демонстраций")
    psub = p.add_subparsers(dest="irbis_action", metavar="ACTION", required=True)
    em = psub.add_parser("emulate", help="запустить эмулятор сервера ИРБИС64 (TCP)")
    em.add_argument("--host", default="127.0.0.1", help="адрес (по умолчанию 127.0.0.1)")
    em.add_argument("--port", type=int, default=6666, help="TCP-порт (по умолчанию 6666; 0 — любой)")
    em.add_argument("--user", required=True, help="имя пользователя ИРБИС")
    em.add_argument("--password", required=True, help="пароль пользователя")
    em.add_argument("--workstations", default="ABCMRK",
                    help="АРМы, с которыми пользователь может войти (по умолчанию ABCMRK)")
    em.add_argument("--catalogue", metavar="FILE", help="каталог: ISO 2709 (cp1251/UTF-8), "
                                                        "текст ИРБИС или MARCXML")
    em.add_argument("--database", default="IBIS", help="имя базы каталога (по умолчанию IBIS)")
    em.add_argument("--readers", metavar="FILE", help="база читателей RDR (ISO 2709)")
    em.add_argument("--demo-readers", type=int, metavar="N",
                    help="N читателей для демонстрации (билеты демо-библиотеки)")
    em.add_argument("--readers-database", default="RDR", help="имя базы читателей (по умолчанию RDR)")
    em.add_argument("--store", metavar="FILE.sqlite", help="хранить записи в SQLite (иначе в памяти)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Execute `ibc irbis <action>`; returns the exit code."""
    if args.irbis_action == "emulate":
        return _emulate(args)
    return 2  # pragma: no cover - argparse requires an action


def _emulate(args: argparse.Namespace) -> int:
    from ils.irbis.emulator import IrbisEmulator, demo_readers, load_records
    from ils.irbis.errors import IrbisError, translator
    from ils.irbis.record import READER_PLAIN_TAGS
    from library.errors import IbcError

    if args.readers and args.demo_readers:
        print("ibc irbis emulate: укажите либо --readers, либо --demo-readers", file=sys.stderr)
        return 2
    if args.demo_readers is not None and not 0 < args.demo_readers <= 100_000:
        print("ibc irbis emulate: --demo-readers от 1 до 100000", file=sys.stderr)
        return 2
    bad = set(args.workstations) - set("ABCMRKJ")
    if bad or not args.workstations:
        print(f"ibc irbis emulate: неизвестные АРМы {''.join(sorted(bad))!r} (есть A B C M R K J)",
              file=sys.stderr)
        return 2
    emulator = IrbisEmulator({args.user: (args.password, args.workstations)}, host=args.host,
                             port=args.port, store=args.store)
    try:
        catalogue = emulator.add_database(
            args.database, load_records(args.catalogue) if args.catalogue else [])
        if args.readers:
            readers = emulator.add_database(args.readers_database,
                                            load_records(args.readers, plain_tags=READER_PLAIN_TAGS))
        else:
            readers = emulator.add_database(args.readers_database,
                                            demo_readers(args.demo_readers or 0))
        host, port = emulator.start()
    except IrbisError as exc:
        emulator.stop()
        print(f"ibc irbis emulate: {exc.message(translator('ru'))}", file=sys.stderr)
        return 1
    except IbcError as exc:
        emulator.stop()
        print(f"ibc irbis emulate: не удалось прочитать файл: {exc}", file=sys.stderr)
        return 1
    print(f"Эмулятор ИРБИС64 слушает {host}:{port}; базы: {catalogue.name} "
          f"(записей: {len(catalogue.slots)}), {readers.name} (записей: {len(readers.slots)}); "
          f"пользователь {args.user}, АРМы {args.workstations}. Ctrl+C — остановить.", flush=True)
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    print("Эмулятор ИРБИС64 остановлен.", flush=True)
    return 0
