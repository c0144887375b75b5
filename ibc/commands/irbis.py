"""`ibc irbis emulate`: an ИРБИС64 server emulator for tests and demos (ils/irbis/emulator.py);
`ibc irbis sync`: the catalogue sync from the ИРБИС64 server of `[irbis]` (ils/irbis/sync.py).

    ibc irbis sync [--json] [--full] [--batch-size N] [--if-configured]

sync exits 0 when the run completed (some records may be reported as not mapped), 1 when the
server failed (unreachable, timed out, stopped mid-run: what was written stays, the next run
goes on), 2 for bad settings (no host or user; wrong password, workstation or database).
With --if-configured (the systemd timer) an empty `[irbis] host` exits 0 quietly.

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
from typing import IO, TYPE_CHECKING

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
    sy = psub.add_parser("sync", help="загрузить изменения каталога из ИРБИС64 (настройки [irbis])")
    sy.add_argument("--json", action="store_true", help="отчёт в JSON")
    sy.add_argument("--full", action="store_true",
                    help="перезаписать все записи, даже не изменившиеся (после смены настроек)")
    sy.add_argument("--batch-size", type=int, default=100, metavar="N",
                    help="записей за один запрос и одну транзакцию (по умолчанию 100)")
    sy.add_argument("--if-configured", action="store_true",
                    help="без [irbis] host ничего не делать и выйти с кодом 0 (для таймера)")
    from ibc.commands.irbis_push import add_parser as add_push

    add_push(psub)  # `ibc irbis push`: the ИРБИС outbox (ibc/commands/irbis_push.py)
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Execute `ibc irbis <action>`; returns the exit code."""
    if args.irbis_action == "emulate":
        return _emulate(args)
    if args.irbis_action == "sync":
        return _sync(args, ctx)
    if args.irbis_action == "push":
        from ibc.commands.irbis_push import run_push

        return run_push(args, ctx)
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


# Errors that say the settings are wrong, not that the server is down: exit 2.
_SETTINGS_ERRORS = ("irbis_auth", "irbis_no_rights", "irbis_database_unknown")


def _sync(args: argparse.Namespace, ctx: Context) -> int:
    conf = ctx.settings.irbis
    if not conf.host:
        if args.if_configured:
            return 0
        print("ibc irbis sync: сервер ИРБИС не задан: укажите [irbis] host в настройках "
              "(или IBC_IRBIS__HOST)", file=sys.stderr)
        return 2
    if not conf.user:
        print("ibc irbis sync: не задан пользователь ИРБИС: [irbis] user", file=sys.stderr)
        return 2
    if not 1 <= args.batch_size <= 1000:
        print("ibc irbis sync: --batch-size от 1 до 1000", file=sys.stderr)
        return 2
    try:
        lock = _one_at_a_time(ctx)
    except OSError as exc:
        print(f"ibc irbis sync: нет доступа к каталогу данных: {exc}", file=sys.stderr)
        return 1
    if lock is None:
        print("ibc irbis sync: синхронизация с ИРБИС уже идёт (другой запуск); этот пропущен",
              file=sys.stderr)
        return 0 if args.if_configured else 1
    with lock:
        return _sync_locked(args, ctx)


def _one_at_a_time(ctx: Context) -> IO[str] | None:
    """An exclusive lock on <data_dir>/irbis-sync.lock (released when the process ends, even
    killed), or None while another run holds it: the timer's run and one started by hand must
    not write the same records at once."""
    import fcntl
    from pathlib import Path

    from library.storage.database import default_data_dir

    folder = Path(ctx.settings.data_dir) if ctx.settings.data_dir else default_data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    handle = open(folder / "irbis-sync.lock", "a")  # noqa: SIM115 - closed by the caller's with
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def _sync_locked(args: argparse.Namespace, ctx: Context) -> int:
    import json

    from ibc.wiring import search_indexer
    from ils.irbis.errors import IrbisError, translator
    from ils.irbis.sync import SyncInterrupted, client_for, sync_catalogue

    conf = ctx.settings.irbis
    ru = translator("ru")
    client = client_for(conf)
    error: IrbisError | None = None
    report = None
    try:
        report = sync_catalogue(ctx.db, client, conf.database, school_sigla=ctx.settings.school.sigla,
                                holding=conf.sigla, full=args.full, batch_size=args.batch_size,
                                on_batch=search_indexer())
    except SyncInterrupted as exc:
        error, report = exc.cause, exc.report
    except IrbisError as exc:
        error = exc
    except Exception as exc:  # noqa: BLE001 - one clear line instead of a traceback
        from sqlalchemy.exc import SQLAlchemyError

        from ibc.context import ContextError
        from library.errors import IbcError

        if not isinstance(exc, (SQLAlchemyError, IbcError, ContextError)):
            raise
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        print(f"ibc irbis sync: ошибка базы данных: {reason}", file=sys.stderr)
        return 1
    finally:
        client.disconnect()
    if args.json:
        out = report.as_dict() if report is not None else {"database": conf.database,
                                                            "completed": False}
        if error is not None:
            out["error"] = {**error.to_dict(), "message": error.message(ru)}
        print(json.dumps(out, ensure_ascii=False))
    elif report is not None:
        print(f"ИРБИС {conf.host}:{conf.port}, база {conf.database}: прочитано {report.read}, "
              f"добавлено {report.added}, обновлено {report.updated}, удалено {report.deleted}, "
              f"без изменений {report.unchanged}, не загружено {report.skipped}")
        for e in report.errors[:20]:
            print(f"  MFN {e['mfn']}: {e['reason']}")
        if len(report.errors) > 20 or report.skipped > len(report.errors):
            print(f"  … всего не загружено {report.skipped}; полный список: --json")
    if error is not None:
        where = "" if report is None or not report.read else " Записанное сохранено; следующий " \
                                                              "запуск продолжит."
        print(f"ibc irbis sync: {error.message(ru).rstrip('.')}.{where}", file=sys.stderr)
        return 2 if error.code in _SETTINGS_ERRORS else 1
    return 0
