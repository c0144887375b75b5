"""The python-vlc player backend (imported only when the "vlc" backend is chosen).

libvlc quirks handled here: an unknown command-line option makes ``vlc.Instance`` return None
(so options are checked, not assumed); libvlc must not be called from its own event thread,
so each media's state events are queued to an EventWorker, tagged with a generation number so
that late events of a replaced media are ignored.
"""

from __future__ import annotations

import os

import vlc

from media.player import (
    EventCallback,
    EventWorker,
    PlayerState,
    PlayItem,
    PlaylistPlayer,
    subtitles_for,
)

_STATES = {
    vlc.State.Opening: PlayerState.OPENING,
    vlc.State.Buffering: PlayerState.OPENING,
    vlc.State.Playing: PlayerState.PLAYING,
    vlc.State.Paused: PlayerState.PAUSED,
    vlc.State.Stopped: PlayerState.STOPPED,
    vlc.State.Ended: PlayerState.ENDED,
    vlc.State.Error: PlayerState.ERROR,
}


class PlayerUnavailable(RuntimeError):
    """libvlc could not be started with these options."""


class VlcPlayer(PlaylistPlayer):
    """Plays through libvlc; ``headless`` uses dummy video and audio outputs (tests, servers)."""

    def __init__(self, on_event: EventCallback | None = None, *, headless: bool = False,
                 fullscreen: bool = True, display: int = 0, audio_output: str = "",
                 extra_args: list[str] | None = None) -> None:
        super().__init__(on_event)
        args = ["--quiet", "--no-video-title-show", "--no-xlib"]
        module, _, device = audio_output.partition(":")
        if headless:
            args += ["--vout=dummy", "--aout=dummy"]
        elif module:
            args.append(f"--aout={module}")
        if not headless and display:
            # X11: screen N of the current display (":0" → ":0.N"), for a projector on a second
            # X screen; with one screen spanning monitors set DISPLAY/geometry in the session.
            base = os.environ.get("DISPLAY", ":0").split(".")[0]
            args.append(f"--x11-display={base}.{display}")
        args += list(extra_args or [])
        self._instance = vlc.Instance(args)
        if self._instance is None:
            raise PlayerUnavailable(f"libvlc не запустился с параметрами {' '.join(args)}")
        self._mp = self._instance.media_player_new()
        self._fullscreen = fullscreen and not headless
        self._device = device or None
        if self._device:
            self._mp.audio_output_device_set(None, self._device)
        self._worker = EventWorker("vlc-events")
        self._gen = 0
        self._media = None
        self._closed = False

    def _on_media_event(self, event, gen: int) -> None:  # noqa: ANN001
        # Runs on libvlc's thread: only queue, never call libvlc here.
        state = _STATES.get(event.u.new_state)
        if state is not None:
            self._worker.submit(lambda: self._apply(gen, state))

    def _apply(self, gen: int, state: PlayerState) -> None:
        with self._lock:
            if gen != self._gen or self._closed:
                return
            if state is PlayerState.ENDED:
                if self.state is not PlayerState.ENDED:  # libvlc may report Ended twice
                    self._item_ended()
            elif state is PlayerState.ERROR:
                item = self.current()
                self._set_state(state, f"VLC не может воспроизвести {item.path if item else ''}")
            elif state is PlayerState.PLAYING:
                self._set_state(state)
                if self._volume != 100:
                    self._mp.audio_set_volume(self._volume)
            else:
                self._set_state(state)

    def _open(self, item: PlayItem) -> None:
        self._gen += 1
        if self._media is not None:
            self._media.event_manager().event_detach(vlc.EventType.MediaStateChanged)
            self._media.release()
        media = self._instance.media_new_path(item.path)
        if item.start_s:
            media.add_option(f":start-time={item.start_s:.3f}")
        srt = subtitles_for(item)
        if srt:
            media.add_option(f":sub-file={srt}")
        media.event_manager().event_attach(vlc.EventType.MediaStateChanged,
                                           self._on_media_event, self._gen)
        self._media = media
        self._mp.set_media(media)
        self._mp.set_fullscreen(self._fullscreen)
        if self._mp.play() != 0:
            raise RuntimeError(f"VLC отказался открыть {item.path}")

    def _pause(self, on: bool) -> None:
        self._mp.set_pause(1 if on else 0)

    def _stop(self) -> None:
        self._gen += 1  # late events of the stopped media are ignored
        self._mp.stop()
        self._set_state(PlayerState.STOPPED)

    def _seek(self, seconds: float) -> None:
        self._mp.set_time(int(seconds * 1000))

    def _set_volume(self, percent: int) -> None:
        # With the dummy audio output libvlc keeps no volume; the requested value is kept above.
        self._mp.audio_set_volume(percent)

    def _position(self) -> float:
        ms = self._mp.get_time()
        return max(0.0, ms / 1000) if ms is not None else 0.0

    def _length(self) -> float | None:
        ms = self._mp.get_length()
        return ms / 1000 if ms and ms > 0 else None

    def vlc_volume(self) -> int:
        """The volume libvlc reports (-1 when the output has none)."""
        return self._mp.audio_get_volume()

    def close(self) -> None:
        """Stop, release libvlc objects and the event thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._gen += 1
            self._mp.stop()
            if self._media is not None:
                self._media.event_manager().event_detach(vlc.EventType.MediaStateChanged)
                self._media.release()
                self._media = None
            self._mp.release()
            self._instance.release()
        self._worker.close()
