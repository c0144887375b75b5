"""`ibc serve` under systemd's Type=notify: READY=1 once listening, WATCHDOG=1 pings, STOPPING=1."""

import os
import socket
import tempfile
import time


def test_serve_notifies_systemd(tmp_path, monkeypatch, serve):
    sockdir = tempfile.mkdtemp(prefix="ibcn", dir="/tmp")  # AF_UNIX paths must stay short
    path = os.path.join(sockdir, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setenv("WATCHDOG_USEC", "400000")  # ping every 0.2 s
    try:
        proc = serve(f"sqlite:///{tmp_path / 'n.sqlite3'}", "notify", advertise=False)
        got: list[str] = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (
                any("READY=1" in m for m in got) and sum("WATCHDOG=1" in m for m in got) >= 2):
            got.append(sock.recv(4096).decode())
        assert any("READY=1" in m for m in got), got
        assert sum("WATCHDOG=1" in m for m in got) >= 2, got
        assert proc.stop() == 0
        rest = []
        sock.settimeout(2)
        try:
            while True:
                rest.append(sock.recv(4096).decode())
        except TimeoutError:
            pass
        assert any("STOPPING=1" in m for m in rest), rest
    finally:
        sock.close()
        os.unlink(path)
        os.rmdir(sockdir)
