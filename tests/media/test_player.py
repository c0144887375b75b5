"""The VLC player with dummy audio/video output playing generated media, and the fake."""

from __future__ import annotations

import threading
import time

import pytest

from media.player import FakePlayer, PlayerState, PlayItem, make_player


def wait_for(cond, timeout=5.0):
    """Poll ``cond`` until true or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        time.sleep(0.01)


@pytest.fixture
def vlc_player():
    events = []
    lock = threading.Lock()

    def on_event(ev):
        with lock:
            events.append(ev)

    player = make_player("vlc", on_event=on_event, headless=True)
    player.events = events
    yield player
    player.close()


def test_vlc_play_pause_seek_volume_and_playlist(vlc_player, media_src, tmp_path):
    p = vlc_player
    (media_src / "video.srt").write_text("1\n00:00:00,000 --> 00:00:02,000\nПривет\n", "utf-8")
    p.load([PlayItem(str(media_src / "video.mp4"), "Видео", 1),
            PlayItem(str(media_src / "tone.mp3"), "Тон", 2)])
    p.play()
    wait_for(lambda: p.state is PlayerState.PLAYING)
    first = p.position_s()
    wait_for(lambda: p.position_s() > first + 0.3)
    assert p.length_s() == pytest.approx(3.0, abs=0.3)
    p.pause()
    wait_for(lambda: p.state is PlayerState.PAUSED)
    paused_at = p.position_s()
    time.sleep(0.3)
    assert p.position_s() == pytest.approx(paused_at, abs=0.05)
    p.seek(1.5)
    wait_for(lambda: abs(p.position_s() - 1.5) < 0.3)
    p.set_volume(40)
    assert p.volume() == 40
    p.resume()
    wait_for(lambda: p.state is PlayerState.PLAYING)
    wait_for(lambda: p.index == 1, timeout=6)  # the playlist advanced by itself
    wait_for(lambda: any(e.kind == "playlist_end" for e in p.events), timeout=6)
    kinds = [(e.kind, e.state) for e in p.events]
    assert ("state", PlayerState.PAUSED) in kinds
    assert [e.index for e in p.events if e.kind == "item"] == [0, 1]
    assert sum(e.kind == "playlist_end" for e in p.events) == 1


def test_vlc_next_previous_and_start_position(vlc_player, media_src):
    p = vlc_player
    p.load([PlayItem(str(media_src / "video.mp4"), start_s=1.5),
            PlayItem(str(media_src / "tone.mp3"))])
    p.play()
    wait_for(lambda: p.state is PlayerState.PLAYING)
    wait_for(lambda: p.position_s() >= 1.4, timeout=1.0)
    assert p.next() and p.index == 1
    wait_for(lambda: p.state is PlayerState.PLAYING)
    assert p.previous() and p.index == 0
    assert not p.previous()
    p.stop()
    assert p.state is PlayerState.STOPPED


def test_vlc_reports_a_broken_file(vlc_player, tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\0garbage" * 1000)
    vlc_player.load([PlayItem(str(bad))])
    vlc_player.play()
    wait_for(lambda: vlc_player.state in (PlayerState.ERROR, PlayerState.ENDED))


def test_fake_player_playlist(media_src):
    events = []
    p = FakePlayer(events.append)
    p.load([PlayItem(str(media_src / "video.mp4")), PlayItem("/nonexistent.mp4")])
    p.play()
    assert p.state is PlayerState.PLAYING
    p.advance(2)
    assert p.position_s() == 2
    p.finish()
    assert p.index == 1 and p.state is PlayerState.ERROR
    assert events[-1].kind == "error" and "nonexistent" in events[-1].message
