"""The terminal's connection to the school server, as the offline banner and service mode say it."""

from __future__ import annotations

from kiosk.i18n import _, ngettext


def banner(state) -> str:  # noqa: ANN001 - kiosk.remote.ConnectionState or None
    """The strip under the header while the server is unreachable ('' when online)."""
    if state is None or state.online is not False:
        return ""
    if state.policy == "seen_cards":
        return _("No connection to the server — books can be returned, and taken with a card "
                 "already used here")
    if state.policy == "return_only":
        return _("No connection to the server — books can be returned")
    return _("No connection to the server — please ask the librarian")


def status_lines(state) -> list[tuple[str, str, bool]]:  # noqa: ANN001
    """(label, value, ok) rows for service mode."""
    if state is None:
        return [(_("Server"), _("not used: local database"), True)]
    if state.online is None:
        conn = _("not checked yet")
    elif state.online:
        conn = _("connected")
    else:
        conn = _("no connection")
    rows = [(_("Server"), f"{state.url or _('searching (zeroconf)')} — {conn}", bool(state.online))]
    synced = state.last_sync.strftime("%d.%m %H:%M:%S") if state.last_sync else _("never")
    rows.append((_("Catalogue sync"), synced, state.last_sync is not None))
    rows.append((_("Offline queue"), ngettext("{n} operation waiting", "{n} operations waiting",
                                              state.pending).format(n=state.pending),
                 state.pending == 0))
    rows.append((_("Conflicts"), str(state.conflicts), state.conflicts == 0))
    if state.error:
        rows.append((_("Last error"), state.error, False))
    return rows
