"""`ibc projector ...` against the emulator (running in a thread, since the CLI owns its loop)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from config.settings import load_settings
from device.projector.emulator import ThreadedEmulator
from device.projector.model import ProjectorModel
from device.projector.values import PowerState
from ibc.cli import main
from ibc.commands import projector as command

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    """No settings from the developer's environment or /etc leak into these tests."""
    for name in list(os.environ):
        if name.startswith("IBC_"):
            monkeypatch.delenv(name)
    config = tmp_path / "ibc.toml"
    config.write_text("")
    monkeypatch.setenv("IBC_CONFIG", str(config))


def ibc(capsys, *argv):
    code = main(["projector", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def test_cli_full_cycle(capsys):
    model = ProjectorModel(warm_up_s=0.1, cool_down_s=0.1)
    with ThreadedEmulator(model, password="pw", udp_port=0) as emu:
        where = ["--host", HOST, "--port", str(emu.port), "--password", "pw", "--timeout", "2"]
        code, out, _ = ibc(capsys, "status", "--json", *where)
        assert code == 0 and json.loads(out)["power"] == "standby"
        code, _, err = ibc(capsys, "input", "HDMI1", *where)
        assert code == 1 and "ERR3" in err and err.count("\n") == 1
        code, out, _ = ibc(capsys, "on", "--wait", *where)
        assert (code, out.strip()) == (0, f"Проектор {HOST}:{emu.port}: включён")
        code, out, _ = ibc(capsys, "input", "HDMI2", *where)
        assert code == 0 and "DIGITAL3 (33)" in out
        code, out, _ = ibc(capsys, "mute", "on", "--target", "video", *where)
        assert code == 0 and "включена" in out
        code, out, _ = ibc(capsys, "status", *where)
        assert "включён" in out and "DIGITAL3 (33)" in out and "изображение" in out
        assert "1200 ч" in out
        code, out, _ = ibc(capsys, "discover", "--json", "--host", HOST,
                           "--port", str(emu.udp_port), "--timeout", "0.3")
        assert json.loads(out) == [{"mac": "02:00:00:00:43:52", "address": HOST}]
        code, out, _ = ibc(capsys, "off", "--json", "--wait", *where)
        assert json.loads(out)["power"] == "standby"


def test_cli_errors_are_one_russian_line(capsys):
    port = free_port()
    code, _, err = ibc(capsys, "status", "--host", HOST, "--port", str(port))
    assert code == 1 and err.startswith("ibc projector: Нет связи с проектором: ")
    with ThreadedEmulator(password="secret", udp_port=0) as emu:
        code, _, err = ibc(capsys, "status", "--host", HOST, "--port", str(emu.port),
                           "--password", "wrong")
        assert code == 1 and "отклонил пароль" in err
        code, _, err = ibc(capsys, "input", "HDMI9", "--host", HOST, "--port", str(emu.port))
        assert code == 2 and "неверный аргумент" in err
        code, _, err = ibc(capsys, "mute", "--host", HOST, "--port", str(emu.port))
        assert code == 2 and "mute on" in err


def test_cli_timeout_message(capsys):
    async def silent(reader, writer):
        await reader.read()
        writer.close()

    ready = threading.Event()
    box = {}

    def serve():
        async def body():
            server = await asyncio.start_server(silent, HOST, 0)
            box["port"] = server.sockets[0].getsockname()[1]
            box["stop"] = asyncio.Event()
            box["loop"] = asyncio.get_running_loop()
            ready.set()
            async with server:
                await box["stop"].wait()
        asyncio.run(body())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        assert ready.wait(5)
        code, _, err = ibc(capsys, "status", "--host", HOST, "--port", str(box["port"]),
                           "--timeout", "0.2")
        assert code == 1
        assert err.strip() == f"ibc projector: Проектор не отвечает: {HOST}:{box['port']} (timeout)"
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(5)


def test_run_uses_settings_and_flags_override(capsys):
    with ThreadedEmulator(udp_port=0) as emu:
        emu_port = emu.port
        settings = load_settings(environ={}, overrides={
            "projector": {"host": HOST, "port": emu_port, "input": "DIGITAL1"}})
        ctx = SimpleNamespace(settings=settings)
        base = dict(value=None, host=None, port=None, password=None, timeout=None,
                    target="both", wait=False, json=True)
        assert command.run(SimpleNamespace(action="status", **base), ctx) == 0
        assert json.loads(capsys.readouterr().out)["address"] == f"{HOST}:{emu_port}"
        emu.model.set_power_now(PowerState.ON)
        assert command.run(SimpleNamespace(action="input", **base), ctx) == 0
        assert json.loads(capsys.readouterr().out)["input"] == "31"  # settings' input
        overridden = dict(base, port=free_port())
        assert command.run(SimpleNamespace(action="status", **overridden), ctx) == 1
        assert "Нет связи" in capsys.readouterr().err


def test_register_is_light():
    code = ("import sys, argparse; import ibc.commands.projector as m; "
            "m.register(argparse.ArgumentParser().add_subparsers()); "
            "print([n for n in sys.modules if n.startswith('device.projector') or n == 'asyncio'])")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=30, check=True, cwd=ROOT, env=env).stdout
    assert out.strip() == "[]"
