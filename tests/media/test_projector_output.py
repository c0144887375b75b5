"""Films seen and heard: the real station plays a test-pattern film to a real X display (Xvfb,
no window manager) and a real PulseAudio null sink, and the tests look at the pixels and the
samples — full screen, pause freezes, stop clears, a tap brings the controls back, volume acts on
the output, and VLC's failures reach the teacher in words."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from config.settings import load_settings
from library.storage.models import MediaItem
from media.errors import ScreenUnavailable
from media.player import PlayerState
from media.scan import scan
from media.screen import Output, choose_output, list_outputs
from media.station import MediaStation
from tests.media.conftest import ffmpeg
from tests.media.test_player import wait_for
from tests.media.xdisplay import changed, grab, lit, pulse_null_sink, record_rms, save_png, xvfb

W, H = 1280, 720
GALLERY = Path(__file__).resolve().parents[2] / "docs/screenshots/projector"
FILM_SHOT = GALLERY / f"film-fullscreen-{W}x{H}.png"


@pytest.fixture(scope="module")
def film(tmp_path_factory):
    """A 12 s 1280×720 test pattern (moving) with a 440 Hz tone."""
    d = tmp_path_factory.mktemp("film")
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={W}x{H}:rate=25", "-f", "lavfi",
           "-i", "sine=frequency=440:sample_rate=48000", "-t", "12", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
           "-metadata", "title=Таблица", str(d / "pattern.mp4"))
    return d / "pattern.mp4"


@pytest.fixture
def screen(monkeypatch):
    with xvfb(W, H) as display:
        monkeypatch.setenv("DISPLAY", display)
        yield display


@pytest.fixture
def sound(tmp_path, monkeypatch):
    with pulse_null_sink(tmp_path) as env:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        yield env


def _station(db, tmp_path, film, events, **media):
    root = tmp_path / "lib"
    root.mkdir()
    shutil.copy(film, root / "pattern.mp4")
    scan(db, [root], data_dir=tmp_path / "data", thumbnails=False)
    with db.session() as s:
        media_id = s.scalars(select(MediaItem.id)).one()
    settings = load_settings(environ={}, overrides={"media": {"audio_output": "pulse", **media},
                                                    "data_dir": str(tmp_path / "data")})
    station = MediaStation.from_settings(settings, db, on_event=events.append)
    return station, media_id


def _until_lit(display, share=0.9, timeout=30.0):
    deadline = time.monotonic() + timeout
    image = grab(display, W, H)
    while lit(image) < share and time.monotonic() < deadline:
        time.sleep(0.2)
        image = grab(display, W, H)
    return image


def _until_changed(display, ref, timeout=15.0) -> float:
    """Wait until the screen differs from ``ref`` (a moving film; slow on a loaded machine)."""
    deadline = time.monotonic() + timeout
    share = changed(ref, grab(display, W, H))
    while share < 0.01 and time.monotonic() < deadline:
        time.sleep(0.3)
        share = changed(ref, grab(display, W, H))
    return share


def test_film_fills_the_screen_pause_freezes_stop_clears_and_sound_follows(
        db, tmp_path, film, screen, sound):
    events: list[dict] = []
    station, media_id = _station(db, tmp_path, film, events)
    try:
        assert lit(grab(screen, W, H)) < 0.01  # a black screen before
        t0 = time.monotonic()
        station.play(media_id, teacher="reader-1")
        first = _until_lit(screen)
        first_frame_s = time.monotonic() - t0
        assert lit(first) > 0.9, f"the film covers only {lit(first):.0%} of the screen"
        assert first_frame_s < 30
        save_png(screen, W, H, tmp_path / "film.png")
        if os.environ.get("IBC_WRITE_GALLERY"):  # IBC_WRITE_GALLERY=1 pytest -k fills_the_screen
            shutil.copy(tmp_path / "film.png", FILM_SHOT)
        status = station.status()
        assert status["screen"]["output"].startswith("screen 1280×720")
        assert status["screen"]["visible"] is True and status["screen"]["covers_panel"] is True
        wait_for(lambda: station.player.log.vout is not None and station.player.log.aout, 20)
        assert station.player.log.vout in ("xcb_x11", "xcb_xv", "gl", "glx")
        assert station.player.log.aout == "pulse"

        # the pattern moves while playing …
        assert _until_changed(screen, first) > 0.01
        # … and sound reaches the output, at the volume asked for
        loud = record_rms(sound, 1.0)
        assert loud > 500, f"no signal on the sink (RMS {loud:.0f})"
        station.set_volume(30)
        time.sleep(0.5)
        quiet = record_rms(sound, 1.0)
        assert quiet < loud / 4, f"volume 30 %: RMS {quiet:.0f} vs {loud:.0f}"

        # pause freezes the picture and silences the sink
        station.pause()
        wait_for(lambda: station.player.state is PlayerState.PAUSED, 20)
        time.sleep(0.5)
        a = grab(screen, W, H)
        time.sleep(0.8)
        b = grab(screen, W, H)
        assert lit(a) > 0.9 and changed(a, b) < 0.001
        assert record_rms(sound, 0.6) < 50
        station.resume()
        wait_for(lambda: station.player.state is PlayerState.PLAYING, 20)
        assert _until_changed(screen, b) > 0.01

        # stop clears the screen
        station.stop()
        time.sleep(0.5)
        assert lit(grab(screen, W, H)) < 0.01
        assert not [e for e in events if e.get("kind") == "error"], events
    finally:
        station.close()


def test_a_tap_on_the_film_brings_the_controls_back(db, tmp_path, film, screen, sound):
    from Xlib import X, display
    from Xlib.ext import xtest

    events: list[dict] = []
    station, media_id = _station(db, tmp_path, film, events)
    try:
        station.play(media_id)
        assert lit(_until_lit(screen)) > 0.9
        d = display.Display(screen)
        d.screen().root.warp_pointer(W // 2, H // 2)
        xtest.fake_input(d, X.ButtonPress, 1)
        xtest.fake_input(d, X.ButtonRelease, 1)
        d.sync()
        wait_for(lambda: any(e.get("kind") == "screen" and e.get("visible") is False
                             for e in events), 20)
        time.sleep(0.3)
        assert lit(grab(screen, W, H)) < 0.01  # what was beneath shows: here the black root
        assert station.player.state is PlayerState.PLAYING  # the film goes on, heard
        assert station.status()["screen"]["visible"] is False
        station.show_film()
        assert lit(_until_lit(screen)) > 0.9
        d.close()
    finally:
        station.close()


def test_vlc_failures_reach_the_teacher_in_words(db, tmp_path, film, screen, caplog):
    """A sound device that is not there (a real ALSA failure: no such card here): the film
    still shows, the teacher is told in words, the log has VLC's own lines."""
    events: list[dict] = []
    station, media_id = _station(db, tmp_path, film, events,
                                 audio_output="alsa:hw:CARD=NoSuchCard,DEV=3")
    try:
        station.play(media_id)
        wait_for(lambda: any(e.get("kind") == "error" for e in events), timeout=20)
        error = next(e for e in events if e.get("kind") == "error")
        assert error["message"].startswith("Не удалось вывести звук")
        assert error["problem"] == "audio"
        assert lit(_until_lit(screen)) > 0.9  # the picture is unaffected
        assert any("vlc " in r.getMessage() for r in caplog.records if r.name == "ibc.vlc")
    finally:
        station.close()
    assert len([e for e in events if e.get("problem") == "audio"]) == 1  # said once, not per retry


@pytest.mark.parametrize("line, kind, words", [
    ("video output creation failed", "video", "Не удалось показать видео: нет подходящего"),
    ("failed to create video output", "video", "Не удалось показать видео"),
    ("no vout display modules matched", "video", "vlc-plugin-video-output"),
    ("failed to create audio output", "audio", "Не удалось вывести звук"),
    ("Codec `hevc' (MPEG-H Part2/HEVC (H.265)) is not supported.", "codec",
     "формат «MPEG-H Part2/HEVC (H.265)» не поддерживается"),
])
def test_vlc_log_lines_become_plain_words(line, kind, words):
    """The exact lines libvlc 3.0 logs when an output or a codec is missing (seen in its log)."""
    from media.vlc_log import explain

    got = explain(line)
    assert got is not None and got.kind == kind and words in str(got)
    assert got.code == "playback_problem" and "not" in got.message()  # English for an English kiosk
    assert explain("Failed to create video converter") is None  # harmless, seen on every play
    from media.vlc_log import BENIGN

    assert BENIGN.search("Failed to create video converter") and not BENIGN.search(line)


def test_no_display_is_said_plainly(db, tmp_path, film, sound, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(ScreenUnavailable, match="DISPLAY"):
        list_outputs()
    events: list[dict] = []
    station, media_id = _station(db, tmp_path, film, events)
    try:
        station.play(media_id)
        wait_for(lambda: any(e.get("kind") == "error" for e in events), timeout=20)
        assert any("нет графического сеанса" in (e.get("message") or "") for e in events)
    finally:
        station.close()


def test_the_projector_output_is_chosen_by_name_or_as_the_one_that_is_not_the_panel():
    panel = Output("eDP-1", 0, 0, 1280, 800, primary=True)
    projector = Output("HDMI-1", 1280, 0, 1920, 1080)
    assert choose_output([panel, projector], "auto") == projector
    assert choose_output([projector, Output("DP-1", 3200, 0, 800, 600, True)], "auto") \
        == projector
    assert choose_output([panel], "auto") == panel  # one output: a mirrored projector
    assert choose_output([panel, projector], "hdmi-1") == projector
    assert choose_output([panel, projector], "0") == panel
    whole = choose_output([panel, projector], "all")
    assert (whole.x, whole.y, whole.width, whole.height) == (0, 0, 3200, 1080)
    with pytest.raises(ScreenUnavailable, match="есть: eDP-1, HDMI-1"):
        choose_output([panel, projector], "HDMI-2")
    with pytest.raises(ScreenUnavailable, match="№5"):
        choose_output([panel, projector], "5")


def test_doctor_opens_the_real_outputs_and_says_which(screen, sound):
    from media.selftest import check_playback

    report = check_playback("auto", "", timeout=20)
    assert report.status == "OK", report
    assert report.vout == "xcb_x11" and report.aout == "pulse"
    assert "картинка на экране" in report.detail and "screen 1280×720" in report.detail


def test_doctor_fails_in_words_when_sound_cannot_be_played(screen):
    from media.selftest import check_playback

    report = check_playback("auto", "alsa:hw:CARD=NoSuchCard,DEV=3", timeout=20)
    assert report.status == "FAIL" and "Не удалось вывести звук" in report.detail


def test_doctor_without_a_display_or_without_video_modules(monkeypatch):
    import media.selftest as selftest

    monkeypatch.delenv("DISPLAY", raising=False)
    report = selftest.check_playback()
    assert report.status == "WARN" and "DISPLAY" in report.detail and "xcb_x11" in report.detail
    monkeypatch.setattr(selftest, "PLUGIN_DIRS", ("/nonexistent/vlc/plugins/video_output",))
    report = selftest.check_playback()
    assert report.status == "FAIL" and "vlc-plugin-video-output" in report.hint


def test_the_gallery_picture_of_a_film_is_what_the_station_shows():
    """docs/screenshots/projector: the X screen while the station plays the test pattern,
    written by the first test above with IBC_WRITE_GALLERY=1."""
    import cv2

    image = cv2.imread(str(FILM_SHOT))
    assert image is not None, f"{FILM_SHOT} is missing"
    assert image.shape[:2] == (H, W) and lit(image[:, :, ::-1]) > 0.9


def test_two_outputs_in_cage_the_film_goes_to_the_one_that_is_not_the_panel(
        db, tmp_path, film, sound, monkeypatch):
    """The kiosk compositor with a touch panel and a projector (two outputs, extended): the film
    window lands on the second output only, full screen there; the panel stays the kiosk's."""
    import sys

    from tests.media.xdisplay import STAND_IN, cage_headless, grim, white

    stand_in = tmp_path / "kiosk_stand_in.py"
    stand_in.write_text(STAND_IN)
    with cage_headless(tmp_path, 2, [sys.executable, str(stand_in)]) as (display, wl):
        monkeypatch.setenv("DISPLAY", display)
        outputs = list_outputs()
        assert [(o.x, o.width) for o in outputs] == [(0, 1280), (1280, 1280)], outputs
        left, right = outputs  # neither is primary in Xwayland: the panel is the one at 0,0
        events: list[dict] = []
        station, media_id = _station(db, tmp_path, film, events)
        try:
            station.play(media_id)
            deadline = time.monotonic() + 30
            projector = grim(wl, right, tmp_path / "p.png")
            while white(projector) > 0.5 and time.monotonic() < deadline:  # the kiosk until
                time.sleep(0.3)                                            # the film covers it
                projector = grim(wl, right, tmp_path / "p.png")
            panel = grim(wl, left, tmp_path / "k.png")
            assert lit(projector) > 0.9 and white(projector) < 0.5, \
                f"the projector shows the film on {lit(projector):.0%}"
            assert white(panel) > 0.99, "the touch panel must keep showing the kiosk"
            status = station.status()["screen"]
            assert status["output"].startswith(right.name) and status["covers_panel"] is False
            deadline = time.monotonic() + 15  # the film moves (a loaded machine: give it time)
            while changed(projector, grim(wl, right, tmp_path / "p.png")) < 0.01:
                assert time.monotonic() < deadline, "the film stands still on the projector"
                time.sleep(0.5)
            station.stop()
            time.sleep(0.5)
            assert white(grim(wl, right, tmp_path / "p.png")) > 0.99  # the kiosk again
        finally:
            station.close()


def test_the_server_role_screen_shows_films_to_the_ibc_group_only(db, tmp_path, film, sound,
                                                                  monkeypatch):
    """systemd/ibc-display.service's own command lines (Xvfb for Xorg, a temp dir for /run) with
    ibc-server.service's DISPLAY and XAUTHORITY: the station shows the film there, and a client
    without the cookie is refused."""
    import grp
    import os
    import re
    import subprocess

    from tests.media.xdisplay import _free_display, _stop

    root = Path(__file__).resolve().parents[2] / "systemd"
    unit = (root / "ibc-display.service").read_text()
    server = (root / "ibc-server.service").read_text()
    pre = re.search(r"^ExecStartPre=/bin/sh -ec '(.*)'$", unit, re.M).group(1)
    start = re.search(r"^ExecStart=(.*)$", unit, re.M).group(1).split()
    env_line = re.search(r"^Environment=(DISPLAY=.*)$", server, re.M).group(1)
    unit_env = dict(item.split("=", 1) for item in env_line.split())
    assert start[:2] == ["/usr/bin/Xorg", unit_env["DISPLAY"]]
    assert unit_env["XAUTHORITY"] in pre and unit_env["XAUTHORITY"] in start

    n = _free_display()
    run = tmp_path / "run"
    run.mkdir()
    group = grp.getgrgid(os.getgid()).gr_name
    script = pre.replace("/run/ibc-display", str(run)).replace(unit_env["DISPLAY"], f":{n}") \
        .replace("chgrp ibc", f"chgrp {group}")
    subprocess.run(["sh", "-ec", script], check=True, timeout=30)
    auth = unit_env["XAUTHORITY"].replace("/run/ibc-display", str(run))
    assert oct(os.stat(auth).st_mode & 0o777) == "0o640"
    xorg_only = {"vt7", "-novtswitch"}
    args = [a.replace("/run/ibc-display", str(run)) for a in start[2:] if a not in xorg_only]
    xvfb = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", f"{W}x{H}x24", "-br", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while not Path(f"/tmp/.X11-unix/X{n}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        import sys

        probe = "from Xlib import display; display.Display(%r).close()"
        without = {k: v for k, v in os.environ.items() if k != "XAUTHORITY"}
        without["HOME"] = str(tmp_path)  # no ~/.Xauthority either
        refused = subprocess.run([sys.executable, "-c", probe % f":{n}"], env=without,
                                 capture_output=True, text=True, timeout=30)
        assert refused.returncode != 0 and "Authorization" in refused.stderr, refused.stderr
        monkeypatch.setenv("DISPLAY", f":{n}")
        monkeypatch.setenv("XAUTHORITY", auth)
        events: list[dict] = []
        station, media_id = _station(db, tmp_path, film, events)
        try:
            station.play(media_id)
            shot = tmp_path / "server-screen.png"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                save_png(f":{n}", W, H, shot)  # ffmpeg reads XAUTHORITY too
                import cv2

                if lit(cv2.imread(str(shot))) > 0.9:
                    break
                time.sleep(0.3)
            assert lit(cv2.imread(str(shot))) > 0.9
        finally:
            station.close()
    finally:
        _stop(xvfb)


def test_audio_output_by_plain_words(sound):
    """`[media] audio_output = hdmi | speakers`: the sound server's devices, HDMI or not."""
    import vlc

    from media.vlc_player import VlcPlayer, audio_devices, pick_audio_device

    instance = vlc.Instance(["--quiet"])
    mp = instance.media_player_new()
    try:
        devices = audio_devices(mp)
    finally:
        mp.release()
        instance.release()
    assert ("ibc_test", "Null Output") in devices, devices
    assert pick_audio_device(devices, "speakers") == "ibc_test"
    assert pick_audio_device(devices, "hdmi") is None
    hdmi = [("alsa_output.pci-0000_00_1f.3.analog-stereo", "Built-in Audio Analog Stereo"),
            ("alsa_output.pci-0000_00_1f.3.hdmi-stereo", "Built-in Audio Digital Stereo (HDMI)")]
    assert pick_audio_device(hdmi, "hdmi").endswith("hdmi-stereo")
    assert pick_audio_device(hdmi, "speakers").endswith("analog-stereo")
    player = VlcPlayer(display="auto", audio_output="speakers")
    try:
        assert player._device == "ibc_test"  # noqa: SLF001
    finally:
        player.close()


def test_a_closed_film_window_ignores_late_commands(screen):
    """A late show/hide (a VLC event after the station closed) must not write into a pipe
    descriptor that the process may have reused for something else."""
    from media.screen import FilmWindow

    window = FilmWindow("auto")
    window.show()
    window.close()
    assert window._wake_w == -1  # noqa: SLF001
    r, w = os.pipe()  # likely reuses the closed numbers
    try:
        window.hide()
        window.show()
        os.set_blocking(r, False)
        with pytest.raises(BlockingIOError):
            os.read(r, 10)  # nothing was written into the new pipe
    finally:
        os.close(r)
        os.close(w)
