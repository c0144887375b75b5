"""The terminal side of the kiosk: the school server's HTTP API client, circulation over HTTP
with the offline queue, the catalogue replica. The kiosk talks to the server only through here,
over HTTP; nothing here imports server/."""

from kiosk.terminal.api import ApiClient, ApiRefused, ServerUnreachable

__all__ = ["ApiClient", "ApiRefused", "ServerUnreachable"]
