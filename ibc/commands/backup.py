"""`ibc backup [-o FILE] [--keep N]` and `ibc restore FILE`: whole-library backups.

The archive holds the database (SQLite online backup or pg_dump) and the media thumbnails with a
checksummed manifest; see library/backup.py. Restore first saves the current library to the
backup directory (unless --no-safety-backup), then replaces it and migrates to the newest schema.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from ibc.commands import Subparsers
    from ibc.context import Context
    from library.backup import BackupInfo


def register(sub: Subparsers) -> None:
    """Add the `backup` and `restore` subcommands."""
    p = sub.add_parser("backup", help="back up the database and media index into one archive")
    p.add_argument("-o", "--output", metavar="FILE", help="archive to write (default: a new "
                   "ibc-backup-<time>.tar.gz in <data dir>/backups)")
    p.add_argument("--keep", type=int, metavar="N", help="then keep only the newest N backups "
                   "in that directory")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)
    r = sub.add_parser("restore", help="restore a backup archive made by `ibc backup`")
    r.add_argument("file", metavar="FILE", help="the .tar.gz archive")
    r.add_argument("--check", action="store_true", help="only verify the archive, change nothing")
    r.add_argument("--no-safety-backup", action="store_true",
                   help="do not back up the current library before replacing it")
    r.add_argument("--json", action="store_true", help="machine-readable output")
    r.set_defaults(run=run_restore)


def _data_dir(ctx: Context) -> Path:
    from pathlib import Path

    from library.storage.database import default_data_dir

    return Path(ctx.settings.data_dir) if ctx.settings.data_dir else default_data_dir()


def _say(args: argparse.Namespace, info: BackupInfo, verb: str) -> None:
    if args.json:
        print(json.dumps(info.to_json(), ensure_ascii=False))
    else:
        print(f"{verb} {info.path}: {info.backend} schema {info.revision}, "
              f"{len(info.files)} files, made {info.created} by ibc {info.version}")


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Write a backup archive and optionally prune old ones."""
    from library.backup import BackupError, create_backup

    if args.keep is not None and args.keep < 1:
        print("ibc: --keep must be at least 1", file=sys.stderr)
        return 2
    try:
        info = create_backup(ctx.db, data_dir=_data_dir(ctx), output=args.output, keep=args.keep)
    except BackupError as exc:
        print(f"ibc: backup: {exc}", file=sys.stderr)
        return 1
    _say(args, info, "wrote")
    return 0


def run_restore(args: argparse.Namespace, ctx: Context) -> int:
    """Verify an archive and restore it into the configured database."""
    from library.backup import BackupError, check_revision, create_backup, read_backup, restore_backup

    try:
        if args.check:
            info = read_backup(args.file)
            check_revision(info.revision)
            _say(args, info, "ok")
            return 0
        read_backup(args.file)  # refuse a corrupt archive before touching anything
        if not args.no_safety_backup:
            safety = create_backup(ctx.db, data_dir=_data_dir(ctx))
            if not args.json:
                print(f"saved the current library to {safety.path}")
        info = restore_backup(ctx.db, args.file, data_dir=_data_dir(ctx))
    except BackupError as exc:
        print(f"ibc: restore: {exc}", file=sys.stderr)
        return 1
    _say(args, info, "restored")
    return 0
