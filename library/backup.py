"""Consistent online backups of the catalogue database plus the media thumbnails, and restore.

One backup is a ``.tar.gz`` holding ``manifest.json`` (format, ibc version, creation time, backend,
Alembic schema revision, SHA-256 of every other member), the database (``database.sqlite3``, a
copy made with SQLite's online backup API, or ``database.pgdump``, ``pg_dump -Fc``) and the
``thumbnails/`` folder of the data directory when there is one, and the server's own TLS
certificate and key (``tls/server.crt``, ``tls/server.key``, made by ``ibc tls create``): a
restore on new hardware keeps the certificate every terminal pinned, so the terminals go on
without enrolling again. The archive therefore holds a private key as well as the readers'
data: it is written 0640, for the service's user and group only.

Restore refuses an archive whose checksums do not match, whose schema revision this version's
migrations do not know (a backup from a newer ibc) or whose backend differs from the configured
database. SQLite is restored atomically (a checked temporary file renamed over the database);
PostgreSQL in one transaction (``pg_restore`` output replayed by ``psql --single-transaction``
after dropping the public schema). Both are migrated to the newest schema afterwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from library import __version__
from library.errors import IbcError

if TYPE_CHECKING:
    from library.storage.database import Database

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
THUMBNAILS = "thumbnails"
TLS = "tls"  # server/tls.py's folder in the data directory
TLS_FILES = ("server.crt", "server.key")
NAME_RE = re.compile(r"^ibc-backup-\d{8}T\d{6}Z(-\d+)?\.tar\.gz$")
_CHUNK = 1 << 20


class BackupError(IbcError):
    """A backup cannot be made, read or restored; the message says why."""

    code = "backup"


@dataclass
class BackupInfo:
    """What one backup archive holds (its manifest)."""

    path: Path
    backend: str
    revision: str | None
    created: str
    version: str
    files: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        """A JSON-ready summary."""
        return {"path": str(self.path), "backend": self.backend, "revision": self.revision,
                "created": self.created, "version": self.version, "files": len(self.files)}


def backup_dir(data_dir: str | os.PathLike[str]) -> Path:
    """Where backups go by default: ``<data dir>/backups``."""
    return Path(data_dir) / "backups"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _new_name(directory: Path, now: dt.datetime) -> Path:
    stem = f"ibc-backup-{now:%Y%m%dT%H%M%SZ}"
    path, n = directory / f"{stem}.tar.gz", 0
    while path.exists():
        n += 1
        path = directory / f"{stem}-{n}.tar.gz"
    return path


# --- dumping -----------------------------------------------------------------------------------

def _dump_sqlite(db: Database, out: Path) -> None:
    """Copy the live SQLite database page by page (consistent even while others write, WAL too)."""
    src_path = db.url.database
    if not src_path or src_path == ":memory:" or not Path(src_path).exists():
        raise BackupError(f"no SQLite database file at {src_path!r}")
    src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(out)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file in the archive
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup of {src_path} failed: {exc}") from exc
    finally:
        dst.close()
        src.close()


def _libpq(db: Database) -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump/pg_restore/psql and an environment with the password."""
    url = db.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    args = ["--dbname", str(url.database or "postgres")]
    if url.host:
        args += ["--host", str(url.host)]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", str(url.username)]
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(f"{name} not found: install the PostgreSQL client "
                          "(apt-get install postgresql-client)")
    return path


def _run(cmd: list[str], env: dict[str, str], what: str, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, env=env, capture_output=True, **kwargs)  # noqa: S603
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip() if isinstance(proc.stderr, bytes) else proc.stderr
        raise BackupError(f"{what} failed: {err}")
    return proc


def _dump_pg(db: Database, out: Path) -> None:
    conn, env = _libpq(db)
    _run([_tool("pg_dump"), "-Fc", "--no-owner", "--no-privileges", "-f", str(out), *conn], env, "pg_dump")


# --- creating ----------------------------------------------------------------------------------

def create_backup(db: Database, *, data_dir: str | os.PathLike[str],
                  output: str | os.PathLike[str] | None = None, keep: int | None = None) -> BackupInfo:
    """Write one backup archive (to `output` or a new name in the backup dir); prune to `keep`."""
    from library.storage.migrate import current_revision

    data_dir = Path(data_dir)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    target_dir = Path(output).parent if output else backup_dir(data_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    target = Path(output) if output else _new_name(target_dir, now)
    revision = current_revision(db)
    with tempfile.TemporaryDirectory(prefix=".ibc-backup-", dir=target_dir) as tmp:
        member = SQLITE_MEMBER if db.is_sqlite else PG_MEMBER
        dump = Path(tmp) / member
        (_dump_sqlite if db.is_sqlite else _dump_pg)(db, dump)
        files = {member: (dump, _sha256(dump))}
        thumbs = data_dir / THUMBNAILS
        if thumbs.is_dir():
            for path in sorted(p for p in thumbs.rglob("*") if p.is_file() and not p.is_symlink()):
                name = f"{THUMBNAILS}/{path.relative_to(thumbs).as_posix()}"
                files[name] = (path, _sha256(path))
        for file_name in TLS_FILES:
            path = data_dir / TLS / file_name
            if path.is_file() and not path.is_symlink():
                files[f"{TLS}/{file_name}"] = (path, _sha256(path))
        created = now.isoformat()
        digests = {name: digest for name, (_, digest) in files.items()}
        manifest = {"format": FORMAT, "ibc_version": __version__, "created": created,
                    "backend": db.backend, "revision": revision, "files": digests}
        partial = Path(tmp) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            ti = tarfile.TarInfo(MANIFEST)
            ti.size, ti.mtime, ti.mode = len(data), int(now.timestamp()), 0o640
            tar.addfile(ti, io.BytesIO(data))
            for name, (path, _) in files.items():
                tar.add(path, arcname=name, recursive=False)
        os.chmod(partial, 0o640)
        os.replace(partial, target)
    if keep is not None:
        prune(target_dir, keep)
    return BackupInfo(target, db.backend, revision, created, __version__, digests)


def list_backups(directory: str | os.PathLike[str]) -> list[Path]:
    """Backups named by `create_backup` in `directory`, oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and NAME_RE.match(p.name))


def prune(directory: str | os.PathLike[str], keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups in `directory`; returns the deleted paths."""
    if keep < 1:
        raise BackupError("--keep must be at least 1")
    old = list_backups(directory)[:-keep]
    for path in old:
        path.unlink(missing_ok=True)
    return old


# --- reading -----------------------------------------------------------------------------------

def _safe_name(name: str) -> bool:
    p = PurePosixPath(name)
    return bool(name) and not p.is_absolute() and ".." not in p.parts


def read_backup(path: str | os.PathLike[str], into: str | os.PathLike[str] | None = None) -> BackupInfo:
    """Check an archive's manifest and every checksum; with `into`, also extract the members there."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path}: no such backup file")
    corrupt = f"{path}: corrupt or not an ibc backup"
    try:
        with tarfile.open(path, "r:gz") as tar:
            members = tar.getmembers()
            names = [m.name for m in members]
            if MANIFEST not in names:
                raise BackupError(f"{corrupt} (no {MANIFEST})")
            manifest_file = tar.extractfile(MANIFEST)
            if manifest_file is None:  # a directory or other non-file member
                raise BackupError(f"{corrupt} ({MANIFEST} is not a file)")
            manifest = json.loads(manifest_file.read())
            if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
                raise BackupError(f"{corrupt} (bad manifest)")
            if manifest.get("format", 0) > FORMAT:
                raise BackupError(f"{path}: backup format {manifest['format']} is newer than this "
                                  f"ibc {__version__} understands; upgrade ibc first")
            expected = dict(manifest["files"])
            for m in members:
                if m.name == MANIFEST:
                    continue
                if not m.isfile() or not _safe_name(m.name) or m.name not in expected:
                    raise BackupError(f"{corrupt} (unexpected member {m.name!r})")
                h = hashlib.sha256()
                src = tar.extractfile(m)
                if src is None:  # not reached: m.isfile() above
                    raise BackupError(f"{corrupt} ({m.name!r} is not a file)")
                dest = None
                if into is not None:
                    dest_path = Path(into, *PurePosixPath(m.name).parts)
                    dest_path.parent.mkdir(parents=True, exist_ok=True)
                    dest = dest_path.open("wb")
                try:
                    while chunk := src.read(_CHUNK):
                        h.update(chunk)
                        if dest:
                            dest.write(chunk)
                finally:
                    if dest:
                        dest.close()
                if h.hexdigest() != expected.pop(m.name):
                    raise BackupError(f"{corrupt} (checksum mismatch in {m.name})")
            if expected:
                raise BackupError(f"{corrupt} (missing {', '.join(sorted(expected))})")
    except (tarfile.TarError, EOFError, OSError, ValueError, KeyError) as exc:
        raise BackupError(f"{corrupt} ({exc})") from exc
    return BackupInfo(path, str(manifest.get("backend")), manifest.get("revision"),
                      str(manifest.get("created")), str(manifest.get("ibc_version")),
                      dict(manifest["files"]))


def check_revision(revision: str | None) -> None:
    """Refuse a schema revision that this version's migrations do not know."""
    if revision is None:
        return
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from library.storage.migrate import MIGRATIONS

    try:
        known = ScriptDirectory(str(MIGRATIONS)).get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise BackupError(f"the backup has database schema {revision!r}, which this ibc "
                          f"{__version__} does not know: it was made by a newer version. "
                          "Upgrade ibc first (./install.sh again), then restore")


# --- restoring ---------------------------------------------------------------------------------

def _swap_sqlite(db: Database, new_file: Path) -> None:
    """Rename a checked SQLite file over the live database (which must not be in use)."""
    if db.url.database is None:
        raise BackupError(f"no SQLite database file to restore into ({db.describe()})")
    target = Path(db.url.database)
    check = sqlite3.connect(new_file)
    try:
        ok = check.execute("PRAGMA integrity_check").fetchone()[0]
        check.execute("PRAGMA journal_mode=DELETE")
    finally:
        check.close()
    if ok != "ok":
        raise BackupError(f"the database in the backup fails the integrity check: {ok}")
    db.dispose()
    if target.exists():
        live = sqlite3.connect(target, timeout=5)
        try:
            live.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            mode = live.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        except sqlite3.Error as exc:
            raise BackupError(f"{target} is in use ({exc}): stop ibc-server and the kiosk first") from exc
        finally:
            live.close()
        if str(mode).lower() != "delete":
            raise BackupError(f"{target} is in use: stop ibc-server and the kiosk first")
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.restore")
    shutil.copyfile(new_file, staged)
    with staged.open("rb") as fh:
        os.fsync(fh.fileno())
    if target.exists():  # keep the live file's owner and mode (root restoring for user ibc)
        st = target.stat()
        os.chmod(staged, st.st_mode & 0o777)
        if os.geteuid() == 0:
            os.chown(staged, st.st_uid, st.st_gid)
    os.replace(staged, target)
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)


def _restore_pg(db: Database, dump: Path) -> None:
    """Replace the public schema with the dump's, all in one transaction."""
    conn, env = _libpq(db)
    script = _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "-f", "-", str(dump)],
                  env, "pg_restore").stdout
    db.dispose()
    prologue = b"DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n"
    _run([_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-f", "-", *conn],
         env, "restoring with psql", input=prologue + script)


def _swap_thumbnails(data_dir: Path, extracted: Path) -> None:
    new = extracted / THUMBNAILS
    live = data_dir / THUMBNAILS
    if not new.is_dir():
        return
    old = data_dir / f".{THUMBNAILS}.old"
    shutil.rmtree(old, ignore_errors=True)
    staged = data_dir / f".{THUMBNAILS}.restore"
    shutil.rmtree(staged, ignore_errors=True)
    shutil.copytree(new, staged)
    if live.exists():
        os.replace(live, old)
    os.replace(staged, live)
    shutil.rmtree(old, ignore_errors=True)


def _restore_tls(data_dir: Path, extracted: Path) -> None:
    """Put the backed-up certificate and key back (key 0600, folder 0700); each file is
    replaced atomically. Nothing happens for an archive without them."""
    if not all((extracted / TLS / name).is_file() for name in TLS_FILES):
        return
    live = data_dir / TLS
    live.mkdir(mode=0o700, exist_ok=True)
    os.chmod(live, 0o700)
    for name in TLS_FILES:
        staged = live / f".{name}.restore"
        shutil.copyfile(extracted / TLS / name, staged)
        os.chmod(staged, 0o600 if name.endswith(".key") else 0o644)
        os.replace(staged, live / name)


def restore_backup(db: Database, path: str | os.PathLike[str], *,
                   data_dir: str | os.PathLike[str]) -> BackupInfo:
    """Check and restore an archive into `db` (and the thumbnails and the server's certificate
    into `data_dir`), then migrate."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".ibc-restore-", dir=data_dir) as tmp:
        info = read_backup(path, into=tmp)
        check_revision(info.revision)
        if info.backend != db.backend:
            raise BackupError(f"the backup is of a {info.backend} database but the configured one "
                              f"is {db.backend} ({db.describe()})")
        if db.is_sqlite:
            _swap_sqlite(db, Path(tmp) / SQLITE_MEMBER)
        else:
            _restore_pg(db, Path(tmp) / PG_MEMBER)
        _swap_thumbnails(data_dir, Path(tmp))
        _restore_tls(data_dir, Path(tmp))
    db.upgrade()
    return info
