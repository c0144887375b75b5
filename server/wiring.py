"""Back ends the server plugs into the library core (search index upkeep when it exists)."""

from __future__ import annotations

from collections.abc import Callable


def copies_changed_hook() -> Callable | None:
    """Keeps search availability up to date after circulation changes."""
    try:
        from library.search.indexer import index_copies_changed
    except ImportError:
        return None
    return index_copies_changed
