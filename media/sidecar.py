"""Descriptive metadata for media files: folder convention, folder `_media.toml`, file sidecars.

Precedence, lowest first: the folder convention (``История/5-7 класс/…`` gives subject
"История", classes 5..7, other folder names become tags), then every ``_media.toml`` from the
scanned root down to the file's folder, then the file's own sidecar ``<stem>.toml`` or
``<name>.toml`` (e.g. ``урок.toml`` or ``урок.mp4.toml``). See docs/MEDIA.md.
"""

from __future__ import annotations

import os
import re
import stat

from media.errors import SidecarError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 (Ubuntu 22.04)
    import tomli as tomllib  # type: ignore[no-redef]
from dataclasses import dataclass, field
from pathlib import Path

FOLDER_FILE = "_media.toml"
MAX_SIDECAR_BYTES = 64 * 1024  # a description is a few lines
ACCESS_LEVELS = ("everyone", "teachers", "onsite")
_ACCESS_ALIASES = {
    "everyone": "everyone", "all": "everyone", "все": "everyone", "public": "everyone",
    "teachers": "teachers", "teacher": "teachers", "учителя": "teachers", "педагоги": "teachers",
    "onsite": "onsite", "on-site": "onsite", "on_site": "onsite", "в ибц": "onsite",
    "на месте": "onsite", "только в ибц": "onsite",
}
_CLASS_RE = re.compile(r"^(\d{1,2})(?:\s*[-–—]\s*(\d{1,2}))?\s*(?:класс[аы]?|кл\.?)$", re.I)
_RANGE_RE = re.compile(r"^\s*(\d{1,2})\s*(?:[-–—]\s*(\d{1,2}))?\s*$")
KEYS = ("title", "subject", "class_from", "class_to", "tags", "access", "licence")


@dataclass
class Meta:
    """Descriptive metadata for one file (None = not set at this level)."""

    title: str | None = None
    subject: str | None = None
    class_from: int | None = None
    class_to: int | None = None
    tags: list[str] = field(default_factory=list)
    access: str = "everyone"
    licence: str | None = None

    def merged(self, values: dict) -> Meta:
        """A copy with the given keys overriding (tags are replaced, not appended)."""
        out = Meta(**{k: getattr(self, k) for k in KEYS})
        out.tags = list(self.tags)
        for k, v in values.items():
            setattr(out, k, list(v) if k == "tags" else v)
        return out


def parse_access(value: object) -> str:
    """Normalise an access level; an unknown value fails closed (teachers only)."""
    key = str(value).strip().lower()
    if key not in _ACCESS_ALIASES:
        raise SidecarError(f"неизвестный уровень доступа {value!r} (everyone, teachers, onsite)")
    return _ACCESS_ALIASES[key]


def parse_classes(value: object) -> tuple[int, int]:
    """"5-7", "5", 5 or [5, 7] → (5, 7)."""
    if isinstance(value, int) and not isinstance(value, bool):
        lo = hi = value
    elif isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        lo, hi = value
    else:
        m = _RANGE_RE.match(str(value))
        if not m:
            raise SidecarError(f"неверный диапазон классов {value!r} (пример: \"5-7\")")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
    if not (0 <= lo <= hi <= 11):
        raise SidecarError(f"неверный диапазон классов {value!r} (0..11)")
    return lo, hi


def normalise(data: dict, where: str) -> tuple[dict, list[str]]:
    """Validated known keys of one sidecar table, plus warnings for the rest."""
    out: dict = {}
    warnings: list[str] = []
    for key, value in data.items():
        try:
            if key in ("title", "subject", "licence", "license"):
                out["licence" if key == "license" else key] = str(value).strip() or None
            elif key in ("class", "classes"):
                out["class_from"], out["class_to"] = parse_classes(value)
            elif key in ("class_from", "class_to"):
                out[key] = parse_classes(value)[0]
            elif key == "tags":
                tags = value if isinstance(value, list) else str(value).split(",")
                out["tags"] = [str(t).strip() for t in tags if str(t).strip()]
            elif key == "access":
                out["access"] = parse_access(value)
            else:
                warnings.append(f"{where}: неизвестный ключ {key!r}")
        except SidecarError as exc:
            warnings.append(f"{where}: {exc}")
            if key == "access":
                out["access"] = "teachers"
    return out, warnings


def read_toml(path: Path) -> tuple[dict, list[str]]:
    """Read and validate one sidecar; a broken file gives a warning and no values."""
    try:
        # O_NONBLOCK: opening a FIFO planted as `_media.toml` must not wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return {}, [f"{path}: не прочитан: не обычный файл"]
            raw = fh.read(MAX_SIDECAR_BYTES + 1)  # a link to /dev/zero or a huge file: bounded
        if len(raw) > MAX_SIDECAR_BYTES:
            return {}, [f"{path}: не прочитан: больше {MAX_SIDECAR_BYTES // 1024} КиБ"]
        data = tomllib.loads(raw.decode("utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return {}, [f"{path}: не прочитан: {exc}"]
    return normalise(data, str(path))


def convention(rel_dirs: tuple[str, ...]) -> dict:
    """Metadata implied by folder names under the root: subject, class range, tags."""
    out: dict = {}
    tags = []
    for part in rel_dirs:
        m = _CLASS_RE.match(part.strip())
        if m:
            lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
            if lo <= hi <= 11:
                out["class_from"], out["class_to"] = lo, hi
                continue
        if "subject" not in out:
            out["subject"] = part
        else:
            tags.append(part)
    if tags:
        out["tags"] = tags
    return out


class SidecarResolver:
    """Computes a file's Meta, caching each folder's merged ``_media.toml`` values."""

    def __init__(self) -> None:
        self._chains: dict[Path, dict] = {}
        self._folders: dict[Path, Meta] = {}
        self.warnings: list[str] = []

    def _chain(self, root: Path, folder: Path, names: set[str] | None) -> dict:
        """Values of every ``_media.toml`` from root down to ``folder``, the nearest winning."""
        if folder in self._chains:
            return self._chains[folder]
        values = {} if folder == root else dict(self._chain(root, folder.parent, None))
        present = (FOLDER_FILE in names) if names is not None else (folder / FOLDER_FILE).is_file()
        if present:
            own, warnings = read_toml(folder / FOLDER_FILE)
            self.warnings.extend(warnings)
            values.update(own)
        self._chains[folder] = values
        return values

    def folder_meta(self, root: Path, folder: Path, names: set[str] | None = None) -> Meta:
        """Convention plus every ``_media.toml`` from root down to ``folder``."""
        meta = self._folders.get(folder)
        if meta is None:
            rel = folder.relative_to(root).parts if folder != root else ()
            meta = Meta().merged(convention(rel)).merged(self._chain(root, folder, names))
            self._folders[folder] = meta
        return meta

    def meta_for(self, root: Path, path: Path, names: set[str] | None = None) -> Meta:
        """The full Meta of one file (``names``: its folder's entries, to avoid extra stats)."""
        meta = self.folder_meta(root, path.parent, names)
        for candidate in (path.stem + ".toml", path.name + ".toml"):
            if names is not None:
                present = candidate in names
            else:
                present = (path.parent / candidate).is_file()
            if present:
                values, warnings = read_toml(path.parent / candidate)
                self.warnings.extend(warnings)
                meta = meta.merged(values)
                break
        return meta
