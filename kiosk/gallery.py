"""Scripted runs of the real app: the screenshot gallery and the UI tests' driver.

``python -m kiosk.gallery --size 1280x800 -o DIR`` renders every screen in its main states
offscreen (fake services, a fixed date) and writes ``<state>-<W>x<H>.png``. Kivy allows one
window per process, so `ibc screenshot` runs this once per size in a subprocess.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.options import KioskOptions, parse_size

if TYPE_CHECKING:  # Kivy is configured (build_app) before the app is imported
    from kivy.uix.label import Label
    from kivy.uix.widget import Widget

    from kiosk.app import KioskApp
    from kiosk.fakes import FakeMedia
    from kiosk.terminal.monitor import ConnectionState

NOW = dt.datetime(2025, 3, 5, 10, 30)
STEP_S = 0.25
Step = Callable[["KioskApp"], object]  # one gallery state, acted on a fresh session


def press_keys(app: KioskApp, text: str) -> None:
    """Type on the on-screen keyboard by pressing its buttons, as a finger would."""
    screen = app.screen("search")
    for char in text:
        keys = {k.value: k for k in screen.ids.keyboard.keys()}
        key = keys[" " if char == " " else char.lower()]
        key.dispatch("on_press")
        key.dispatch("on_release")


def type_scan(app: KioskApp, code: str) -> None:
    """Type a code + Enter on the (fake) keyboard-wedge scanner."""
    from kivy.core.window import Window

    Window.dispatch("on_textinput", code)
    Window.dispatch("on_key_down", 13, 40, None, [])


def _fail(app: KioskApp) -> None:
    def broken() -> None:
        raise ConnectionError("server 10.0.0.2:8470 refused the connection")

    app.go("search")
    app.guard(broken, "gallery")


def _warning(app: KioskApp) -> None:
    app.go("checkout")
    type_scan(app, "100001")
    app.timer.start(app.monotonic() - (app.timer.timeout_s - 7))
    app._tick(0)


def _search(app: KioskApp, text: str, hide: bool = False,
            facet: tuple[str, str] | None = None) -> None:
    app.go("search")
    press_keys(app, text)
    if facet:
        app.search.toggle_facet(*facet)
    if hide:
        app.search.keyboard_visible = False
    app.screen("search").search_now()


def _search_city(app: KioskApp, only_ours: bool = False) -> None:
    """A city's union catalogue: our shelf first, titles only other schools hold, the chip
    «Только наша школа»."""
    catalogue: Any = app.catalogue  # the fakes: FakeCatalogue
    catalogue.city = True
    _search(app, "а", hide=True, facet=("school", "ИБЦ") if only_ours else None)


def _teacher(app: KioskApp) -> None:
    app.go("checkout")
    type_scan(app, "100005")


def _fake_media(app: KioskApp) -> FakeMedia:
    """The app's media port: every gallery state runs over a `FakeMedia`."""
    from kiosk.fakes import FakeMedia

    port = app.media_port
    if not isinstance(port, FakeMedia):
        raise TypeError(f"the gallery runs over FakeMedia, not {port!r}")
    return port


def _playing_home(app: KioskApp) -> None:
    """A teacher started a film on the projector and walked away: the session ended, the
    home screen keeps pause and stop."""
    _media(app, play=True)
    app.end_session("idle")
    app.show_now_playing(_fake_media(app).status())


def _film_tapped(app: KioskApp) -> None:
    """One screen for the film and the kiosk: a tap on the film brought the kiosk back, the film
    goes on; «Показать фильм» puts it back on the screen."""
    _media(app, play=True)
    _fake_media(app).tap_film()
    app.media.refresh_status()
    app.screen("media").refresh()


def _film_tapped_home(app: KioskApp) -> None:
    _playing_home(app)
    media = _fake_media(app)
    media.tap_film()
    app.show_now_playing(media.status())


def _media(app: KioskApp, play: bool = False, search: str = "") -> None:
    _teacher(app)
    app.open_media()
    screen = app.screen("media")
    if search:
        screen.toggle_keyboard()
        for ch in search:
            screen.on_key(ch)
    if play:
        app.media.select(2)
        screen.play(True)
        app.media.seek(754)
        screen.refresh()


def _offline(policy: str = "seen_cards", pending: int = 0, conflicts: int = 0) -> ConnectionState:
    from kiosk.terminal.monitor import ConnectionState

    return ConnectionState(False, "http://ibc-server.local:8470", policy, pending, conflicts,
                           dt.datetime(2025, 3, 5, 10, 12, 40), 4127,
                           "ConnectError: [Errno 113] No route to host", NOW, replica_ready=True)


def _closer(app: KioskApp) -> None:
    """The camera sees a book's barcode but it is too small to read: «Поднеси ближе»."""
    app.go("checkout")
    type_scan(app, "100001")
    app.screen("checkout").ids.camera.hint = "closer"


def _return_to_place(app: KioskApp) -> None:
    """A library that shelves returns itself ([places] returns = "shelf")."""
    app.returns.returns = "shelf"
    app.go("checkin")
    type_scan(app, "200010")


def _first_sync(app: KioskApp) -> None:
    """A new terminal's first minutes: the catalogue is still loading."""
    from kiosk.terminal.monitor import ConnectionState

    _service(app)
    app.on_connection(ConnectionState(True, "http://ibc-server.local:8470", "seen_cards", 0, 0,
                                      None, 12400, "", NOW, syncing=True, replica_ready=False))


def _service(app: KioskApp, section: str = "server") -> None:
    app.on_connection(_offline(pending=3, conflicts=1))
    app.go("service")
    screen = app.screen("service")
    for key in "1234":
        screen.press(key)
    screen.press("ok")
    if section == "devices":
        app.service.show("devices")
        checks = app.service.info.checks
        if checks is None:
            raise TypeError("the gallery's service info has no device checks")
        app.service.checks_done(checks())
        screen.refresh()
    else:
        screen.show(section)


def _offline_return(app: KioskApp) -> None:
    app.on_connection(_offline("return_only", pending=1))
    app.go("checkin")
    type_scan(app, "200010")


def _scans(screen: str, *codes: str) -> Callable[[KioskApp], None]:
    """A step: go to `screen`, then scan `codes` one after another."""
    def step(app: KioskApp) -> None:
        app.go(screen)
        for code in codes:
            type_scan(app, code)

    return step


def _search_en(app: KioskApp) -> None:
    app.set_language("en")
    _search(app, "nos")


def _search_large(app: KioskApp) -> None:
    app.toggle_large_text()
    _search(app, "сказки", hide=True)


def _checkout_all_refused(app: KioskApp) -> None:
    _scans("checkout", "100001", "200006", "200004")(app)
    app.screen("checkout").finish()


def _checkout_pin(app: KioskApp) -> None:
    _scans("checkout", "100004")(app)
    app.screen("checkout").press_pin("4")
    app.screen("checkout").press_pin("3")


def _checkout_done(app: KioskApp) -> None:
    _scans("checkout", "100001", "200003", "200008")(app)
    app.screen("checkout").finish()


def _checkout_printed(app: KioskApp) -> None:
    _scans("checkout", "100001", "200003")(app)
    app.screen("checkout").finish()
    app.screen("checkout").print_receipt()


def _loans_renewed(app: KioskApp) -> None:
    _scans("loans", "100003")(app)
    app.screen("loans").renew(2)


def _loans_with_pin(app: KioskApp) -> None:
    """Оля (card 100004, PIN 4321) opens «Мои книги» with her PIN."""
    _scans("loans", "100004")(app)
    for key in "4321":
        app.screen("loans").press_pin(key)
    app.screen("loans").press_pin("ok")


def _loans_new_pin(app: KioskApp) -> None:
    """«Сменить PIN»: the new PIN typed once (two digits so far)."""
    _loans_with_pin(app)
    screen = app.screen("loans")
    screen.pin_button()
    for key in "58":
        screen.press_pin(key)


def _loans_pin_changed(app: KioskApp) -> None:
    """The new PIN typed twice and saved."""
    _loans_with_pin(app)
    screen = app.screen("loans")
    screen.pin_button()
    for key in ["5", "8", "3", "0", "ok"] * 2:  # the new PIN, then again to confirm
        screen.press_pin(key)


def _media_pupil_card(app: KioskApp) -> None:
    app.open_media()
    type_scan(app, "100001")


def _collect(app: KioskApp) -> None:
    """«Сдача учебников» after a teacher's card: three class-set copies (one pupil has left)
    and a novel that is not a textbook."""
    _teacher(app)
    app.open_collect()
    for code in ("300028", "300029", "200010", "300030"):
        type_scan(app, code)


def _queued(app: KioskApp, *, waiting: bool = False, two: bool = False) -> None:
    """Маша (100001) queues for «Алиса в Стране чудес» (its one copy is out with Аня);
    ``waiting``: Аня returned it, it waits for Маша; ``two``: Маша also queues for «Гарри
    Поттер», whose shelf copy the teacher took."""
    circ: Any = app.circulation  # the fakes: FakeCirculation, a HoldsPort
    if two:
        circ.checkout("100005", "200005", "g-lend")
        circ.place_hold("100001", 3, "g-hold-3")
    circ.place_hold("100001", 8, "g-hold-8")
    if waiting:
        circ.checkin("200010", "g-ret")


def _hold_queued(app: KioskApp) -> None:
    """«Встать в очередь» on the record page, then Маша's card: her place in the queue."""
    app.open_record(8)
    app.open_hold()
    type_scan(app, "100001")


def _record_other_school(app: KioskApp) -> None:
    """A book only another school has: «Попросить из другой школы»."""
    from kiosk.fakes import ELSEWHERE_ID

    app.open_record(ELSEWHERE_ID)


def _hold_requested(app: KioskApp) -> None:
    """«Попросить из другой школы» on a book only Гимназия № 5 has, then Маша's card: the book
    will be brought from there (docs/HOLDS.md «Pickup school …»)."""
    from kiosk.fakes import ELSEWHERE_ID

    app.open_record(ELSEWHERE_ID)
    app.open_hold()
    type_scan(app, "100001")


def _hold_refused(app: KioskApp) -> None:
    """Аня has the only copy: «Эта книга уже у тебя»."""
    app.open_record(8)
    app.open_hold()
    type_scan(app, "100003")


def _return_hold(app: KioskApp) -> None:
    """Аня returns the copy Маша queues for: the loud «Не ставь на тележку!»."""
    _queued(app)
    _scans("checkin", "200004", "200010")(app)


def _checkout_hold_waiting(app: KioskApp) -> None:
    """Маша's card after the book came back: «Тебя ждёт книга»."""
    _queued(app, waiting=True)
    app.screen("checkout").ids.camera.hint = ""  # no camera hint left by an earlier state
    _scans("checkout", "100001")(app)


def _loans_holds(app: KioskApp) -> None:
    """«Мои книги» of Маша: one book waiting, one queued, each with «Отменить»."""
    _queued(app, waiting=True, two=True)
    _scans("loans", "100001")(app)


def gallery_steps() -> list[tuple[str, Step]]:
    """(state name, action) in order; each state starts from a fresh session."""
    def large(app: KioskApp) -> None:
        app.toggle_large_text()

    def sleep(app: KioskApp) -> None:
        app.screen("attract").asleep = True

    def large_en(app: KioskApp) -> None:
        large(app)
        app.set_language("en")

    def large_record(app: KioskApp) -> None:
        large(app)
        app.open_record(11)

    def service_pin(app: KioskApp) -> None:
        app.go("service")
        app.screen("service").press("1")
        app.screen("service").press("2")

    return [
        ("attract", lambda app: None),
        ("attract-asleep", sleep),
        ("attract-en", lambda app: app.set_language("en")),
        ("attract-large", large),
        ("attract-en-large", large_en),
        ("search-en", _search_en),
        ("search-empty", lambda app: app.go("search")),
        ("search-typing", lambda app: _search(app, "к")),
        ("search-results", lambda app: _search(app, "сказки", hide=True)),
        ("search-facet", lambda app: _search(app, "а", hide=True, facet=("available", "yes"))),
        ("search-city", _search_city),
        ("search-city-ours", lambda app: _search_city(app, only_ours=True)),
        ("search-no-results", lambda app: _search(app, "динозвры")),
        ("search-large", _search_large),
        ("record", lambda app: app.open_record(1)),
        ("record-all-out", lambda app: app.open_record(8)),
        ("hold-card", lambda app: (app.open_record(8), app.open_hold())),
        ("hold-queued", _hold_queued),
        ("hold-refused", _hold_refused),
        ("record-other-school", _record_other_school),
        ("hold-requested", _hold_requested),
        ("record-class-set", lambda app: app.open_record(11)),
        ("record-large", large_record),
        ("checkout-card", lambda app: app.go("checkout")),
        ("checkout-greeting", _scans("checkout", "100001")),
        ("checkout-closer", _closer),
        ("checkout-accepted", _scans("checkout", "100001", "200001")),
        ("checkout-refused", _scans("checkout", "100001", "200001", "200006")),
        ("checkout-blocked", _scans("checkout", "100002")),
        ("checkout-book-first", _scans("checkout", "200001")),
        ("checkout-other-card", _scans("checkout", "100001", "200003", "100003")),
        ("checkout-all-refused", _checkout_all_refused),
        ("checkout-pin", _checkout_pin),
        ("checkout-done", _checkout_done),
        ("checkout-printed", _checkout_printed),
        ("return-accepted", _scans("checkin", "200010", "200004")),
        ("return-unknown", _scans("checkin", "999999")),
        ("return-place", _return_to_place),
        ("return-card", _scans("checkin", "100001")),
        ("return-hold", _return_hold),
        ("checkout-hold-waiting", _checkout_hold_waiting),
        ("loans-holds", _loans_holds),
        ("loans-card", lambda app: app.go("loans")),
        ("loans-list", _scans("loans", "100003")),
        ("loans-renewed", _loans_renewed),
        ("loans-new-pin", _loans_new_pin),
        ("loans-pin-changed", _loans_pin_changed),
        ("idle-warning", _warning),
        ("error", _fail),
        ("service-pin", service_pin),
        ("checkout-teacher", _teacher),
        ("collect-card", lambda app: app.open_collect()),
        ("collect-scans", _collect),
        ("media-card", lambda app: app.open_media()),
        ("media-pupil-card", _media_pupil_card),
        ("attract-playing", _playing_home),
        ("media-list", _media),
        ("media-search", lambda app: _media(app, search="мат")),
        ("media-playing", lambda app: _media(app, play=True)),
        ("media-film-tapped", _film_tapped),
        ("attract-film-tapped", _film_tapped_home),
        ("service-server", _service),
        ("service-devices", lambda app: _service(app, "devices")),
        ("service-figures", lambda app: _service(app, "figures")),
        ("service-first-sync", _first_sync),
        ("offline-attract", lambda app: app.on_connection(_offline())),
        ("offline-return", _offline_return),
    ]


def _needed(label: Label, text: str, width: float | None) -> tuple[float, float]:
    """The size `text` takes in `label`'s font, wrapped to `width` (None: one line)."""
    from kivy.core.text import Label as CoreLabel

    core = CoreLabel(text=text, font_size=label.font_size, bold=label.bold,
                     font_name=label.font_name, text_size=(width, None), halign=label.halign,
                     padding=label.padding)
    core.refresh()
    return core.texture.size if core.texture is not None else (0, 0)


def clipped_texts(root: Widget) -> list[str]:
    """Visible labels whose text does not fit their box: taller or wider than the widget, cut
    by a fixed text_size, a word broken in the middle because it is wider than the box, or a
    label its layout pushed out of the layout's own box (more content than room). A deliberate
    cut (``shorten``, ``max_lines``) is not counted. The gallery reports them."""
    from kivy.uix.label import Label
    from kivy.uix.layout import Layout
    from kivy.uix.relativelayout import RelativeLayout
    from kivy.uix.scrollview import ScrollView

    found = []

    def visible(w: Widget | None) -> bool:
        while w is not None and w is not w.parent:
            if getattr(w, "opacity", 1) <= 0.01:
                return False
            if isinstance(w, ScrollView):
                return True  # scrolled content may extend beyond the view by design
            w = w.parent
        return True

    for w in root.walk(restrict=False):
        if not isinstance(w, Label) or not w.text.strip() or w.width < 2 or w.height < 2:
            continue
        if not visible(w) or w.shorten or w.max_lines:
            continue
        tw, th = w.texture_size
        where = f"{w.text[:40]!r} in {int(w.width)}x{int(w.height)}"
        if th > w.height + 3 or tw > w.width + 3:
            found.append(f"{where}: needs {int(tw)}x{int(th)}")
            continue
        box_w = w.text_size[0] if w.text_size and w.text_size[0] else None
        if box_w:
            if w.text_size[1] is not None:  # a fixed box crops extra lines silently
                _nw, nh = _needed(w, w.text, box_w)
                if nh > w.text_size[1] + 3:
                    found.append(f"{where}: cropped, needs {int(nh)} px")
                    continue
            for word in set(w.text.replace("\n", " ").split()):
                ww, _wh = _needed(w, word, None)
                pad = w.padding[0] + w.padding[2] if len(w.padding) == 4 else 0
                if ww > box_w - pad + 1:
                    found.append(f"{where}: the word {word!r} is broken ({int(ww)} px)")
                    break
        parent = w.parent
        if isinstance(parent, Layout) and not isinstance(parent, RelativeLayout) \
                and (w.top > parent.top + 3 or w.y < parent.y - 3):
            # more content than room: the layout pushed the label out (under the top bar)
            found.append(f"{where}: sticks out of its layout ({int(w.y)}..{int(w.top)} in "
                         f"{int(parent.y)}..{int(parent.top)})")
    return found


class Stepper:
    """Runs actions one by one on the Kivy clock, taking a screenshot after each."""

    def __init__(self, app: KioskApp, steps: Iterable[tuple[str, Step]], out_dir: Path | None,
                 size: tuple[int, int]):
        self.app, self.steps, self.out_dir, self.size = app, list(steps), out_dir, size
        self.index = 0
        self.written: list[str] = []
        self.errors: list[str] = []

    def start(self) -> None:
        """Begin after the first frames are drawn."""
        from kivy.clock import Clock

        Clock.schedule_once(self._act, STEP_S * 2)

    def _act(self, _dt: float) -> None:
        from kivy.clock import Clock

        if self.index >= len(self.steps):
            self.app.stop()
            return
        name, action = self.steps[self.index]
        app = self.app
        try:
            from kiosk.fakes import FakeMedia, fake_services

            app.use_services(*fake_services(NOW.date()))
            app.media.port = app.media_port = FakeMedia()
            app.show_now_playing(None)
            app.returns.returns = app.options.returns
            app.on_connection(None)
            app.end_session()
            if app.lang != "ru":
                app.set_language("ru")
            if app.options.large_text:
                app.toggle_large_text()
            app.screen("attract").asleep = False
            action(app)
        except Exception as exc:  # noqa: BLE001 - report which state broke, keep going
            self.errors.append(f"{name}: {exc!r}")
        Clock.schedule_once(self._shoot, STEP_S)

    def _shoot(self, _dt: float) -> None:
        from kivy.clock import Clock
        from kivy.core.window import Window

        name = self.steps[self.index][0]
        for clip in clipped_texts(Window.children[0] if Window.children else self.app.root):
            self.errors.append(f"{name}: clipped {clip}")
        if self.out_dir is not None:
            w, h = self.size
            target = self.out_dir / f"{name}-{w}x{h}.png"
            made = Window.screenshot(name=str(self.out_dir / f".{name}.png"))
            os.replace(made, target)
            self.written.append(target.name)
        self.index += 1
        Clock.schedule_once(self._act, 0)


def build_app(size: tuple[int, int], kivy_home: Path, **overrides: Any) -> KioskApp:
    """A headless KioskApp over fresh fakes at a fixed date (Kivy configured here)."""
    from kiosk.runner import configure

    options = KioskOptions(size=size, sounds=False, cache_dir=kivy_home / "cache",
                           school="Гимназия № 5 — ИБЦ", service_pin="1234", **overrides)
    configure(options, kivy_home=kivy_home, headless=True)
    from kiosk.app import KioskApp
    from kiosk.fakes import FakeMedia, fake_service_info, fake_services

    catalogue, circulation, printer = fake_services(NOW.date())
    return KioskApp(catalogue, circulation, printer, options, now=lambda: NOW, media=FakeMedia(),
                    service_info=fake_service_info())


def main(argv: list[str] | None = None) -> int:
    """Render the gallery at one size; prints a JSON summary."""
    parser = argparse.ArgumentParser(prog="python -m kiosk.gallery")
    parser.add_argument("--size", default="1280x800", type=parse_size)
    parser.add_argument("-o", "--output", required=True, type=Path)
    parser.add_argument("--only", default="", help="comma-separated state names")
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ibc-kivy-") as home:
        app = build_app(args.size, Path(home))
        steps = gallery_steps()
        if args.only:
            wanted = set(args.only.split(","))
            steps = [s for s in steps if s[0] in wanted]
        stepper = Stepper(app, steps, args.output, args.size)
        stepper.start()
        app.run()
    print(json.dumps({"written": stepper.written, "errors": stepper.errors}, ensure_ascii=False))
    return 1 if stepper.errors else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
