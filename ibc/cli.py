"""Entry point of the `ibc` command: parses arguments, loads settings, dispatches lazily.

Each subcommand lives in its own module under `ibc.commands`; the module exposes
``register(subparsers)`` (argparse only, no heavy imports) and ``run(args, ctx) -> int``.
Heavy dependencies (Kivy, OpenCV, VLC, FastAPI) are imported inside ``run`` only, so that
``ibc import`` on a server without a display never loads Kivy, OpenCV or VLC.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from library import __version__

# Module names under ibc.commands, in the order they appear in `ibc --help`.
COMMANDS = [
    "db",
    "backup",
    "demo",
    "circulation",
    "holds",
    "scan",
    "projector",
    "media",
    "printer",
    "doctor",
    "import_",
    "export",
    "irbis",
    "report",
    "search",
    "places",
    "schools",
    "textbooks",
    "kiosk",
    "screenshot",
    "serve",
    "terminals",
    "tls",
    "discover",
    "queue",
    "z3950",
]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(prog="ibc", description="ИБЦ kiosk and library station")
    parser.add_argument("--version", action="version", version=f"ibc-kiosk {__version__}")
    parser.add_argument("--config", metavar="FILE", help="settings file (default /etc/ibc/ibc.toml)")
    parser.add_argument("--db", metavar="URL", help="database URL (overrides the settings)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"ibc.commands.{name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the `ibc` command; returns the process exit code. Everything it prints goes through
    `ibc.terminal_output` (stored values cannot drive the librarian's terminal)."""
    from ibc.terminal_output import escape_output

    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = escape_output(sys.stdout), escape_output(sys.stderr)
    try:
        return _main(argv)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = saved


def _main(argv: list[str] | None) -> int:
    from ibc.context import Context, ContextError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        ctx = Context.from_args(args)
    except ContextError as exc:
        print(f"ibc: {exc}", file=sys.stderr)
        return 2
    try:
        return int(args.run(args, ctx) or 0)
    except KeyboardInterrupt:
        print("ibc: interrupted", file=sys.stderr)
        return 130
    except ContextError as exc:
        print(f"ibc: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001  (the one place that turns bugs into a clear line)
        from library.errors import IbcError

        if os.environ.get("IBC_DEBUG"):
            raise
        kind = "error" if isinstance(exc, IbcError) else f"internal error ({type(exc).__name__})"
        print(f"ibc: {kind}: {exc}", file=sys.stderr)
        if not isinstance(exc, IbcError):
            print("ibc: run again with IBC_DEBUG=1 to see the details", file=sys.stderr)
        return 1
    finally:
        ctx.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
