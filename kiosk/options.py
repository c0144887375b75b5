"""Run-time options of the kiosk app (from settings and the command line), Kivy-free."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class KioskOptions:
    """Everything the app needs besides its services."""

    school: str = "Школьный ИБЦ"
    language: str = "ru"
    idle_timeout_s: float = 60.0
    personal_idle_s: float = 30.0  # screens with a reader's name or loans
    warn_s: float = 10.0
    sleep_after_s: float = 180.0
    large_text: bool = False
    returns: str = "cart"  # [places] returns: where a returned book goes (cart | shelf | desk)
    return_note: str = ""  # [places] return_note: the library's own words on return
    fullscreen: bool = False
    size: tuple[int, int] = (1280, 800)
    demo: bool = False
    service_pin: str | None = None
    sounds: bool = True
    cache_dir: Path = Path(".")
    scanner_max_gap_s: float | None = None  # None: accept slow typing (demo, fake scanner)


def parse_size(text: str) -> tuple[int, int]:
    """'1280x800' → (1280, 800); ValueError with the reason otherwise."""
    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"size must look like 1280x800, not {text!r}") from None
    if not (320 <= w <= 7680 and 240 <= h <= 4320):
        raise ValueError(f"size {text!r} is out of range")
    return w, h


def read_pin(path: Path) -> str | None:
    """The service PIN from a file (plain digits or sha256:<hex>), None when absent."""
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except (FileNotFoundError, PermissionError):
        return None
