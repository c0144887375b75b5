"""Who may see, play and download which media: the one table (docs/MEDIA.md, «Кто что может»).

The audience comes from the reader category: "pupil", "teacher", "staff" (the categories of
readers, settings and imports; "librarian" and "admin" are staff too); no reader (None or "")
is anonymous, and any other category counts as a pupil. The level is ``MediaItem.access``:
"everyone", "teachers", "onsite"; an unknown or missing level is "teachers" (closed is safer).

Every front end asks `may` (or `permitted` in SQL): the media list and search, the media
station, the API's file download, the kiosk's media gate. Nothing else spells the rule out.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import QueryableAttribute


class Audience(StrEnum):
    """Who is asking."""

    ANONYMOUS = "anonymous"  # no reader session (a terminal alone, a search without audience)
    PUPIL = "pupil"
    TEACHER = "teacher"
    STAFF = "staff"


class Level(StrEnum):
    """A media item's access level (MediaItem.access)."""

    EVERYONE = "everyone"
    TEACHERS = "teachers"
    ONSITE = "onsite"  # in the ИБЦ only: seen and played there, never downloaded


class Action(StrEnum):
    """What may be done with an item."""

    SEE = "see"  # in lists and search results
    PLAY = "play"  # on the media station or the kiosk
    DOWNLOAD = "download"  # GET /media/{id}/file


_ALL = frozenset(Action)
_IN_LIBRARY = frozenset({Action.SEE, Action.PLAY})
_NOTHING: frozenset[Action] = frozenset()
_CHILD = {Level.EVERYONE: _ALL, Level.ONSITE: _IN_LIBRARY, Level.TEACHERS: _NOTHING}
_ADULT = {Level.EVERYONE: _ALL, Level.ONSITE: _IN_LIBRARY, Level.TEACHERS: _ALL}

# audience → level → the actions allowed. No session is never more than a pupil.
TABLE: Mapping[Audience, Mapping[Level, frozenset[Action]]] = {
    Audience.ANONYMOUS: _CHILD,
    Audience.PUPIL: _CHILD,
    Audience.TEACHER: _ADULT,
    Audience.STAFF: _ADULT,
}

_CATEGORIES = {"pupil": Audience.PUPIL, "teacher": Audience.TEACHER, "staff": Audience.STAFF,
               "librarian": Audience.STAFF, "admin": Audience.STAFF,
               "anonymous": Audience.ANONYMOUS}


def audience_of(category: str | None) -> Audience:
    """The audience of a reader category; None or "" → anonymous, unknown → pupil."""
    if not category:
        return Audience.ANONYMOUS
    return _CATEGORIES.get(category, Audience.PUPIL)


def level_of(access: str | None) -> Level:
    """The level of a MediaItem.access value; unknown or missing → teachers (fail closed)."""
    try:
        return Level(access or "")
    except ValueError:
        return Level.TEACHERS


def may(who: str | None, access: str | None, action: Action) -> bool:
    """True when a reader of category `who` may do `action` with an item of level `access`."""
    return action in TABLE[audience_of(who)][level_of(access)]


def runs_station(who: str | None) -> bool:
    """Whoever may play teachers-only items runs the media station and opens the teachers'
    media screen (the API's ``teachers_only`` refusal, the kiosk's card gate)."""
    return may(who, Level.TEACHERS, Action.PLAY)


def downloadable(access: str | None) -> bool:
    """The per-item flag shown next to an item: everyone who may see it may also download it."""
    return all(may(a, access, Action.DOWNLOAD) for a in Audience if may(a, access, Action.SEE))


def permitted(column: ColumnElement[str] | QueryableAttribute[str], who: str | None,
              action: Action) -> ColumnElement[bool]:
    """`may` as a SQL condition on an access column (unknown or NULL levels are "teachers")."""
    from sqlalchemy import or_, true

    allowed = [lv.value for lv in Level if may(who, lv, action)]
    if Level.TEACHERS not in allowed:
        return column.in_(allowed)
    refused = [lv.value for lv in Level if lv.value not in allowed]
    return or_(column.is_(None), column.not_in(refused)) if refused else true()
