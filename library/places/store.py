"""The places tables: read them for PlaceMap, change them (each change bumps the counter
"places"), replace a school's places at once (import, replica), count copies per place and
say where one copy goes. Callers own the transaction (``db.transaction()``)."""

from __future__ import annotations

import enum
from collections import Counter as Tally
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from library.places.errors import PlaceExists, PlaceNotFound
from library.places.match import Match, PlaceMap, PlaceRow, PlaceView, RuleSpec, author_sign, fold
from library.places.spec import Box, PlaceSpec, clean_place, clean_rule, parse_box
from library.storage.models import Copy, Counter, Place, PlaceRule, Record

VERSION = "places"


class _Unset(enum.Enum):
    """The type of `_UNSET`: "not given" for `update_place`, where None is a value."""

    UNSET = enum.auto()


_UNSET: Final = _Unset.UNSET


# --- the version -------------------------------------------------------------------------------
_VERSION_SQL = select(Counter.__table__.c.value).where(Counter.__table__.c.name == VERSION)


def places_version(session: Session) -> int:
    """The counter "places" (0 before any change); a prebuilt Core statement on the session's
    connection, as it runs on every circulation call."""
    return int(session.connection().execute(_VERSION_SQL).scalar() or 0)


def bump_version(session: Session) -> int:
    """Add one to the counter "places" and return it."""
    value = session.execute(update(Counter).where(Counter.name == VERSION)
                            .values(value=Counter.value + 1).returning(Counter.value),
                            execution_options={"synchronize_session": False}).scalar()
    if value is None:
        session.execute(insert(Counter).values(name=VERSION, value=1))
        value = 1
    return int(value)


def set_version(session: Session, value: int) -> None:
    """Set the counter "places" (a replica takes the server's version)."""
    done = session.execute(update(Counter).where(Counter.name == VERSION).values(value=int(value))
                           .returning(Counter.name),
                           execution_options={"synchronize_session": False}).first()
    if done is None:
        session.execute(insert(Counter).values(name=VERSION, value=int(value)))


# --- reading -----------------------------------------------------------------------------------
def _view(p: Place) -> PlaceView:
    box = (p.box_x, p.box_y, p.box_w, p.box_h)
    return PlaceView(p.id, p.name, p.note, p.room,
                     None if any(v is None for v in box) else box)  # type: ignore[arg-type]


def _rule_spec(r: PlaceRule) -> RuleSpec:
    letters = None
    if r.letter_from:
        letters = r.letter_from if r.letter_to in (None, r.letter_from) else \
            f"{r.letter_from}-{r.letter_to}"
    return RuleSpec(r.collection, r.shelf_prefix, r.bbk_prefix, letters, bool(r.fallback))


def load_rows(session: Session, sigla: str | None = None) -> list[PlaceRow]:
    """Every place (of one school) with its rules, in two queries."""
    q = select(Place)
    if sigla is not None:
        q = q.where(Place.sigla == sigla)
    places = list(session.scalars(q.order_by(Place.sort, Place.id)))
    rules: dict[int, list[tuple[int, RuleSpec]]] = {}
    if places:
        rq = select(PlaceRule).order_by(PlaceRule.id)
        if sigla is not None:
            rq = rq.join(Place, PlaceRule.place_id == Place.id).where(Place.sigla == sigla)
        for r in session.scalars(rq):
            rules.setdefault(r.place_id, []).append((r.id, _rule_spec(r)))
    return [PlaceRow(_view(p), p.sigla, p.sort, tuple(rules.get(p.id, ()))) for p in places]


def export_specs(session: Session, sigla: str) -> list[PlaceSpec]:
    """The school's places as specs, in order (for the TOML file)."""
    return [PlaceSpec(r.view.name, r.view.note, r.view.room, r.view.box, r.sort,
                      tuple(spec for _id, spec in r.rules)) for r in load_rows(session, sigla)]


def find_place(session: Session, sigla: str, ident: str) -> Place:
    """A place by name (case and ё folded) or by number; PlaceNotFound otherwise."""
    want = fold(ident or "")
    places = list(session.scalars(select(Place).where(Place.sigla == sigla)))
    for p in places:
        if fold(p.name) == want:
            return p
    digits = (ident or "").strip().lstrip("#")
    if digits.isdigit():
        for p in places:
            if p.id == int(digits):
                return p
    raise PlaceNotFound(name=ident)


# --- changing ----------------------------------------------------------------------------------
def _box_columns(box: Box | None) -> dict[str, float | None]:
    x, y, w, h = box if box is not None else (None, None, None, None)
    return {"box_x": x, "box_y": y, "box_w": w, "box_h": h}


def _rule_columns(rule: RuleSpec) -> dict:
    first = last = None
    if rule.letters:
        first, _, last = rule.letters.partition("-")
        last = last or first
    return {"collection": rule.collection, "shelf_prefix": rule.shelf, "bbk_prefix": rule.bbk,
            "letter_from": first, "letter_to": last, "fallback": rule.fallback}


def add_place(session: Session, sigla: str, spec: PlaceSpec) -> Place:
    """Add one place with its rules (checked); PlaceExists when the name is taken."""
    spec = clean_place(spec)
    if any(fold(n) == fold(spec.name)
           for n in session.scalars(select(Place.name).where(Place.sigla == sigla))):
        raise PlaceExists(name=spec.name)
    sort = spec.sort
    if sort is None:
        sort = int(session.scalar(select(func.max(Place.sort)).where(Place.sigla == sigla)) or 0) + 10
    place = Place(sigla=sigla, name=spec.name, note=spec.note, room=spec.room, sort=sort,
                  **_box_columns(spec.box))
    place.rules = [PlaceRule(**_rule_columns(r)) for r in spec.rules]
    session.add(place)
    session.flush()
    bump_version(session)
    return place


def update_place(session: Session, sigla: str, ident: str, *, name: str | _Unset = _UNSET,
                 note: str | None | _Unset = _UNSET, room: str | None | _Unset = _UNSET,
                 box: Box | Sequence[float] | str | None | _Unset = _UNSET,
                 sort: int | None | _Unset = _UNSET) -> Place:
    """Change a place's name, note, room, box or sort order (only what is given). The box may
    also be given as text («0.05,0.1,0.2,0.08») or a list of four numbers, as `parse_box` reads."""
    place = find_place(session, sigla, ident)
    current = PlaceSpec(place.name, place.note, place.room, _view(place).box, place.sort)
    spec = clean_place(PlaceSpec(
        current.name if name is _UNSET else name, current.note if note is _UNSET else note,
        current.room if room is _UNSET else room, current.box if box is _UNSET else parse_box(box),
        current.sort if sort is _UNSET else sort))
    if fold(spec.name) != fold(place.name) and any(
            fold(n) == fold(spec.name)
            for n in session.scalars(select(Place.name).where(Place.sigla == sigla))):
        raise PlaceExists(name=spec.name)
    place.name, place.note, place.room = spec.name, spec.note, spec.room
    place.sort = spec.sort if spec.sort is not None else place.sort
    for key, value in _box_columns(spec.box).items():
        setattr(place, key, value)
    session.flush()
    bump_version(session)
    return place


def remove_place(session: Session, sigla: str, ident: str) -> str:
    """Remove a place and its rules; returns its name."""
    place = find_place(session, sigla, ident)
    name = place.name
    session.execute(delete(PlaceRule).where(PlaceRule.place_id == place.id))
    session.delete(place)
    session.flush()
    bump_version(session)
    return name


def add_rule(session: Session, sigla: str, ident: str, rule: RuleSpec) -> PlaceRule:
    """Add a rule to a place."""
    place = find_place(session, sigla, ident)
    row = PlaceRule(place_id=place.id, **_rule_columns(clean_rule(rule)))
    session.add(row)
    session.flush()
    bump_version(session)
    return row


def remove_rule(session: Session, sigla: str, ident: str, number: int) -> RuleSpec:
    """Remove the place's `number`-th rule (1-based, as `ibc places list` shows them)."""
    place = find_place(session, sigla, ident)
    rules = list(session.scalars(select(PlaceRule).where(PlaceRule.place_id == place.id)
                                 .order_by(PlaceRule.id)))
    if not 1 <= number <= len(rules):
        from library.places.errors import BadValue

        raise BadValue(key="rule", reason="must be a whole number")
    spec = _rule_spec(rules[number - 1])
    session.delete(rules[number - 1])
    session.flush()
    bump_version(session)
    return spec


def replace_places(session: Session, sigla: str, specs: Iterable[PlaceSpec]) -> int:
    """Replace every place of the school with `specs` (checked first; nothing is written when one
    is wrong) and bump the version. Returns the count."""
    checked = [clean_place(s) for s in specs]
    names = Tally(fold(s.name) for s in checked)
    dup = next((s.name for s in checked if names[fold(s.name)] > 1), None)
    if dup is not None:
        raise PlaceExists(name=dup)
    old = select(Place.id).where(Place.sigla == sigla)
    session.execute(delete(PlaceRule).where(PlaceRule.place_id.in_(old)))
    session.execute(delete(Place).where(Place.sigla == sigla))
    for n, spec in enumerate(checked, 1):
        place = Place(sigla=sigla, name=spec.name, note=spec.note, room=spec.room,
                      sort=spec.sort if spec.sort is not None else n * 10, **_box_columns(spec.box))
        place.rules = [PlaceRule(**_rule_columns(r)) for r in spec.rules]
        session.add(place)
    session.flush()
    bump_version(session)
    return len(checked)


def mirror_places(session: Session, rows: Iterable[tuple[int, str, PlaceSpec]], version: int) -> int:
    """A replica's copy of the server's places: every school's places replaced by `rows`
    (server id, sigla, spec; checked first) and the version set to the server's."""
    checked = [(int(pid), sigla, clean_place(spec)) for pid, sigla, spec in rows]
    session.execute(delete(PlaceRule))
    session.execute(delete(Place))
    for pid, sigla, spec in checked:
        place = Place(id=pid, sigla=sigla, name=spec.name, note=spec.note, room=spec.room,
                      sort=spec.sort or 0, **_box_columns(spec.box))
        place.rules = [PlaceRule(**_rule_columns(r)) for r in spec.rules]
        session.add(place)
    session.flush()
    set_version(session, version)
    return len(checked)


# --- questions ---------------------------------------------------------------------------------
def record_places(session: Session, places: PlaceMap, record_ids: Iterable[int]) -> dict[int, PlaceView]:
    """The place of each record for a result list: where its first copy on the shelf stands,
    else its first copy (written-off and lost copies left out); one query for the whole page.
    Records without a placed copy are missing from the answer."""
    ids = list(dict.fromkeys(record_ids))
    if not len(places) or not ids:
        return {}
    rows = session.execute(
        select(Copy.record_id, Copy.sigla, Copy.shelf_mark, Copy.collection, Copy.status,
               Record.bbk).join(Record, Copy.record_id == Record.id)
        .where(Copy.record_id.in_(ids), Copy.status.not_in(("written_off", "lost")))
        .order_by(Copy.record_id, Copy.id)).all()
    best: dict[int, tuple[bool, PlaceView]] = {}
    for rid, sigla, shelf, coll, status, bbk in rows:
        on_shelf = status == "available"
        if rid in best and (best[rid][0] or not on_shelf):
            continue
        view = places.resolve(shelf_mark=shelf, collection=coll, bbk=bbk, sigla=sigla)
        if view is not None:
            best[rid] = (on_shelf, view)
    return {rid: view for rid, (_on, view) in best.items()}



@dataclass
class Usage:
    """How many copies each place holds and what no rule matches."""

    per_place: dict[int, int] = field(default_factory=dict)
    unmatched: int = 0
    total: int = 0
    examples: list[dict] = field(default_factory=list)  # the biggest unmatched groups


def usage(session: Session, sigla: str | None, places: PlaceMap, *, examples: int = 10) -> Usage:
    """Count the copies (not written off) per place; copies with the same shelf mark,
    collection and ББК are resolved once."""
    q = (select(Copy.sigla, Copy.shelf_mark, Copy.collection, Record.bbk, func.count())
         .join(Record, Copy.record_id == Record.id)
         .where(Copy.status != "written_off", Record.deleted.is_(False))
         .group_by(Copy.sigla, Copy.shelf_mark, Copy.collection, Record.bbk))
    if sigla is not None:
        q = q.where(Copy.sigla == sigla)
    out = Usage(per_place={p.id: 0 for p in places})
    missing: list[tuple[int, str | None, str | None, str | None]] = []  # count, shelf, coll, bbk
    for copy_sigla, shelf, coll, bbk, n in session.execute(q):
        out.total += n
        place = places.resolve(shelf_mark=shelf, collection=coll, bbk=bbk, sigla=copy_sigla)
        if place is None:
            out.unmatched += n
            missing.append((int(n), shelf, coll, bbk))
        else:
            out.per_place[place.id] = out.per_place.get(place.id, 0) + n
    missing.sort(key=lambda m: (-m[0], m[1] or ""))
    out.examples = [{"count": n, "shelf_mark": shelf, "collection": coll, "bbk": bbk}
                    for n, shelf, coll, bbk in missing[:examples]]
    return out


@dataclass(frozen=True)
class Where:
    """Where one copy (or a shelf mark) goes."""

    code: str
    barcode: str | None
    title: str | None
    shelf_mark: str | None
    collection: str | None
    bbk: str | None
    sign: str | None
    match: Match | None

    def to_dict(self) -> dict:
        """JSON-ready."""
        m = self.match
        place = None if m is None else {
            "id": m.place.id, "name": m.place.name, "note": m.place.note, "room": m.place.room,
            "box": list(m.place.box) if m.place.box else None, "label": m.place.label,
            "rule": m.rule.to_dict(), "rule_text": m.rule.describe()}
        return {"code": self.code, "barcode": self.barcode, "title": self.title,
                "shelf_mark": self.shelf_mark, "collection": self.collection, "bbk": self.bbk,
                "author_sign": self.sign, "place": place}


def where(session: Session, code: str, places: PlaceMap, *, sigla: str | None = None,
          collection: str | None = None, bbk: str | None = None) -> Where:
    """The place of the copy with this barcode (RFID, inventory number); a code that is no copy
    is taken as a shelf mark (with `collection` and `bbk` when given)."""
    code = code.strip()
    q = (select(Copy.barcode, Copy.sigla, Copy.shelf_mark, Copy.collection, Record.title,
                Record.bbk).join(Record, Copy.record_id == Record.id)
         .where(or_(Copy.barcode == code, Copy.rfid == code, Copy.inventory_number == code)))
    if sigla is not None:
        q = q.where(Copy.sigla == sigla)
    row = session.execute(q.order_by((Copy.barcode == code).desc(), Copy.id).limit(1)).first()
    if row is None:
        m = places.match(shelf_mark=code, collection=collection, bbk=bbk, sigla=sigla)
        return Where(code, None, None, code, collection, bbk, author_sign(code, bbk), m)
    barcode, copy_sigla, shelf, coll, title, rbbk = row
    m = places.match(shelf_mark=shelf, collection=coll, bbk=rbbk, sigla=copy_sigla)
    return Where(code, barcode, title, shelf, coll, rbbk, author_sign(shelf, rbbk), m)
