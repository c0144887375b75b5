"""`ibc kiosk`: run the touchscreen kiosk app (Kivy is imported inside `run` only)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context
    from kiosk.bridge import Bridge
    from kiosk.media import MediaPort
    from kiosk.remote import TerminalMode
    from kiosk.services import ServiceInfo

DEMO_PIN = "1234"


def _size(text: str) -> tuple[int, int]:
    from kiosk.options import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub: Subparsers) -> None:
    """Add the `kiosk` subcommand."""
    p = sub.add_parser("kiosk", help="run the touchscreen kiosk app")
    p.add_argument("--demo", action="store_true",
                   help="demo library, keyboard as the scanner (type digits + Enter), no server")
    p.add_argument("--fakes", action="store_true",
                   help="in-memory fake library instead of the database (UI development)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--fullscreen", dest="fullscreen", action="store_true", default=None,
                      help="fullscreen kiosk (default unless --demo)")
    mode.add_argument("--windowed", dest="fullscreen", action="store_false")
    p.add_argument("--size", type=_size, default=(1280, 800), metavar="WxH",
                   help="window size (default 1280x800)")
    p.add_argument("--pin-file", type=Path, default=Path("/etc/ibc/kiosk.pin"),
                   help="service-mode PIN: digits or sha256:<hex> (default /etc/ibc/kiosk.pin)")
    p.set_defaults(run=run)


def _data_dir(ctx: Context) -> Path:
    from library.storage.database import default_data_dir

    return Path(ctx.settings.data_dir) if ctx.settings.data_dir else default_data_dir()


def _service_info(ctx: Context, terminal: TerminalMode | None = None) -> ServiceInfo:
    """Service mode's sources: the `ibc doctor` checks, key figures (local database only) and
    the terminal queue's conflicts."""
    import json

    from ibc.commands.doctor import CHECKS, run_check
    from kiosk.services import ServiceInfo

    def checks() -> list[tuple[str, str, str]]:
        skip = {"база данных"} if terminal is not None else set()  # a terminal has no database
        return [(r.check, r.status, r.detail) for r in
                (run_check(name, func, ctx, 3.0) for name, func in CHECKS if name not in skip)]

    def figures() -> dict:
        from library.reports import key_figures

        return key_figures(ctx.db)

    def conflicts() -> list[dict]:
        if terminal is None:  # offered to service mode on a terminal only (below)
            raise RuntimeError("the conflicts of a terminal's queue without a terminal")
        out = []
        for row in terminal.queue.conflicts():
            try:
                result = json.loads(row.get("result") or "{}")
            except ValueError:
                result = {}
            out.append({**row, "code": result.get("code", "")})
        return out

    return ServiceInfo(checks=checks, figures=None if terminal is not None else figures,
                       conflicts=conflicts if terminal is not None else None)


def _media(args: argparse.Namespace, ctx: Context, bridge: Bridge,
           terminal: TerminalMode | None = None) -> MediaPort | None:
    """The teacher media port: the server's remote control on a terminal, the local station
    otherwise, a fake one in --demo/--fakes."""
    if args.demo or args.fakes:
        from kiosk.fakes import FakeMedia

        return FakeMedia()
    if terminal is not None:
        from kiosk.media import RemoteMedia

        return RemoteMedia(terminal.client)
    try:
        from kiosk.media import LocalMedia
        from media.station import MediaStation

        return LocalMedia(MediaStation.from_settings(ctx.settings, ctx.db,
                                                     run_async=bridge.run_async))
    except Exception as exc:  # noqa: BLE001 - no VLC/display: the kiosk runs without media
        print(f"ibc kiosk: media station unavailable ({exc})", file=sys.stderr)
        return None


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Build the services the settings ask for and run the app."""
    from kiosk.options import KioskOptions, read_pin
    from kiosk.runner import configure
    from kiosk.services import CatalogueService, NoPrinter, ReceiptPrinter
    from library.circulation.ports import CirculationPort

    st = ctx.settings
    cache = _data_dir(ctx) / "kiosk"
    pin = read_pin(args.pin_file) or (DEMO_PIN if (args.demo or args.fakes) else None)
    if pin is None:
        print(f"ibc kiosk: no service PIN in {args.pin_file}: the app can only be closed from "
              "the system", file=sys.stderr)
    options = KioskOptions(
        school=st.school.name, language=st.ui.language, idle_timeout_s=st.ui.idle_timeout_s,
        personal_idle_s=st.ui.personal_idle_timeout_s,
        returns=st.places.returns, return_note=st.places.return_note,
        large_text=st.ui.large_text, size=args.size, demo=args.demo, service_pin=pin,
        fullscreen=args.fullscreen if args.fullscreen is not None else not (args.demo or args.fakes),
        cache_dir=cache,
        # A real scanner types a code in a few ms; in demo mode a person types it slowly.
        scanner_max_gap_s=None if (args.demo or args.fakes) else 0.1,
    )
    visits = terminal = None
    collection = None  # «Сдача учебников» over the local database; others: their circulation port
    enrolment = None
    if not (args.demo or args.fakes):
        from kiosk.terminal.credentials import load_terminal

        enrolment = load_terminal(_data_dir(ctx))
        if enrolment is None and st.server.url:
            print(f"ibc kiosk: [server] url = {st.server.url}, but this terminal is not enrolled: "
                  "run `ibc terminals join CODE` (code from `ibc terminals enroll` on the server)",
                  file=sys.stderr)
            return 2
    catalogue: CatalogueService
    circulation: CirculationPort
    printer: ReceiptPrinter
    from kiosk.bridge import Bridge

    bridge = Bridge()  # the kiosk's one event loop: terminal, media station, printer, checks
    if args.fakes:
        from kiosk.fakes import fake_services

        catalogue, circulation, printer = fake_services()
    elif enrolment is not None:
        from kiosk.printing import make_receipt_printer
        from kiosk.remote import terminal_mode

        terminal = terminal_mode(_data_dir(ctx), enrolment, st, bridge)
        catalogue, circulation = terminal.catalogue, terminal.circulation
        printer = make_receipt_printer(st.printer)
    else:
        from kiosk.local import local_services
        from kiosk.printing import make_receipt_printer

        if args.demo:
            from ibc.wiring import search_indexer
            from library.demo.loader import load_demo

            load_demo(ctx.db, sigla=st.school.sigla, on_batch=search_indexer())
        from kiosk.local import LocalCollection

        catalogue, service, visits = local_services(ctx)
        if st.circulation.backend != "local":  # ИРБИС64 as the system of record (ils/irbis)
            from ibc.wiring import circulation as chosen_circulation

            service = chosen_circulation(ctx)
        circulation, collection = service, LocalCollection(service, terminal=st.school.id)
        printer = NoPrinter() if args.demo else make_receipt_printer(st.printer)
    source = None
    if not (args.demo or args.fakes) and st.scanner.camera:
        from device.scanner.camera import CameraSource

        source = CameraSource(st.scanner.camera, confirm_frames=st.scanner.confirm_frames,
                              repeat_suppress_s=st.scanner.repeat_suppress_s)
    configure(options, kivy_home=cache / "kivy")
    from kiosk.runner import run as run_app

    media = _media(args, ctx, bridge, terminal)
    try:
        return run_app(catalogue, circulation, printer, options, scanner_source=source,
                       visits=visits, terminal=terminal.name if terminal else st.school.id,
                       connection=terminal.monitor if terminal else None, media=media,
                       bridge=bridge, collection=collection,
                       service_info=None if args.fakes else _service_info(ctx, terminal))
    finally:  # the users of the bridge first, the bridge last
        if terminal is not None:
            terminal.close()
        if media is not None:
            media.close()
        bridge.close()
