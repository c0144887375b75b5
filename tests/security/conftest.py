"""The security tests reuse the server's fixtures: the small library, an app with enrolled
terminals (SQLite and PostgreSQL) and a real `ibc serve` process."""

from __future__ import annotations

from tests.server.conftest import api, enrol, serve, settings  # noqa: F401  (fixtures)
