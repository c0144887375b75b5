"""Secrets typed by a person at the command line (a reader's PIN, a librarian's password): never
from argv (it would stay in the shell's history and in `ps`), but from an interactive prompt asked
twice, or from the first line of stdin when it is not a terminal (scripts, tests)."""

from __future__ import annotations

import getpass
import sys


def read_secret(prompt: str, mismatch: str, *, limit: int, strip: bool = False) -> str | None:
    """The secret, or None when the two prompts differ (``mismatch`` is said on stderr) or
    nothing was given. ``limit`` bounds what is read from stdin; ``strip`` drops surrounding
    spaces (a PIN), else only the line end (a password may contain spaces)."""
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Ещё раз: ") != first:
            print(mismatch, file=sys.stderr)
            return None
        return (first.strip() if strip else first) or None
    line = sys.stdin.readline(limit)
    return (line.strip() if strip else line.rstrip("\r\n")) or None
