"""`ibc doctor [--json]`: one OK/WARN/FAIL line per device and service, with a Russian fix hint.

Missing hardware is WARN (a server or a developer machine has no camera); FAIL is reserved for
what is configured but broken, and for a check that crashed or timed out. Exit code 1 only
when something FAILs. Each check runs in a daemon thread bounded by a timeout, so one hanging
device (a camera driver, an unroutable projector) cannot hang the command.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from device.printer import Printer, PrinterState
    from ibc.commands import Subparsers
    from ibc.context import Context

CONFIG_HINT = "/etc/ibc/ibc.toml"


@dataclass
class Check:
    """One line of the report."""

    check: str
    status: str
    detail: str
    hint: str = ""


def register(sub: Subparsers) -> None:
    """Add the `doctor` subcommand (argparse only, nothing heavy imported)."""
    p = sub.add_parser("doctor", help="check cameras, scanners, printer, projector, "
                                      "video and sound, database, disk")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds allowed per check")
    p.set_defaults(run=run)


def check_camera(ctx: Context, timeout: float) -> Check:
    """The configured camera opens with OpenCV; lists /dev/video*."""
    import glob

    devices = sorted(glob.glob("/dev/video*"))
    source = ctx.settings.scanner.camera
    if not source:
        return Check("камера", "WARN", "камера отключена ([scanner] camera пуст)",
                     f"укажите [scanner] camera в {CONFIG_HINT}, если нужна камера")
    import cv2

    cap = cv2.VideoCapture(int(source) if source.isdigit() else source)
    try:
        opened = cap.isOpened()
    finally:
        cap.release()
    found = f"устройства: {', '.join(devices)}" if devices else "нет /dev/video*"
    if opened:
        return Check("камера", "OK", f"камера {source} открыта; {found}")
    return Check("камера", "WARN", f"камера {source} не открывается; {found}",
                 f"Камера не найдена: подключите веб-камеру или укажите [scanner] camera "
                 f"в {CONFIG_HINT}")


def check_usb_scanner(ctx: Context, timeout: float) -> Check:
    """USB keyboard-wedge scanners show up as /dev/input/by-id/*kbd*."""
    import glob
    import os

    names = [os.path.basename(p) for p in sorted(glob.glob("/dev/input/by-id/*kbd*"))]
    if names:
        return Check("USB-сканер", "OK", "клавиатурные устройства: " + ", ".join(names))
    return Check("USB-сканер", "WARN", "USB-сканер (клавиатурное устройство) не найден",
                 "подключите сканер штрихкодов к USB или сканируйте камерой")


def check_printer(ctx: Context, timeout: float) -> Check:
    """The configured URI answers, or DNS-SD finds a printer."""
    import asyncio

    from device.printer import PrinterError, find_printer

    conf = ctx.settings.printer
    if not conf.enabled:
        return Check("принтер", "OK", "печать отключена ([printer] enabled = false)")

    async def go() -> tuple[Printer, PrinterState]:
        from zeroconf.asyncio import AsyncZeroconf

        aiozc = None if conf.uri else AsyncZeroconf()
        try:
            printer = await find_printer(conf, aiozc, timeout=min(timeout, 3.0))
            return printer, await printer.state()
        finally:
            if aiozc is not None:
                await aiozc.async_close()

    try:
        printer, state = asyncio.run(go())
    except PrinterError as exc:
        if conf.uri:
            return Check("принтер", "FAIL", f"{conf.uri} не отвечает: {exc}",
                         "включите МФУ и проверьте сеть или исправьте [printer] uri")
        return Check("принтер", "WARN", "принтер в сети не найден (DNS-SD _ipp._tcp)",
                     f"включите МФУ в сети школы или укажите [printer] uri в {CONFIG_HINT}")
    status = "OK" if state.ready else "WARN"
    where = getattr(printer, "uri", "")  # find_printer gives an IppPrinter; the Protocol has no uri
    return Check("принтер", status, f"{where}: {state.describe()}",
                 "" if state.ready else "устраните неисправность на панели принтера")


def check_projector(ctx: Context, timeout: float) -> Check:
    """PJLink status of the configured projector."""
    import asyncio

    from device.projector import ProjectorError, make_projector

    conf = ctx.settings.projector
    if not conf.host:
        return Check("проектор", "WARN", "проектор не настроен ([projector] host пуст)",
                     f"укажите адрес проектора в [projector] host в {CONFIG_HINT} "
                     "(или найдите его: ibc projector discover)")
    projector = make_projector("pjlink", host=conf.host, port=conf.port,
                               password=conf.password or None, timeout=min(timeout, conf.timeout_s))
    try:
        power = asyncio.run(projector.power_state())
    except ProjectorError as exc:
        return Check("проектор", "FAIL", f"{conf.host}:{conf.port} — {exc}",
                     "включите проектор в сеть, проверьте адрес и пароль PJLink")
    state = {"on": "включён", "standby": "в режиме ожидания", "cooling": "остывает",
             "warming": "прогревается"}.get(power.label, power.label)
    return Check("проектор", "OK", f"{conf.host}:{conf.port}, питание: {state}")


def check_server(ctx: Context, timeout: float) -> Check:
    """A fixed server URL accepts TCP connections (the API itself does not exist yet)."""
    import socket
    from urllib.parse import urlsplit

    url = ctx.settings.server.url
    if not url:
        return Check("сервер", "WARN", "сервер не настроен ([server] url пуст)",
                     f"укажите [server] url в {CONFIG_HINT}; поиск сервера через zeroconf "
                     "ещё не реализован")
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=min(timeout, 3.0)):
            pass
    except OSError as exc:
        return Check("сервер", "FAIL", f"{url} не отвечает: {exc}",
                     "проверьте, что сервер ИБЦ запущен и доступен по сети")
    return Check("сервер", "OK", f"{url}: порт {port} открыт (API сервера ещё не проверяется)")


def check_database(ctx: Context, timeout: float) -> Check:
    """The database opens; its schema revision equals the shipped head."""
    from library.storage.migrate import current_revision, head_revision

    db = ctx.db
    current, head = current_revision(db), head_revision()
    where = db.url.render_as_string(hide_password=True)
    if current == head:
        return Check("база данных", "OK", f"{where}, схема {current}")
    return Check("база данных", "FAIL", f"{where}: схема {current}, нужна {head}",
                 "выполните: ibc db upgrade")


def check_disk(ctx: Context, timeout: float) -> Check:
    """Free space where the data directory lives (warn under 1 GB)."""
    import shutil
    from pathlib import Path

    from library.storage.database import default_data_dir

    path = Path(ctx.settings.data_dir) if ctx.settings.data_dir else default_data_dir()
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    detail = f"{path}: свободно {free / 2**30:.1f} ГБ"
    if free < 2**30:
        return Check("диск", "WARN", detail, "освободите место на диске (меньше 1 ГБ)")
    return Check("диск", "OK", detail)


def check_playback(ctx: Context, timeout: float) -> Check:
    """A test pattern with a tone through the real video and audio outputs (media/selftest.py)."""
    from media.selftest import check_playback as run_playback

    media = ctx.settings.media
    report = run_playback(media.display, media.audio_output, timeout=timeout)
    return Check("видео и звук", report.status, report.detail, report.hint)


CHECKS = [("камера", check_camera), ("USB-сканер", check_usb_scanner),
          ("принтер", check_printer), ("проектор", check_projector),
          ("видео и звук", check_playback),
          ("сервер", check_server), ("база данных", check_database), ("диск", check_disk)]


def run_check(name: str, func: Callable[[Context, float], Check], ctx: Context,
              timeout: float) -> Check:
    """Run one check in a daemon thread; a crash or timeout becomes a FAIL line."""
    box: list[Check] = []

    def target() -> None:
        try:
            box.append(func(ctx, timeout))
        except BaseException as exc:  # noqa: BLE001  (a check must never print a traceback)
            box.append(Check(name, "FAIL", f"проверка завершилась ошибкой: "
                                           f"{type(exc).__name__}: {exc}",
                             "запустите ibc doctor ещё раз; если повторяется — сообщите "
                             "разработчикам"))

    thread = threading.Thread(target=target, name=f"doctor-{name}", daemon=True)
    thread.start()
    thread.join(timeout + 2.0)
    if not box:
        return Check(name, "FAIL", f"проверка не уложилась в {timeout:g} с",
                     "устройство зависло: переподключите его")
    return box[0]


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Run every check and print the report; 1 if any check FAILs."""
    results = [run_check(name, func, ctx, args.timeout) for name, func in CHECKS]
    if args.json:
        print(json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=2))
    else:
        for r in results:
            print(f"{r.status:<4} {r.check}: {r.detail}")
            if r.hint and r.status != "OK":
                print(f"     → {r.hint}")
        fails = sum(r.status == "FAIL" for r in results)
        warns = sum(r.status == "WARN" for r in results)
        if fails:
            print(f"Итог: ошибок {fails}, предупреждений {warns}.", file=sys.stdout)
        elif warns:
            print(f"Итог: ошибок нет, предупреждений {warns} (часть устройств не найдена "
                  "или не настроена — для этого компьютера это может быть нормально).")
        else:
            print("Итог: всё в порядке.")
    return 1 if any(r.status == "FAIL" for r in results) else 0
