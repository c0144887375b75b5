"""The terminal's connection to the school server, as the offline banner and service mode say it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from kiosk.terminal.monitor import ConnectionState

# What a transport error means, in words a librarian can act on; the raw text is behind
# «Подробнее». First match wins.
PLAIN_ERRORS = (
    (("errno 113", "no route to host", "network is unreachable", "errno 101"),
     N_("the server's computer cannot be reached on the network")),
    (("errno 111", "connection refused"),
     N_("the server's computer answers, but the library program on it is not running")),
    (("timed out", "timeout"), N_("the server did not answer in time")),
    (("name or service not known", "errno -2", "errno -3", "getaddrinfo", "nodename"),
     N_("the server's name is not found on the network")),
    (("401", "403", "unauthorized", "forbidden", "revoked", "not enrolled"),
     N_("the server does not know this terminal: join it again (ibc terminals join)")),
    (("ssl", "certificate"), N_("the secure connection to the server failed")),
)


# Errors the terminal names itself (kiosk/terminal/api.py), by code: they ask for a person.
PLAIN_CODES = {
    "server_certificate_changed":
        N_("the server's certificate is not the one this terminal was joined with: nothing was "
           "sent. If the certificate was replaced on purpose, join the terminal again "
           "(ibc terminals join); otherwise tell the administrator"),
    "server_not_tls":
        N_("the server answers without encryption, and this terminal was joined over TLS: "
           "nothing was sent; tell the administrator"),
}


def plain_error(raw: str | None, code: str = "") -> str:
    """A transport error in plain words ('' for none); a known error `code` wins."""
    if code in PLAIN_CODES:
        return _(PLAIN_CODES[code])
    if not raw:
        return ""
    low = raw.lower()
    for needles, text in PLAIN_ERRORS:
        if any(n in low for n in needles):
            return _(text)
    return _("the connection to the server failed")


def banner(state: ConnectionState | None) -> str:
    """The strip under the header while the server is unreachable ('' when online)."""
    if state is None or state.online is not False:
        return ""
    if state.policy == "seen_cards":
        return _("No connection to the server — books can be returned, and taken with a card "
                 "already used here")
    if state.policy == "return_only":
        return _("No connection to the server — books can be returned")
    return _("No connection to the server — please ask the librarian")


def status_lines(state: ConnectionState | None,
                 details: bool = False) -> list[tuple[str, str, bool]]:
    """(label, value, ok) rows for service mode; ``details`` adds the raw error text."""
    if state is None:
        return [(_("Server"), _("not used: local database"), True)]
    if state.online is None:
        conn = _("not checked yet")
    elif state.online:
        conn = _("connected")
    else:
        conn = _("no connection")
    rows = [(_("Server"), f"{state.url or _('searching (zeroconf)')} — {conn}", bool(state.online))]
    if state.syncing:
        synced = _("loading: {n} records so far").format(n=state.records)
    else:
        synced = state.last_sync.strftime("%d.%m %H:%M:%S") if state.last_sync else _("never")
    if not getattr(state, "replica_ready", True):
        synced += "; " + _("searches go through the server until the catalogue is here")
    rows.append((_("Catalogue sync"), synced,
                 state.last_sync is not None or getattr(state, "syncing", False)))
    rows.append((_("Offline queue"), ngettext("{n} operation waiting", "{n} operations waiting",
                                              state.pending).format(n=state.pending),
                 state.pending == 0))
    rows.append((_("Conflicts"), str(state.conflicts), state.conflicts == 0))
    if state.error:
        text = plain_error(state.error, getattr(state, "error_code", ""))
        rows.append((_("Last error"), f"{text} ({state.error})" if details else text, False))
    return rows
