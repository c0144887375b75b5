"""Cover images the librarian drops into a folder, named by ISBN or by copy barcode.

    /var/lib/ibc/covers/9785389692251.jpg     ISBN-13 (digits only)
    /var/lib/ibc/covers/5389692251.PNG        ISBN-10 (digits, X as the check digit)
    /var/lib/ibc/covers/2100000000012.jpeg    a copy's barcode

Extensions .jpg, .jpeg, .png in any case. A name is only ever looked up in the folder's own
listing (never joined from outside input), a file must resolve inside the folder (a symlink
pointing elsewhere is ignored), be a regular file no bigger than the cap and start with the
JPEG or PNG signature. The listing is cached until the folder's modification time changes.
No image library is needed: both the server (`GET /covers/{key}`) and the kiosk's local mode
use `find_cover`.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path

from library.isbn import normalise, to_isbn10, to_isbn13

EXTENSIONS = (".jpg", ".jpeg", ".png")
KEY = re.compile(r"^(?:\d{9}[\dXx]|\d{13}|[A-Za-z0-9][A-Za-z0-9_-]{0,63})$")
MAX_BYTES = 2 * 1024 * 1024
SIGNATURES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
_index: dict[str, tuple[int, dict[str, str]]] = {}
_lock = threading.Lock()


def covers_folder(covers_dir: str | os.PathLike[str] | None,
                  data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder from `[library] covers_dir`, else `<data_dir>/covers`."""
    if covers_dir:
        return Path(covers_dir)
    if data_dir:
        return Path(data_dir) / "covers"
    from library.storage.database import default_data_dir

    return default_data_dir() / "covers"


def valid_key(key: str) -> bool:
    """True for an ISBN (10 or 13 digits) or a barcode-like key: no dots, slashes or NUL."""
    return bool(KEY.match(key or ""))


def isbn_keys(isbns: Iterable[str | None]) -> list[str]:
    """File-name keys of ISBNs: each as ISBN-13 and, for 978 ones, ISBN-10 (upper-case X)."""
    out: list[str] = []
    for raw in isbns:
        digits = normalise(raw) if raw else None
        if not digits:
            continue
        for key in (to_isbn13(digits), to_isbn10(digits), digits):
            if key and key not in out:
                out.append(key)
    return out


def _listing(folder: Path) -> dict[str, str]:
    """lower-case stem → file name of the folder's images (cached by the folder's mtime)."""
    try:
        stamp = folder.stat().st_mtime_ns
    except OSError:
        return {}
    key = str(folder)
    cached = _index.get(key)
    if cached and cached[0] == stamp:
        return cached[1]
    names: dict[str, str] = {}
    try:
        with os.scandir(folder) as it:
            for entry in it:
                stem, ext = os.path.splitext(entry.name)
                if ext.lower() in EXTENSIONS and valid_key(stem):
                    names.setdefault(stem.lower(), entry.name)
    except OSError:
        return {}
    with _lock:
        _index[key] = (stamp, names)
    return names


def media_type(data: bytes) -> str | None:
    """image/jpeg or image/png by the file's signature, None for anything else."""
    return next((t for sig, t in SIGNATURES.items() if data.startswith(sig)), None)


def safe_file(folder: Path, name: str, max_bytes: int = MAX_BYTES) -> Path | None:
    """folder/name when it is a regular file inside the folder (symlinks resolved), not larger
    than `max_bytes` and an image by its signature; else None."""
    try:
        root = folder.resolve(strict=True)
        path = (folder / name).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if path.parent != root or not path.is_file():
        return None
    try:
        if path.stat().st_size > max_bytes:
            return None
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        return None
    return path if media_type(head) else None


def find_cover(folder: str | os.PathLike[str] | None, isbns: Iterable[str | None] = (),
               barcodes: Iterable[str | None] = (), *, max_bytes: int = MAX_BYTES) -> Path | None:
    """The first cover found: by each ISBN (13 and 10 digits), then by each copy barcode."""
    if not folder:
        return None
    base = Path(folder)
    names = _listing(base)
    if not names:
        return None
    keys = isbn_keys(isbns) + [b.strip() for b in barcodes if b and valid_key(b.strip())]
    for key in keys:
        name = names.get(key.lower())
        if name:
            path = safe_file(base, name, max_bytes)
            if path is not None:
                return path
    return None
