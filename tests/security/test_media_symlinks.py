"""Attack: symbolic links in a media folder (issue 16, item 5).

Whoever can write to a media folder (a teacher's share) plants `passwd.mp4 -> /etc/passwd` or a
folder link to somewhere private, and the scan indexes it and the server hands it out through
`GET /media/{id}/file`; or plants `a -> .` and `b -> .`, and `ibc media scan` walks
a/b/a/b/… forever with growing memory. Now a file is indexed and served only when its real path
lies inside a configured media folder (checked at the scan and again at every download), a
folder is walked once however many links lead to it, and the scan report says what it left out.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from library.storage.models import MediaItem
from media.scan import SKIP_OUTSIDE, SKIP_SEEN, scan

V = "/api/v1"
ROOT = Path(__file__).resolve().parents[2]
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00"
       b"\x00\x90\x91h6")  # a PNG header is all the scan reads of an image (no ffprobe)


@pytest.fixture
def served(db, tmp_path):
    """(client, db, settings, auth): the real API app with one media folder, tmp_path/media,
    configured in `[media] roots`, and an enrolled terminal's auth header."""
    from fastapi.testclient import TestClient

    from config.settings import load_settings
    from server.app import create_app
    from server.security import create_enrol_code

    settings = load_settings(environ={})
    (tmp_path / "media").mkdir()
    settings.media.roots = [str(tmp_path / "media")]
    with TestClient(create_app(settings, db), raise_server_exceptions=False) as client:
        r = client.post(f"{V}/terminals/enrol", json={"code": create_enrol_code(db, 5),
                                                      "name": "k1"})
        assert r.status_code == 200, r.text
        yield client, db, settings, {"Authorization": f"Bearer {r.json()['token']}"}


def _paths(db) -> dict[str, str]:
    with db.session() as s:
        return {os.path.basename(i.path): i.status for i in s.scalars(select(MediaItem))}


def _item_id(db, name: str) -> int:
    with db.session() as s:
        return next(i.id for i in s.scalars(select(MediaItem)) if i.path.endswith(name))


def test_a_link_to_etc_passwd_is_neither_indexed_nor_served(served, tmp_path):
    client, db, settings, auth = served
    root = tmp_path / "media"
    (root / "pic.png").write_bytes(PNG)
    (root / "passwd.png").symlink_to("/etc/passwd")
    private = tmp_path / "private"
    private.mkdir()
    (private / "secret.png").write_bytes(PNG + b"secret")
    (root / "private").symlink_to(private)  # a folder link to outside the media folder
    (root / "same.png").symlink_to(root / "pic.png")  # a link inside the folder is fine

    rep = scan(db, [root], data_dir=tmp_path / "data", thumbnails=False,
               media_roots=settings.media.roots)

    names = _paths(db)
    assert "passwd.png" not in names and "secret.png" not in names
    assert names["pic.png"] == "ok" and names["same.png"] == "ok"
    skipped = {os.path.basename(k["path"]): k["reason"] for k in rep.skipped}
    assert skipped["passwd.png"] == SKIP_OUTSIDE.format("/etc/passwd")
    assert skipped["private"] == SKIP_OUTSIDE.format(os.path.realpath(private))
    # Even an item somebody put in the database by hand (or an old scan made) is not served.
    with db.transaction() as s:
        s.add(MediaItem(path=str(root / "passwd.png"), title="Пароли", kind="image",
                        access="everyone", status="ok"))
    r = client.get(f"{V}/media/{_item_id(db, 'passwd.png')}/file", headers=auth)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert b"root:" not in r.content
    missing = client.get(f"{V}/media/999999/file", headers=auth)
    assert r.json() == missing.json()  # the same 404 as an item that does not exist
    ok = client.get(f"{V}/media/{_item_id(db, 'pic.png')}/file", headers=auth)
    assert ok.status_code == 200 and ok.content == PNG


def test_a_link_made_after_the_scan_is_not_served(served, tmp_path):
    client, db, settings, auth = served
    root = tmp_path / "media"
    film = root / "film.png"
    film.write_bytes(PNG)
    scan(db, [root], data_dir=tmp_path / "data", thumbnails=False)
    url = f"{V}/media/{_item_id(db, 'film.png')}/file"
    assert client.get(url, headers=auth).status_code == 200

    film.unlink()
    film.symlink_to("/etc/passwd")  # swapped after the scan: the database still says "ok"
    r = client.get(url, headers=auth)
    assert r.status_code == 404 and b"root:" not in r.content

    film.unlink()
    (root / "sub").mkdir()
    (root / "sub" / "film.png").write_bytes(PNG + b"moved")
    film.symlink_to(root / "sub" / "film.png")  # a link inside the media folder is served
    assert client.get(url, headers=auth).content == PNG + b"moved"

    os.rename(root, tmp_path / "elsewhere")  # the media folder itself replaced by a link out
    root.symlink_to(tmp_path / "elsewhere")
    settings.media.roots = [str(tmp_path / "other")]
    assert client.get(url, headers=auth).status_code == 404


def test_a_rescan_retires_an_item_whose_file_became_a_link_out(db, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    (root / "film.png").write_bytes(PNG)
    scan(db, [root], data_dir=tmp_path / "data", thumbnails=False)
    (root / "film.png").unlink()
    (root / "film.png").symlink_to("/etc/passwd")
    rep = scan(db, [root], data_dir=tmp_path / "data", thumbnails=False)
    assert _paths(db) == {"film.png": "missing"} and rep.missing == 1
    assert [os.path.basename(k["path"]) for k in rep.skipped] == ["film.png"]


def test_a_fifo_does_not_hang_the_scan(db, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    os.mkfifo(root / "stream.mp4")  # ffprobe or the fingerprint would wait on it for ever
    rep = scan(db, [root], data_dir=tmp_path / "data", thumbnails=False)
    assert _paths(db) == {} and [k["path"] for k in rep.skipped] == [str(root / "stream.mp4")]


def test_a_link_loop_ends_quickly_with_flat_memory(db, tmp_path):
    root = tmp_path / "media"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "pic.png").write_bytes(PNG)
    (root / "a").symlink_to(".")
    (root / "b").symlink_to(".")
    (root / "sub" / "up").symlink_to("..")
    (root / "sub" / "again").symlink_to(root / "sub")

    started = time.monotonic()
    rep = scan(db, [root], data_dir=tmp_path / "data", thumbnails=False)
    assert time.monotonic() - started < 60  # before: never ended
    assert _paths(db) == {"pic.png": "ok"} and rep.files == 1
    assert sorted(os.path.relpath(k["path"], root) for k in rep.skipped) == [
        "a", "b", "sub/again", "sub/up"]
    assert {k["reason"] for k in rep.skipped} == {SKIP_SEEN}


def test_ibc_media_scan_of_a_link_loop_in_a_child_stays_small(tmp_path):
    """The same loop through the real command, with its peak memory measured."""
    root = tmp_path / "media"
    root.mkdir()
    (root / "pic.png").write_bytes(PNG)
    for name in "abcd":
        (root / name).symlink_to(".")
    measure = ("import resource, subprocess, sys\n"
               "p = subprocess.run(sys.argv[1:], capture_output=True, timeout=120)\n"
               "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
               "sys.stdout.write(p.stdout.decode())\n")
    cmd = [sys.executable, "-c", measure, sys.executable, "-m", "ibc", "--db",
           f"sqlite:///{tmp_path / 'ibc.sqlite3'}", "media", "scan", str(root),
           "--no-thumbnails"]
    env = {**os.environ, "IBC_DATA_DIR": str(tmp_path / "data")}
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=180, env=env)
    head, _, text = out.stdout.partition("\n")
    code, rss_kb = map(int, head.split())
    assert code == 0, out.stdout + out.stderr
    assert "Файлов: 1;" in text and text.count("пропущен:") == 4
    assert rss_kb < 200 * 1024


def test_a_description_linked_to_dev_zero_or_a_fifo_does_not_stall_the_scan(db, tmp_path):
    root = tmp_path / "media"
    (root / "sub").mkdir(parents=True)
    (root / "pic.png").write_bytes(PNG)
    (root / "sub" / "pic.png").write_bytes(PNG + b"2")
    (root / "_media.toml").symlink_to("/dev/zero")  # tomllib would read it for ever
    os.mkfifo(root / "sub" / "_media.toml")  # opening it would wait for a writer
    started = time.monotonic()
    rep = scan(db, [root], data_dir=tmp_path / "data", thumbnails=False)
    assert time.monotonic() - started < 60
    assert rep.files == 2 and set(_paths(db).values()) == {"ok"}
    assert any("/dev/zero" not in w and "_media.toml: не прочитан" in w for w in rep.warnings)
    assert sum("не прочитан" in w for w in rep.warnings) == 2
