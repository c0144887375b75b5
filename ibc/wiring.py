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
    """The CirculationService of the settings: local, or against ИРБИС64 by ``[circulation]
    backend`` (ils.irbis.circulation.circulation_service, the one place that chooses)."""
    from ils.irbis.circulation import circulation_service

    return circulation_service(ctx.db, ctx.settings, today=today or dt.date.today)
