"""Composition helpers shared by subcommands: which back ends to plug into which core service."""

from __future__ import annotations

from collections.abc import Callable


def search_indexer() -> Callable:
    """The search index updater to pass as `on_batch`."""
    from library.search.indexer import index_records

    return index_records


def circulation(ctx, *, today=None):  # noqa: ANN001, ANN201
    """The CirculationService of the settings (library.circulation.service.from_settings)."""
    import datetime as dt

    from library.circulation.service import CirculationService

    return CirculationService.from_settings(ctx.db, ctx.settings.circulation,
                                            today=today or dt.date.today)
