"""The Kivy application: screens, the session with its idle timeout, scans, errors, language.

Kivy is configured by `kiosk.runner.configure` before this module is imported. Business rules
live behind the ports (`kiosk.services`); this module only routes events to presenters.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk import camera, i18n, pictures, widgets  # noqa: F401 - registers the kv classes
from kiosk.options import KioskOptions
from kiosk.presenters.attract import AttractPresenter
from kiosk.presenters.checkin import ReturnPresenter
from kiosk.presenters.checkout import CheckoutPresenter
from kiosk.presenters.errors import ErrorPresenter
from kiosk.presenters.loans import LoansPresenter
from kiosk.presenters.record import RecordPresenter
from kiosk.presenters.search import SearchPresenter
from kiosk.presenters.service import ServicePresenter
from kiosk.presenters.session import IdleLimits, IdleTimer
from kiosk.scan import KeystrokeAssembler, ScanBridge
from kiosk.screens import SCREENS
from kiosk.sounds import SoundPlayer
from kiosk.theme import make_theme
from library.access import runs_station

if TYPE_CHECKING:
    from kivy.core.window import WindowBase
    from kivy.input.motionevent import MotionEvent
    from kivy.uix.widget import Widget

    from device.scanner.base import BarcodeSource
    from kiosk.bridge import Bridge
    from kiosk.media import MediaPort, NowPlaying
    from kiosk.screens.base import KioskScreen
    from kiosk.services import (
        CatalogueService,
        CollectionPort,
        ReceiptPrinter,
        ServiceInfo,
        VisitLog,
    )
    from kiosk.terminal.monitor import ConnectionMonitor, ConnectionState
    from library.circulation.ports import CirculationPort
    from library.circulation.values import ReaderView

HERE = Path(__file__).parent
log = logging.getLogger("ibc.kiosk")
ENTER_KEYS = (13, 271)  # Return and keypad Enter
ESCAPE = 27
T = TypeVar("T")


class KioskRoot(FloatLayout):
    """The root: every touch counts as activity; the idle warning swallows the first touch."""

    def on_touch_down(self, touch: MotionEvent) -> bool:
        """Reset the idle countdown."""
        app = App.get_running_app()
        if app.user_activity():
            return True
        return super().on_touch_down(touch)


class KioskApp(App):
    """The touchscreen kiosk."""

    lang = StringProperty("ru")
    theme = ObjectProperty(make_theme(), rebind=True)  # kv reads app.theme.<name>
    school = StringProperty("")
    countdown = StringProperty("")
    warning = StringProperty("")
    error_title = StringProperty("")
    error_message = StringProperty("")
    error_ref = StringProperty("")
    offline_text = StringProperty("")
    personal = BooleanProperty(False)  # the shown screen holds a reader's data: «Это не я — выйти»
    has_media = BooleanProperty(False)  # a media station or remote: the «Медиатека» tile
    now_playing = StringProperty("")  # what the station plays, for the home screen's strip
    now_paused = BooleanProperty(False)
    now_film_hidden = BooleanProperty(False)

    def __init__(self, catalogue: CatalogueService, circulation: CirculationPort,
                 printer: ReceiptPrinter, options: KioskOptions,
                 scanner_source: BarcodeSource | None = None,
                 now: Callable[[], dt.datetime] | None = None, *, visits: VisitLog | None = None,
                 terminal: str | None = None,
                 connection: ConnectionMonitor | None = None,
                 media: MediaPort | None = None, service_info: ServiceInfo | None = None,
                 bridge: Bridge | None = None, collection: CollectionPort | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        from kiosk.services import NoVisits

        self.visits = visits or NoVisits()
        self.terminal_name = terminal
        self.connection = connection  # terminal mode: health, queue and replica in the background
        from kiosk.bridge import Bridge

        # The one hand-over for slow work (terminal, projector, printer, checks): made by the
        # command that starts the kiosk and closed by it after its other users; tests and the
        # gallery let the app make (and close) its own.
        self._own_bridge = bridge is None
        self.bridge = bridge if bridge is not None else Bridge()
        self.media_port = media
        self.has_media = media is not None
        self._media_polled = 0.0
        self.service_info = service_info
        self.title = "ИБЦ"
        self.options = options
        self.catalogue, self.circulation = catalogue, circulation
        self.scanner_source = scanner_source
        self.school = options.school
        self.monotonic = time.monotonic
        i18n.set_language(options.language)
        self.lang = options.language
        extra = {"now": now} if now else {}
        self.attract = AttractPresenter(catalogue, options.school, **extra)
        self.search = SearchPresenter(catalogue)
        self.record: RecordPresenter | None = None
        self.record_return_to = "search"
        today = {"today": lambda: now().date()} if now else {}
        self.checkout = CheckoutPresenter(circulation, printer, options.school, terminal=terminal,
                                          on_reader=self.reader_identified)
        self.returns = ReturnPresenter(circulation, terminal=terminal, returns=options.returns,
                                       return_note=options.return_note, printer=printer,
                                       school=options.school, **today)
        self.loans = LoansPresenter(circulation, terminal=terminal,
                                    on_reader=self.reader_identified, **today)
        from kiosk.presenters.holds import HoldPresenter

        # «Встать в очередь» on a record page: the card gate, then the core places the hold.
        self.holds = HoldPresenter(circulation, terminal=terminal, on_reader=self.reader_identified)
        self.service = ServicePresenter(options.service_pin, service_info)
        from kiosk.presenters.gate import CardGate
        from kiosk.presenters.media import MediaPresenter

        self.media = MediaPresenter(media)
        self.media_gate = CardGate(
            circulation, terminal=terminal, allow=lambda r: runs_station(r.category),
            refused_text=lambda: i18n._(
                "The media library opens with a teacher's card. Show your card on “Check out a "
                "book” to take books."),
            on_open=self._media_opened)
        from kiosk.presenters.collect import CollectPresenter

        # «Сдача учебников»: the only screen that names pupils, behind a teacher's or staff card.
        self.collect_gate = CardGate(
            circulation, terminal=terminal, allow=lambda r: runs_station(r.category),
            refused_text=lambda: i18n._(
                "Textbook collection opens with a teacher's or librarian's card."),
            on_open=self.reader_identified)
        self.collect = CollectPresenter(self._collection(circulation, collection),
                                        self.collect_gate)
        self.errors = ErrorPresenter()
        self.limits = IdleLimits(options.idle_timeout_s, options.personal_idle_s,
                                 warn=options.warn_s)
        self.timer = IdleTimer(options.idle_timeout_s, options.warn_s)
        # Every session starts with the school's look and language, whatever the last reader chose.
        self.default_language, self.default_large_text = options.language, options.large_text
        self.sounds = SoundPlayer(options.cache_dir / "sounds", options.sounds)
        self.keys = KeystrokeAssembler(options.scanner_max_gap_s)
        self.session_reader: ReaderView | None = None
        self.connection_state: ConnectionState | None = None
        self.preview: camera.PreviewFeed | None = None
        self._allow_exit = False
        self._last_activity = 0.0

    @staticmethod
    def _collection(circulation: CirculationPort,
                    collection: CollectionPort | None) -> CollectionPort | None:
        """The «Сдача учебников» port: the one given, else the circulation port when it is one
        too (a terminal's, the fakes'); None: the mode says it is not set up here."""
        from kiosk.services import CollectionPort

        if collection is not None:
            return collection
        return circulation if isinstance(circulation, CollectionPort) else None

    def use_services(self, catalogue: CatalogueService, circulation: CirculationPort,
                     printer: ReceiptPrinter, visits: VisitLog | None = None,
                     collection: CollectionPort | None = None) -> None:
        """Plug other ports into every presenter (the gallery starts each state afresh)."""
        from kiosk.services import NoVisits

        self.catalogue, self.circulation = catalogue, circulation
        self.visits = visits or NoVisits()
        self.attract.catalogue = self.search.catalogue = catalogue
        for p in (self.checkout, self.returns, self.loans, self.media_gate, self.collect_gate,
                  self.holds):
            p.circulation = circulation
        self.collect.port = self._collection(circulation, collection)
        self.checkout.printer = self.returns.printer = printer

    def reader_identified(self, reader: ReaderView) -> None:
        """A card [+ PIN] was accepted: the session's reader; one visit per reader session."""
        known = self.session_reader
        self.session_reader = reader
        if known is None or known.card != reader.card:
            self.guard(lambda: self.visits.record(reader), "visit")

    # --- building -----------------------------------------------------------------------------
    def build(self) -> Widget:
        """Load every kv file and assemble the screens."""
        import importlib

        self._rescale()
        Builder.load_file(str(HERE / "widgets.kv"))
        self.sm = ScreenManager(transition=NoTransition())
        for name in SCREENS:
            Builder.load_file(str(HERE / "screens" / f"{name}.kv"))
            module = importlib.import_module(f"kiosk.screens.{name}")
            cls = next(getattr(module, n) for n in dir(module)
                       if n.endswith("Screen") and n != "KioskScreen")
            self.sm.add_widget(cls(name=name))
        root = Builder.load_file(str(HERE / "app.kv"))
        root.ids.holder.add_widget(self.sm)
        Window.bind(on_key_down=self._on_key_down, on_textinput=self._on_textinput,
                    on_request_close=self._on_request_close, size=self._rescale)
        Clock.schedule_interval(self._tick, 0.5)
        self.guard(self.attract.refresh, "arrivals")
        self._last_activity = self.monotonic()
        return root

    def on_start(self) -> None:
        """Start the camera/HID source, if any; let the system (systemd, SIGTERM) stop us."""
        import signal

        # SDL turns SIGTERM into a close request, which the kiosk refuses without the PIN;
        # a service manager stopping the session must still work.
        signal.signal(signal.SIGTERM, lambda *_a: Clock.schedule_once(self._system_stop))
        if self.scanner_source is not None:
            if hasattr(self.scanner_source, "on_preview"):  # CameraSource: draw its frames
                self.preview = camera.PreviewFeed(self.preview_widget)
                self.scanner_source.on_preview = self.preview
            try:
                self.scanner_source.start(ScanBridge(self.deliver_scan).post)
            except Exception:  # noqa: BLE001 - no camera: the USB scanner and keyboard still work
                log.warning("barcode camera unavailable", exc_info=True)
                self.scanner_source = None
        self.start_connection()
        self.screen("attract").refresh()

    def on_stop(self) -> None:
        """Stop the scanner thread and the connection monitor; the bridge last (if ours)."""
        if self.scanner_source is not None:
            self.scanner_source.stop()
        if self.connection is not None:
            self.connection.post = None
            self.connection.stop()
        if self._own_bridge:
            self.bridge.close()

    def preview_widget(self) -> camera.CameraPreview | None:
        """The camera preview of the shown screen, if it shows one."""
        screen = self.sm.current_screen
        widget = getattr(screen, "ids", {}).get("camera") if screen is not None else None
        shown = widget is not None and widget.opacity > 0 and (
            widget.parent is None or widget.parent.opacity > 0)
        return widget if shown else None

    def start_connection(self) -> None:
        """Terminal mode: the monitor (on the bridge) reports through one Clock hop."""
        if self.connection is None:
            return
        self.connection.post = lambda state: self.bridge.post(lambda: self.on_connection(state))
        self.on_connection(self.connection.state)
        self.connection.start()

    def on_connection(self, state: ConnectionState | None) -> None:
        """The server came or went: the banner and service mode follow."""
        from kiosk.presenters.connection import banner

        self.connection_state = state
        self.offline_text = banner(state)
        if self.current == "service":
            self.screen("service").refresh()

    def _rescale(self, *_args) -> None:
        w, h = Window.size
        self.theme = make_theme(self.options.large_text, min(w / 1280, h / 800))

    # --- navigation and session ---------------------------------------------------------------
    def screen(self, name: str) -> KioskScreen:
        """A screen by name."""
        return self.sm.get_screen(name)

    @property
    def current(self) -> str:
        """The name of the shown screen."""
        return self.sm.current

    def go(self, name: str) -> None:
        """Show a screen; leaving the attract screen starts a session."""
        if name != "attract" and not self.timer.active:
            self.timer.start(self.monotonic())
        self.sm.current = name
        self.screen_changed()

    def screen_changed(self) -> None:
        """The shown screen (or what it shows) changed: its idle limit and the header follow."""
        screen = self.sm.current_screen
        kind = screen.idle_kind() if screen is not None else "general"
        self.timer.limit(*self.limits.of(kind))
        self.personal = kind == "personal"
        self._update_countdown()

    def open_record(self, record_id: int) -> None:
        """Show one record."""
        record = self.guard(lambda: self.catalogue.record(record_id), "record")
        if record is None:
            return
        self.record = RecordPresenter(record, room=self._room)
        self.record_return_to = self.current if self.current != "record" else "search"
        if self.current == "record":
            self.screen("record").refresh()
        self.go("record")

    def open_hold(self) -> None:
        """«Встать в очередь» on the record page: placed at once for this session's reader,
        else behind the card [+ PIN] on the queue screen."""
        record = self.record
        if record is None:
            return
        reader = self.session_reader
        asking = record.can_request  # «Попросить из другой школы»: the same call, other words
        flash = self.guard(lambda: self.holds.start(record.record.id, record.record.title, reader,
                                                    asking=asking), "hold")
        if flash is not None:
            self.play(flash.sound)
        self.go("hold")

    def _room(self, room: str | None) -> list:
        """The places of a room for the plan; none when the catalogue cannot tell."""
        return self.guard(lambda: self.catalogue.room(room), "places") or []

    def cover_for(self, isbn: str | None, barcodes: tuple[str, ...] = ()) -> Path | None:
        """A cover image path, or None: a missing or broken cover never shows an error."""
        try:
            return self.catalogue.cover(tuple(x for x in (isbn,) if x), barcodes)
        except Exception:  # noqa: BLE001 - a picture is optional; the generated cover stands in
            log.warning("cover lookup failed", exc_info=True)
            return None

    @property
    def teacher_session(self) -> bool:
        """A teacher or staff card was accepted in this session."""
        reader = self.session_reader
        return reader is not None and runs_station(reader.category)

    def open_media(self) -> None:
        """The teacher media screen: at once after a teacher's card in this session, else
        behind the card gate (the «Медиатека» tile on the home screen)."""
        reader = self.session_reader
        if reader is not None and self.media_gate.open_for(reader):
            self._media_opened(reader, visit=False)
        else:
            self.media_gate.reset()
        self.go("media")

    def open_collect(self) -> None:
        """«Сдача учебников»: at once after a teacher's or staff card in this session (the
        button beside «Медиатека»), else behind the same card gate."""
        reader = self.session_reader
        if reader is None or not self.collect_gate.open_for(reader):
            self.collect_gate.reset()
        self.go("collect")

    def _media_opened(self, reader: ReaderView, visit: bool = True) -> None:
        """A teacher's card opened the media library."""
        if visit:
            self.reader_identified(reader)
        name = " ".join(x for x in (reader.first_name, reader.patronymic) if x)
        self.guard(lambda: self.media.open(name or reader.greeting_name, reader.category),
                   "media")
        if self.current == "media":
            self.screen("media").refresh()

    def end_session(self, reason: str = "cancelled") -> None:
        """Forget everything of the reader and go back to the attract screen."""
        for name in SCREENS:
            self.screen(name).reset(reason)
        self.guard(self.circulation.end_session, "session")  # a terminal: DELETE /session
        self.record = None
        self.session_reader = None
        self.timer.stop()
        self.dismiss_error()
        self.keys.enter()
        if self.options.large_text != self.default_large_text:
            self.toggle_large_text()
        if self.lang != self.default_language:
            self.set_language(self.default_language)
        self.sm.current = "attract"
        self.screen_changed()
        self.guard(self.attract.refresh, "arrivals")
        self.screen("attract").refresh()

    def user_activity(self) -> bool:
        """A touch happened; True when it only dismissed the idle warning."""
        now = self.monotonic()
        self._last_activity = now
        was_warning = self.timer.warning
        self.timer.touch(now)
        self._update_countdown()
        return was_warning

    def _tick(self, _dt: float) -> None:
        now = self.monotonic()
        if self.sm.current_screen is not None and self.timer.active:
            self.timer.limit(*self.limits.of(self.sm.current_screen.idle_kind()))
        if self.timer.tick(now):
            self.end_session("idle")
        self._update_countdown()
        if self.current == "attract":
            self._poll_now_playing(now)
            attract = self.screen("attract")
            attract.tick()
            if now - self._last_activity > self.options.sleep_after_s:
                attract.asleep = True

    def _poll_now_playing(self, now: float, every_s: float = 3.0) -> None:
        """What the station plays, for the home screen: its pause and stop work without a card
        (a teacher who walked away from a playing film can still stop it)."""
        port = self.media_port
        offline = self.connection_state is not None and self.connection_state.online is False
        if port is None or offline or now - self._media_polled < every_s:
            return
        self._media_polled = now
        try:
            status = port.status()
        except Exception:  # noqa: BLE001 - the strip is a convenience: no error dialog for it
            log.debug("media status unavailable", exc_info=True)
            status = None
        self.show_now_playing(status)

    def show_now_playing(self, status: NowPlaying | None) -> None:
        """Fill the home screen's now-playing strip."""
        if status is not None and status.state not in ("playing", "paused", "opening"):
            status = None  # nothing playing: the strip hides
        self.now_playing = (status.title or "") if status is not None else ""
        self.now_paused = status is not None and status.state == "paused"
        self.now_film_hidden = status is not None and bool(getattr(status, "film_hidden", False))

    def now_playing_control(self, action: str) -> None:
        """The strip's pause/resume, stop and «Показать фильм»."""
        port = self.media_port
        if port is None:
            return
        status = self.guard(lambda: port.control(action), "media")
        if status is not None:
            self.show_now_playing(status)

    def _update_countdown(self) -> None:
        self.countdown = self.timer.countdown_text
        self.warning = self.timer.warning_text if self.timer.warning else ""

    # --- scans -------------------------------------------------------------------------------
    def deliver_scan(self, code: str) -> None:
        """A barcode from any source, on the UI thread."""
        self.user_activity()
        if self.current == "attract":
            self.go("checkout")  # a card shown to the idle terminal starts a checkout
        self.sm.current_screen.on_scan(code)

    def _on_textinput(self, _window: WindowBase, text: str) -> None:
        now = self.monotonic()
        for char in text:
            self.keys.feed(char, now)

    def _on_key_down(self, _window: WindowBase, key: int, *_args: object) -> bool:
        if key in ENTER_KEYS:
            code = self.keys.enter()
            if code:
                self.deliver_scan(code)
            return True
        return key == ESCAPE  # Escape must not close the kiosk

    # --- look and language -------------------------------------------------------------------
    def set_language(self, lang: str) -> None:
        """Switch the language of every text."""
        i18n.set_language(lang)
        self.lang = lang
        if not self.search.query:
            self.search.layout = self.search.default_layout()
        for name in SCREENS:
            self.screen(name).refresh()
        self._update_countdown()

    def toggle_language(self) -> None:
        """Русский ⇄ English."""
        self.set_language("en" if self.lang == "ru" else "ru")

    def toggle_large_text(self) -> None:
        """Large-text high-contrast theme on/off."""
        self.options.large_text = not self.options.large_text
        self._rescale()

    # --- errors, sounds, exit ----------------------------------------------------------------
    def guard(self, action: Callable[[], T], where: str = "") -> T | None:
        """Run ``action``; any error goes through the ErrorPresenter and returns None."""
        try:
            return action()
        except Exception as exc:  # noqa: BLE001 - the one place errors become messages
            view = self.errors.present(exc, where)
            self.error_title, self.error_message, self.error_ref = (
                view.title, view.message, view.reference)
            self.play("error")
            return None

    def dismiss_error(self) -> None:
        """Hide the error banner."""
        self.errors.clear()
        self.error_title = self.error_message = self.error_ref = ""

    def play(self, sound: str) -> None:
        """Play success or error."""
        self.sounds.play(sound)

    def exit_kiosk(self) -> None:
        """Leave the app (only reachable from unlocked service mode)."""
        if self.service.unlocked:
            self._allow_exit = True
            self.stop()

    def _system_stop(self, *_args) -> None:
        self._allow_exit = True
        self.stop()

    def _on_request_close(self, *_args, **_kwargs) -> bool:
        return not self._allow_exit  # True keeps the window open: no way out without the PIN
