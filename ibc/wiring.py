"""Composition helpers shared by subcommands: which back ends to plug into which core service."""

from __future__ import annotations

from collections.abc import Callable


def search_indexer() -> Callable | None:
    """The search index updater to pass as `on_batch`, or None before the search index exists."""
    try:
        from library.search.indexer import index_records
    except ImportError:
        return None
    return index_records


def copies_changed_hook() -> Callable | None:
    """Keeps search availability up to date after circulation changes."""
    try:
        from library.search.indexer import index_copies_changed
    except ImportError:
        return None
    return index_copies_changed


def circulation(ctx, *, today=None):  # noqa: ANN001, ANN201
    """A CirculationService built from the settings."""
    import datetime as dt

    from library.circulation.rules import Policy
    from library.circulation.service import CirculationService

    return CirculationService(
        ctx.db, Policy.from_settings(ctx.settings.circulation), sigla=None,
        today=today or dt.date.today, on_copies_changed=copies_changed_hook(),
    )
