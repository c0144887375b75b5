"""Start the kiosk: configure Kivy (before its first import), build services, run the app."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.options import KioskOptions

if TYPE_CHECKING:
    from device.scanner.base import BarcodeSource
    from kiosk.services import CatalogueService, ReceiptPrinter
    from library.circulation.ports import CirculationPort


def configure(options: KioskOptions, kivy_home: Path | None = None,
              headless: bool = False) -> None:
    """Environment and kivy.config for a kiosk window; call before importing kivy.app."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    if kivy_home is not None:
        kivy_home.mkdir(parents=True, exist_ok=True)
        os.environ["KIVY_HOME"] = str(kivy_home)
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    from kivy.config import Config

    w, h = options.size
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "keyboard_mode", "system")  # our own keyboard; never Kivy's VKeyboard
    Config.set("kivy", "log_level", os.environ.get("IBC_KIVY_LOG", "warning"))
    Config.set("graphics", "width", str(w))
    Config.set("graphics", "height", str(h))
    # In cage (a Wayland kiosk compositor; we are its Xwayland client) every window is maximised
    # to the output: asking SDL for fullscreen there leaves the picture 80 px low under a black
    # band (tests/install/test_kiosk_session.py). Under Xorg, fullscreen as usual.
    in_compositor = bool(os.environ.get("WAYLAND_DISPLAY"))
    Config.set("graphics", "fullscreen",
               "auto" if options.fullscreen and not in_compositor else "0")
    Config.set("graphics", "borderless", "1" if options.fullscreen else "0")
    Config.set("graphics", "show_cursor", "0" if options.fullscreen else "1")
    Config.set("input", "mouse", "mouse,disable_multitouch")  # no red dots on right clicks


def run(catalogue: CatalogueService, circulation: CirculationPort, printer: ReceiptPrinter,
        options: KioskOptions, scanner_source: BarcodeSource | None = None,
        **extra: Any) -> int:
    """Run the app until it is closed from service mode (``extra``: KioskApp keywords)."""
    from kiosk.app import KioskApp

    KioskApp(catalogue, circulation, printer, options, scanner_source=scanner_source,
             **extra).run()
    return 0
