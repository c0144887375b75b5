"""`ibc doctor` on this machine (no camera, no projector) and with a PJLink emulator configured."""

from __future__ import annotations

import json
import os

import pytest

from device.projector.emulator import ThreadedEmulator
from ibc.cli import main
from ibc.commands import doctor


@pytest.fixture
def config(monkeypatch, tmp_path):
    """Write an ibc.toml (loopback only: the printer is disabled so nothing multicasts)."""
    for name in list(os.environ):
        if name.startswith("IBC_"):
            monkeypatch.delenv(name)

    def write(extra: str = "") -> None:
        path = tmp_path / "ibc.toml"
        path.write_text(f'data_dir = "{tmp_path}"\n[scanner]\ncamera = "/nonexistent/video.mp4"\n'
                        f"[printer]\nenabled = false\n{extra}")
        monkeypatch.setenv("IBC_CONFIG", str(path))

    write()
    return write


def report(capsys) -> tuple[int, dict]:
    code = main(["doctor", "--json", "--timeout", "3"])
    rows = json.loads(capsys.readouterr().out)
    assert all(set(r) == {"check", "status", "detail", "hint"} for r in rows)
    return code, {r["check"]: r for r in rows}


def test_no_devices_gives_warnings_with_hints_and_exit_0(config, capsys):
    code, rows = report(capsys)
    assert code == 0
    assert rows["камера"]["status"] == "WARN" and "[scanner] camera" in rows["камера"]["hint"]
    assert rows["проектор"]["status"] == "WARN" and "не настроен" in rows["проектор"]["detail"]
    assert rows["сервер"]["status"] == "WARN"
    assert rows["база данных"]["status"] == "OK"
    assert rows["диск"]["status"] in ("OK", "WARN")


def test_text_output_says_warnings_are_normal(config, capsys):
    assert main(["doctor", "--timeout", "3"]) == 0
    out = capsys.readouterr().out
    assert "WARN проектор" in out and "ошибок нет" in out


def test_projector_emulator_reports_ok(config, capsys):
    with ThreadedEmulator() as emu:
        config(f'[projector]\nhost = "127.0.0.1"\nport = {emu.port}\n')
        code, rows = report(capsys)
    assert code == 0
    assert rows["проектор"]["status"] == "OK", rows["проектор"]


def test_unreachable_projector_fails_with_hint(config, capsys):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config(f'[projector]\nhost = "127.0.0.1"\nport = {port}\ntimeout_s = 1\n')
    code, rows = report(capsys)
    assert code == 1 and rows["проектор"]["status"] == "FAIL" and rows["проектор"]["hint"]


def test_crashing_check_becomes_fail_line():
    def boom(ctx, timeout):
        raise RuntimeError("сломалось")

    row = doctor.run_check("x", boom, None, 1.0)
    assert row.status == "FAIL" and "сломалось" in row.detail
