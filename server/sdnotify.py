"""A tiny stdlib sd_notify: READY=1, WATCHDOG=1, STATUS=, STOPPING=1 for systemd Type=notify units.

No systemd Python package needed: systemd passes a datagram socket in ``$NOTIFY_SOCKET`` (a path,
or an abstract socket when it starts with ``@``) and the watchdog interval in ``$WATCHDOG_USEC``.
Outside systemd every call is a harmless no-op returning False.

Typical use in a long-running command (``ibc serve``)::

    from server import sdnotify
    sdnotify.ready("serving on :8470")             # once the socket is listening
    interval = sdnotify.watchdog_interval()         # seconds, or None when no watchdog
    # then call sdnotify.watchdog() every interval / 2 from the main loop, e.g. an asyncio task
    sdnotify.stopping()                             # on shutdown
"""

from __future__ import annotations

import os
import socket


def notify(*states: str, environ: dict[str, str] | None = None) -> bool:
    """Send state lines (e.g. "READY=1") to systemd; False when not run by systemd or on error."""
    env = os.environ if environ is None else environ
    address = env.get("NOTIFY_SOCKET", "")
    if not address or not states:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    elif not address.startswith("/"):
        return False  # vsock and other forms are not used by systemd for services
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall("\n".join(states).encode())
    except OSError:
        return False
    return True


def ready(status: str | None = None) -> bool:
    """Tell systemd start-up is complete (READY=1), optionally with a status line."""
    return notify("READY=1", *([f"STATUS={status}"] if status else []))


def watchdog() -> bool:
    """Ping the watchdog (WATCHDOG=1); call it at least every watchdog_interval() seconds."""
    return notify("WATCHDOG=1")


def status(text: str) -> bool:
    """Set the one-line status shown by `systemctl status`."""
    return notify(f"STATUS={text}")


def stopping() -> bool:
    """Tell systemd a clean shutdown has begun (STOPPING=1)."""
    return notify("STOPPING=1")


def watchdog_interval(environ: dict[str, str] | None = None) -> float | None:
    """The watchdog timeout in seconds when systemd expects pings from this process, else None."""
    env = os.environ if environ is None else environ
    usec, pid = env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid != str(os.getpid()):
        return None
    return int(usec) / 1_000_000
