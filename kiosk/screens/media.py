"""The teacher media screen: list and search, play here or on the projector, controls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk.i18n import _
from kiosk.presenters.media import SEEK_STEP_S, VOLUME_STEP
from kiosk.screens.base import KioskScreen

if TYPE_CHECKING:
    from kiosk.presenters.gate import CardGate
    from kiosk.presenters.media import MediaPresenter


class MediaRow(ButtonBehavior, BoxLayout):
    """One media item; tap selects it."""

    media_id = NumericProperty(0)
    title = StringProperty("")
    detail = StringProperty("")
    selected = BooleanProperty(False)


class MediaScreen(KioskScreen):
    """Renders `MediaPresenter` behind a teacher's card (`CardGate`); polls the player once a
    second while shown."""

    _poll = None
    locked = BooleanProperty(True)  # no teacher's card yet: the gate shows

    @property
    def gate(self) -> CardGate:
        """The app's teachers-only card gate."""
        return self.kiosk.media_gate

    def on_scan(self, code: str) -> None:
        """A card while the gate is closed."""
        if self.gate.state != "open":
            self.act(lambda: self.gate.scan(code), "media")

    def press_pin(self, key: str) -> None:
        """A key of the PIN pad."""
        self.kiosk.user_activity()
        self.act(lambda: self.gate.press_pin(key), "pin")

    def idle_kind(self) -> str:
        """Teachers-only media are not left on show: the shorter idle once open."""
        return "personal" if self.gate.state != "card" else "general"

    @property
    def presenter(self) -> MediaPresenter:
        """The app's MediaPresenter."""
        return self.kiosk.media

    def on_enter(self, *_args) -> None:
        """Start polling the now-playing state."""
        self._poll = Clock.schedule_interval(self._tick, 1.0)

    def on_leave(self, *_args) -> None:
        """Stop polling."""
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None

    def _tick(self, _dt: float) -> None:
        state = self.kiosk.connection_state
        if state is not None and state.online is False:
            return  # terminal offline: no status request that would block the UI for seconds
        self.kiosk.guard(self.presenter.refresh_status, "media")
        self._render_now()

    def toggle_keyboard(self) -> None:
        """Show or hide the keyboard."""
        self.presenter.keyboard_visible = not self.presenter.keyboard_visible
        self.refresh()

    def on_key(self, value: str) -> None:
        """A key of the on-screen keyboard."""
        self.kiosk.guard(lambda: self.presenter.press(value), "media")
        self.refresh()

    def select(self, row: MediaRow) -> None:
        """A row was tapped."""
        self.presenter.select(row.media_id)
        self.refresh()

    def play(self, projector: bool) -> None:
        """«Смотреть здесь» / «На проектор»."""
        ok = self.kiosk.guard(lambda: self.presenter.play(projector), "media")
        self.kiosk.play("success" if ok else "error")
        self.refresh()

    def control(self, action: str) -> None:
        """Now-playing buttons."""
        p = self.presenter
        actions = {"pause": p.toggle_pause, "stop": p.stop,
                   "back": lambda: p.seek(-SEEK_STEP_S), "forward": lambda: p.seek(SEEK_STEP_S),
                   "quieter": lambda: p.change_volume(-VOLUME_STEP),
                   "louder": lambda: p.change_volume(VOLUME_STEP), "show": p.show_film}
        self.kiosk.guard(actions[action], "media")
        self.refresh()

    def projector(self, action: str) -> None:
        """Projector power and input: PJLink can take seconds (or never answer), so the call runs
        on the kiosk bridge and the answer comes back to the screen when it is there."""
        p = self.presenter
        job = p.projector_job(action)
        self.refresh()
        if job is None:
            return

        def done(answer: str | None, error: BaseException | None) -> None:
            p.projector_done(answer, error)
            self.kiosk.play("success" if error is None else "error")
            self.refresh()

        self.kiosk.bridge.submit(job, done)

    def reset(self, reason: str = "cancelled") -> None:
        """The teacher's session ended (playback goes on)."""
        self.presenter.reset()
        self.gate.reset(reason)

    def _render_now(self) -> None:
        p, ids = self.presenter, self.ids
        ids.now_title.text = p.now_title
        ids.now_detail.text = p.now_detail
        ids.pause.text = _("Continue") if p.now.state == "paused" else _("Pause")
        for name in ("back30", "pause", "fwd30", "quieter", "stop", "louder"):
            ids[name].disabled = not p.playing
            ids[name].opacity = 1 if p.playing else 0.45
        hidden = p.now.film_hidden  # the film's window is off the screen: one big «Показать фильм»
        for name, shown in (("play_here", not hidden), ("play_projector", not hidden),
                            ("show_film", hidden)):
            ids[name].size_hint_x = 1 if shown else 0.001
            ids[name].opacity = 1 if shown else 0
            ids[name].disabled = not shown
        ids.play_row.spacing = 0 if hidden else self.kiosk.theme.pad

    def _render_gate(self) -> None:
        gate, ids = self.gate, self.ids
        self.locked = gate.state != "open"
        ids.gate_prompt.text = (gate.flash.text if gate.state == "pin" and gate.flash and
                                gate.flash.ok is None else _("Show a teacher's library card"))
        flash = gate.flash
        ids.gate_flash.text = flash.text if flash and flash.ok is False else ""
        ids.gate_flash.ok = False
        ids.pin.text = gate.pin.masked
        pin = gate.state == "pin"
        ids.pinbox.height = self.kiosk.theme.button_h * 4.1 if pin else 0
        ids.pinbox.opacity = 1 if pin else 0
        ids.pinbox.disabled = not pin

    def refresh(self) -> None:
        """Render the presenter."""
        self._render_gate()
        p, ids = self.presenter, self.ids
        ids.search_btn.text = (
            _("Search: {q}").format(q=p.query) if p.query else _("Search media"))
        ids.heading.text = p.heading
        ids.message.text = p.message
        ids.message.color = self.kiosk.theme.ok_text if p.message_ok else self.kiosk.theme.bad_text
        ids.where.text = p.where_note
        ids.keyboard_box.height = (ids.keyboard.key_height + 6) * 4 if p.keyboard_visible else 0
        ids.keyboard_box.opacity = 1 if p.keyboard_visible else 0
        ids.keyboard.disabled = not p.keyboard_visible
        # Typing takes the whole width (the keys stay big); the player panel comes back after.
        ids.left.size_hint_x = 1 if p.keyboard_visible else 0.55
        ids.now_panel.size_hint_x = 0.001 if p.keyboard_visible else 0.45
        ids.now_panel.opacity = 0 if p.keyboard_visible else 1
        ids.now_panel.disabled = p.keyboard_visible
        has = p.selected is not None
        for name in ("play_here", "play_projector"):
            ids[name].disabled = not has
        rows = ids.rows
        rows.clear_widgets()
        for item in p.items:
            row = MediaRow(media_id=item.id, title=item.title, detail=p.row_detail(item),
                           selected=item.id == p.selected)
            row.bind(on_release=self.select)
            rows.add_widget(row)
        self._render_now()
