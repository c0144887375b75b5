"""End to end: a teacher at a terminal drives the media station of a real `ibc serve`.

The server (subprocess, 127.0.0.1) plays with VLC on dummy outputs ([media] station =
"headless") and talks PJLink to the emulator; media come from generated ffmpeg test videos
scanned into the server's database before it starts.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import pytest

from device.projector.emulator import ThreadedEmulator
from device.projector.model import ProjectorModel
from device.projector.values import MuteState, PowerState
from kiosk.terminal.api import ApiClient, ApiRefused
from library.storage.database import open_database
from media.scan import scan
from server.security import create_enrol_code
from tests.server.conftest import ServerProcess, populate

pytest.importorskip("vlc", reason="python-vlc (extra media) is needed")


def _video(path, seconds: int, freq: int) -> None:
    """A small test-pattern video with a tone (distinct content per file)."""
    proc = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc=duration={seconds}:size=160x120:rate=15",
         "-f", "lavfi", "-i", f"sine=frequency={freq}:duration={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
         "-shortest", str(path)], capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr.decode()


def _wait(cond, timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not reached in {timeout} s")
        time.sleep(0.1)


@pytest.fixture
def station_server(tmp_path):
    """(url, codes, emulator, media file paths) of a live server driving a headless station."""
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is required (Debian package ffmpeg)")
    root = tmp_path / "media"
    (root / "История").mkdir(parents=True)
    (root / "Учителям").mkdir()
    film = root / "История" / "Древний Рим.mp4"
    _video(film, 30, 440)
    _video(root / "Учителям" / "Ответы.mp4", 3, 550)
    (root / "Учителям" / "_media.toml").write_text('access = "teachers"\n', "utf-8")
    _video(root / "Только в ИБЦ.mp4", 3, 660)
    (root / "Только в ИБЦ.toml").write_text('access = "onsite"\n', "utf-8")

    url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    db = open_database(url)
    populate(db)
    report = scan(db, [root], data_dir=tmp_path / "data", thumbnails=False)
    assert report.added == 3 and not report.broken, report.to_dict()
    codes = [create_enrol_code(db, 5), create_enrol_code(db, 5)]
    db.dispose()

    model = ProjectorModel(warm_up_s=0.5, input="11")
    model.mute = MuteState(True, True)
    with ThreadedEmulator(model) as emu:
        cfg = tmp_path / "station.toml"
        cfg.write_text(
            f'data_dir = "{tmp_path / "data"}"\n\n'
            '[school]\nid = "media"\nname = "Школа"\n\n'
            f'[database]\nurl = "{url}"\n\n'
            '[server]\nhost = "127.0.0.1"\ninterfaces = ["127.0.0.1"]\nadvertise = false\n'
            'tls = "off"\n\n'  # about the media station: plain HTTP, the development setting
            f'[projector]\nhost = "127.0.0.1"\nport = {emu.port}\ninput = "HDMI1"\n'
            'timeout_s = 2.0\n\n'
            f'[media]\nstation = "headless"\nroots = ["{root}"]\n', encoding="utf-8")
        proc = ServerProcess(cfg, tmp_path)
        proc.start()
        try:
            yield proc.url, codes, emu, film
        finally:
            code = proc.stop()
    assert code == 0, "ibc serve did not stop cleanly"


def test_teacher_plays_a_film_on_the_projector(station_server, tmp_path):
    url, codes, emu, film = station_server
    with ApiClient(url, timeout=10) as teacher, ApiClient(url, timeout=10) as pupil:
        teacher.enrol(codes[0], "class-5a")
        pupil.enrol(codes[1], "hall")
        assert teacher.open_session("CT")["reader"]["category"] == "teacher"
        assert pupil.open_session("C5A")["reader"]["category"] == "pupil"

        # find the film: catalogue search and the media list
        hits = teacher.search("type:media Древний Рим", limit=10)["hits"]
        assert any(h["title"] == "Древний Рим" for h in hits), hits
        found = [m for m in teacher.media(q="Древний Рим") if m["title"] == "Древний Рим"]
        assert len(found) == 1
        film_id = found[0]["id"]

        # pupils: no control, no teachers-only items, no on-site downloads
        with pytest.raises(ApiRefused) as refused:
            pupil.media_play(film_id, projector=True)
        assert refused.value.status == 403 and refused.value.code == "teachers_only"
        assert "учител" in refused.value.message
        with pytest.raises(ApiRefused):
            pupil.media_station()
        pupil_titles = {m["title"] for m in pupil.media()}
        teacher_titles = {m["title"] for m in teacher.media()}
        assert "Ответы" in teacher_titles and "Ответы" not in pupil_titles
        assert "Древний Рим" in pupil_titles
        by_title = {m["title"]: m["id"] for m in teacher.media()}
        for who in (pupil, teacher):
            with pytest.raises(ApiRefused) as refused:
                who.media_download(by_title["Только в ИБЦ"], tmp_path / "x.mp4")
            assert refused.value.status == 403 and refused.value.code == "onsite_only"
        with pytest.raises(ApiRefused) as refused:
            pupil.media_download(by_title["Ответы"], tmp_path / "x.mp4")
        assert refused.value.status == 404
        assert pupil.media_download(film_id, tmp_path / "film.mp4") == film.stat().st_size
        assert (tmp_path / "film.mp4").read_bytes() == film.read_bytes()

        # the teacher sends it to the projector
        state = teacher.media_play(film_id, projector=True)
        # playback starts once the projector is warm: until then the playlist is only loaded
        assert state["count"] == 1 and state["started_by_me"]
        assert state["projector"]["state"] in ("warming", "ready")
        first = _wait(lambda: (s := teacher.media_station())["state"] == "playing"
                      and s["position_s"] > 0 and s, what="playing")
        assert first["media_id"] == film_id and first["title"] == "Древний Рим" and first["duration_s"] == pytest.approx(30, abs=1)
        _wait(lambda: teacher.media_station()["position_s"] > first["position_s"] + 0.5,
              what="position advancing")
        assert emu.model.power is PowerState.ON and emu.model.input == "32"
        assert not emu.model.mute.video and not emu.model.mute.audio
        proj = _wait(lambda: (p := teacher.media_station()["projector"])["power"] == "on"
                     and p["input_code"] == "32" and p, what="projector status")
        assert proj["state"] == "ready" and proj["configured"] and proj["last_error"] is None

        # pause: the position stops; resume: it moves again; stop
        assert teacher.media_pause()["state"] in ("paused", "playing")
        paused = _wait(lambda: (s := teacher.media_station())["state"] == "paused" and s,
                       what="paused")
        time.sleep(0.5)
        assert teacher.media_station()["position_s"] == pytest.approx(paused["position_s"], abs=0.15)
        teacher.media_resume()
        _wait(lambda: teacher.media_station()["position_s"] > paused["position_s"] + 0.3,
              what="resumed")
        assert teacher.media_volume(35)["volume"] == 35
        teacher.media_stop()
        _wait(lambda: teacher.media_station()["state"] == "stopped", what="stopped")
        teacher.end_session()
        pupil.end_session()

        # the technician's CLI: `ibc media remote ... status --json` on the teacher's terminal
        out = subprocess.run(
            [sys.executable, "-m", "ibc", "media", "remote", "--url", url, "--token",
             teacher.token, "--card", "CT", "--json", "status"],
            capture_output=True, text=True, timeout=60, check=False)
        assert out.returncode == 0, out.stderr
        cli = json.loads(out.stdout)
        assert cli["state"] == "stopped" and cli["media_id"] == film_id and cli["started_by_me"]
        assert cli["projector"]["power"] == "on"
        out = subprocess.run(
            [sys.executable, "-m", "ibc", "media", "remote", "--url", url, "--token",
             pupil.token, "--card", "C5A", "play", str(film_id)],
            capture_output=True, text=True, timeout=60, check=False)
        assert out.returncode == 1 and "учител" in out.stderr
