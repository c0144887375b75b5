"""MediaStation: the in-process API of the media station (used by the CLI, the server and kiosk).

"Play on the projector" switches the projector on, waits for warm-up, selects the configured
input and unmutes it, then starts playback; projector failures are reported as events and never
stop playback. After a playlist ends the projector can be switched off after a delay.
Events (player states, errors, projector steps) go to ``on_event`` as JSON-ready dicts, from
the player's worker thread or the projector thread: the receiver hands them to its own loop.

The projector's PJLink client is asynchronous; the station's own threads reach it through
``run_async(coroutine)``, which the process that owns the station passes in: the kiosk runs the
coroutine on its one bridge loop, the server on its own event loop. Only the command line
(one call, then exit) keeps the default, ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from library.access import Action, may
from library.storage.models import MediaItem
from media.access import media_dict, record_play, visible_media
from media.errors import (
    LessonNotFound,
    MediaError,
    MediaItemUnavailable,
    MediaNotFound,
    NothingToPlay,
    NotPlayable,
    ProjectorProblem,
)
from media.kinds import PLAYABLE
from media.lessons import LessonStore
from media.player import PlayerEvent, PlayerState, PlayItem, PlaylistPlayer

if TYPE_CHECKING:
    from device.projector.base import Projector
    from library.storage.database import Database

log = logging.getLogger(__name__)
StationCallback = Callable[[dict], None]
AsyncRunner = Callable[[Coroutine[Any, Any, Any]], Any]  # run a coroutine from a plain thread


class MediaStation:
    """Media library + player + projector automation for one station."""

    def __init__(self, db: Database, player: PlaylistPlayer, *, data_dir: str | Path,
                 projector: Projector | None = None,
                 projector_input: str = "HDMI1", off_after_s: float = 0.0,
                 warmup_timeout_s: float = 120.0, terminal: str | None = None,
                 on_event: StationCallback | None = None,
                 run_async: AsyncRunner | None = None) -> None:
        self.db = db
        self.player = player
        self.projector = projector
        self.projector_input = projector_input
        self.off_after_s = off_after_s
        self.warmup_timeout_s = warmup_timeout_s
        self.terminal = terminal
        self.on_event = on_event
        self.run_async: AsyncRunner = run_async or asyncio.run
        self.lessons = LessonStore(db, data_dir)
        self.teacher: str | None = None
        self.projector_state: str = "unused"
        self.last_error: MediaError | None = None  # the player's last failure; cleared on play
        self._counted: set[int] = set()
        self._on_projector = False
        self._threads: list[threading.Thread] = []
        self._off_timer: threading.Timer | None = None
        self._lock = threading.RLock()
        player.on_event = self._player_event

    @classmethod
    def from_settings(cls, settings: Any, db: Database, *,  # config.settings.Settings
                      player: PlaylistPlayer | None = None,
                      projector: Projector | None = None, headless: bool = False,
                      on_event: StationCallback | None = None,
                      run_async: AsyncRunner | None = None) -> MediaStation:
        """Build from Settings: VLC player on the configured display/audio, PJLink projector."""
        from library.storage.database import default_data_dir
        from media.player import make_player

        data_dir = settings.data_dir or default_data_dir()
        if player is None:
            player = make_player("vlc", headless=headless, display=settings.media.display,
                                 audio_output=settings.media.audio_output)
        conf = settings.projector
        if projector is None and conf.host:
            from device.projector import make_projector

            projector = make_projector("pjlink", host=conf.host, port=conf.port,
                                       password=conf.password or None, timeout=conf.timeout_s)
        return cls(db, player, data_dir=data_dir, projector=projector,
                   projector_input=conf.input, off_after_s=conf.off_after_min * 60.0,
                   on_event=on_event, run_async=run_async)

    # --- library --------------------------------------------------------------------

    def media(self, role: str = "pupil") -> list[dict]:
        """Items this role may see, as dicts (``downloadable`` tells the API what to serve)."""
        with self.db.session() as s:
            return [media_dict(i) for i in visible_media(s, role)]

    def item(self, media_id: int, role: str = "teacher") -> dict:
        """One visible item as a dict (MediaError when absent or hidden from this role)."""
        with self.db.session() as s:
            item = s.get(MediaItem, media_id)
            if item is None or not may(role, item.access, Action.SEE):
                raise MediaNotFound(id=media_id)
            return media_dict(item)

    # --- playback -------------------------------------------------------------------

    def play(self, media_id: int, *, role: str = "teacher", teacher: str | None = None,
             projector: bool = False, resume: bool = True) -> dict:
        """Play one item (from the teacher's resume position); returns the status."""
        return self.play_items([media_id], role=role, teacher=teacher, projector=projector,
                               resume=resume)

    def play_lesson(self, teacher: str, name: str, *, projector: bool = False) -> dict:
        """Play a teacher's saved lesson from its first item."""
        try:
            ids = self.lessons.lesson(teacher, name)
        except KeyError:
            raise LessonNotFound(name=name) from None
        return self.play_items(ids, role="teacher", teacher=teacher, projector=projector,
                               resume=False)

    def play_items(self, media_ids: list[int], *, role: str = "teacher",
                   teacher: str | None = None, projector: bool = False,
                   resume: bool = True) -> dict:
        """Load these items as the playlist and start; the projector is prepared first."""
        items = self._play_items(media_ids, role, teacher if resume else None)
        with self._lock:
            self.last_error = None
            self._save_resume()
            self._cancel_off_timer()
            self.teacher = teacher
            self._counted.clear()
            self.player.load(items)
            if projector and self.projector is not None:
                self._on_projector = True
                self._start_thread(self._projector_then_play, "media-projector")
            else:
                if projector:
                    problem = ProjectorProblem(template=ProjectorProblem.NOT_SET_UP)
                    self._emit({"source": "projector", "kind": "error", "message": str(problem),
                                "code": problem.code, "message_en": problem.message()})
                self.player.play(0)
        return self.status()

    def _play_items(self, media_ids: list[int], role: str, teacher: str | None) -> list[PlayItem]:
        if not media_ids:
            raise NothingToPlay()
        with self.db.session() as s:
            rows = {i.id: i for i in s.scalars(select(MediaItem).where(MediaItem.id.in_(media_ids)))}
        out = []
        for mid in media_ids:
            item = rows.get(mid)
            if item is None or not may(role, item.access, Action.PLAY):
                raise MediaNotFound(id=mid)
            if item.status != "ok":
                raise MediaItemUnavailable(title=item.title, reason=item.error or item.status)
            if item.kind not in PLAYABLE:
                raise NotPlayable(title=item.title, kind=item.kind)
            start = self.lessons.resume_position(teacher, mid) if teacher else 0.0
            out.append(PlayItem(item.path, item.title, item.id, start_s=start))
        return out

    def pause(self) -> None:
        """Pause."""
        self.player.pause()

    def resume(self) -> None:
        """Continue after pause."""
        self.player.resume()

    def stop(self) -> None:
        """Stop and remember the position for the teacher."""
        with self._lock:
            self._save_resume()
            self.player.stop()

    def seek(self, seconds: float) -> None:
        """Jump within the current item."""
        self.player.seek(seconds)

    def set_volume(self, percent: int) -> None:
        """Volume in percent (0..200)."""
        self.player.set_volume(percent)

    def show_film(self) -> None:
        """Put the film back on the screen after a tap on it brought the controls."""
        self.player.show_screen()

    def hide_film(self) -> None:
        """Take the film off the screen (it goes on playing): the kiosk shows through."""
        self.player.hide_screen()

    def next(self) -> bool:
        """Next playlist item."""
        with self._lock:
            self._save_resume()
            return self.player.next()

    def previous(self) -> bool:
        """Previous playlist item."""
        with self._lock:
            self._save_resume()
            return self.player.previous()

    def status(self) -> dict:
        """Player and projector state as a dict."""
        cur = self.player.current()
        return {
            "state": self.player.state.value, "index": self.player.index,
            "count": len(self.player.items),
            "media_id": cur.media_id if cur else None, "title": cur.title if cur else None,
            "position_s": round(self.player.position_s(), 1), "length_s": self.player.length_s(),
            "volume": self.player.volume(), "projector": self.projector_state,
            "teacher": self.teacher, "screen": self.player.screen_status(),
            "error": str(self.last_error) if self.last_error else None,
            "error_en": self.last_error.message() if self.last_error else None,
        }

    # --- lessons --------------------------------------------------------------------

    def save_lesson(self, teacher: str, name: str, media_ids: list[int]) -> None:
        """Save a teacher's lesson (ordered media ids; each must exist)."""
        self._play_items(media_ids, "teacher", None)
        self.lessons.save_lesson(teacher, name, media_ids)

    # --- internals ------------------------------------------------------------------

    def _emit(self, event: dict) -> None:
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:  # noqa: BLE001  (a listener bug must not stop playback)
                log.exception("media station listener failed")

    def _player_event(self, ev: PlayerEvent) -> None:
        if ev.kind == "state" and ev.state is PlayerState.PLAYING and ev.item is not None \
                and ev.item.media_id is not None and ev.index not in self._counted:
            self._counted.add(ev.index)
            try:
                with self.db.transaction() as s:
                    record_play(s, ev.item.media_id, terminal=self.terminal,
                                payload={"teacher": self.teacher} if self.teacher else None)
            except Exception as exc:  # noqa: BLE001  (statistics must not stop playback)
                log.warning("play not recorded: %s", exc)
        if ev.kind == "error" and (ev.error is not None or ev.message):
            self.last_error = ev.error if ev.error is not None else MediaError(ev.message)
        if ev.kind == "playlist_end":
            if ev.item is not None and ev.item.media_id is not None and self.teacher:
                self.lessons.set_resume_position(self.teacher, ev.item.media_id, 0)
            if self._on_projector and self.off_after_s > 0:
                self._schedule_off()
        self._emit({"source": "player", "kind": ev.kind, "state": ev.state.value,
                    "index": ev.index, "media_id": ev.item.media_id if ev.item else None,
                    "message": ev.message,
                    **({"message_en": ev.error.message()} if ev.error is not None else {}),
                    **ev.extra})

    def _save_resume(self) -> None:
        cur = self.player.current()
        if not (self.teacher and cur and cur.media_id is not None):
            return
        if self.player.state not in (PlayerState.PLAYING, PlayerState.PAUSED):
            return
        pos, length = self.player.position_s(), self.player.length_s()
        near_end = length is not None and pos > length - 5
        self.lessons.set_resume_position(self.teacher, cur.media_id,
                                         0 if pos < 5 or near_end else pos)

    def _start_thread(self, target: Callable[[], None], name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        self._threads = [x for x in self._threads if x.is_alive()] + [t]
        t.start()

    def _projector_then_play(self) -> None:
        self._set_projector("warming")
        try:
            self.run_async(self._projector_up())
            self._set_projector("ready")
        except Exception as exc:  # noqa: BLE001  (projector trouble must not stop playback)
            self._set_projector("error", describe_projector_error(exc))
        with self._lock:
            if self.player.items and self.player.index < 0:
                self.player.play(0)

    async def _projector_up(self) -> None:
        proj = self._configured_projector()
        await proj.power_on(wait=True, timeout=self.warmup_timeout_s)
        await proj.set_input(self.projector_input)
        await proj.mute("both", on=False)

    def _configured_projector(self) -> Projector:
        if self.projector is None:
            raise ProjectorProblem(template=ProjectorProblem.NOT_SET_UP)
        return self.projector

    def _set_projector(self, state: str, problem: ProjectorProblem | None = None) -> None:
        self.projector_state = state
        self._emit({"source": "projector", "kind": "error" if state == "error" else "state",
                    "state": state, "message": str(problem) if problem else None,
                    **({"message_en": problem.message()} if problem else {})})

    def _schedule_off(self) -> None:
        self._cancel_off_timer()
        self._off_timer = threading.Timer(self.off_after_s, self._projector_off)
        self._off_timer.daemon = True
        self._off_timer.start()

    def _cancel_off_timer(self) -> None:
        if self._off_timer is not None:
            self._off_timer.cancel()
            self._off_timer = None

    def _projector_off(self) -> None:
        try:
            self.run_async(self._configured_projector().power_off())
            self._on_projector = False
            self._set_projector("off")
        except Exception as exc:  # noqa: BLE001
            self._set_projector("error", describe_projector_error(exc))

    def close(self) -> None:
        """Remember the position, stop timers and threads, release the player."""
        with self._lock:
            self._save_resume()
            self._cancel_off_timer()
        for t in self._threads:
            t.join(10)
        self.player.close()


def describe_projector_error(exc: Exception) -> ProjectorProblem:
    """A projector failure in words (``str()`` Russian, ``message(tr)`` in any language)."""
    from device.projector import errors as e

    table = [(e.ProjectorTimeout, ProjectorProblem.TIMEOUT),
             (e.ProjectorConnectionError, ProjectorProblem.NO_CONNECTION),
             (e.ProjectorAuthError, ProjectorProblem.BAD_PASSWORD),
             (e.ProjectorUnavailable, ProjectorProblem.BUSY),
             (e.ProjectorFailure, ProjectorProblem.FAULT),
             (e.OutOfRange, ProjectorProblem.OUT_OF_RANGE),
             (e.UndefinedCommand, ProjectorProblem.UNDEFINED)]
    template = next((t for cls, t in table if isinstance(exc, cls)), ProjectorProblem.template)
    return ProjectorProblem(template=template, error=exc)
