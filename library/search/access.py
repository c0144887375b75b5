"""Media access levels in the index: who may find what is decided by library.access.

Every search_docs row carries ``access``: 0 open (books, media for everyone), 1 on-site only,
2 teachers only (and unknown levels: fail closed, library.access.level_of). The backends filter
with ``access < 2`` when the searcher may not see teachers-only media.
"""

from __future__ import annotations

from library.access import Level
from library.access import level_of as media_level

OPEN, ONSITE, TEACHERS = 0, 1, 2
LEVEL_NAMES = {OPEN: Level.EVERYONE.value, ONSITE: Level.ONSITE.value, TEACHERS: Level.TEACHERS.value}
_INDEX = {Level.EVERYONE: OPEN, Level.ONSITE: ONSITE, Level.TEACHERS: TEACHERS}


def level_of(media_access: str | None) -> int:
    """The index level of a MediaItem.access value; unknown or missing → teachers only."""
    return _INDEX[media_level(media_access)]
