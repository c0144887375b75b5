"""One UI scenario of the real kiosk app, run offscreen in its own process (Kivy allows one
window per process). Usage: ``python ui_scenario.py NAME KIVY_HOME``; prints one JSON line.

Touches are real MotionEvents dispatched through the window (kivy.tests.common.UnitTestTouch),
so they pass through the root's activity tracking like a finger would.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path


def tap(widget) -> None:
    """Touch down and up at the centre of a widget."""
    from kivy.tests.common import UnitTestTouch

    x, y = widget.to_window(*widget.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    touch.touch_up()


def key(app, value: str):
    """The on-screen key typing ``value``."""
    return next(k for k in app.screen("search").ids.keyboard.keys() if k.value == value)


def search_steps(app, out):
    """Tap «Найти книгу», type «сказ» on the on-screen keyboard, open the first result."""
    def open_search():
        tap(app.screen("attract").ids.act_search)

    def typing():
        for ch in "сказ":
            tap(key(app, ch))

    def check():
        screen = app.screen("search")
        out["current"] = app.current
        out["query"] = app.search.query
        out["rows"] = [w.title for w in reversed(screen.ids.results.children)
                       if hasattr(w, "record_id")]
        out["heading"] = screen.ids.heading.text

    def tap_first():
        # A separate step: the rows filled in after the typing pause are laid out by now.
        tap(app.screen("search").ids.results.children[-1])

    def opened():
        out["after_tap"] = app.current
        out["record_title"] = app.screen("record").ids.title.text

    return [(0.1, open_search), (0.6, typing), (1.0, check), (0.3, tap_first), (0.5, opened)]


def visible_rows(app) -> int:
    """Result rows wholly inside the visible part of the results list."""
    screen = app.screen("search")
    scroll = screen.ids.scroll
    _x0, y0 = scroll.to_window(scroll.x, scroll.y)
    y1 = y0 + scroll.height
    n = 0
    for row in screen.ids.results.children:
        if not hasattr(row, "record_id"):
            continue
        _rx, ry = row.to_window(row.x, row.y)
        if ry >= y0 - 1 and ry + row.height <= y1 + 1:
            n += 1
    return n


def typing_steps(app, out):
    """Type one letter: at least four results show above the open keyboard; a drag on the
    list folds the keyboard; «Готово» folds it too."""
    def open_search():
        tap(app.screen("attract").ids.act_search)

    def typing():
        tap(key(app, "к"))

    def count():
        screen = app.screen("search")
        out["keyboard_open"] = screen.ids.keyboard_box.height > 0
        out["total"] = app.search.page.total if app.search.page else 0
        out["visible_typing"] = visible_rows(app)
        out["compact_typing"] = all(getattr(r, "compact", True) for r in screen.ids.results.children)
        # A finger's drag ends in the list's scroll_y moving off the top; simulated touches do
        # not drive Kivy's scroll effects offscreen, so the position is set as a drag leaves it.
        screen.ids.scroll.scroll_y = 0.4

    def dragged():
        screen = app.screen("search")
        out["keyboard_after_drag"] = screen.ids.keyboard_box.height > 0
        out["compact_after_drag"] = any(getattr(r, "compact", False)
                                        for r in screen.ids.results.children)
        out["current"] = app.current
        screen.show_keyboard()

    def done_key():
        from kiosk.presenters.keyboard import HIDE

        tap(key(app, HIDE))

    def folded():
        out["keyboard_after_done"] = app.screen("search").ids.keyboard_box.height > 0
        out["done_label"] = key_label(app, "\x1b") if out["keyboard_after_done"] else "folded"

    return [(0.1, open_search), (0.5, typing), (1.0, count), (0.8, dragged), (0.3, done_key),
            (0.3, folded)]


def edges_steps(app, out):
    """The edge cases of item 8 through the real screens: a book before the card, another
    reader's card mid-session, a refused book shown twice, all refused, a reader card at
    Return, a blocked card."""
    from kiosk.gallery import type_scan

    def book_first():
        tap(app.screen("attract").ids.act_checkout)
        type_scan(app, "200006")  # a reading-room book before the card
        screen = app.screen("checkout")
        out["before_card"] = (screen.ids.flash.text, screen.ids.flash.ok)

    def card():
        type_scan(app, "100001")
        screen = app.screen("checkout")
        out["kept"] = [(w.title, w.ok) for w in reversed(screen.ids.item_list.children)]
        type_scan(app, "100003")  # another reader's card
        out["other_card"] = screen.ids.flash.text
        type_scan(app, "200006")  # the refused book again
        out["rows_after_repeat"] = len(screen.ids.item_list.children)
        out["personal"] = app.personal
        tap(screen.ids.action)  # «Готово»

    def done():
        screen = app.screen("checkout")
        out["done_prompt"] = screen.ids.prompt.text
        out["done_summary"] = screen.ids.greeting.text
        out["print_shown"] = screen.ids.print_receipt.opacity == 1
        app.end_session()

    def to_return():
        tap(app.screen("attract").ids.act_return)
        type_scan(app, "100001")  # a reader card at Return

    def at_return():
        screen = app.screen("checkin")
        out["card_at_return"] = (screen.ids.flash.text, screen.ids.flash.ok,
                                 len(screen.ids.item_list.children))
        app.end_session()

    def to_checkout():
        tap(app.screen("attract").ids.act_checkout)
        type_scan(app, "100002")  # a blocked card

    def blocked():
        screen = app.screen("checkout")
        out["blocked"] = (screen.ids.prompt.text, screen.ids.flash.text)

    return [(0.2, book_first), (0.3, card), (0.3, done), (0.2, to_return), (0.3, at_return),
            (0.2, to_checkout), (0.3, blocked)]


def reset_steps(app, out):
    """A pupil switches to English and large text, shows a card, walks away: the next reader
    gets Russian, the normal look and the attract screen; the header showed the real time left."""
    from kiosk.gallery import type_scan

    def choose():
        attract = app.screen("attract")
        buttons = [w for w in attract.walk() if getattr(w, "text", "") in ("English", "Крупный текст")]
        for b in buttons:
            tap(b)
        out["lang_chosen"], out["large_chosen"] = app.lang, app.options.large_text

    def start():  # what «Взять книгу» does (a tap could land on the old layout of a loaded machine)
        app.go("checkout")
        out["countdown_general"] = app.countdown
        type_scan(app, "100001")
        out["countdown_personal"] = app.countdown
        out["personal"] = app.personal
        app.timer.start(app.monotonic() - 3600)  # nobody touched it for an hour

    def after():
        out["current"] = app.current
        out["lang_after"], out["large_after"] = app.lang, app.options.large_text
        out["theme_after"] = app.theme.high_contrast
        out["greeting_after"] = app.screen("checkout").ids.greeting.text
        out["personal_after"] = app.personal

    return [(0.3, choose), (0.3, start), (1.5, after)]


def media_steps(app, out):
    """«Медиатека» on the home screen: a pupil's card is turned away, a teacher's opens it;
    a film plays on the projector; after the session ends the home screen can stop it."""
    from kiosk.gallery import type_scan

    def open_tile():
        out["tile"] = app.screen("attract").ids.act_media.opacity == 1
        tap(app.screen("attract").ids.act_media)
        out["screen"] = app.current
        out["locked"] = app.screen("media").locked
        type_scan(app, "100001")  # a pupil

    def teacher():
        screen = app.screen("media")
        out["pupil"] = (screen.locked, screen.ids.gate_flash.text)
        type_scan(app, "100005")  # a teacher

    def opened():
        screen = app.screen("media")
        out["teacher_locked"] = screen.locked
        out["heading"] = screen.ids.heading.text
        out["teachers_only_listed"] = any("только для учителей" in w.detail
                                          for w in screen.ids.rows.children)
        tap(screen.ids.play_projector)

    def home():
        app.end_session("idle")
        app._media_polled = 0.0
        app._tick(0)

    def strip():
        attract = app.screen("attract")
        out["strip"] = (app.now_playing, attract.ids.now_strip.opacity)
        stop = next(w for w in attract.ids.now_strip.children if getattr(w, "text", "") == "Стоп")
        tap(stop)
        out["after_stop"] = app.now_playing

    return [(0.2, open_tile), (0.3, teacher), (0.3, opened), (0.3, home), (0.5, strip)]


def stuck_projector_steps(app, out):
    """A projector that never answers PJLink: the kiosk keeps drawing and stays usable."""
    import asyncio

    from kivy.clock import Clock

    from kiosk.gallery import type_scan

    release = asyncio.Event()  # set on the bridge's loop
    frames: list[float] = []

    async def never_answers(action: str, value: str = "") -> str:
        try:
            await asyncio.wait_for(release.wait(), 30)  # far longer than the test looks
        except asyncio.TimeoutError:
            pass
        return "on"

    def open_media():
        app.media_port.projector = never_answers
        app.open_media()
        type_scan(app, "100005")  # a teacher

    def press():
        tap(app.screen("media").ids.proj_on)
        out["asking"] = app.screen("media").ids.message.text
        Clock.schedule_interval(lambda dt: frames.append(dt), 0)

    def still_drawing():
        out["frames"] = len(frames)
        out["search_typed"] = None
        tap(app.screen("media").ids.search_btn)  # the screen still answers a tap
        out["keyboard"] = app.media.keyboard_visible
        async def answer() -> None:  # on the bridge's loop, where the event lives
            release.set()

        app.bridge.submit(answer())  # the projector answers at last

    waited = [0]

    def answered():
        out["answer"] = app.screen("media").ids.message.text
        waited[0] += 1
        if out["answer"] == out["asking"] and waited[0] < 50:  # up to 10 s on a loaded machine
            return False
        return None

    # a kiosk blocked by the projector would draw no frame at all in the 1.5 s; a loaded CI
    # machine draws fewer than a quiet one, so the test asks for a few, not for a frame rate
    return [(0.3, open_media), (0.3, press), (1.5, still_drawing), (0.3, answered)]


def key_label(app, value: str) -> str:
    """The label of an on-screen key."""
    return key(app, value).text


def checkout_steps(app, out):
    """Card, two books (one refused), «Готово», receipt."""
    from kiosk.gallery import type_scan

    def start():
        tap(app.screen("attract").ids.act_checkout)
        type_scan(app, "100001")

    def books():
        out["greeting"] = app.screen("checkout").ids.greeting.text
        type_scan(app, "200003")
        type_scan(app, "200006")

    def done():
        screen = app.screen("checkout")
        out["items"] = [(w.title, w.text, w.ok) for w in reversed(screen.ids.item_list.children)]
        out["flash"] = screen.ids.flash.text
        out["sounds"] = list(app.sounds.played)
        tap(screen.ids.action)

    def offer():
        screen = app.screen("checkout")
        out["offer"] = screen.ids.greeting.text
        out["print_shown"] = screen.ids.print_receipt.opacity == 1
        tap(screen.ids.print_receipt)

    waited = {"n": 0}

    def receipt():
        # printing runs on the kiosk's bridge: under load it can take longer than one step
        waited["n"] += 1
        greeting = app.screen("checkout").ids.greeting.text
        if (not app.checkout.printer.printed or greeting == out["offer"]) and waited["n"] < 50:
            return False  # at most 10 s
        out["summary"] = app.screen("checkout").ids.greeting.text
        out["printed"] = len(app.checkout.printer.printed)
        return None

    return [(0.3, start), (0.3, books), (0.3, done), (0.3, offer), (0.3, receipt)]


def pin_pad_keys(screen) -> dict:
    """The PIN pad's buttons of a screen by key ('0'…'9', 'back', 'ok')."""
    return {w.key: w for w in screen.walk() if hasattr(w, "key") and isinstance(w.key, str)}


def pin_steps(app, out):
    """«Мои книги» with card + PIN, «Сменить PIN», the new PIN twice on the pad, then a new
    session opens «Мои книги» with the new PIN (the old one refused)."""
    from kiosk.gallery import type_scan

    def type_pin(digits: str) -> None:
        keys = pin_pad_keys(app.screen("loans"))
        for d in digits:
            tap(keys[d])
        tap(keys["ok"])

    def start():
        tap(app.screen("attract").ids.act_loans)
        type_scan(app, "100004")

    def old_pin():
        type_pin("4321")

    def change():
        screen = app.screen("loans")
        out["button"] = screen.ids.pin_btn.text
        tap(screen.ids.pin_btn)
        out["step_heading"] = screen.ids.heading.text

    def new_twice():
        screen = app.screen("loans")
        type_pin("5830")
        out["again_heading"] = screen.ids.heading.text
        type_pin("5830")
        out["saved"] = screen.ids.flash.text
        out["state_after"] = app.loans.state
        out["rows_after"] = len(screen.ids.rows.children)

    def leave():
        app.end_session()

    def again():
        tap(app.screen("attract").ids.act_loans)
        type_scan(app, "100004")

    def old_refused():
        screen = app.screen("loans")
        type_pin("4321")
        out["old_refused"] = screen.ids.flash.text

    def new_accepted():
        screen = app.screen("loans")
        type_pin("5830")
        out["final_state"] = app.loans.state
        out["final_heading"] = screen.ids.heading.text

    return [(0.3, start), (0.3, old_pin), (0.3, change), (0.3, new_twice), (0.3, leave),
            (0.3, again), (0.3, old_refused), (0.3, new_accepted)]


def idle_steps(app, out):
    """A reader identified, then nobody touches: the warning shows, then the session ends."""
    from kiosk.gallery import type_scan

    def seen(_app, value: str) -> None:
        # Recorded when it happens: a loaded machine may delay the clock by a second or more.
        if value and "warning" not in out:
            out["warning"], out["countdown"] = value, app.countdown

    def start():
        app.bind(warning=seen)
        tap(app.screen("attract").ids.act_loans)
        type_scan(app, "100003")
        out["loans_before"] = len(app.loans.loans)

    def warn():
        out.setdefault("warning", "")
        out.setdefault("countdown", "")

    def after():
        out["current"] = app.current
        out["reader"] = app.loans.reader is not None or app.session_reader is not None
        out["loans_after"] = len(app.loans.loans)
        out["countdown_after"] = app.countdown

    # Idle limit 8 s, warning in the last 2.7 s: wide enough for a loaded machine's clock.
    return [(0.3, start), (7.0, warn), (2.5, after)]


def terminal_steps(app, out):
    """Terminal mode against a real `ibc serve`: search on the replica, a self-checkout with the
    fake scanner through the API, then the server dies: the banner shows and a return is queued."""
    import os
    import signal

    from kiosk.gallery import type_scan

    card, barcode, word = (os.environ["KIOSK_TEST_CARD"], os.environ["KIOSK_TEST_BARCODE"],
                           os.environ["KIOSK_TEST_WORD"])

    deadline = [0.0]

    def first_check():
        # The monitor's first round (health over TLS, then the whole replica) must be done;
        # retried every 0.2 s, for 20 s at most.
        import time

        deadline[0] = deadline[0] or time.monotonic() + 20
        state = app.connection_state
        return (state is not None and state.online is not None and not state.syncing) \
            or time.monotonic() > deadline[0]

    def search():
        out["banner_online"] = app.offline_text
        out["online"] = app.connection_state.online if app.connection_state else None
        app.go("search")
        for ch in word.lower():
            app.search.press(ch)
        app.screen("search").search_now()
        out["search_total"] = app.search.page.total if app.search.page else 0
        app.end_session()

    def start():
        tap(app.screen("attract").ids.act_checkout)
        type_scan(app, card)

    def books():
        out["greeting"] = app.screen("checkout").ids.greeting.text
        out["state"] = app.checkout.state
        type_scan(app, barcode)

    def done():
        screen = app.screen("checkout")
        out["items"] = [(w.title, w.text, w.ok) for w in reversed(screen.ids.item_list.children)]
        tap(screen.ids.action)
        out["done_state"] = app.checkout.state
        tap(screen.ids.action)  # «Завершить»: the session ends (DELETE /session)
        out["after"] = app.current

    def kill_server():
        os.kill(int(os.environ["KIOSK_TEST_SERVER_PID"]), signal.SIGKILL)
        app.connection.poke()

    def offline():
        out["banner_offline"] = app.offline_text
        tap(app.screen("attract").ids.act_return)
        type_scan(app, barcode)
        out["return_flash"] = app.screen("checkin").ids.flash.text
        out["pending"] = len(app.connection.queue.pending())

    return [(1.0, first_check), (0.1, search), (0.3, start), (0.5, books), (0.5, done),
            (0.2, kill_server), (2.5, offline)]


def collect_steps(app, out):
    """«Сдача учебников»: a teacher's card at the home screen, the button beside «Медиатека»,
    three textbooks scanned and named; nobody touches: the session ends and the list is gone."""
    from kiosk.gallery import type_scan

    def card():
        type_scan(app, "100005")  # a teacher's card shown to the idle kiosk
        out["after_card"] = app.current

    def open_mode():
        btn = app.screen("checkout").ids.collect_btn
        out["button"] = (btn.opacity, btn.disabled, btn.text)
        tap(btn)
        out["screen"] = app.current
        out["locked"] = app.screen("collect").locked

    def scans():
        screen = app.screen("collect")
        for code in ("300028", "300029", "300030"):
            type_scan(app, code)
            out.setdefault("flashes", []).append(screen.ids.flash.text)
        out["rows"] = [(w.title, w.text, w.ok) for w in screen.ids.item_list.children]
        out["count"] = screen.ids.count.text
        out["personal"] = app.personal

    def after():
        screen = app.screen("collect")
        out["current"] = app.current
        out["items_after"] = len(app.collect.items)
        out["rows_after"] = len(screen.ids.item_list.children)
        out["open_after"] = app.collect.is_open

    # Idle limit 8 s for a personal screen: the session ends by itself after the scans.
    return [(0.3, card), (0.3, open_mode), (0.3, scans), (9.5, after)]


def holds_steps(app, out):
    """Issue 19 at the kiosk: Маша taps «Встать в очередь» on a record whose one copy is out and
    shows her card; Аня returns that copy (the loud hold notice); Маша's card at «Взять книгу»
    says the book waits, she scans it and takes it."""
    from kiosk.gallery import type_scan

    def record():
        app.open_record(8)

    def queue():
        # A separate step: the button shown by the refresh is laid out by now.
        btn = app.screen("record").ids.queue
        out["button"] = (btn.opacity, btn.disabled, btn.text)
        tap(btn)
        out["after_tap"] = app.current
        out["heading"] = app.screen("hold").ids.heading.text

    def card():
        type_scan(app, "100001")
        screen = app.screen("hold")
        out["queued"] = (screen.ids.flash.text, screen.ids.flash.ok, app.personal)
        tap(screen.ids.done.children[0])  # «Готово»
        out["after_done"] = app.current

    def give_back():
        tap(app.screen("attract").ids.act_return)
        type_scan(app, "200010")
        out["printed_now"] = len(app.returns.printer.printed)

    def slip_printed():
        # The slip goes to the (fake) printer on the kiosk bridge; its answer adds a line.
        flash = app.returns.flash
        if not app.returns.printer.printed or flash is None or flash.text.count("\n") < 2:
            return False
        screen = app.screen("checkin")
        out["returned"] = (app.current, screen.ids.flash.text, screen.ids.flash.loud)
        out["return_row"] = [(w.text, w.loud) for w in screen.ids.item_list.children]
        app.end_session()

    def take():
        type_scan(app, "100001")  # Маша's card at the idle kiosk: «Взять книгу»
        screen = app.screen("checkout")
        out["note"] = (app.current, screen.ids.holds_note.text)
        type_scan(app, "200010")
        out["lent"] = [(w.title, w.ok) for w in screen.ids.item_list.children]
        out["note_after"] = screen.ids.holds_note.text

    return [(0.3, record), (0.3, queue), (0.3, card), (0.3, give_back), (0.1, slip_printed),
            (0.3, take)]


SCENARIOS = {"search": search_steps, "typing": typing_steps, "checkout": checkout_steps,
             "edges": edges_steps, "reset": reset_steps, "media": media_steps, "idle": idle_steps,
             "terminal": terminal_steps, "stuck_projector": stuck_projector_steps,
             "pin": pin_steps, "collect": collect_steps, "holds": holds_steps}


def build_terminal_app(home: Path):
    """A headless KioskApp in terminal mode, from the settings file in IBC_CONFIG."""
    import os

    from config.settings import load_settings
    from kiosk.bridge import Bridge
    from kiosk.options import KioskOptions
    from kiosk.remote import terminal_mode
    from kiosk.runner import configure
    from kiosk.terminal.credentials import load_terminal

    settings = load_settings(os.environ["IBC_CONFIG"])
    data_dir = Path(settings.data_dir)
    bridge = Bridge()
    mode = terminal_mode(data_dir, load_terminal(data_dir), settings, bridge, interval_s=0.5)
    options = KioskOptions(size=(1280, 800), sounds=False, cache_dir=home / "cache",
                           school="Гимназия № 5 — ИБЦ", service_pin="1234")
    configure(options, kivy_home=home, headless=True)
    from kiosk.app import KioskApp
    from kiosk.fakes import FakePrinter

    app = KioskApp(mode.catalogue, mode.circulation, FakePrinter(), options,
                   terminal=mode.name, connection=mode.monitor, bridge=bridge)
    return app, mode


def main() -> int:
    """Run one scenario and print its observations as JSON."""
    name, home = sys.argv[1], Path(sys.argv[2])
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from kiosk.gallery import build_app

    timeout = {"idle": 8.0, "collect": 8.0}.get(name, 60.0)
    mode = None
    if name == "terminal":
        app, mode = build_terminal_app(home)
    else:
        app = build_app((1280, 800), home, idle_timeout_s=timeout,
                        personal_idle_s=min(timeout, 30.0), warn_s=3.0)
    out: dict = {}
    from kivy.clock import Clock

    steps = SCENARIOS[name](app, out)

    def run(i: int) -> None:
        if i == len(steps):
            app.stop()
            return
        delay, fn = steps[i]

        def go(_dt: float) -> None:
            try:
                if fn() is False:  # a step that waits: again in 0.2 s
                    Clock.schedule_once(go, 0.2)
                    return
            except Exception:  # noqa: BLE001 - report to the test
                out["error"] = traceback.format_exc()
                app.stop()
                return
            run(i + 1)

        Clock.schedule_once(go, delay)

    Clock.schedule_once(lambda _dt: run(0), 0.3)
    app.run()
    if mode is not None:
        mode.close()
        app.bridge.close()  # the terminal's bridge: its users first, then the bridge
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
