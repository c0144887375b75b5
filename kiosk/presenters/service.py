"""Service mode behind the librarian's PIN: device status (the `ibc doctor` checks), server and
sync state, the offline queue with its conflicts, the term's key figures, and the only way out of
the fullscreen kiosk."""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from kiosk.i18n import N_, _

if TYPE_CHECKING:
    from kiosk.services import ServiceInfo
    from kiosk.terminal.monitor import ConnectionState

MAX_ATTEMPTS = 5
SECTIONS = ("server", "devices", "figures")
FIGURES = (
    ("titles", N_("Titles")), ("copies", N_("Copies")), ("readers", N_("Readers")),
    ("active_readers", N_("Readers who borrowed")), ("visits", N_("Visits")),
    ("loans", N_("Loans")), ("returns", N_("Returns")), ("renewals", N_("Renewals")),
    ("on_loan", N_("On loan now")), ("overdue", N_("Overdue now")),
    ("searches", N_("Searches")), ("zero_searches", N_("Searches with no results")),
    ("plays", N_("Media plays")),
)
STATUS = {"OK": N_("working"), "WARN": N_("warning"), "FAIL": N_("fault")}
OPERATIONS = {"checkout": N_("Checkout"), "checkin": N_("Return"), "return": N_("Return"),
              "renew": N_("Renewal")}


def refusal_text(code: str) -> str:
    """A circulation refusal code in the library's own words (its gettext catalogue)."""
    from collections import defaultdict

    from kiosk.i18n import language
    from library.circulation import errors as E
    from library.i18n import translator

    cls = E.ERRORS.get(code)
    if cls is None:
        return _("refused")
    text = translator(language())(cls.template)
    return text.format_map(defaultdict(str)).replace(" «»", "").strip(" :")


def pin_matches(entered: str, expected: str) -> bool:
    """Compare a PIN with a plain one or with ``sha256:<hex>`` in constant time."""
    if not expected:
        return False
    if expected.startswith("sha256:"):
        digest = hashlib.sha256(entered.encode()).hexdigest()
        return hmac.compare_digest(digest, expected[7:].strip().lower())
    return hmac.compare_digest(entered, expected.strip())


class ServicePresenter:
    """PIN entry, then the service sections."""

    def __init__(self, pin: str | None, info: ServiceInfo | None = None):
        from kiosk.services import ServiceInfo

        self.pin = pin or ""
        self.info = info or ServiceInfo()
        self.reset()

    def reset(self) -> None:
        """Lock again."""
        self.entered = ""
        self.unlocked = False
        self.failures = 0
        self.message = ""
        self.section = "server"
        self.checks: list[tuple[str, str, str]] | None = None
        self.checking = False
        self.figures: dict | None = None
        self.figures_error = ""
        self.details = False  # «Подробнее»: raw codes and error texts beside the plain words

    def toggle_details(self) -> None:
        """«Подробнее» / «Короче»."""
        self.details = not self.details

    # --- sections -------------------------------------------------------------------------------
    def show(self, section: str) -> None:
        """Switch the right-hand panel; key figures are loaded when first shown."""
        if not self.unlocked or section not in SECTIONS:
            return
        self.section = section
        if section == "figures" and self.figures is None:
            self.load_figures()

    def load_figures(self) -> None:
        """library.reports.key_figures of the current term (a few aggregate queries)."""
        if self.info.figures is None:
            self.figures_error = _("Key figures are on the librarian's station (no database "
                                   "on this terminal).")
            return
        try:
            self.figures = self.info.figures()
            self.figures_error = ""
        except Exception as exc:  # noqa: BLE001 - shown, not raised: service mode must stay usable
            self.figures_error = _("Could not compute the figures: {err}").format(err=exc)

    def start_checks(self) -> bool:
        """Begin the device checks (the screen runs `run_checks` on a thread)."""
        if self.checking or self.info.checks is None:
            return False
        self.checking = True
        return True

    def run_checks(self) -> list[tuple[str, str, str]]:
        """The doctor's checks (blocking: seconds; call from a worker thread)."""
        checks = self.info.checks
        if checks is None:  # start_checks() refuses to start then
            return []
        return checks()

    def checks_done(self, results: list[tuple[str, str, str]]) -> None:
        """Results are back on the UI thread."""
        self.checks, self.checking = results, False

    def rows(self, connection: ConnectionState | None = None) -> list[tuple[str, str, bool]]:
        """(label, value, ok) of the shown section."""
        if self.section == "devices":
            if self.checking:
                return [(_("Devices"), _("Checking…"), True)]
            if self.info.checks is None:
                return [(_("Devices"), _("Device checks are not available here."), True)]
            if self.checks is None:
                return [(_("Devices"), _("Press “Check devices”."), True)]
            return [(name, f"{_(STATUS.get(status, status))} — {detail}", status == "OK")
                    for name, status, detail in self.checks]
        if self.section == "figures":
            if self.figures_error or self.figures is None:
                return [(_("Key figures"), self.figures_error or _("Loading…"), not self.figures_error)]
            rows = [(_("Period"), str(self.figures.get("period", "")), True)]
            rows += [(_(label), str(self.figures.get(key, 0)), key != "overdue"
                      or not self.figures.get(key)) for key, label in FIGURES]
            return rows
        from kiosk.presenters.connection import status_lines

        rows = status_lines(connection, self.details)
        for c in (self.info.conflicts() if self.info.conflicts else [])[:8]:
            code = str(c.get("code") or c.get("result") or "")
            op = _(OPERATIONS.get(str(c.get("op", "")), N_("Operation")))
            text = f"{op} {c.get('barcode', '')}: {refusal_text(code)}"
            rows.append((_("Conflict"), f"{text} ({code})" if self.details and code else text,
                         False))
        return rows

    def press(self, key: str) -> None:
        """A key of the PIN pad: a digit, 'back' or 'ok'."""
        if key == "back":
            self.entered = self.entered[:-1]
        elif key == "ok":
            self._check()
        elif key.isdigit() and len(self.entered) < 12:
            self.entered += key

    def _check(self) -> None:
        if not self.pin:
            self.message = _("Service mode is not configured on this terminal.")
        elif self.failures >= MAX_ATTEMPTS:
            self.message = _("Too many attempts.")
        elif pin_matches(self.entered, self.pin):
            self.unlocked = True
            self.message = ""
        else:
            self.failures += 1
            self.message = _("Wrong PIN.")
        self.entered = ""

    @property
    def masked(self) -> str:
        """Dots instead of digits."""
        return "•" * len(self.entered)
