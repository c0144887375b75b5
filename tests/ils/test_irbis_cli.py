"""`ibc irbis emulate` as a process: it serves until Ctrl+C, keeps writes in its SQLite store
across a restart, and says what is wrong in one Russian line."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from irbis_fixtures import HOST, free_port

from ils.irbis import IrbisClient, IrbisUnavailable
from ils.irbis.emulator import IrbisEmulator, demo_readers


def start(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "ibc", "irbis", "emulate", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, line


def stop(proc: subprocess.Popen) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=15)
    return proc.returncode, out


def wait_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            with IrbisClient(HOST, port, "kiosk", "pw", workstation="B", timeout=1) as c:
                c.nop()
                return
        except IrbisUnavailable:
            assert time.monotonic() < deadline, "the emulator did not start"
            time.sleep(0.1)


def test_emulate_serves_until_interrupted_and_keeps_its_store(tmp_path):
    store = tmp_path / "irbis.sqlite"
    port = free_port()
    args = ("--port", str(port), "--user", "kiosk", "--password", "pw", "--workstations", "BC",
            "--demo-readers", "4", "--store", str(store))
    proc, banner = start(*args)
    try:
        assert f"слушает {HOST}:{port}" in banner and "RDR (записей: 4)" in banner
        wait_port(port)
        with IrbisClient(HOST, port, "kiosk", "pw", workstation="B", timeout=5) as c:
            [mfn] = c.search("RDR", "RI=2000000101")
            reader = c.read_record("RDR", mfn, lock=True)
            reader.add_field(40, subfields=[("b", "1001"), ("f", "******")])
            assert c.write_record("RDR", reader).version == 2
    finally:
        code, out = stop(proc)
    assert code == 0 and "остановлен" in out
    proc, banner = start(*args)
    try:
        wait_port(port)
        with IrbisClient(HOST, port, "kiosk", "pw", workstation="B", timeout=5) as c:
            again = c.read_record("RDR", 1)
            assert again.version == 2 and again.first(40, "f") == "******"
    finally:
        assert stop(proc)[0] == 0


def test_emulate_loads_a_readers_file(tmp_path):
    """--readers: an RDR database from an ISO 2709 file (written here by library.marc)."""
    from ils.irbis.record import to_marc
    from library.marc.iso2709 import encode_record

    path = tmp_path / "rdr.iso"
    path.write_bytes(b"".join(encode_record(to_marc(r), "cp1251") for r in demo_readers(3)))
    port = free_port()
    proc, banner = start("--port", str(port), "--user", "u", "--password", "p",
                         "--readers", str(path))
    try:
        assert "RDR (записей: 3)" in banner and "IBIS (записей: 0)" in banner
        wait_port_user(port)
        with IrbisClient(HOST, port, "u", "p", timeout=5) as c:
            assert c.search("RDR", "RI=2000000107") == [2]
            assert c.read_record("RDR", 2).first(10) == "Смирнова"
    finally:
        assert stop(proc)[0] == 0


def wait_port_user(port: int) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            with IrbisClient(HOST, port, "u", "p", timeout=1):
                return
        except IrbisUnavailable:
            assert time.monotonic() < deadline
            time.sleep(0.1)


@pytest.mark.parametrize(("args", "code", "text"), [
    (("--readers", "x.iso", "--demo-readers", "2"), 2, "либо --readers, либо --demo-readers"),
    (("--workstations", "XYZ"), 2, "неизвестные АРМы"),
    (("--catalogue", "/nonexistent/ibis.iso"), 1, "не удалось прочитать файл"),
])
def test_emulate_usage_errors_are_one_russian_line(args, code, text):
    proc = subprocess.run([sys.executable, "-m", "ibc", "irbis", "emulate", "--port", "0",
                           "--user", "u", "--password", "p", *args],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == code
    assert text in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_emulate_port_taken_is_a_clear_error():
    emu = IrbisEmulator({"u": ("p", "C")})
    host, port = emu.start()
    try:
        proc = subprocess.run([sys.executable, "-m", "ibc", "irbis", "emulate", "--port", str(port),
                               "--user", "u", "--password", "p"],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1
        assert f"Эмулятор ИРБИС: cannot listen on {host}:{port}" in proc.stderr
    finally:
        emu.stop()
