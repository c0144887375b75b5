"""ibc backup / restore: demo library round trips on SQLite and PostgreSQL, refusals, pruning."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from library.backup import (
    BackupError,
    create_backup,
    list_backups,
    prune,
    read_backup,
    restore_backup,
)
from library.storage.migrate import current_revision, head_revision
from library.storage.models import Copy, MediaItem, Reader, Record


def _counts(db) -> tuple[int, int, int]:
    with db.session() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Record, Copy, Reader))


@pytest.fixture
def demo_db(db):
    """The demo library in a fresh database on each backend."""
    from library.demo.loader import load_demo

    load_demo(db)
    return db


def _rewrite(src: Path, dst: Path, edit) -> None:
    """Copy an archive, letting `edit(name, bytes) -> bytes | None` change or drop members."""
    with tarfile.open(src, "r:gz") as tin, tarfile.open(dst, "w:gz") as tout:
        for m in tin.getmembers():
            data = edit(m.name, tin.extractfile(m).read())
            if data is None:
                continue
            ti = tarfile.TarInfo(m.name)
            ti.size = len(data)
            tout.addfile(ti, io.BytesIO(data))


def test_round_trip_demo(demo_db, tmp_path):
    """Back up the demo library, change it, restore: counts and the revision come back."""
    data_dir = tmp_path / "data"
    (data_dir / "thumbnails" / "ab").mkdir(parents=True)
    (data_dir / "thumbnails" / "ab" / "x.png").write_bytes(b"png-ish")
    before = _counts(demo_db)
    assert before[0] > 300
    from media.lessons import LessonStore

    lessons = LessonStore(demo_db)  # teachers' lessons and resume positions are in the database
    with demo_db.session() as s:
        films = list(s.scalars(select(MediaItem.id).order_by(MediaItem.id).limit(2)))
    lessons.save_lesson("reader-1", "Рим, 5А", films)
    lessons.set_resume_position("reader-1", films[0], 42)

    info = create_backup(demo_db, data_dir=data_dir)
    assert info.path.parent == data_dir / "backups"
    assert info.revision == head_revision() and info.backend == demo_db.backend
    assert "thumbnails/ab/x.png" in info.files

    with demo_db.transaction() as s:
        s.execute(text("DELETE FROM copies WHERE id IN (SELECT id FROM copies ORDER BY id LIMIT 10)"))
    lessons.delete_lesson("reader-1", "Рим, 5А")
    lessons.set_resume_position("reader-1", films[0], 0)
    (data_dir / "thumbnails" / "ab" / "x.png").unlink()
    (data_dir / "thumbnails" / "new.png").write_bytes(b"later")
    assert _counts(demo_db) != before

    restored = restore_backup(demo_db, info.path, data_dir=data_dir)
    assert restored.revision == info.revision
    assert _counts(demo_db) == before
    assert lessons.lessons("reader-1") == {"Рим, 5А": films}
    assert lessons.resume_position("reader-1", films[0]) == 42
    assert current_revision(demo_db) == head_revision()
    assert (data_dir / "thumbnails" / "ab" / "x.png").read_bytes() == b"png-ish"
    assert not (data_dir / "thumbnails" / "new.png").exists()
    # the database is still usable for writing after the restore
    with demo_db.transaction() as s:
        s.execute(text("DELETE FROM copies WHERE id IN (SELECT id FROM copies ORDER BY id LIMIT 1)"))
    assert _counts(demo_db)[1] == before[1] - 1


def test_sqlite_backup_while_writing(tmp_path):
    """The SQLite online backup is consistent while another connection keeps writing (WAL)."""
    from library.demo.loader import load_demo
    from library.storage.database import open_database

    db = open_database(f"sqlite:///{tmp_path / 'ibc.sqlite3'}")
    try:
        load_demo(db)
        stop = threading.Event()
        writes = []

        def writer() -> None:
            while not stop.is_set():
                with db.transaction() as s:
                    s.execute(text("UPDATE copies SET note = CAST(abs(random()) AS TEXT) "
                                   "WHERE id = (SELECT min(id) FROM copies)"))
                writes.append(1)

        t = threading.Thread(target=writer)
        t.start()
        try:
            info = create_backup(db, data_dir=tmp_path)
        finally:
            stop.set()
            t.join()
        assert writes
        out = tmp_path / "check"
        read_backup(info.path, into=out)
        import sqlite3

        con = sqlite3.connect(out / "database.sqlite3")
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT count(*) FROM records").fetchone()[0] == _counts(db)[0]
        con.close()
    finally:
        db.dispose()


def test_refuses_corrupt_archive(demo_db, tmp_path):
    """A flipped byte, a truncated file or a missing member are refused; nothing is touched."""
    info = create_backup(demo_db, data_dir=tmp_path)
    before = _counts(demo_db)
    member = "database.sqlite3" if demo_db.is_sqlite else "database.pgdump"

    def flip(name, data):
        return data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:] if name == member else data

    bad = tmp_path / "flipped.tar.gz"
    _rewrite(info.path, bad, flip)
    with pytest.raises(BackupError, match="checksum mismatch"):
        restore_backup(demo_db, bad, data_dir=tmp_path)

    missing = tmp_path / "missing.tar.gz"
    _rewrite(info.path, missing, lambda name, data: None if name == member else data)
    with pytest.raises(BackupError, match="missing"):
        restore_backup(demo_db, missing, data_dir=tmp_path)

    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(info.path.read_bytes()[: info.path.stat().st_size // 2])
    with pytest.raises(BackupError, match="corrupt"):
        restore_backup(demo_db, truncated, data_dir=tmp_path)

    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(gzip.compress(b"not a tar at all" * 100))
    with pytest.raises(BackupError, match="corrupt"):
        read_backup(junk)

    # a manifest that is a directory: tarfile.extractfile gives None (was an AttributeError)
    odd = tmp_path / "odd.tar.gz"
    entry = tarfile.TarInfo("manifest.json")
    entry.type = tarfile.DIRTYPE
    with tarfile.open(odd, "w:gz") as tar:
        tar.addfile(entry)
    with pytest.raises(BackupError, match="manifest.json is not a file"):
        read_backup(odd)
    assert _counts(demo_db) == before


def test_refuses_newer_schema(demo_db, tmp_path):
    """A backup stamped with a revision this version does not know names the reason."""
    info = create_backup(demo_db, data_dir=tmp_path)

    def stamp(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["revision"] = "9999_from_the_future"
        return json.dumps(manifest).encode()

    newer = tmp_path / "newer.tar.gz"
    _rewrite(info.path, newer, stamp)
    with pytest.raises(BackupError, match="newer version"):
        restore_backup(demo_db, newer, data_dir=tmp_path)


def test_prune_keeps_newest(tmp_path):
    """--keep N deletes only our own older archives."""
    d = tmp_path / "backups"
    d.mkdir()
    names = [f"ibc-backup-2025010{i}T020000Z.tar.gz" for i in range(1, 6)]
    for n in names:
        (d / n).write_bytes(b"x")
    (d / "notes.txt").write_text("keep me")
    deleted = prune(d, 2)
    assert [p.name for p in deleted] == names[:3]
    assert [p.name for p in list_backups(d)] == names[3:]
    assert (d / "notes.txt").exists()
    with pytest.raises(BackupError):
        prune(d, 0)


def test_cli_backup_restore_sqlite(tmp_path, capsys):
    """`ibc backup --keep`, `ibc restore --check` and `ibc restore` on an SQLite data dir."""
    from ibc.cli import main

    url = f"sqlite:///{tmp_path / 'ibc.sqlite3'}"
    cfg = tmp_path / "ibc.toml"
    cfg.write_text(f'data_dir = "{tmp_path}"\n')
    base = ["--config", str(cfg), "--db", url]
    assert main([*base, "demo"]) == 0
    for _ in range(3):
        assert main([*base, "backup", "--keep", "2", "--json"]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert len(list_backups(tmp_path / "backups")) == 2
    last = out[-1]["path"]
    assert main([*base, "restore", "--check", last]) == 0
    assert main([*base, "restore", last]) == 0
    assert "restored" in capsys.readouterr().out
    assert len(list_backups(tmp_path / "backups")) == 3  # the safety backup
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"nope")
    assert main([*base, "restore", str(bogus)]) == 1
    assert "corrupt" in capsys.readouterr().err


@pytest.mark.postgres
def test_refuses_other_backend(pg_url, tmp_path):
    """An SQLite backup is not restored into PostgreSQL (and says which is which)."""
    from library.storage.database import open_database

    lite = open_database(f"sqlite:///{tmp_path / 'ibc.sqlite3'}")
    pg = open_database(pg_url)
    try:
        info = create_backup(lite, data_dir=tmp_path)
        with pytest.raises(BackupError, match="sqlite database but the configured one is postgresql"):
            restore_backup(pg, info.path, data_dir=tmp_path)
    finally:
        lite.dispose()
        pg.dispose()


def test_older_backup_is_migrated_after_restore(db, tmp_path):
    """A backup from the previous schema restores into a newer database and ends at head."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from library.storage.migrate import MIGRATIONS, alembic_config

    previous = ScriptDirectory(str(MIGRATIONS)).get_revision(head_revision()).down_revision
    assert isinstance(previous, str)
    command.downgrade(alembic_config(db), previous)
    info = create_backup(db, data_dir=tmp_path)
    assert info.revision == previous
    db.upgrade()
    restored = restore_backup(db, info.path, data_dir=tmp_path)
    assert restored.revision == previous
    assert current_revision(db) == head_revision()


def test_the_servers_certificate_survives_a_restore_on_new_hardware(db, tmp_path):
    """The terminals pinned the server's certificate at enrolment: a restore brings the same
    certificate and key back (key 0600), so no terminal has to enrol again."""
    import os
    import stat

    old = tmp_path / "old"
    (old / "tls").mkdir(parents=True, mode=0o700)
    (old / "tls" / "server.crt").write_bytes(b"-----BEGIN CERTIFICATE-----\npinned\n")
    key = old / "tls" / "server.key"
    key.write_bytes(b"-----BEGIN PRIVATE KEY-----\nsecret\n")
    os.chmod(key, 0o600)
    info = create_backup(db, data_dir=old, output=tmp_path / "b.tar.gz")
    assert {"tls/server.crt", "tls/server.key"} <= set(info.files)
    assert stat.S_IMODE((tmp_path / "b.tar.gz").stat().st_mode) == 0o640

    new = tmp_path / "new"  # the new machine made its own certificate at install
    (new / "tls").mkdir(parents=True)
    (new / "tls" / "server.crt").write_bytes(b"fresh")
    (new / "tls" / "server.key").write_bytes(b"fresh key")
    restore_backup(db, tmp_path / "b.tar.gz", data_dir=new)
    assert (new / "tls" / "server.crt").read_bytes().endswith(b"pinned\n")
    assert (new / "tls" / "server.key").read_bytes().endswith(b"secret\n")
    assert stat.S_IMODE((new / "tls" / "server.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((new / "tls").stat().st_mode) == 0o700
    assert not list((new / "tls").glob(".*"))  # no staged leftovers
