"""`ibc terminals join CODE`: enrol this terminal with the school server (run on the terminal).

The technician prints a one-time code on the server (`ibc terminals enroll`) and runs
``ibc terminals join CODE`` on the terminal. The code is the server's one-time secret plus a check
of the server's TLS certificate (library/tls.py): the terminal reads the certificate the server
shows, refuses it — sending nothing — unless it passes the check, shows its fingerprint, posts
the secret with its name over a connection that trusts only that certificate, and keeps the
token and the certificate in ``<data_dir>/terminal.json`` (mode 0600). `ibc kiosk` then runs in
terminal mode and trusts that certificate only. A code without the check (a server with
``[server] tls = "off"``) is accepted only by a terminal with the same development setting.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context
    from library.tls import EnrolmentCode


def add_parser(tsub: Subparsers) -> None:
    """Add `join` under `ibc terminals`."""
    j = tsub.add_parser("join", help="enrol THIS terminal with a code from `ibc terminals enroll`")
    j.add_argument("code", nargs="?", default="",
                   help="the one-time enrolment code (or --camera: read its QR code)")
    j.add_argument("--camera", nargs="?", const="settings", default=None, metavar="SOURCE",
                   help="read the code's QR code from the desk's screen with the camera "
                        "(default: [scanner] camera; a device number, /dev/videoN or a video file)")
    j.add_argument("--camera-wait", type=float, default=60.0, metavar="S",
                   help="seconds to wait for the QR code (default 60)")
    j.add_argument("--name", default=socket.gethostname(), help="terminal name (default: host name)")
    j.add_argument("--url", default="", help="server URL (default: [server] url, else zeroconf)")
    j.add_argument("--wait", type=float, default=5.0, metavar="S",
                   help="seconds to look for the server over zeroconf")


def code_from_camera(camera: str, wait_s: float) -> str | None:
    """The first QR code the camera (or a video file) shows that reads as an enrolment code
    (the desk's «Код подключения терминала» page shows it), or None after `wait_s` seconds or
    at the end of a video file. Uses the kiosk's scanner pipeline (device/scanner)."""
    import queue

    from device.scanner.camera import CameraSource
    from device.scanner.codes import Format
    from device.scanner.errors import CameraUnavailable
    from library.tls import EnrolCodeError, parse_enrolment_code

    seen: queue.Queue[str] = queue.Queue()
    source = CameraSource(camera, formats=[Format.QR], confirm_frames=1, roi=None,
                          name="join-camera")
    try:
        source.start(lambda code: seen.put(code.value))
    except CameraUnavailable as exc:
        print(f"ibc terminals join: камера {camera}: {exc}", file=sys.stderr)
        return None
    print("Покажите камере QR-код со страницы «Код подключения терминала»…", file=sys.stderr)
    deadline = time.monotonic() + wait_s
    try:
        while time.monotonic() < deadline:
            try:
                value = seen.get(timeout=0.2)
            except queue.Empty:
                if source.finished.is_set() and seen.empty():
                    return None  # a video file ended, or the camera stopped
                continue
            try:
                parsed = parse_enrolment_code(value)
            except EnrolCodeError:
                continue  # another QR code (a book's, a web address)
            return parsed.secret + (f"-{parsed.check}" if parsed.check else "")
        return None
    finally:
        source.stop()


def data_dir(ctx: Context) -> Path:
    """The terminal's data directory (settings or the default)."""
    from library.storage.database import default_data_dir

    return Path(ctx.settings.data_dir) if ctx.settings.data_dir else default_data_dir()


def _find_over_zeroconf(args: argparse.Namespace, ctx: Context, code: EnrolmentCode) -> str:
    """The URL of the school server seen over zeroconf ('' when none answers); with a
    certificate check in the code, the server whose announced certificate (TXT fp) passes it."""
    import asyncio

    from ibc.commands.discover import _browse

    found = asyncio.run(_browse(ctx.settings.server.interfaces, args.wait))
    school = ctx.settings.school.id
    found = [s for s in found if not school or s.get("school_id") == school] or found
    if code.check is not None:
        found = [s for s in found if s.get("fingerprint") and code.accepts(s["fingerprint"])] \
            or found
    return str(found[0]["url"]) if found else ""


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Check the server's certificate against the code, enrol over it, store token and
    certificate."""
    from kiosk.terminal import ApiClient, ApiRefused, ServerUnreachable
    from kiosk.terminal.credentials import save_terminal
    from kiosk.terminal.tls import CertificateFetchError, fetch_certificate
    from library.tls import EnrolCodeError, fingerprint, parse_enrolment_code, short_fingerprint

    text = args.code
    if args.camera is not None:
        camera = ctx.settings.scanner.camera if args.camera == "settings" else args.camera
        text = code_from_camera(camera, args.camera_wait) or ""
        if not text:
            print("ibc terminals join: QR-код подключения не найден — покажите камере страницу "
                  "«Код подключения терминала» рабочего места или наберите код "
                  "(no enrolment QR code seen)", file=sys.stderr)
            return 1
        print(f"Код с QR-кода: {text}")
    elif not text:
        print("ibc terminals join: укажите код или --camera (a code or --camera is required)",
              file=sys.stderr)
        return 2
    try:
        code = parse_enrolment_code(text)
    except EnrolCodeError as exc:
        print(f"ibc terminals join: код не читается — {exc}", file=sys.stderr)
        return 1
    url = args.url or ctx.settings.server.url or _find_over_zeroconf(args, ctx, code)
    if not url:
        print("ibc terminals join: сервер не найден — укажите --url "
              "(no server found over zeroconf: pass --url)", file=sys.stderr)
        return 1
    if "://" not in url:
        url = ("http://" if code.check is None else "https://") + url
    pem = fp = ""
    if code.check is None:
        if ctx.settings.server.tls != "off":
            print("ibc terminals join: в коде нет проверки сертификата — сервер работает без "
                  "TLS? Терминал подключается к такому серверу только при [server] tls = \"off\" "
                  "в своих настройках (development only)", file=sys.stderr)
            return 1
        print("ВНИМАНИЕ: подключение без TLS ([server] tls = \"off\"): ключ терминала и "
              "PIN-коды пойдут по сети открытым текстом", file=sys.stderr)
    else:
        if url.lower().startswith("http://"):
            url = "https://" + url[len("http://"):]  # the code says the server speaks TLS
        try:
            pem = fetch_certificate(url)
        except CertificateFetchError as exc:
            print(f"ibc terminals join: сервер {url} не отвечает по TLS: {exc}", file=sys.stderr)
            return 1
        fp = fingerprint(pem)
        if not code.accepts(fp):
            print(f"ibc terminals join: сертификат сервера {url} НЕ совпадает с кодом: "
                  f"{short_fingerprint(fp)} (SHA-256 {fp}). Ничего не отправлено. Проверьте код "
                  "и адрес; если всё верно — в сети может быть подмена сервера "
                  "(server_certificate_changed)", file=sys.stderr)
            return 3
        print(f"Сертификат сервера {short_fingerprint(fp)} совпадает с кодом "
              f"(SHA-256 {fp})")
    try:
        with ApiClient(url, timeout=10, server_cert=pem or None) as client:
            token = client.enrol(code.secret, args.name)
            school = client.school
    except ApiRefused as exc:
        print(f"ibc terminals join: {exc.message or exc}", file=sys.stderr)
        return 1
    except ServerUnreachable as exc:
        print(f"ibc terminals join: сервер {url} недоступен (unreachable): {exc}", file=sys.stderr)
        return 1
    stored = args.url or ctx.settings.server.url
    if stored and pem and stored.lower().startswith("http://"):
        stored = "https://" + stored[len("http://"):]
    path = save_terminal(data_dir(ctx), args.name, token, stored,
                         server_cert=pem, fingerprint=fp, school=school)
    print(f"Терминал {args.name} подключён к {url}; ключ сохранён в {path} "
          f"(terminal enrolled; token stored, mode 0600)")
    if pem and ctx.settings.server.url.lower().startswith("http://"):
        print(f"ВНИМАНИЕ: в настройках терминала [server] url = {ctx.settings.server.url}: "
              "замените http:// на https:// — по http терминал теперь не подключится",
              file=sys.stderr)
    return 0
