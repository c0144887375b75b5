"""`ibc z3950 build|serve|config`: the Z39.50 front on Debian's Zebra (docs/Z3950.md).

`build [DIR]` exports the public catalogue and indexes it into a fresh Zebra register, then swaps
it in (the nightly ibc-z3950-build.timer runs it); `serve [DIR]` runs zebrasrv on it
(ibc-z3950.service); `config [DIR]` only writes the configuration. DIR defaults to `[z3950] dir`
(empty: <data dir>/z3950). Without DIR, build and serve do nothing while `[z3950] enabled` is
false. Exit codes: 0 done (or off), 1 failed (the previous register keeps serving), 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context


def register(sub: Subparsers) -> None:
    """Add the `z3950` subcommand (argparse only)."""
    p = sub.add_parser("z3950", help="Z39.50 for other library systems (Zebra): build the nightly "
                                     "register, serve it")
    psub = p.add_subparsers(dest="z3950_action", metavar="ACTION", required=True)
    b = psub.add_parser("build", help="export the public catalogue and index it into a fresh "
                                      "register (the nightly timer)")
    b.add_argument("dir", nargs="?", help="the Zebra directory (default: [z3950] dir)")
    b.add_argument("--json", action="store_true", help="print the counts as JSON")
    s = psub.add_parser("serve", help="run zebrasrv on the current register (systemd unit)")
    s.add_argument("dir", nargs="?", help="the Zebra directory (default: [z3950] dir)")
    c = psub.add_parser("config", help="write the Zebra configuration only")
    c.add_argument("dir", nargs="?", help="the Zebra directory (default: [z3950] dir)")
    p.set_defaults(run=run)


def zebra_dir(ctx: Context, given: str | None) -> str:
    """DIR as given, else `[z3950] dir`, else <data dir>/z3950."""
    if given:
        return given
    if ctx.settings.z3950.dir:
        return ctx.settings.z3950.dir
    from library.storage.database import default_data_dir

    return os.path.join(ctx.settings.data_dir or str(default_data_dir()), "z3950")


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Carry out one action."""
    from library.marc.zebra import ZebraError, build, current_register, write_config, zebrasrv_command

    conf = ctx.settings.z3950
    root = zebra_dir(ctx, args.dir)
    if args.z3950_action in ("build", "serve") and not args.dir and not conf.enabled:
        print("ibc z3950: off ([z3950] enabled = false in the settings); nothing to do")
        return 0
    try:
        if args.z3950_action == "config":
            print(write_config(root, listen=conf.listen, port=conf.port))
            return 0
        if args.z3950_action == "serve":
            base = write_config(root, listen=conf.listen, port=conf.port)
            if current_register(base) is None:
                print(f"ibc z3950: no register in {base} yet: run `ibc z3950 build` first",
                      file=sys.stderr)
                return 1
            cmd = zebrasrv_command(base)
            sys.stdout.flush()
            try:
                os.execvp(cmd[0], cmd)  # noqa: S606  (zebrasrv replaces this process)
            except FileNotFoundError:
                raise ZebraError("zebrasrv not found: install Debian's idzebra-2.0 "
                                 "(./install.sh server --z3950)") from None
        report = build(ctx.db, root, listen=conf.listen, port=conf.port)
    except (ZebraError, OSError) as exc:
        print(f"ibc z3950: {exc}", file=sys.stderr)
        print("ibc z3950: the previous register (if any) keeps serving", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        print(f"{report.register}: {report.records} records indexed "
              f"({report.skipped} skipped, {report.holdings} school holdings) "
              f"in {report.seconds:.1f} s; now serving")
        for w in report.warnings[:10]:
            print(f"  warning: {w}")
    return 0
