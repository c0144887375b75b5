"""The teacher media screen's state: the list (search), the chosen item, now playing, projector."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from kiosk.i18n import N_, _, say
from kiosk.media import MediaPort, MediaUnavailable, MediaView, NowPlaying

SEEK_STEP_S = 30.0
VOLUME_STEP = 10
STATES = {
    "idle": N_("Nothing is playing"), "opening": N_("Opening…"), "playing": N_("Playing"),
    "paused": N_("Paused"), "stopped": N_("Stopped"), "ended": N_("Finished"), "error": N_("Playback error"),
    "off": N_("The media station is off"),
}
PROJECTOR = {
    "unused": N_("not used"), "warming": N_("warming up"), "ready": N_("on"), "on": N_("on"),
    "error": N_("error"),
    "off": N_("off"), "standby": N_("off"), "cooling": N_("cooling down"),
}


def clock(seconds: float | None) -> str:
    """'12:34' or '1:02:03'."""
    if seconds is None:
        return "--:--"
    s = int(seconds)
    h, m, s = s // 3600, s // 60 % 60, s % 60
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class MediaPresenter:
    """Browse and search media, play here or on the projector, now-playing controls."""

    def __init__(self, port: MediaPort | None):
        self.port = port
        self.reset()

    def reset(self) -> None:
        """Forget the teacher (the session ended); playback itself goes on."""
        self.teacher: str | None = None
        self.role = "teacher"
        self.query = ""
        self.keyboard_visible = False
        self.items: list[MediaView] = []
        self.selected: int | None = None
        self.now = NowPlaying()
        self.message = ""
        self.message_ok = True
        self._told_error: str | None = None

    def open(self, teacher: str, role: str = "teacher") -> None:
        """A teacher's card opened the media screen."""
        self.reset()
        self.teacher, self.role = teacher, role
        self.search()
        self.refresh_status()

    # --- list -----------------------------------------------------------------------------------
    def press(self, key: str) -> None:
        """The on-screen keyboard (the same keys as the catalogue search)."""
        from kiosk.presenters.keyboard import BACKSPACE, CLEAR, HIDE, SPACE

        if key == BACKSPACE:
            self.query = self.query[:-1]
        elif key == CLEAR:
            self.query = ""
        elif key == HIDE:
            self.keyboard_visible = False
            return
        elif key == SPACE:
            self.query += " "
        elif len(key) == 1:
            self.query += key
        else:
            return
        self.search()

    def search(self) -> None:
        """Reload the list for the query."""
        if self.port is None:
            self.items = []
            return
        self.items = self.port.items(self.query, self.role)
        if self.selected not in {i.id for i in self.items}:
            self.selected = self.items[0].id if self.items else None

    def select(self, media_id: int) -> None:
        """Tap on a row."""
        self.selected = media_id

    # --- playback -------------------------------------------------------------------------------
    def _run(self, action: Callable[[MediaPort], NowPlaying], ok_text: str = "") -> bool:
        port = self.port
        if port is None:
            self._say(_("There is no media station here."), False)
            return False
        try:
            self.now = action(port)
        except MediaUnavailable as exc:
            self._say(str(exc), False)
            return False
        self._say(ok_text, True)
        return True

    def _say(self, text: str, ok: bool) -> None:
        self.message, self.message_ok = text, ok

    def play(self, projector: bool = False) -> bool:
        """«Смотреть здесь» / «На проектор»."""
        selected = self.selected
        if selected is None:
            self._say(_("Choose a video or audio first."), False)
            return False
        text = _("Starting on the projector: it may take a minute to warm up.") if projector else ""
        return self._run(lambda port: port.play(selected, projector=projector,
                                                teacher=self.teacher), text)

    def toggle_pause(self) -> bool:
        """Pause ⇄ resume."""
        action = "resume" if self.now.state == "paused" else "pause"
        return self._run(lambda port: port.control(action))

    def stop(self) -> bool:
        """Stop (the station remembers the position for this teacher)."""
        return self._run(lambda port: port.control("stop"))

    def show_film(self) -> bool:
        """«Показать фильм»: the film back on the screen after a tap on it."""
        return self._run(lambda port: port.control("show"))

    def seek(self, delta_s: float) -> bool:
        """Back or forward by ``delta_s``."""
        return self._run(lambda port: port.seek(self.now.position_s + delta_s))

    def change_volume(self, delta: int) -> bool:
        """Quieter or louder."""
        return self._run(lambda port: port.volume((self.now.volume or 50) + delta))

    def projector_job(self, action: str) -> Callable[[], Awaitable[str]] | None:
        """The PJLink call for ``action``, for the kiosk bridge to await (a projector may take
        seconds, or never answer); None when there is no station."""
        port = self.port
        if port is None:
            self._say(_("There is no media station here."), False)
            return None
        self._say(_("Projector: asking…"), True)

        async def job() -> str:
            return await port.projector(action)

        return job

    def projector_done(self, answer: str | None, error: BaseException | None) -> bool:
        """What the projector said, or why it did not (on the UI thread)."""
        if error is not None:
            text = str(error) if isinstance(error, MediaUnavailable) else \
                _("The projector does not answer.")
            self._say(text, False)
            return False
        self.refresh_status()
        self._say(_("Projector: {state}").format(state=answer), True)
        return True

    def refresh_status(self) -> None:
        """Poll the player (the screen calls this every second while shown)."""
        if self.port is None:
            return
        try:
            self.now = self.port.status()
        except MediaUnavailable as exc:
            self._say(str(exc), False)
            return
        error = self.now.error
        if error and error != self._told_error:  # VLC's failure in words, said once
            self._say(error, False)
        self._told_error = error

    # --- view state -----------------------------------------------------------------------------
    @property
    def heading(self) -> str:
        """Whose media and how many."""
        if self.port is None:
            return _("There is no media station here.")
        if self.query:
            return _("“{q}”: {n}").format(q=self.query, n=len(self.items))
        count = _("Media library: {n}").format(n=len(self.items))
        if self.teacher:
            return say("Hello, {name}!", True).format(name=self.teacher) + " " + count
        return count

    @property
    def where_note(self) -> str:
        """Where playing happens."""
        if self.port is None:
            return ""
        if self.now.film_hidden:
            return _("The film goes on. “Show the film” puts it back on the screen.")
        if self.port.where == "server":
            return _("Plays on the media station PC through the school server.")
        return _("Plays on this computer's screen or the projector.")

    @property
    def now_title(self) -> str:
        """The now-playing line."""
        state = _(STATES.get(self.now.state, self.now.state))
        return f"{state}: {self.now.title}" if self.now.title else state

    @property
    def now_detail(self) -> str:
        """Position, volume, projector."""
        proj = _(PROJECTOR.get(self.now.projector, self.now.projector))
        vol = "—" if self.now.volume is None else f"{self.now.volume}%"
        return _("{pos} of {length} · volume {vol} · projector: {proj}").format(
            pos=clock(self.now.position_s), length=clock(self.now.duration_s), vol=vol, proj=proj)

    @property
    def playing(self) -> bool:
        """A player is active (controls enabled)."""
        return self.now.state in ("playing", "paused", "opening")

    @staticmethod
    def row_detail(item: MediaView) -> str:
        """'Биология · видео · 12:34 · только для учителей'."""
        kind = {"video": _("video"), "audio": _("audio")}.get(item.kind, item.kind)
        parts = [p for p in (item.subject, kind, clock(item.duration_s) if item.duration_s else "")
                 if p]
        if item.teachers_only:
            parts.append(_("teachers only"))
        return " · ".join(parts)
