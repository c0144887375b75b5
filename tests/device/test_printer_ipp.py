"""The IPP backend and DNS-SD discovery against a real ippeveprinter on 127.0.0.1.

ippeveprinter refuses to start without DNS-SD (it registers through avahi over D-Bus), so the
fixture starts a private dbus-daemon and an avahi-daemon limited to ``lo``; ippeveprinter then
advertises itself (``_ipp._tcp`` with rp/ty/UUID/pdl TXT) and python-zeroconf on 127.0.0.1
finds it through real multicast DNS. ``-c /bin/true`` makes jobs complete at once (without a
command ippeveprinter simulates a slow print); ``-k`` keeps the spooled PDF.
"""

from __future__ import annotations

import asyncio

# --- a real ippeveprinter on 127.0.0.1 -------------------------------------------------------
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from device.printer import PrinterUnavailable, find_printer, make_printer
from device.printer.discovery import choose_printer, discover_printers
from device.printer.ipp import IppPrinter

IPPEVEPRINTER = "/usr/sbin/ippeveprinter"

_DBUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path={socket}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/>
<allow receive_sender="*"/></policy></busconfig>
"""
_AVAHI_CONF = """[server]
use-ipv4=yes
use-ipv6=no
allow-interfaces=lo
enable-dbus=yes
[publish]
publish-addresses=yes
publish-hinfo=no
publish-workstation=no
"""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"ippeveprinter exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("ippeveprinter did not start listening")


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=3)


class IppEvePrinter:
    """Starts dbus-daemon + avahi-daemon (ippeveprinter refuses to run without DNS-SD) and
    ippeveprinter keeping spooled files in ``spool``; ``uri`` is its ipp:// address."""

    def __init__(self, tmp: Path, name: str = "IBC Test Printer") -> None:
        self.tmp = tmp
        self.name = name
        self.port = free_port()
        self.spool = tmp / "spool"
        self.uri = f"ipp://127.0.0.1:{self.port}/ipp/print"
        self._procs: list[subprocess.Popen] = []
        self.printer: subprocess.Popen | None = None

    @staticmethod
    def missing() -> str:
        """Why this cannot run here ('' when it can)."""
        for tool in (IPPEVEPRINTER, "dbus-daemon", "avahi-daemon"):
            if not shutil.which(tool):
                return f"{tool} not installed (apt-get install cups-ipp-utils avahi-daemon)"
        return ""

    def start(self, share: IppEvePrinter | None = None) -> IppEvePrinter:
        """Start everything (or reuse ``share``'s D-Bus + avahi) and wait for the printer."""
        self.spool.mkdir(parents=True, exist_ok=True)
        bus = (share or self).tmp / "bus"
        (self.tmp / "dbus.conf").write_text(_DBUS_CONF.format(socket=bus))
        (self.tmp / "avahi.conf").write_text(_AVAHI_CONF)
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={bus}")
        log = open(self.tmp / "daemons.log", "wb")  # noqa: SIM115
        try:
            if share is None:
                self._start_daemons(bus, env, log)
            self.printer = subprocess.Popen(
                [IPPEVEPRINTER, "-p", str(self.port), "-n", "localhost", "-d", str(self.spool),
                 "-f", "application/pdf", "-k", "-c", "/bin/true", self.name],
                env=env, stdout=log, stderr=log)
            _wait_port(self.port, self.printer)
        except Exception:
            self.stop()
            raise
        finally:
            log.close()
        return self

    def _start_daemons(self, bus: Path, env: dict, log) -> None:
        self._procs.append(subprocess.Popen(
            ["dbus-daemon", f"--config-file={self.tmp / 'dbus.conf'}", "--nofork"],
            stdout=log, stderr=log))
        deadline = time.monotonic() + 3
        while not bus.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        self._procs.append(subprocess.Popen(
            ["avahi-daemon", "-f", str(self.tmp / "avahi.conf"), "--no-drop-root",
             "--no-chroot", "--no-rlimits", "--no-proc-title"],
            env=env, stdout=log, stderr=log))
        time.sleep(0.3)

    def kill_printer(self) -> None:
        """Stop only ippeveprinter (the printer is 'switched off')."""
        _stop(self.printer)

    def stop(self) -> None:
        """Stop every process this helper started."""
        _stop(self.printer)
        for proc in reversed(self._procs):
            _stop(proc)
        self._procs.clear()

    def spooled(self) -> list[Path]:
        """Files ippeveprinter kept (-k)."""
        return sorted(p for p in self.spool.rglob("*") if p.is_file())


pytestmark = pytest.mark.skipif(bool(IppEvePrinter.missing()), reason=IppEvePrinter.missing())
LOOPBACK = ["127.0.0.1"]


def tiny_pdf() -> bytes:
    """A one-page PDF from reportlab with Cyrillic text."""
    from ibc.commands.printer import test_page_pdf

    return test_page_pdf()


@pytest.fixture(scope="module")
def ippeve(tmp_path_factory):
    server = IppEvePrinter(tmp_path_factory.mktemp("ippeve")).start()
    yield server
    server.stop()


def test_state_is_idle(ippeve):
    state = asyncio.run(IppPrinter(ippeve.uri, timeout=5).state())
    assert state.available and state.state == "idle" and state.ready
    assert state.uuid and state.describe() == "Принтер готов"


def test_print_pdf_completes_and_is_spooled(ippeve):
    data = tiny_pdf()

    async def go():
        printer = make_printer(uri=ippeve.uri, timeout=5)
        job = await printer.print_pdf(data, "Проверка печати")
        for _ in range(100):
            if await printer.job_state(job) == "completed":
                return job
            await asyncio.sleep(0.05)
        raise AssertionError("job did not complete")

    job = asyncio.run(go())
    assert job >= 1
    deadline = time.monotonic() + 3
    while not ippeve.spooled() and time.monotonic() < deadline:
        time.sleep(0.05)
    pdfs = [p for p in ippeve.spooled() if p.read_bytes().startswith(b"%PDF")]
    assert pdfs, ippeve.spooled()


def test_discovery_finds_printer_by_uuid_and_prints(ippeve):
    async def go():
        from zeroconf.asyncio import AsyncZeroconf

        uuid = (await IppPrinter(ippeve.uri, timeout=5).state()).uuid
        aiozc = AsyncZeroconf(interfaces=LOOPBACK)
        try:
            found = await choose_printer(aiozc, "IBC Test Printer", timeout=5)
            listed = await discover_printers(aiozc, timeout=1.0)
            settings = type("S", (), {"uri": "", "name": "ibc test printer"})()
            printer = await find_printer(settings, aiozc, timeout=5)
            job = await printer.print_pdf(tiny_pdf(), "discovered")
            return uuid, found, listed, job
        finally:
            await aiozc.async_close()

    uuid, found, listed, job = asyncio.run(go())
    assert found.uuid == uuid.lower() and found.uri == ippeve.uri
    assert found.accepts_pdf and found.make_and_model == "Example Printer"
    assert [p.uuid for p in listed] == [uuid.lower()]
    assert job >= 1


def test_stopped_printer_is_unavailable(ippeve, tmp_path):
    server = IppEvePrinter(tmp_path, name="IBC Second Printer").start(share=ippeve)
    try:
        assert asyncio.run(IppPrinter(server.uri, timeout=3).state()).available
        server.kill_printer()
        with pytest.raises(PrinterUnavailable, match="does not answer"):
            asyncio.run(IppPrinter(server.uri, timeout=3).state())
        with pytest.raises(PrinterUnavailable):
            asyncio.run(IppPrinter(server.uri, timeout=3).print_pdf(tiny_pdf()))
    finally:
        server.stop()
