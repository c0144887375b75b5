"""The terminal's enrolment on disk: ``<data_dir>/terminal.json`` (name, token, server URL, and
the server's certificate — PEM and SHA-256 fingerprint — that the terminal trusts from then on;
both empty for a development server without TLS), readable by its owner only (0600), written by
``ibc terminals join CODE``."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

TERMINAL_FILE = "terminal.json"


def terminal_path(data_dir: str | Path) -> Path:
    """Where the terminal's name, token and server URL are kept."""
    return Path(data_dir) / TERMINAL_FILE


def load_terminal(data_dir: str | Path) -> dict | None:
    """The enrolment ({name, token, url}), or None when this terminal is not enrolled."""
    try:
        data = json.loads(terminal_path(data_dir).read_text(encoding="utf-8"))
    except (FileNotFoundError, PermissionError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("token") else None


def save_terminal(data_dir: str | Path, name: str, token: str, url: str = "",
                  server_cert: str = "", fingerprint: str = "", school: str | None = None) -> Path:
    """Write terminal.json readable by its owner only (0600), atomically; `school`: the sigla
    of the school the server enrolled it for."""
    path = terminal_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{TERMINAL_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"name": name, "token": token, "url": url,
                   "server_cert": server_cert, "fingerprint": fingerprint, "school": school,
                   "enrolled_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")},
                  out, ensure_ascii=False)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path
