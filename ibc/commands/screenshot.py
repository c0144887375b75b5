"""`ibc screenshot`: render every kiosk screen in its main states offscreen, as PNG files.

Kivy allows one window per process, so each size is rendered by ``python -m kiosk.gallery`` in
its own subprocess (with SDL_VIDEODRIVER=offscreen: no display needed).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context

TIMEOUT_S = 600


def register(sub: Subparsers) -> None:
    """Add the `screenshot` subcommand."""
    p = sub.add_parser("screenshot", help="render the kiosk screens to PNG files (offscreen)")
    p.add_argument("--all", action="store_true", help="every screen in every main state (default)")
    p.add_argument("--only", default="", metavar="STATES", help="comma-separated state names")
    p.add_argument("-o", "--output", type=Path, default=Path("docs/screenshots"))
    p.add_argument("--size", default="1280x800,1920x1080", metavar="WxH[,WxH]",
                   help="window sizes (default 1280x800,1920x1080)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """One subprocess per size; prints what was written."""
    from kiosk.options import parse_size

    try:
        sizes = [parse_size(s) for s in args.size.split(",") if s.strip()]
    except ValueError as exc:
        print(f"ibc screenshot: {exc}", file=sys.stderr)
        return 2
    failed = 0
    for w, h in sizes:
        cmd = [sys.executable, "-m", "kiosk.gallery", "--size", f"{w}x{h}", "-o", str(args.output)]
        if args.only:
            cmd += ["--only", args.only]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S,
                                  check=False)
        except subprocess.TimeoutExpired:
            print(f"ibc screenshot: {w}x{h} timed out after {TIMEOUT_S} s", file=sys.stderr)
            failed += 1
            continue
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        summary = json.loads(lines[-1]) if lines else {"written": [], "errors": [proc.stderr[-2000:]]}
        for name in summary["written"]:
            print(args.output / name)
        for err in summary["errors"]:
            print(f"ibc screenshot: {w}x{h}: {err}", file=sys.stderr)
        failed += proc.returncode != 0
    return 1 if failed else 0
