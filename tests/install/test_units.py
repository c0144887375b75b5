"""systemd units pass `systemd-analyze verify`; server.sdnotify speaks the NOTIFY_SOCKET protocol."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from server import sdnotify

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "systemd").glob("ibc-*.service")) + sorted((ROOT / "systemd").glob("*.timer"))
# Every command a unit starts and what provides it on the installed system.
PROVIDERS = {"/opt/ibc/bin/ibc": "install.sh (virtualenv)", "/usr/bin/cage": "package cage",
             "/usr/bin/xinit": "package xinit", "/usr/bin/Xorg": "package xserver-xorg-core",
             "/bin/sh": "package dash (essential)"}
SYSTEM_UNITS = next((p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system"))
                     if (p / "sysinit.target").exists()), None)


def _exec_paths(unit: Path) -> set[str]:
    paths = set()
    for line in unit.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() in ("ExecStart", "ExecStartPre", "ExecStop", "ExecReload"):
            paths.add(value.strip().lstrip("-@:+!").split()[0])
    return paths


def _verify(root: Path, unit: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["systemd-analyze", "verify", "--man=no", f"--root={root}", unit.name],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def fake_root(tmp_path):
    """A file-system root with the system's own units, ours, and stubs for the started programs."""
    if not shutil.which("systemd-analyze") or SYSTEM_UNITS is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze missing: apt-get install systemd (install.sh dev does)")
        pytest.skip("systemd-analyze not installed (apt-get install systemd)")
    root = tmp_path / "root"
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    for unit in UNITS:
        shutil.copy(unit, root / "etc/systemd/system" / unit.name)
    for path in PROVIDERS:
        stub = root / path.lstrip("/")
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)
    return root


def test_units_start_only_known_programs():
    """Each unit starts a program install.sh or a package puts in place (no invented paths)."""
    assert {u.name for u in UNITS} >= {"ibc-server.service", "ibc-kiosk.service",
                                       "ibc-backup.service", "ibc-backup.timer",
                                       "ibc-holds-expire.service", "ibc-holds-expire.timer",
                                       "ibc-irbis-sync.service", "ibc-irbis-sync.timer"}
    for unit in UNITS:
        assert _exec_paths(unit) <= set(PROVIDERS), unit.name
    assert "ExecStart=/usr/bin/cage -d -- /opt/ibc/bin/ibc kiosk" in (ROOT / "systemd/ibc-kiosk.service").read_text()


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_unit_verifies(fake_root, unit):
    """`systemd-analyze verify` is silent and succeeds on every unit."""
    proc = _verify(fake_root, unit)
    assert proc.returncode == 0 and not proc.stderr.strip() and not proc.stdout.strip(), proc.stderr


def test_verify_catches_mistakes(fake_root):
    """The check is real: a missing program and a misspelt key are reported."""
    server = fake_root / "etc/systemd/system/ibc-server.service"
    server.write_text(server.read_text().replace("WatchdogSec=", "WatchdogSecs="))
    assert "WatchdogSecs" in _verify(fake_root, server).stderr
    (fake_root / "usr/bin/cage").unlink()
    proc = _verify(fake_root, fake_root / "etc/systemd/system/ibc-kiosk.service")
    assert proc.returncode != 0 and "/usr/bin/cage" in proc.stderr


def test_server_unit_contract():
    """The server unit is Type=notify with a watchdog and the asked-for hardening."""
    text = (ROOT / "systemd/ibc-server.service").read_text()
    for line in ("Type=notify", "WatchdogSec=", "Restart=on-failure", "ProtectSystem=strict",
                 "PrivateTmp=true", "NoNewPrivileges=true", "ReadWritePaths=/var/lib/ibc",
                 "ExecStart=/opt/ibc/bin/ibc serve"):
        assert line in text


def _listen(tmp_path, abstract: bool):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if abstract:
        name = f"ibc-test-{os.getpid()}-{id(sock)}"
        sock.bind("\0" + name)
        address = "@" + name
    else:
        address = str(tmp_path / "notify")
        sock.bind(address)
    sock.settimeout(2)
    return sock, address


@pytest.mark.parametrize("abstract", [False, True])
def test_sdnotify_sends_datagrams(tmp_path, monkeypatch, abstract):
    """READY=1 with STATUS, WATCHDOG=1 and STOPPING=1 arrive on the socket systemd names."""
    sock, address = _listen(tmp_path, abstract)
    with sock:
        monkeypatch.setenv("NOTIFY_SOCKET", address)
        assert sdnotify.ready("serving on :8470")
        assert sock.recv(4096) == b"READY=1\nSTATUS=serving on :8470"
        assert sdnotify.watchdog()
        assert sock.recv(4096) == b"WATCHDOG=1"
        assert sdnotify.stopping()
        assert sock.recv(4096) == b"STOPPING=1"


def test_sdnotify_outside_systemd(monkeypatch):
    """Without NOTIFY_SOCKET (or with a dead one) every call is a quiet False."""
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sdnotify.ready() is False and sdnotify.watchdog() is False
    monkeypatch.setenv("NOTIFY_SOCKET", "/nonexistent/notify")
    assert sdnotify.watchdog() is False


def test_watchdog_interval():
    """WATCHDOG_USEC becomes seconds, only for the process WATCHDOG_PID names."""
    assert sdnotify.watchdog_interval({}) is None
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 30.0
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    mine = {"WATCHDOG_USEC": "5000000", "WATCHDOG_PID": str(os.getpid())}
    assert sdnotify.watchdog_interval(mine) == 5.0


def test_holds_expire_timer_runs_the_daily_job():
    """ibc-holds-expire.timer starts `ibc holds expire` each early morning, catching up after a
    power-off (Persistent), as the ibc service user; install.sh enables it for the server."""
    timer = (ROOT / "systemd/ibc-holds-expire.timer").read_text()
    service = (ROOT / "systemd/ibc-holds-expire.service").read_text()
    assert "OnCalendar=*-*-* 05:30:00" in timer and "Persistent=true" in timer
    assert "ExecStart=/opt/ibc/bin/ibc holds expire" in service and "User=ibc" in service
    script = (ROOT / "install.sh").read_text()
    assert "install_units ibc-server.service ibc-display.service ibc-backup.timer ibc-holds-expire.timer" in script
    assert "ibc-holds-expire.service ibc-holds-expire.timer" in script


def test_irbis_sync_timer_runs_every_15_minutes_and_does_nothing_unset():
    """ibc-irbis-sync.timer starts `ibc irbis sync --if-configured` every 15 minutes as the ibc
    user (exit 0 at once while [irbis] host is empty); install.sh installs, enables and starts
    it for the server role only."""
    timer = (ROOT / "systemd/ibc-irbis-sync.timer").read_text()
    service = (ROOT / "systemd/ibc-irbis-sync.service").read_text()
    assert "OnCalendar=*:0/15" in timer and "WantedBy=timers.target" in timer
    assert "ExecStart=/opt/ibc/bin/ibc irbis sync --if-configured" in service
    assert "User=ibc" in service and "Type=oneshot" in service
    script = (ROOT / "install.sh").read_text()
    assert "ibc-irbis-sync.service ibc-irbis-sync.timer)" in script
    enable = script.split("install_units ibc-server.service", 1)[1].split("else", 1)[0]
    assert "ibc-irbis-sync.timer" in enable  # enabled with the server's units, not a terminal's
    assert "systemctl start ibc-irbis-sync.timer" in script
