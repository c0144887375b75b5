"""Composition helpers shared by subcommands: which back ends to plug into which core service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.context import Context
    from library.circulation.service import CirculationService


def search_indexer() -> Callable:
    """The search index updater to pass as `on_batch`."""
    from library.search.indexer import index_records

    return index_records


def circulation(ctx: Context, *, today: Callable[[], dt.date] | None = None) -> CirculationService:
    """The CirculationService of the settings (library.circulation.service.from_settings)."""
    from library.circulation.service import CirculationService

    return CirculationService.from_settings(ctx.db, ctx.settings.circulation,
                                            today=today or dt.date.today,
                                            holds_settings=ctx.settings.holds)
