"""The python-vlc player backend (imported only when the "vlc" backend is chosen).

libvlc quirks handled here: an unknown command-line option makes ``vlc.Instance`` return None
(so options are checked, not assumed); libvlc must not be called from its own event thread,
so each media's state events are queued to an EventWorker, tagged with a generation number so
that late events of a replaced media are ignored.

Video goes into our own film window over the projector's output (media/screen.py), which
libvlc draws into with its X11 output; VLC's log is caught (media/vlc_log.py) so that a missing
video or audio output reaches our log and, in plain words, the teacher (an "error" event while
the state stays what VLC says: VLC goes on with sound over a black screen).
"""

from __future__ import annotations

import logging
from typing import Any

import vlc

from media.errors import PlaybackProblem, PlayerUnavailable, ScreenUnavailable
from media.player import (
    EventCallback,
    EventWorker,
    PlayerState,
    PlayItem,
    PlaylistPlayer,
    subtitles_for,
)
from media.screen import FilmWindow
from media.vlc_log import VlcLog

log = logging.getLogger(__name__)

_STATES = {
    vlc.State.Opening: PlayerState.OPENING,
    vlc.State.Buffering: PlayerState.OPENING,
    vlc.State.Playing: PlayerState.PLAYING,
    vlc.State.Paused: PlayerState.PAUSED,
    vlc.State.Stopped: PlayerState.STOPPED,
    vlc.State.Ended: PlayerState.ENDED,
    vlc.State.Error: PlayerState.ERROR,
}


AUDIO_KEYWORDS = {"hdmi", "speakers"}


def _devices(first: Any) -> list[tuple[str, str]]:  # a ctypes AudioOutputDevice list
    out: list[tuple[str, str]] = []
    node = first
    while node:
        dev = node.contents
        out.append(((dev.device or b"").decode("utf-8", "replace"),
                    (dev.description or b"").decode("utf-8", "replace")))
        node = dev.next
    if first:
        vlc.libvlc_audio_output_device_list_release(first)
    return out


def audio_devices(player: vlc.MediaPlayer) -> list[tuple[str, str]]:
    """``(device id, description)`` of the audio output VLC opened for ``player`` (the sound
    server's sinks with PulseAudio, the cards' PCMs with ALSA)."""
    return _devices(player.audio_output_device_enum())


def pick_audio_device(devices: list[tuple[str, str]], keyword: str) -> str | None:
    """The device for ``hdmi`` (the projector's HDMI sound) or ``speakers`` (anything else)."""
    def is_hdmi(dev: tuple[str, str]) -> bool:
        return any(w in f"{dev[0]} {dev[1]}".lower() for w in ("hdmi", "displayport", " dp "))

    real = [d for d in devices if d[0] not in ("", "default", "null", "sysdefault")]
    for dev in real:
        if is_hdmi(dev) == (keyword == "hdmi"):
            return dev[0]
    return None


class VlcPlayer(PlaylistPlayer):
    """Plays through libvlc; ``headless`` uses dummy video and audio outputs (tests, servers).

    ``display``: which output the film window covers (``auto``, an output name, ``all``, a
    number; media/screen.py). ``audio_output``: empty (VLC's choice), ``hdmi`` or ``speakers``
    (the first such device of the sound server or ALSA), or ``module[:device]``.
    The video output module is VLC's choice: ``set_xwindow`` resets libvlc's "vout" option,
    and with ``--no-xlib`` the choice is XVideo (hardware scaling) where the driver has it, else
    plain X11 (``xcb_x11``, software scaling).
    """

    def __init__(self, on_event: EventCallback | None = None, *, headless: bool = False,
                 fullscreen: bool = True, display: str = "auto", audio_output: str = "",
                 extra_args: list[str] | None = None) -> None:
        super().__init__(on_event)
        # --no-xlib: Kivy's SDL shares the process and its Xlib is not thread-initialised.
        args = ["--quiet", "--no-video-title-show", "--no-xlib", "--no-snapshot-preview",
                "--no-osd"]
        module, _, device = audio_output.partition(":")
        keyword = module.lower() if module.lower() in AUDIO_KEYWORDS and not device else None
        if headless:
            args += ["--vout=dummy", "--aout=dummy"]
        else:
            if module and keyword is None:
                args.append(f"--aout={module}")
        args += list(extra_args or [])
        self._instance = vlc.Instance(args)
        if self._instance is None:
            raise PlayerUnavailable(options=" ".join(args))
        self._worker = EventWorker("vlc-events")
        self.log = VlcLog(self._instance, on_problem=self._on_problem)
        self._mp = self._instance.media_player_new()
        self._fullscreen = fullscreen and not headless
        self._headless = headless
        self._display = str(display or "auto")
        self._window: FilmWindow | None = None
        self._device = device or None
        if keyword is not None:
            self._device = self._find_device(keyword)
        if self._device:
            self._mp.audio_output_device_set(None, self._device)
        self._gen = 0
        self._media = None
        self._closed = False

    def _find_device(self, keyword: str) -> str | None:
        devices = audio_devices(self._mp)
        found = pick_audio_device(devices, keyword)
        if found:
            log.info("audio_output=%s: device %s (%s)", keyword, found, self.log.aout)
        else:
            log.warning("audio_output=%s: none among %s; VLC's default device is used", keyword,
                        [d for d, _ in devices])
        return found

    # --- the film window ------------------------------------------------------------------------
    def _ensure_window(self) -> None:
        """Open the film window on first use (no display: VLC's own window, an error event)."""
        if self._headless or self._window is not None or not self._fullscreen:
            return
        try:
            self._window = FilmWindow(self._display, on_tap=self._tapped)
        except (ScreenUnavailable, ValueError) as exc:
            problem = PlaybackProblem(PlaybackProblem.NO_SCREEN, "video", error=exc)
            self._worker.submit(lambda: self._report_problem(self._gen, problem))
            return
        self._mp.set_xwindow(self._window.xid)
        # Clicks and keys reach the film window (a tap brings the controls back), not VLC.
        self._mp.video_set_mouse_input(False)
        self._mp.video_set_key_input(False)
        log.info("film window on %s", self._window.output.describe())

    def _tapped(self) -> None:
        # On the film window's thread: hand over to the event worker.
        self._worker.submit(self._tap)

    def _tap(self) -> None:
        with self._lock:
            if self._window is not None and self._window.covers_panel and self._window.visible:
                self._window.hide()
                self._emit("screen", visible=False)

    def show_screen(self) -> None:
        """Show the film again after a tap hid it (or after stop, nothing to show: no-op)."""
        with self._lock:
            if self._window is not None and not self._window.visible \
                    and self.state in (PlayerState.PLAYING, PlayerState.PAUSED, PlayerState.OPENING):
                self._window.show()
                self._emit("screen", visible=True)

    def hide_screen(self) -> None:
        """Hide the film window (the film goes on), e.g. to see the kiosk on one output."""
        with self._lock:
            if self._window is not None and self._window.visible:
                self._window.hide()
                self._emit("screen", visible=False)

    def screen_status(self) -> dict | None:
        """Where the film is shown: output, whether it is visible and covers the touch panel."""
        w = self._window
        if w is None:
            return None
        return {"output": w.output.describe(), "visible": w.visible,
                "covers_panel": w.covers_panel, "vout": self.log.vout, "aout": self.log.aout}

    def _on_problem(self, problem: PlaybackProblem) -> None:
        # On libvlc's thread: queue only.
        gen = self._gen
        self._worker.submit(lambda: self._report_problem(gen, problem))

    def _report_problem(self, gen: int, problem: PlaybackProblem) -> None:
        with self._lock:
            if gen == self._gen and not self._closed:
                log.error("playback problem (%s): %s", problem.kind, problem.message())
                self._emit("error", error=problem, problem=problem.kind)

    def _on_media_event(self, event: vlc.Event, gen: int) -> None:
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
                    if self.state is PlayerState.ENDED:  # the playlist is over: clear the screen
                        self._hide_window()
            elif state is PlayerState.ERROR:
                item = self.current()
                detail = "; ".join(self.log.errors()[-3:])
                self._set_state(state, PlaybackProblem(
                    PlaybackProblem.VLC_FAILED, path=item.path if item else "",
                    detail=f" ({detail})" if detail else ""))
                self._hide_window()
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
        self.log.new_media()
        self._ensure_window()
        self._mp.set_media(media)
        if self._window is not None:
            self._window.show()  # black at once: the teacher sees the projector is taken
        if self._mp.play() != 0:
            raise RuntimeError(f"VLC отказался открыть {item.path}")

    def _pause(self, on: bool) -> None:
        self._mp.set_pause(1 if on else 0)

    def _stop(self) -> None:
        self._gen += 1  # late events of the stopped media are ignored
        self._mp.stop()
        self._hide_window()
        self._set_state(PlayerState.STOPPED)

    def _hide_window(self) -> None:
        if self._window is not None and self._window.visible:
            self._window.hide()

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
            if self._window is not None:
                self._window.close()
            self.log.close(self._instance)
            self._instance.release()
        self._worker.close()
