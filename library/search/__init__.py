"""Catalogue search: stemming, as-you-type prefixes, wrong layout, typos, facets; SQLite FTS5
and PostgreSQL behind one pipeline. See docs/SEARCH.md.

    search(session, query, limit=20, offset=0, facets=False, filters=None, audience=None)
                                              audience "teacher"/"staff" also finds
                                              teachers-only media; None → pupil level
    index_records(session, record_ids)        call inside the import/edit transaction
    index_copies_changed(session, record_ids) after copy status changes (availability)
    index_access_changed(session, record_ids) after MediaItem.access changes
    reindex_all(session)                      rebuild everything (`ibc reindex`)
    record_search_event(session, query, total, terminal=None)
"""

from __future__ import annotations

from library.search.engine import search
from library.search.events import record_search_event
from library.search.indexer import index_access_changed, index_copies_changed, index_records, reindex_all
from library.search.result import Hit, SearchResult

__all__ = [
    "Hit",
    "SearchResult",
    "index_access_changed",
    "index_copies_changed",
    "index_records",
    "record_search_event",
    "reindex_all",
    "search",
]
