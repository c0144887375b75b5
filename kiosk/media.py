"""The teacher media port: browse/search media, play here or on the projector, projector power
and input, now-playing controls. Kivy-free.

* `LocalMedia` — over `media.station.MediaStation` in this process (the media station PC).
* `RemoteMedia` — over the school server's media remote control (`/api/v1/media/...`) with the
  teacher's reader session of this terminal; the server has no projector power/input endpoints,
  so those say they need the station.
* `kiosk.fakes.FakeMedia` — screenshots, tests, ``--demo``/``--fakes``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from kiosk.i18n import _
from library.errors import IbcError

if TYPE_CHECKING:
    from kiosk.terminal import ApiClient
    from media.station import MediaStation

_T = TypeVar("_T")


class MediaUnavailable(IbcError):
    """The action is not possible here (no station, no projector, server refused); the message
    is already Russian for the teacher."""


@dataclass(frozen=True)
class MediaView:
    """One media item in the list."""

    id: int
    title: str
    kind: str = "video"
    duration_s: float | None = None
    subject: str | None = None
    teachers_only: bool = False


@dataclass(frozen=True)
class NowPlaying:
    """The player and projector as the now-playing panel shows them."""

    state: str = "idle"  # idle | opening | playing | paused | stopped | ended | error
    title: str | None = None
    position_s: float = 0.0
    duration_s: float | None = None
    volume: int | None = None
    projector: str = "unused"  # unused | warming | ready | error | off | on | standby
    error: str | None = None
    film_hidden: bool = False  # a tap took the film off this screen: «Показать фильм» brings it back


def film_hidden(state: str, screen: dict | None) -> bool:
    """The film plays but a tap took it off the one screen it shares with the kiosk."""
    if not screen or state not in ("playing", "paused", "opening"):
        return False
    return not screen.get("visible", True) and bool(screen.get("covers_panel"))


@runtime_checkable
class MediaPort(Protocol):
    """What the teacher media screen needs."""

    where: str  # "station" (plays on this PC) or "server" (remote control)

    def items(self, query: str = "", role: str = "teacher") -> list[MediaView]:
        """Visible items matching the query (title or subject)."""

    def play(self, media_id: int, *, projector: bool = False, teacher: str | None = None) -> NowPlaying:
        """Start one item, on the projector when asked."""

    def control(self, action: str) -> NowPlaying:
        """pause | resume | stop | show (the film back on the screen after a tap hid it)."""

    def seek(self, position_s: float) -> NowPlaying:
        """Jump to a position."""

    def volume(self, percent: int) -> NowPlaying:
        """Set the volume 0..100."""

    def status(self) -> NowPlaying:
        """The current state."""

    async def projector(self, action: str, value: str = "") -> str:
        """on | off | input (value: input name); returns what the projector says now. A
        coroutine: the media screen awaits it on the kiosk bridge."""

    def close(self) -> None:
        """Release what the port holds (the local station's player and threads), at exit."""


def _matches(item: dict, query: str) -> bool:
    q = query.casefold().replace("ё", "е").strip()
    text = f"{item.get('title') or ''} {item.get('subject') or ''} {' '.join(item.get('tags') or [])}"
    return not q or q in text.casefold().replace("ё", "е")


def _view(d: dict) -> MediaView:
    return MediaView(int(d["id"]), d.get("title") or "", d.get("kind") or "video",
                     d.get("duration_s"), d.get("subject"), d.get("access") == "teachers")


class LocalMedia:
    """`MediaPort` over the `MediaStation` of this PC."""

    where = "station"

    def __init__(self, station: MediaStation) -> None:
        self.station = station

    def items(self, query: str = "", role: str = "teacher") -> list[MediaView]:
        """Items the role may see, filtered."""
        return [_view(d) for d in self.station.media(role)
                if d.get("status", "ok") == "ok" and _matches(d, query)]

    def _now(self) -> NowPlaying:
        from kiosk.i18n import language
        from library.i18n import translator

        st = self.station.status()
        state = st.get("state", "idle")
        problem = self.station.last_error  # said in the kiosk's language (library msgids)
        error = problem.message(translator(language())) if problem is not None else None
        return NowPlaying(state, st.get("title"), float(st.get("position_s") or 0),
                          st.get("length_s"), st.get("volume"), st.get("projector") or "unused",
                          error, film_hidden(state, st.get("screen")))

    def _do(self, fn: Callable[..., object], *args: Any, **kwargs: Any) -> NowPlaying:
        from kiosk.i18n import language
        from library.i18n import translator
        from media.errors import MediaError

        try:
            fn(*args, **kwargs)
        except MediaError as exc:  # in the kiosk's language (the templates are library msgids)
            raise MediaUnavailable(exc.message(translator(language()))) from None
        return self._now()

    def play(self, media_id: int, *, projector: bool = False, teacher: str | None = None) -> NowPlaying:
        """Play here (and on the projector: power, warm-up and input are automatic)."""
        return self._do(self.station.play, media_id, role="teacher", teacher=teacher,
                        projector=projector)

    def control(self, action: str) -> NowPlaying:
        """pause | resume | stop | show."""
        actions = {"pause": self.station.pause, "resume": self.station.resume,
                   "stop": self.station.stop, "show": self.station.show_film}
        return self._do(actions[action])

    def seek(self, position_s: float) -> NowPlaying:
        """Jump."""
        return self._do(self.station.seek, max(0.0, position_s))

    def volume(self, percent: int) -> NowPlaying:
        """Volume."""
        return self._do(self.station.set_volume, max(0, min(100, int(percent))))

    def status(self) -> NowPlaying:
        """Now playing."""
        return self._now()

    def close(self) -> None:
        """Remember the teacher's position, stop the station's threads, release VLC."""
        self.station.close()

    async def projector(self, action: str, value: str = "") -> str:
        """Power on/off or switch the input over PJLink (awaited on the kiosk bridge's loop:
        a projector may take seconds, or never answer)."""
        from device.projector.errors import ProjectorError

        proj = self.station.projector
        if proj is None:
            raise MediaUnavailable(_("The projector is not set up ([projector] host)"))
        try:
            if action == "on":
                return (await proj.power_on()).value
            if action == "off":
                return (await proj.power_off()).value
            return await proj.set_input(value or self.station.projector_input)
        except ProjectorError as exc:
            raise MediaUnavailable(_("The projector does not answer: {error}").format(error=exc)) from None


class RemoteMedia:
    """`MediaPort` over the server's media remote control, with this terminal's teacher session."""

    where = "server"

    def __init__(self, client: ApiClient) -> None:  # with the teacher's reader session
        self.client = client

    def _call(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        from kiosk.terminal import ApiRefused, ServerUnreachable

        try:
            return fn(*args, **kwargs)
        except ServerUnreachable:
            raise MediaUnavailable(
                _("No connection to the server: the media library is unavailable")) from None
        except ApiRefused as exc:
            raise MediaUnavailable(exc.message or exc.code) from None

    @staticmethod
    def _now(st: dict) -> NowPlaying:
        proj = st.get("projector") or {}
        if not st.get("enabled", True):
            return NowPlaying("off", error=_("The media station on the server is off"))
        state = st.get("state", "idle")
        return NowPlaying(state, st.get("title"), float(st.get("position_s") or 0),
                          st.get("duration_s"), st.get("volume"),
                          proj.get("power") or proj.get("state") or "unused",
                          st.get("last_error") or proj.get("last_error"),
                          film_hidden(state, st.get("screen")))

    def items(self, query: str = "", role: str = "teacher") -> list[MediaView]:
        """GET /media (teachers-only items come with the teacher's session)."""
        rows = self._call(self.client.media, q=query) if query else self._call(self.client.media)
        return [_view(d) for d in rows]

    def play(self, media_id: int, *, projector: bool = False, teacher: str | None = None) -> NowPlaying:
        """POST /media/play on the station PC."""
        return self._now(self._call(self.client.media_play, media_id, projector=projector))

    def control(self, action: str) -> NowPlaying:
        """POST /media/pause|resume|stop|show."""
        return self._now(self._call(self.client.media_control, action))

    def seek(self, position_s: float) -> NowPlaying:
        """POST /media/seek."""
        return self._now(self._call(self.client.media_seek, max(0.0, position_s)))

    def volume(self, percent: int) -> NowPlaying:
        """POST /media/volume."""
        return self._now(self._call(self.client.media_volume, max(0, min(100, int(percent)))))

    def status(self) -> NowPlaying:
        """GET /media/station."""
        return self._now(self._call(self.client.media_station))

    def close(self) -> None:
        """Nothing of its own: the terminal mode closes the client."""

    async def projector(self, action: str, value: str = "") -> str:
        """The API has no projector power/input control: playing «on the projector» switches it."""
        raise MediaUnavailable(_("The projector cannot be switched from here: press “On the "
                                 "projector” and the media station switches it on by itself"))
