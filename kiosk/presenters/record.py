"""The record screen's state: details, a summary of the copies, where to find the book (the
librarian's plain places, with the shelf on the room's plan) and how to take it.

A class set of 30 textbooks is one line per place and status («Шкаф учебников · на полке 27»),
never 30 rows: the summary comes first, the groups after it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.i18n import N_, _, ngettext
from kiosk.presenters.messages import day_month
from kiosk.services import CopyView, RecordView
from library.places import PlaceView

STATUS = {
    "available": N_("On the shelf"),
    "on_loan": N_("On loan"),
    "not_for_loan": N_("Reading room only"),
    "reserved": N_("Reserved"),
    "ordered": N_("Ordered"),
    "in_process": N_("Being processed"),
    "bindery": N_("Being repaired"),
    "lost": N_("Lost"),
    "written_off": N_("Written off"),
}
# Copies a pupil will never see on a shelf are not counted in "N of M".
GONE = ("lost", "written_off")
ORDER = ("available", "not_for_loan", "on_loan", "reserved", "in_process", "bindery", "ordered")


@dataclass(frozen=True)
class CopyGroup:
    """Copies of one place and status: «Шкаф учебников» · «На полке» · 27."""

    place: str
    status: str
    count: int
    available: bool
    detail: str = ""  # the shelf mark, or when the first copy comes back


@dataclass(frozen=True)
class PlanPlace:
    """One place drawn on the room plan; ``target`` is where this book is."""

    name: str
    box: tuple[float, float, float, float]
    target: bool


def _status_key(c: CopyView) -> int:
    return ORDER.index(c.status) if c.status in ORDER else len(ORDER)


class RecordPresenter:
    """Shows one `RecordView`; ``room`` gives the places of a room to draw the plan."""

    def __init__(self, record: RecordView,
                 room: Callable[[str | None], list[PlaceView]] | None = None):
        self.record = record
        self._room = room

    @property
    def title(self) -> str:
        """Title with subtitle."""
        r = self.record
        return f"{r.title}: {r.subtitle}" if r.subtitle else r.title

    @property
    def authors(self) -> str:
        """Authors on one line."""
        return ", ".join(self.record.authors)

    @property
    def facts(self) -> list[tuple[str, str]]:
        """(label, value) pairs that exist."""
        r = self.record
        pairs = [
            (_("Year"), str(r.year) if r.year else ""),
            (_("Publisher"), ", ".join(x for x in (r.place, r.publisher) if x)),
            (_("Pages"), str(r.pages) if r.pages else ""),
            (_("Age"), r.age_rating or ""),
            (_("BBK"), r.bbk or ""),
            (_("ISBN"), r.isbn or ""),
        ]
        return [(k, v) for k, v in pairs if v]

    @property
    def annotation(self) -> str:
        """The annotation or a placeholder."""
        return self.record.annotation or _("No description yet.")

    # --- copies -------------------------------------------------------------------------------
    @property
    def shown_copies(self) -> list[CopyView]:
        """Copies a reader can meet (lost and written-off ones are left out)."""
        return [c for c in self.record.copies if c.status not in GONE]

    @property
    def available(self) -> int:
        """How many copies are on the shelf."""
        return sum(c.status == "available" for c in self.record.copies)

    @property
    def place(self) -> PlaceView | None:
        """Where to go: the place of an available copy, else of any copy."""
        copies = sorted(self.shown_copies, key=_status_key)
        return next((c.place for c in copies if c.place is not None), None)

    def _place_name(self, c: CopyView) -> str:
        if c.place is not None:
            return c.place.name
        return c.shelf_mark or c.barcode

    @property
    def summary(self) -> str:
        """«На полке 27 из 30 · Шкаф учебников», or when the first copy comes back."""
        copies = self.shown_copies
        if not copies and self.can_request:
            return _("Only other schools have this book")
        if not copies:
            return _("The library has no copies of this book.")
        total, free = len(copies), self.available
        place = self.place
        if free:
            text = _("On the shelf: {n} of {total}").format(n=free, total=total)
            return f"{text} · {place.name}" if place else text
        if any(c.status == "not_for_loan" for c in copies):
            text = _("Reading room only")
            return f"{text} · {place.name}" if place else text
        due = self.first_due
        if due:
            if total == 1:
                return _("The only copy is out · due back {date}").format(date=day_month(due))
            return ngettext("All {total} copies are out · the first is due back {date}",
                            "All {total} copies are out · the first is due back {date}",
                            total).format(total=total, date=day_month(due))
        return _("All copies are out")

    @property
    def first_due(self) -> dt.date | None:
        """When the first copy on loan is due back."""
        dues = [c.due_date for c in self.record.copies if c.status == "on_loan" and c.due_date]
        return min(dues) if dues else None

    @property
    def groups(self) -> list[CopyGroup]:
        """Copies grouped by place and status, available first."""
        counts: Counter[tuple[int, str, str]] = Counter()
        marks: dict[tuple[int, str, str], set[str]] = {}
        dues: dict[tuple[int, str, str], dt.date] = {}
        for c in self.shown_copies:
            key = (_status_key(c), self._place_name(c), c.status)
            counts[key] += 1
            if c.shelf_mark:
                marks.setdefault(key, set()).add(c.shelf_mark)
            if c.due_date and (key not in dues or c.due_date < dues[key]):
                dues[key] = c.due_date
        one_place = len({k[1] for k in counts}) == 1
        out = []
        for key in sorted(counts):
            _rank, place, status = key
            if status == "on_loan" and key in dues:
                detail = _("the first is due back {date}").format(date=day_month(dues[key]))
            else:
                found = sorted(marks.get(key, ()))
                detail = (_("shelf mark {mark}").format(mark=found[0])
                          if len(found) == 1 and found[0] != place else "")
            # One place for every copy: the summary already names it.
            shown = "" if one_place and self.place is not None else place
            out.append(CopyGroup(shown, _(STATUS.get(status, N_("Unavailable"))),
                                 counts[key], status == "available", detail))
        return out

    # --- the city's schools ----------------------------------------------------------------------
    @property
    def schools(self) -> list[str]:
        """Who else in the city holds the book (a union catalogue, docs/SCHOOLS.md): «В нашей
        школе: 2 на полке», «В других школах: Гимназия № 5 — 1 на полке»; [] when no other
        school has a copy (a single school sees nothing new)."""
        others = [h for h in self.record.schools if not h.own and h.total]
        if not others:
            return []
        own = next((h for h in self.record.schools if h.own), None)
        if self.can_request:  # the summary says it already: only who has it
            return [_("In other schools: {list}").format(list="; ".join(
                (_("{school} — {n} on the shelf") if h.available else _("{school} — all out"))
                .format(school=h.name or h.sigla, n=h.available) for h in others))]
        if own is None or not own.total:
            ours = _("Our school has no copy of this book")
        elif own.available:
            ours = _("In our school: {n} on the shelf").format(n=own.available)
        else:
            ours = _("In our school: all copies are out")
        parts = [(_("{school} — {n} on the shelf") if h.available else _("{school} — all out"))
                 .format(school=h.name or h.sigla, n=h.available) for h in others]
        return [ours, _("In other schools: {list}").format(list="; ".join(parts))]

    # --- where --------------------------------------------------------------------------------
    @property
    def where(self) -> str:
        """The place in plain words, else the shelf mark and the section."""
        place = self.place
        if place is not None:
            return place.label
        copies = sorted(self.shown_copies, key=_status_key)
        if not copies:
            return ""
        first = copies[0]
        text = _("Shelf mark: {mark}").format(mark=first.shelf_mark or "—")
        if first.collection:
            text += "\n" + _("Section: “{name}”").format(name=first.collection)
        return text

    @property
    def room_name(self) -> str:
        """The room of the place («Абонемент»), if the librarian gave one."""
        place = self.place
        return place.room or "" if place else ""

    @property
    def plan(self) -> list[PlanPlace]:
        """The places of the book's room, with the book's place as the target ([] = no plan)."""
        place = self.place
        if place is None or place.box is None or self._room is None:
            return []
        out = []
        for p in self._room(place.room):
            if p.box is not None:
                out.append(PlanPlace(p.name, p.box, p.id == place.id))
        return out if any(p.target for p in out) else []

    @property
    def how_to_take(self) -> str:
        """The hint on how to get the book."""
        if self.available:
            return _("Take the book from the shelf, then press “Check out a book” on the main "
                     "screen and show your card.")
        if any(c.status == "not_for_loan" for c in self.record.copies):
            return _("This book can be read in the reading room. Ask the librarian.")
        if self.can_queue:
            return _("All copies are out. Press “Queue for it”: the first copy to come back "
                     "will wait for you.")
        if self.can_request:
            return _("Our school has no copy. Press “Ask another school”: the book will be "
                     "brought here for you.")
        return _("All copies are out. Ask the librarian to reserve it for you.")

    @property
    def can_queue(self) -> bool:
        """Offer «Встать в очередь»: no copy on the shelf, but one that will come back (the
        core's rules decide the rest when the reader presses it)."""
        from kiosk.presenters.holds import can_queue

        return can_queue([c.status for c in self.record.copies])

    @property
    def can_request(self) -> bool:
        """Offer «Попросить из другой школы» (docs/HOLDS.md «Pickup school …»): this terminal's
        school has no copy, another school has one (the same card + PIN gate and the same
        core call as «Встать в очередь»: the core makes it a request to that school)."""
        own = next((h for h in self.record.schools if h.own), None)
        elsewhere = any(h.total for h in self.record.schools if not h.own)
        return elsewhere and not self.record.copies and (own is None or not own.total)

    @property
    def hold_label(self) -> str:
        """The hold button's words: «Встать в очередь» or «Попросить из другой школы»."""
        return _("Ask another school") if self.can_request else _("Queue for it")
