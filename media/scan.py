"""`ibc media scan`: walk folders, add new files, refresh changed ones, follow moves, retire gone ones.

Incremental by design: a file whose size and mtime are unchanged is not opened; a new path
whose (size, hash of the first/last 64 KiB) matches an item that disappeared is the same file
moved, so only its path changes; items under a scanned root that are gone become "missing";
files that cannot be read become "broken" with the reason. Only new or changed files are
probed, in a thread pool (ffprobe runs as a subprocess, so threads overlap well).
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from library.search.indexer import index_records
from library.storage.models import MediaItem
from media.access import access_overrides
from media.kinds import kind_of
from media.probe import ProbeResult, fingerprint, make_thumbnail, probe
from media.roots import real_roots, resolve_inside
from media.sidecar import FOLDER_FILE, Meta, SidecarResolver
from media.store import fingerprint_map, set_fingerprints, sync_records

if TYPE_CHECKING:
    from sqlalchemy import Row

    from library.storage.database import Database

Progress = Callable[[str, int, int], None]
META_FIELDS = ("subject", "class_from", "class_to", "tags", "access", "licence")
SKIP_OUTSIDE = "ссылка ведёт за пределы папок медиатеки ({}): не индексируется и не отдаётся"
SKIP_SEEN = "папка уже пройдена (ссылка на неё или петля из ссылок): второй раз не обходится"
SKIP_SPECIAL = "не обычный файл (канал, устройство или сокет): не индексируется"


@dataclass
class ScanReport:
    """What a scan did (``--json`` prints this)."""

    roots: list[str] = field(default_factory=list)
    files: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    moved: int = 0
    missing: int = 0
    broken: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    probed: int = 0
    elapsed_s: float = 0.0

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return asdict(self)

    def skip(self, path: str | os.PathLike[str], reason: str) -> None:
        """Note a path the scan left out on purpose, with the reason (in Russian)."""
        self.skipped.append({"path": os.fspath(path), "reason": reason})


@dataclass(eq=False)
class _File:
    root: Path
    path: Path
    size: int
    mtime: float
    kind: str
    names: frozenset[str]
    digest: str | None = None
    result: ProbeResult | None = None
    thumb: str | None = None


def walk(root: Path, allowed: list[str], report: ScanReport,
         visited: set[tuple[int, int]] | None = None) -> Iterable[_File]:
    """Every media file under ``root`` (hidden entries and sidecars skipped), with its stat.

    Symbolic links are followed only to what lies inside ``allowed`` (real paths of the media
    folders, media/roots.py); a folder is walked once however many links lead to it (its
    (st_dev, st_ino) goes into ``visited``, shared by the roots of one scan), so link loops end
    and memory stays flat. Real folders are walked before linked ones, so a file keeps its own
    path rather than one through a link. Whatever is left out goes to ``report.skipped``.
    """
    if visited is None:
        visited = set()
    stack = [root]  # real folders
    linked: list[Path] = []  # folders reached through a link, walked after the real ones
    while stack or linked:
        folder = stack.pop() if stack else linked.pop()
        try:
            st = folder.stat()
        except OSError as exc:
            report.warnings.append(f"{folder}: папка не читается: {exc.strerror or exc}")
            continue
        if (st.st_dev, st.st_ino) in visited:
            report.skip(folder, SKIP_SEEN)
            continue
        visited.add((st.st_dev, st.st_ino))
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            report.warnings.append(f"{folder}: папка не читается: {exc.strerror or exc}")
            continue
        names = frozenset(e.name for e in entries)
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.startswith("."):
                continue
            try:
                link = entry.is_symlink()
                if link and resolve_inside(entry.path, allowed) is None:
                    if entry.is_dir(follow_symlinks=True) or kind_of(entry.name) is not None:
                        report.skip(entry.path, SKIP_OUTSIDE.format(os.path.realpath(entry.path)))
                    continue
                if entry.is_dir(follow_symlinks=True):
                    (linked if link else stack).append(Path(entry.path))
                    continue
                kind = kind_of(entry.name)
                if kind is None or entry.name == FOLDER_FILE:
                    continue
                st = entry.stat()
            except OSError as exc:
                report.warnings.append(f"{entry.path}: {exc.strerror or exc}")
                continue
            if not stat.S_ISREG(st.st_mode):
                report.skip(entry.path, SKIP_SPECIAL)  # a FIFO or a device would hang the probe
                continue
            yield _File(root, Path(entry.path), st.st_size, st.st_mtime, kind, names)


def _under(path: str, roots: list[Path]) -> bool:
    return any(path == str(r) or path.startswith(str(r) + os.sep) for r in roots)


def _apply_meta(item: MediaItem, meta: Meta, probed_title: str | None, stem: str,
                pinned: dict[int, str] | None = None) -> bool:
    """Copy descriptive metadata onto an item; True when something changed. An access level a
    person set (`pinned`, media.access.access_overrides) wins over the description files."""
    changed = False
    if pinned and item.id in pinned:
        meta = meta.merged({"access": pinned[item.id]})
    title = meta.title or probed_title or item_title_from(stem)
    if item.title != title:
        item.title, changed = title, True
    for name in META_FIELDS:
        value = getattr(meta, name)
        if getattr(item, name) != value:
            setattr(item, name, value)
            changed = True
    return changed


def item_title_from(stem: str) -> str:
    """A readable title from a file name: underscores to spaces, leading order numbers kept."""
    return " ".join(stem.replace("_", " ").split()) or stem


def _apply_probe(item: MediaItem, f: _File) -> None:
    res = f.result or ProbeResult(error="не проверен")
    item.size, item.mtime = f.size, f.mtime
    item.duration_s, item.width, item.height = res.duration_s, res.width, res.height
    item.codecs, item.thumbnail = res.codecs, f.thumb
    item.status, item.error = ("broken", res.error[:1000]) if res.error else ("ok", None)


def scan(db: Database, roots: Iterable[str | os.PathLike[str]], *, data_dir: str | os.PathLike[str],
         progress: Progress | None = None, workers: int | None = None,
         thumbnails: bool = True,
         media_roots: Iterable[str | os.PathLike[str]] = (),
         school: str | None = None) -> ScanReport:
    """Scan ``roots`` into the database ``db`` (a library.storage Database); returns the report.

    A link is followed only to what lies inside ``roots`` or ``media_roots`` (the configured
    media folders, `[media] roots`); see ``walk``. `school`: every item found under ``roots``
    becomes that school's (``MediaItem.sigla``; a sigla the caller checked); without it new items
    are shared by the whole city and known ones keep their school.
    """
    started = time.perf_counter()
    root_paths = [Path(r).resolve() for r in roots]
    report = ScanReport(roots=[str(r) for r in root_paths])
    allowed = real_roots([*root_paths, *media_roots])
    thumb_dir = Path(data_dir) / "thumbnails"
    tick = progress or (lambda *_: None)
    files: list[_File] = []
    visited: set[tuple[int, int]] = set()
    for root in root_paths:
        if not root.is_dir():
            report.warnings.append(f"{root}: нет такой папки")
            continue
        files.extend(walk(root, allowed, report, visited))
        tick("walk", len(files), 0)
    report.files = len(files)
    resolver = SidecarResolver()
    present = [r for r in root_paths if r.is_dir()]

    # Phase 1, read only: what is new, changed, gone (no write lock while probing).
    cols = (MediaItem.id, MediaItem.path, MediaItem.size, MediaItem.mtime, MediaItem.status)
    with db.session() as s:
        known = {row.path: row for row in s.execute(select(*cols))}
        on_disk = {str(f.path) for f in files}
        gone_ids = {row.id for p, row in known.items()
                    if p not in on_disk and (_under(p, present) or row.status == "missing")}
        new = [f for f in files if str(f.path) not in known]
        changed = [f for f in files if str(f.path) in known and _is_changed(known[str(f.path)], f)]
        fp_known = fingerprint_map(s, sorted(gone_ids)) if new and gone_ids else {}

    # Phase 2, no database: hash new files, match moves, probe what is new or changed.
    pool = ThreadPoolExecutor(max_workers=workers or min(8, (os.cpu_count() or 2) * 2),
                              thread_name_prefix="media-probe")
    try:
        moved = _match_moves(new, fp_known, gone_ids, pool)
        todo = [f for f in new if f not in moved] + changed
        _probe_all(todo, pool, thumb_dir if thumbnails else None, tick)
    finally:
        pool.shutdown(wait=True)
    report.probed = len(todo)
    todo_set = set(todo)

    # Phase 3, one write transaction: apply everything and reindex the touched records.
    with db.transaction() as s:
        items = {i.path: i for i in s.scalars(select(MediaItem))}
        pinned = access_overrides(s)
        by_id = {i.id: i for i in items.values()}
        touched: list[MediaItem] = []
        fps: list[tuple[MediaItem, int, str]] = []
        for n, f in enumerate(files, 1):
            key = str(f.path)
            meta = resolver.meta_for(f.root, f.path, set(f.names))
            if f in moved:
                item = by_id[moved[f]]
                old_title = item_title_from(Path(item.path).stem)
                kept = item.title if item.title != old_title else None
                items.pop(item.path, None)
                item.path = key
                item.status = "broken" if item.error and item.status == "broken" else "ok"
                if item.status == "ok":
                    item.error = None
                item.size, item.mtime = f.size, f.mtime
                _apply_meta(item, meta, kept, f.path.stem, pinned)
                report.moved += 1
                touched.append(item)
            elif f in todo_set:
                found = items.get(key)
                if found is None:
                    item = MediaItem(path=key, kind=f.kind, title="", tags=[], plays=0)
                    s.add(item)
                    report.added += 1
                else:
                    item = found
                    report.updated += 1
                item.kind = f.kind
                _apply_probe(item, f)
                _apply_meta(item, meta, f.result.title if f.result else None, f.path.stem, pinned)
                if f.digest:
                    fps.append((item, f.size, f.digest))
                touched.append(item)
            else:
                item = items[key]
                report.unchanged += 1
                if _apply_meta(item, meta, _keep_title(item, f), f.path.stem, pinned):
                    touched.append(item)
            if school is not None and item.sigla != school:
                item.sigla = school
            if item.status == "broken":
                report.broken.append({"path": key, "error": item.error})
            if n % 500 == 0:
                tick("save", n, len(files))
        moved_ids = set(moved.values())
        for mid in gone_ids - moved_ids:
            gone = by_id.get(mid)
            if gone is not None and gone.status != "missing":
                gone.status, gone.error = "missing", "файл не найден при сканировании"
                report.missing += 1
                touched.append(gone)
        s.flush()
        set_fingerprints(s, [(i.id, size, d) for i, size, d in fps])
        if touched:
            index_records(s, sync_records(s, touched))
    report.warnings.extend(resolver.warnings)
    report.elapsed_s = round(time.perf_counter() - started, 3)
    return report


def _keep_title(item: MediaItem, f: _File) -> str | None:
    """The current title when it came from the file's tags (so an unchanged file keeps it)."""
    return item.title if item.title != item_title_from(f.path.stem) else None


def _is_changed(item: Row[int, str, int | None, float | None, str], f: _File) -> bool:
    """`item`: the (id, path, size, mtime, status) of a known MediaItem."""
    return item.status == "missing" or item.size != f.size or item.mtime != f.mtime


def _match_moves(new: list[_File], known: dict, gone_ids: set[int],
                 pool: ThreadPoolExecutor) -> dict[_File, int]:
    """New paths that are vanished items moved elsewhere, matched by size and edge hash."""
    if not new:
        return {}
    for f, digest in zip(new, pool.map(_safe_fingerprint, new)):
        f.digest = digest
    moved: dict[_File, int] = {}
    taken: set[int] = set()
    for f in new:
        for mid in known.get((f.size, f.digest), []):
            if mid in gone_ids and mid not in taken:
                moved[f] = mid
                taken.add(mid)
                break
    return moved


def _safe_fingerprint(f: _File) -> str | None:
    try:
        return fingerprint(f.path, f.size)
    except OSError:
        return None


def _probe_one(f: _File, thumb_dir: Path | None) -> None:
    if f.digest is None:
        f.digest = _safe_fingerprint(f)
    f.result = probe(f.path, f.kind)
    if f.digest is None and not f.result.error:
        f.result.error = "файл не читается"
    if thumb_dir is not None and not f.result.error and f.digest:
        f.thumb = make_thumbnail(f.path, f.kind, thumb_dir, f.digest, f.result.duration_s)


def _probe_all(todo: list[_File], pool: ThreadPoolExecutor, thumb_dir: Path | None,
               tick: Progress) -> None:
    for n, _ in enumerate(pool.map(lambda f: _probe_one(f, thumb_dir), todo), 1):
        tick("probe", n, len(todo))
