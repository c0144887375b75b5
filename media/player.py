"""Playback: a `Player` Protocol, the python-vlc backend and an in-memory fake.

Both share `PlaylistPlayer`, which owns the playlist, the current index and event delivery;
a backend supplies only ``_open/_pause/_stop/_seek/_set_volume/_position/_length``.
State and errors go to the ``on_event`` callback. VLC fires its events on its own thread and
must not be called back from there, so VLC events are queued to one worker thread that advances
the playlist and calls ``on_event`` (the only hand-over; see ARCHITECTURE convention 9).
"""

from __future__ import annotations

import enum
import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from media.errors import MediaError, PlaybackProblem


class PlayerState(str, enum.Enum):
    """What the player is doing."""

    IDLE = "idle"
    OPENING = "opening"
    PLAYING = "playing"
    PAUSED = "paused"
    STOPPED = "stopped"
    ENDED = "ended"
    ERROR = "error"



@dataclass(frozen=True)
class PlayItem:
    """One entry of a playlist."""

    path: str
    title: str = ""
    media_id: int | None = None
    start_s: float = 0.0
    subtitles: str | None = None


@dataclass(frozen=True)
class PlayerEvent:
    """A state change, item change, error or playlist end, delivered to ``on_event``."""

    kind: str  # "state" | "item" | "error" | "playlist_end" | "screen"
    state: PlayerState
    index: int = -1
    item: PlayItem | None = None
    message: str | None = None  # Russian (logs, the CLI); ``error`` says it in any language
    position_s: float | None = None
    extra: dict = field(default_factory=dict)
    error: MediaError | None = None  # the coded problem of an "error" event


EventCallback = Callable[[PlayerEvent], None]


@runtime_checkable
class Player(Protocol):
    """What the media station asks of a player (VLC or fake)."""

    state: PlayerState
    index: int

    def load(self, items: Sequence[PlayItem]) -> None: ...
    def play(self, index: int | None = None) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def stop(self) -> None: ...
    def seek(self, seconds: float) -> None: ...
    def set_volume(self, percent: int) -> None: ...
    def next(self) -> bool: ...
    def previous(self) -> bool: ...
    def position_s(self) -> float: ...
    def length_s(self) -> float | None: ...
    def volume(self) -> int: ...
    def current(self) -> PlayItem | None: ...
    def close(self) -> None: ...


def subtitles_for(item: PlayItem) -> str | None:
    """The item's subtitles: given explicitly, or an .srt next to the file."""
    if item.subtitles:
        return item.subtitles
    srt = Path(item.path).with_suffix(".srt")
    return str(srt) if srt.is_file() else None


class PlaylistPlayer(ABC):
    """Playlist, index, volume and event delivery shared by every backend."""

    def __init__(self, on_event: EventCallback | None = None) -> None:
        self.on_event = on_event
        self.items: list[PlayItem] = []
        self.index = -1
        self.state = PlayerState.IDLE
        self._volume = 100
        self._lock = threading.RLock()

    # backend hooks: every backend (VLC, fake) implements all of them
    @abstractmethod
    def _open(self, item: PlayItem) -> None: ...
    @abstractmethod
    def _pause(self, on: bool) -> None: ...
    @abstractmethod
    def _stop(self) -> None: ...
    @abstractmethod
    def _seek(self, seconds: float) -> None: ...
    @abstractmethod
    def _set_volume(self, percent: int) -> None: ...
    @abstractmethod
    def _position(self) -> float: ...
    @abstractmethod
    def _length(self) -> float | None: ...

    # where the film is shown (a backend with a film window overrides these)
    def show_screen(self) -> None:  # noqa: B027 - optional hook: no window, nothing to show
        """Show the film window again after a tap hid it."""

    def hide_screen(self) -> None:  # noqa: B027
        """Hide the film window; playback goes on."""

    def screen_status(self) -> dict | None:
        """The film window: output, visible, covers_panel (None: no window)."""
        return None

    def _emit(self, kind: str, message: str | None = None, error: MediaError | None = None,
              **extra: Any) -> None:
        if self.on_event is not None:
            item = self.current()
            if error is not None and message is None:
                message = str(error)
            self.on_event(PlayerEvent(kind, self.state, self.index, item, message,
                                      extra=extra, error=error))

    def _set_state(self, state: PlayerState, error: MediaError | None = None) -> None:
        if state is not self.state or error is not None:
            self.state = state
            self._emit("error" if state is PlayerState.ERROR else "state", error=error)

    def load(self, items: Sequence[PlayItem]) -> None:
        """Replace the playlist (stops what is playing)."""
        with self._lock:
            if self.state in (PlayerState.PLAYING, PlayerState.PAUSED, PlayerState.OPENING):
                self._stop()
            self.items = list(items)
            self.index = -1
            self.state = PlayerState.IDLE

    def play(self, index: int | None = None) -> None:
        """Start item ``index`` (default: the current one, or the first)."""
        with self._lock:
            if not self.items:
                raise IndexError("playlist is empty")
            index = (self.index if self.index >= 0 else 0) if index is None else index
            if not 0 <= index < len(self.items):
                raise IndexError(f"no item {index} in a playlist of {len(self.items)}")
            self.index = index
            self.state = PlayerState.OPENING
            self._emit("item")
            try:
                self._open(self.items[index])
            except Exception as exc:  # noqa: BLE001  (backend failure → reported, not raised)
                self._set_state(PlayerState.ERROR, PlaybackProblem(
                    PlaybackProblem.OPEN_FAILED, error=exc))

    def pause(self) -> None:
        """Pause playback."""
        with self._lock:
            if self.state is PlayerState.PLAYING:
                self._pause(True)

    def resume(self) -> None:
        """Continue after pause."""
        with self._lock:
            if self.state is PlayerState.PAUSED:
                self._pause(False)

    def stop(self) -> None:
        """Stop playback (the playlist stays)."""
        with self._lock:
            if self.state not in (PlayerState.IDLE, PlayerState.STOPPED):
                self._stop()

    def seek(self, seconds: float) -> None:
        """Jump to ``seconds`` from the start of the current item."""
        with self._lock:
            self._seek(max(0.0, float(seconds)))

    def set_volume(self, percent: int) -> None:
        """Volume 0..200 %."""
        with self._lock:
            self._volume = max(0, min(200, int(percent)))
            self._set_volume(self._volume)

    def volume(self) -> int:
        """The requested volume in percent."""
        return self._volume

    def next(self) -> bool:
        """Go to the next item; False at the end of the playlist."""
        with self._lock:
            if self.index + 1 >= len(self.items):
                return False
            self.play(self.index + 1)
            return True

    def previous(self) -> bool:
        """Go to the previous item; False at the start."""
        with self._lock:
            if self.index <= 0:
                return False
            self.play(self.index - 1)
            return True

    def position_s(self) -> float:
        """Seconds into the current item."""
        with self._lock:
            return self._position() if self.index >= 0 else 0.0

    def length_s(self) -> float | None:
        """Length of the current item in seconds, when known."""
        with self._lock:
            return self._length() if self.index >= 0 else None

    def current(self) -> PlayItem | None:
        """The current item."""
        return self.items[self.index] if 0 <= self.index < len(self.items) else None

    def _item_ended(self) -> None:
        """Advance after an item ends; report the end of the playlist."""
        with self._lock:
            self.state = PlayerState.ENDED
            if self.index + 1 < len(self.items):
                self.play(self.index + 1)
            else:
                self._emit("state")
                self._emit("playlist_end")

    def close(self) -> None:
        """Stop and release resources."""
        with self._lock:
            if self.state in (PlayerState.PLAYING, PlayerState.PAUSED, PlayerState.OPENING):
                self._stop()


class FakePlayer(PlaylistPlayer):
    """A player without output: states change at once; ``finish()`` ends the current item."""

    def __init__(self, on_event: EventCallback | None = None,
                 fail_paths: set[str] | None = None) -> None:
        super().__init__(on_event)
        self.fail_paths = set(fail_paths or ())
        self._pos = 0.0
        self.opened: list[str] = []

    def _open(self, item: PlayItem) -> None:
        self.opened.append(item.path)
        if item.path in self.fail_paths or not Path(item.path).exists():
            self._set_state(PlayerState.ERROR, PlaybackProblem(
                PlaybackProblem.NOT_PLAYABLE, path=item.path))
            return
        self._pos = item.start_s
        self._set_state(PlayerState.PLAYING)

    def _pause(self, on: bool) -> None:
        self._set_state(PlayerState.PAUSED if on else PlayerState.PLAYING)

    def _stop(self) -> None:
        self._set_state(PlayerState.STOPPED)

    def _seek(self, seconds: float) -> None:
        self._pos = seconds

    def _set_volume(self, percent: int) -> None:
        pass

    def _position(self) -> float:
        return self._pos

    def _length(self) -> float | None:
        return None

    def advance(self, seconds: float) -> None:
        """Move the fake clock forward while playing."""
        if self.state is PlayerState.PLAYING:
            self._pos += seconds

    def finish(self) -> None:
        """Simulate the end of the current item."""
        self._item_ended()


def make_player(backend: str = "vlc", *, on_event: EventCallback | None = None,
                **options) -> PlaylistPlayer:
    """Build the configured player: "vlc" (python-vlc) or "fake" (chosen at start-up)."""
    if backend == "fake":
        return FakePlayer(on_event)
    if backend == "vlc":
        from media.vlc_player import VlcPlayer

        return VlcPlayer(on_event, **options)
    raise ValueError(f"unknown player backend {backend!r}: use vlc or fake")


class EventWorker:
    """One daemon thread running queued callables in order (VLC event hand-over)."""

    def __init__(self, name: str = "media-events") -> None:
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[], None]) -> None:
        """Queue ``fn`` to run on the worker thread."""
        self._queue.put(fn)

    def _run(self) -> None:
        while True:
            fn = self._queue.get()
            if fn is None:
                return
            try:
                fn()
            except Exception:  # noqa: BLE001  (a callback bug must not kill the worker)
                import logging

                logging.getLogger(__name__).exception("media event handler failed")

    def close(self) -> None:
        """Finish queued work and stop the thread."""
        self._queue.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join(5)
