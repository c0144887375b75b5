"""MediaStation: projector automation against the PJLink emulator, access, plays, lessons."""

from __future__ import annotations

import shutil
import threading

import pytest
from sqlalchemy import select

from device.projector import make_projector
from device.projector.emulator import ThreadedEmulator
from device.projector.model import ProjectorModel
from device.projector.values import PowerState
from library.storage.models import Event, MediaItem
from media.access import visible_media
from media.errors import MediaError
from media.player import FakePlayer, PlayerState, make_player
from media.scan import scan
from media.station import MediaStation
from tests.media.test_player import wait_for


@pytest.fixture
def library(db, tmp_path, media_src):
    root = tmp_path / "lib"
    (root / "Учителям").mkdir(parents=True)
    shutil.copy(media_src / "video.mp4", root / "video.mp4")
    shutil.copy(media_src / "tone.mp3", root / "tone.mp3")
    shutil.copy(media_src / "pic.png", root / "Учителям" / "secret.png")
    (root / "Учителям" / "_media.toml").write_text('access = "teachers"\n', "utf-8")
    (root / "tone.toml").write_text('access = "onsite"\n', "utf-8")
    scan(db, [root], data_dir=tmp_path / "data", thumbnails=False)
    with db.session() as s:
        return {i.path.rsplit("/", 1)[1]: i.id for i in s.scalars(select(MediaItem))}


def test_access_levels(db, library):
    with db.session() as s:
        pupil = {i.id for i in visible_media(s, "pupil")}
        teacher = {i.id for i in visible_media(s, "teacher")}
        staff = {i.id for i in visible_media(s, "staff")}  # staff were pupils here once
        nobody = {i.id for i in visible_media(s, None)}
    assert library["secret.png"] not in pupil and library["secret.png"] in teacher
    assert staff == teacher == set(library.values()) and nobody == pupil
    assert library["tone.mp3"] in pupil
    with db.transaction() as s:  # an unknown level is "teachers": teachers still see it
        s.get(MediaItem, library["video.mp4"]).access = "strange-level"
    with db.session() as s:
        assert library["video.mp4"] in {i.id for i in visible_media(s, "teacher")}
        assert library["video.mp4"] not in {i.id for i in visible_media(s, "pupil")}
    station = MediaStation(db, FakePlayer(), data_dir=db.url.database or "/tmp")
    tone = next(m for m in station.media("pupil") if m["id"] == library["tone.mp3"])
    assert tone["downloadable"] is False and tone["access"] == "onsite"
    with pytest.raises(MediaError):
        station.play(library["secret.png"], role="pupil")
    assert station.item(library["video.mp4"], role="staff")["downloadable"] is True
    with pytest.raises(MediaError):
        station.item(library["video.mp4"], role="pupil")
    station.close()


def test_plays_lessons_and_resume(db, library, tmp_path):
    player = FakePlayer()
    events = []
    station = MediaStation(db, player, data_dir=tmp_path / "d", on_event=events.append)
    station.save_lesson("ivanova", "Рим, 5А", [library["video.mp4"], library["tone.mp3"]])
    station.play_lesson("ivanova", "Рим, 5А")
    player.advance(42)
    player.finish()
    assert player.index == 1
    station.stop()
    with db.session() as s:
        plays = s.scalars(select(Event).where(Event.kind == "play")).all()
        assert sorted(e.media_id for e in plays) == sorted(library[k] for k in ("video.mp4", "tone.mp3"))
        assert s.get(MediaItem, library["video.mp4"]).plays == 1
    station.play(library["video.mp4"], teacher="ivanova")
    player.advance(30)
    station.stop()
    station.play(library["video.mp4"], teacher="ivanova")
    assert player.position_s() == 30  # resumed where this teacher stopped
    assert station.status()["state"] == "playing"
    assert any(e["source"] == "player" for e in events)
    station.close()


def test_play_on_projector_with_emulator(db, library, tmp_path):
    model = ProjectorModel(warm_up_s=0.3, input="11")
    events, lock = [], threading.Lock()

    def on_event(ev):
        with lock:
            events.append(ev)

    with ThreadedEmulator(model, password="secret") as emu:
        projector = make_projector("pjlink", host="127.0.0.1", port=emu.port, password="secret",
                                   timeout=2)
        projector.poll_interval = 0.1
        station = MediaStation(db, make_player("vlc", headless=True), data_dir=tmp_path / "d",
                               projector=projector, projector_input="HDMI1", off_after_s=0.2,
                               on_event=on_event)
        model.mute = model.mute.__class__(True, True)
        try:
            station.play(library["video.mp4"], projector=True)
            wait_for(lambda: station.player.state is PlayerState.PLAYING, timeout=10)
            assert model.power is PowerState.ON and model.input == "32"
            assert not model.mute.video and not model.mute.audio
            assert station.status()["projector"] == "ready"
            # the playlist ends → the projector goes off after off_after_s
            wait_for(lambda: model.power is not PowerState.ON, timeout=10)
        finally:
            station.close()
    states = [e.get("state") for e in events if e["source"] == "projector"]
    assert states[:2] == ["warming", "ready"] and "off" in states


def test_projector_failure_does_not_stop_playback(db, library, tmp_path):
    projector = make_projector("pjlink", host="127.0.0.1", port=9, timeout=0.5)
    events = []
    station = MediaStation(db, FakePlayer(), data_dir=tmp_path / "d", projector=projector,
                           on_event=events.append)
    try:
        station.play(library["video.mp4"], projector=True)
        wait_for(lambda: station.player.state is PlayerState.PLAYING, timeout=10)
    finally:
        station.close()
    errors = [e for e in events if e["source"] == "projector" and e["kind"] == "error"]
    assert errors and "проектор" in errors[0]["message"]


def test_refusals_carry_a_code_and_speak_each_language(db, library, tmp_path):
    """The station's refusals: a stable code and params; Russian for the CLI and logs, English,
    and the kiosk's language through the library catalogue (every template translated)."""
    from library.i18n import translator
    from media.errors import REFUSALS, LessonNotFound, MediaNotFound, NothingToPlay

    station = MediaStation(db, FakePlayer(), data_dir=tmp_path / "d")
    try:
        with pytest.raises(MediaNotFound) as missing:
            station.play(999999)
        assert missing.value.code == "media_not_found" and missing.value.params == {"id": 999999}
        assert str(missing.value) == "Нет такого материала: 999999"
        assert missing.value.message() == "There is no such media item: 999999"
        with pytest.raises(LessonNotFound) as lesson:
            station.play_lesson("reader-1", "Рим")
        assert lesson.value.message(translator("ru")) == "Нет урока «Рим»"
        assert lesson.value.message(translator("en")) == "There is no lesson “Рим”"
        with pytest.raises(NothingToPlay):
            station.play_items([])
    finally:
        station.close()
    ru = translator("ru")
    assert all(ru(cls.template) != cls.template for cls in REFUSALS)
