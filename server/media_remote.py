"""The server's one media station for remote control: created on first use, closed at exit.

`[media] station` = "off" (default: no VLC is ever opened, the remote answers 409), "on" (VLC
on the configured display) or "headless" (dummy outputs). Every method here blocks (libvlc,
PJLink, files): the API calls them through ``anyio.to_thread.run_sync``. Station events arrive
on the player and projector threads and only update a snapshot under a lock; the projector's
power and input are re-read in a background thread at most every REFRESH_S while someone asks.
The projector's coroutines run on the server's own event loop (`attach_loop`, at start-up),
handed over from those threads; no other loop is started.

Who controls the station is a lease in the database (`claim`, library/leases.py, named
`LEASE`): the teacher whose command last went through keeps it ``[media] control_lease_s``
seconds after that command, and another teacher's commands are refused (`StationBusy`) until it
runs out or the holder stops the film; two teachers pressing at once on two terminals, served by
one process or by two, get exactly one owner.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from library.errors import IbcError

if TYPE_CHECKING:
    from config.settings import Settings
    from device.projector.base import Projector
    from library.storage.database import Database
    from media.station import MediaStation

log = logging.getLogger("ibc.server.media")
REFRESH_S = 1.0
_T = TypeVar("_T")
_P = ParamSpec("_P")


class StationOff(IbcError):
    """This server does not drive a media station ([media] station = "off") or is closing."""


class StationUnavailable(IbcError):
    """The station could not be started (libvlc missing or refused its options)."""


class StationBusy(IbcError):
    """Another teacher controls the station now (their lease runs `seconds` more)."""

    code = "station_busy"

    def __init__(self, seconds: int) -> None:
        super().__init__(f"another teacher controls the media station for {seconds} more seconds")
        self.seconds = seconds


LEASE = "station:server"  # the server's one station


def teacher_key(reader_id: int) -> str:
    """The key of a teacher's lessons and resume positions (never the card number)."""
    return f"reader-{int(reader_id)}"


class RemoteStation:
    """One lazily created MediaStation plus a state snapshot fed by its events."""

    def __init__(self, settings: Settings, db: Database, *,
                 factory: Callable[..., MediaStation] | None = None) -> None:
        self.settings, self.db = settings, db
        self.mode = settings.media.station
        self._factory = factory
        self._station: MediaStation | None = None
        self._lock = threading.Lock()        # creation and close
        self._control = threading.Lock()     # one control call at a time, in arrival order
        self._snap = threading.Lock()        # the snapshot below
        self._closed = False
        self._player_error: str | None = None
        self._events = 0
        self._projector: dict[str, Any] = {
            "state": "unused", "power": None, "input": None, "input_code": None, "muted": None,
            "faults": {}, "last_error": None, "checked_at": None}
        self._checked = 0.0
        self._refresher: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach_loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """The server's event loop: the station's projector coroutines run there (None when
        the server stops)."""
        self._loop = loop

    def run_async(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """Run a projector coroutine on the server's loop from a plain thread (never from the
        loop's own thread); ``asyncio.run`` when no loop is attached (tests, the CLI)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return asyncio.run(coro)
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    @property
    def enabled(self) -> bool:
        """True when this server drives a station."""
        return self.mode != "off"

    def get(self) -> MediaStation:
        """The station, created on first use (blocking)."""
        if not self.enabled:
            raise StationOff("media station is off")
        with self._lock:
            if self._closed:
                raise StationOff("media station is closing")
            if self._station is None:
                self._station = self._create()
            return self._station

    def _create(self) -> MediaStation:
        from media.station import MediaStation

        try:
            if self._factory is not None:
                station = self._factory(self.settings, self.db, on_event=self._on_event,
                                        run_async=self.run_async)
            else:
                station = MediaStation.from_settings(self.settings, self.db,
                                                     headless=self.mode == "headless",
                                                     on_event=self._on_event,
                                                     run_async=self.run_async)
        except Exception as exc:  # noqa: BLE001  (libvlc missing, bad options, bad projector host)
            log.exception("media station did not start")
            raise StationUnavailable(str(exc)) from exc
        station.terminal = "server"
        return station

    def claim(self, holder: str) -> None:
        """Take or renew control for `holder` (a teacher's key) before a command; StationBusy
        while another holder's lease runs. Nothing is held with ``control_lease_s`` = 0."""
        from library import leases

        seconds = self.settings.media.control_lease_s
        if not seconds:
            return
        with self.db.transaction() as s:
            got = leases.take(s, LEASE, holder, seconds)
        if not got.ours:
            raise StationBusy(got.seconds_left())

    def busy_for(self, holder: str | None) -> int | None:
        """Seconds another holder keeps control (None: free, or `holder`'s own)."""
        from library import leases

        if not self.settings.media.control_lease_s:
            return None
        with self.db.session() as s:
            now = leases.current(s, LEASE)
        return None if now is None or now.holder == holder else now.seconds_left()

    def let_go(self, holder: str) -> None:
        """`holder` is done (stopped the film): anyone may take control now."""
        from library import leases

        with self.db.transaction() as s:
            leases.release(s, LEASE, holder)

    def control(self, fn: Callable[Concatenate[MediaStation, _P], _T], *args: _P.args,
                **kwargs: _P.kwargs) -> _T:
        """Run one station call ``fn(station, ...)`` serialised with the other control calls."""
        station = self.get()
        with self._control:
            return fn(station, *args, **kwargs)

    # --- events and the snapshot -----------------------------------------------------------
    def _on_event(self, ev: dict) -> None:
        with self._snap:
            self._events += 1
            if ev.get("source") == "projector":
                if ev.get("state"):
                    self._projector["state"] = ev["state"]
                if ev.get("kind") == "error":
                    self._projector["last_error"] = ev.get("message")
                self._checked = 0.0  # re-read power and input on the next status request
            elif ev.get("kind") == "error" or ev.get("state") == "error":
                self._player_error = ev.get("message") or "ошибка воспроизведения"
            elif ev.get("state") == "playing":
                self._player_error = None

    def status(self, teacher: str | None = None) -> dict:
        """Player and projector state for the API (blocking)."""
        if not self.enabled:
            return self._off_status()
        station = self.get()
        st = station.status()
        self._maybe_refresh(station)
        with self._snap:
            projector = {**self._projector, "faults": dict(self._projector["faults"]),
                         "configured": station.projector is not None}
            player_error = self._player_error
        return {"enabled": True, "state": st["state"], "media_id": st["media_id"],
                "title": st["title"], "index": st["index"], "count": st["count"],
                "position_s": st["position_s"], "duration_s": st["length_s"],
                "volume": st["volume"], "started_by_me": teacher is not None
                and st["teacher"] == teacher, "last_error": st.get("error") or player_error,
                "screen": st.get("screen"), "projector": projector,
                "control_free_in_s": self.busy_for(teacher)}

    def _off_status(self) -> dict:
        projector = {**self._projector, "configured": bool(self.settings.projector.host)}
        return {"enabled": False, "state": "idle", "media_id": None, "title": None, "index": -1,
                "count": 0, "position_s": 0.0, "duration_s": None, "volume": None,
                "started_by_me": False, "last_error": None, "screen": None, "projector": projector}

    def _maybe_refresh(self, station: MediaStation) -> None:
        if station.projector is None:
            return
        with self._snap:
            busy = self._refresher is not None and self._refresher.is_alive()
            if busy or self._closed or time.monotonic() - self._checked < REFRESH_S:
                return
            self._checked = time.monotonic()
            t = threading.Thread(target=self._refresh, args=(station.projector,),
                                 name="media-projector-status", daemon=True)
            self._refresher = t
        t.start()

    def _refresh(self, projector: Projector) -> None:
        from device.projector.values import input_name
        from media.station import describe_projector_error

        try:
            st = self.run_async(projector.status())
        except Exception as exc:  # noqa: BLE001  (reported in the snapshot)
            with self._snap:
                self._projector.update(power=None, input=None, input_code=None, muted=None,
                                       last_error=str(describe_projector_error(exc)),
                                       checked_at=time.time())
            return
        code = st.input
        try:
            name = input_name(code) if code else None
        except Exception:  # noqa: BLE001  (a vendor code: show it as it is)
            name = code
        with self._snap:
            self._projector.update(
                power=st.power.label, input=name, input_code=code,
                muted=None if st.mute is None else bool(st.mute.video or st.mute.audio),
                faults={k: v for k, v in st.errors.items() if v != "ok"}, checked_at=time.time())

    def close(self) -> None:
        """Stop playback threads and release the player (blocking; idempotent)."""
        with self._lock:
            self._closed = True
            station, self._station = self._station, None
        if station is not None:
            try:
                station.close()
            except Exception:  # noqa: BLE001  (shutdown goes on)
                log.exception("media station did not close cleanly")
        t = self._refresher
        if t is not None:
            t.join(10)
