"""Service mode: a PIN pad; once unlocked, server/queue state, device checks, key figures, exit."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.i18n import N_, _
from kiosk.screens.base import KioskScreen

if TYPE_CHECKING:
    from kiosk.presenters.service import ServicePresenter

log = logging.getLogger("ibc.kiosk")

TITLES = {"server": N_("Server and queue"), "devices": N_("Devices"),
          "figures": N_("Key figures of the term")}


class ServiceRow(BoxLayout):
    """A label/value line with an ok/fault mark."""

    key = StringProperty("")
    value = StringProperty("")
    ok = BooleanProperty(True)


class ServiceScreen(KioskScreen):
    """Renders `ServicePresenter`."""

    @property
    def presenter(self) -> ServicePresenter:
        """The app's ServicePresenter."""
        return self.kiosk.service

    def press(self, key: str) -> None:
        """A PIN pad key."""
        self.presenter.press(key)
        self.refresh()

    def show(self, section: str) -> None:
        """A menu button; «Check devices» runs the doctor's checks on a worker thread."""
        p = self.presenter
        self.kiosk.guard(lambda: p.show(section), "service")
        if section == "devices" and p.start_checks():
            def done(results: list[tuple[str, str, str]] | None,
                     error: BaseException | None) -> None:
                if error is not None:  # reported in the panel
                    log.warning("device checks failed: %r", error)
                    results = [(_("Devices"), "FAIL", _("the check itself failed: {err}").format(
                        err=type(error).__name__))]
                elif results is None:
                    raise TypeError("the device checks returned nothing")
                self._checks_done(results)

            self.kiosk.bridge.submit(p.run_checks, done)
        self.refresh()

    def toggle_details(self) -> None:
        """«Подробнее» / «Короче»."""
        self.presenter.toggle_details()
        self.refresh()

    def _checks_done(self, results: list[tuple[str, str, str]]) -> None:
        self.presenter.checks_done(results)
        self.refresh()

    def reset(self, reason: str = "cancelled") -> None:
        """Lock again."""
        self.presenter.reset()

    def refresh(self) -> None:
        """Render the presenter."""
        p, ids = self.presenter, self.ids
        unlocked = p.unlocked
        ids.pin.text = p.masked or (_("Enter the PIN") if not unlocked else "")
        ids.message.text = p.message
        for name, show in (("locked", not unlocked), ("pad", not unlocked), ("menu", unlocked),
                           ("content", unlocked)):
            w = ids[name]
            w.opacity = 1 if show else 0
            w.disabled = not show
        ids.locked.size_hint_x = 1 if not unlocked else 0.001
        ids.pad.size_hint_x = 0.9 if not unlocked else 0.001
        ids.menu.size_hint_x = 0.36 if unlocked else 0.001
        ids.content.size_hint_x = 0.64 if unlocked else 0.001
        for section in ("server", "devices", "figures"):
            button = ids[f"sec_{section}"]
            button.role = 'accent' if p.section == section else 'key'
        ids.section_title.text = _(TITLES[p.section])
        ids.details.text = _("Less") if p.details else _("Details")
        ids.details.opacity = 1 if p.section == "server" else 0
        ids.details.disabled = p.section != "server"
        rows = ids.rows
        rows.clear_widgets()
        if not unlocked:
            return
        for key, value, ok in p.rows(self.kiosk.connection_state):
            rows.add_widget(ServiceRow(key=key, value=value, ok=ok))
