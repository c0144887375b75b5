"""What every subcommand gets: validated settings and a lazily opened database."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from config.settings import Settings, SettingsError, load_settings
from library.errors import IbcError

if TYPE_CHECKING:  # the database (SQLAlchemy) is opened on first use only
    from library.storage.database import Database


class ContextError(IbcError):
    """Start-up cannot go on (bad settings, unreachable database); the message says why."""

    code = "context"


class Context:
    """Settings plus lazily created shared resources for one `ibc` invocation."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._db: Database | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Context:
        """Build from parsed command-line arguments (--config, --db)."""
        overrides: dict[str, Any] = {}
        if getattr(args, "db", None):
            overrides["database"] = {"url": args.db}
        try:
            settings = load_settings(getattr(args, "config", None), overrides=overrides)
        except SettingsError as exc:
            raise ContextError(f"settings: {exc}") from None
        return cls(settings)

    @property
    def db(self) -> Database:
        """The database, opened and migrated on first use."""
        return self.open_db()

    def open_db(self, *, migrate: bool = True) -> Database:
        """The database, opened on first use: migrated unless `migrate` is False (`ibc serve`
        decides first whether it may write, server/readonly.py); later calls return it."""
        if self._db is None:
            from library.errors import StorageError
            from library.storage.database import open_database

            try:
                self._db = open_database(
                    self.settings.database.url,
                    data_dir=self.settings.data_dir or None,
                    echo=self.settings.database.echo,
                    migrate=migrate,
                )
            except StorageError as exc:
                raise ContextError(str(exc)) from None
        return self._db

    def close(self) -> None:
        """Release resources."""
        if self._db is not None:
            self._db.dispose()
            self._db = None
