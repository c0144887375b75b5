"""Terminal-side client of the school server: HTTP API client, discovery-aware base URL."""

from server.client.api import ApiClient, ApiRefused, ServerUnreachable

__all__ = ["ApiClient", "ApiRefused", "ServerUnreachable"]
