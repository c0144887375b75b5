"""Who may find which documents: media access levels in the index and the searcher's audience.

Every search_docs row carries ``access``: 0 open (books, media for everyone), 1 on-site only
(found by everyone, never downloadable), 2 teachers only (and unknown levels: fail closed).
Pupils and anonymous callers never see level 2; teachers and staff see everything.
"""

from __future__ import annotations

OPEN, ONSITE, TEACHERS = 0, 1, 2
LEVEL_NAMES = {OPEN: "everyone", ONSITE: "onsite", TEACHERS: "teachers"}
_LEVELS = {"everyone": OPEN, "onsite": ONSITE}
TRUSTED = frozenset({"teacher", "staff", "librarian", "admin"})
AUDIENCES = ("pupil", "teacher", "staff")


def level_of(media_access: str | None) -> int:
    """The index level of a MediaItem.access value; unknown or missing → teachers only."""
    return _LEVELS.get(media_access or "", TEACHERS)


def sees_teachers_only(audience: str | None) -> bool:
    """True for teachers and staff; pupils, anonymous (None) and unknown audiences → False."""
    return audience in TRUSTED
