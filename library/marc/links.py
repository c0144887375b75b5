"""Record keys across schools: which record each key of an import batch goes to (the union merge).

`plan_batch` runs at the start of a batch written by `ibc import` (writer.py, ``union=True``);
every school's record key has a row in ``record_keys`` (key, sigla of the importing school →
record, union key, owner). For each record of the batch, imported by school S with key K:

1. a row (K, S) exists: a re-import; the record is updated in place, its fields only when the
   row is the record's owner (the first importer: its imports write the bibliographic fields;
   the schools merged into it bring only their copies);
2. a record has K as its own key but no school's row names K (imported before
   0020_union_keys, or written by the ИРБИС sync): S claims it as owner, as today's re-import;
3. else the record joins an existing record, tried in this order: the record another school's
   row with the same key K points at (or whose own key is K), then the records whose union key
   (union.py) is the same. A candidate is taken only when no key of S points at it yet (a
   school's own records are never merged with each other: its catalogue said they differ);
   a union-key candidate also only when it is not deleted and holds no copy of a sigla this
   record brings (the copy merge per (record, sigla) would otherwise replace another
   record's copies). A same-key candidate holding such copies is taken all the same: one key
   is one record, and copies of one sigla under one key are the same copies (the same file
   imported again under another --school updates them in place, as before the union). The
   merge is reported;
4. else a new record, owned by K.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, insert, select, update

from library.marc.rows import C_SIGLA, COPIES, KEY, UNION
from library.storage.models import Copy, Record, RecordKey, table_of

if TYPE_CHECKING:
    from library.marc.writer import Item, _Out

RK = table_of(RecordKey)
R = table_of(Record)
C = table_of(Copy)
_ROWS_BY_KEY = (select(RK.c.key, RK.c.sigla, RK.c.record_id, RK.c.owner, RK.c.union_key)
                .where(RK.c.key.in_(bindparam("keys", expanding=True))))
_BY_UNION = (select(RK.c.union_key, RK.c.record_id)
             .where(RK.c.union_key.in_(bindparam("ukeys", expanding=True))))
_SIGLAS_OF = (select(RK.c.record_id, RK.c.sigla)
              .where(RK.c.record_id.in_(bindparam("rids", expanding=True))))
_COPY_SIGLAS = (select(C.c.record_id, C.c.sigla)
                .where(C.c.record_id.in_(bindparam("rids", expanding=True))).distinct())
_DELETED = select(R.c.id, R.c.deleted).where(R.c.id.in_(bindparam("rids", expanding=True)))
_COLS = ("key", "sigla", "record_id", "union_key", "owner")


@dataclass
class Merge:
    """A record of the batch that joined an existing record of other schools."""

    item: Item
    record_id: int
    union_key: str | None
    schools: list[str]


@dataclass
class Plan:
    """Where the batch's keys go (module docstring)."""

    found: dict[str, int] = field(default_factory=dict)  # key → existing record id
    fields: set[str] = field(default_factory=set)  # keys of `found` whose fields are written
    rows: list[tuple] = field(default_factory=list)  # record_keys rows to insert (_COLS)
    changed: list[tuple[str | None, str]] = field(default_factory=list)  # (union key, key)
    merges: list[Merge] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)  # new records whose key names another record


def school_of(sigla: str) -> str:
    """The sigla as stored in record_keys and copies (32 characters)."""
    return sigla[:32]


def record_key_for(key: str, sigla: str, taken: set[str]) -> str:
    """The records.key of a new record: its key, or "<key>@<sigla>" when another record of
    another school already has that key (and could not take this school's copies)."""
    if key not in taken:
        return key
    alt = f"{key}@{sigla}"
    if len(alt) > 255:
        alt = key[:200] + "#" + hashlib.sha1(alt.encode()).hexdigest()
    return alt


def plan_batch(w: _Out, items: list[Item], sigla: str,  # noqa: C901
               existing: dict[str, int]) -> Plan:
    """Decide for each item of a batch (keys unique in it) which record it goes to.

    `existing` maps the batch's keys that are some record's own key (records.key) to it."""
    school = school_of(sigla)
    plan = Plan()
    mine: dict[str, tuple[int, bool, str | None]] = {}
    others: dict[str, int] = {}
    for k, s, rid, owner, uk in w.select_in(_ROWS_BY_KEY, "keys", [it.rec[KEY] for it in items]):
        if s == school:
            mine[k] = (int(rid), bool(owner), uk)
        else:
            others.setdefault(k, int(rid))
    claimed: dict[int, set[str]] = {}
    pending: list[Item] = []
    for it in items:
        k, u = it.rec[KEY], it.rec[UNION]
        if k in mine:
            rid, owner, uk = mine[k]
            plan.found[k] = rid
            if owner:
                plan.fields.add(k)
            if uk != u:
                plan.changed.append((u, k))
        elif k in existing and k not in others:
            rid = existing[k]
            plan.found[k] = rid
            plan.fields.add(k)
            plan.rows.append((k, school, rid, u, True))
        else:
            pending.append(it)
            continue
        claimed.setdefault(plan.found[k], set()).add(school)
    if not pending:
        return plan
    by_union: dict[str, list[int]] = {}
    ukeys = sorted({it.rec[UNION] for it in pending if it.rec[UNION]})
    if ukeys:
        for u, rid in w.select_in(_BY_UNION, "ukeys", ukeys):
            by_union.setdefault(u, []).append(int(rid))
    candidates: dict[str, list[int]] = {}
    same_key: dict[str, set[int]] = {}
    for it in pending:
        k = it.rec[KEY]
        found = [others[k]] if k in others else []
        if k in existing and existing[k] not in found:
            found.append(existing[k])
        same_key[k] = set(found)
        found.extend(sorted(set(by_union.get(it.rec[UNION], ())) - set(found)))
        candidates[k] = found
    every = sorted({rid for c in candidates.values() for rid in c})
    schools: dict[int, set[str]] = {}
    held: dict[int, set[str]] = {}
    dead: set[int] = set()
    if every:
        for rid, s in w.select_in(_SIGLAS_OF, "rids", every):
            schools.setdefault(int(rid), set()).add(s)
        for rid, s in w.select_in(_COPY_SIGLAS, "rids", every):
            held.setdefault(int(rid), set()).add(s)
        dead = {int(rid) for rid, deleted in w.select_in(_DELETED, "rids", every) if deleted}
    for it in pending:
        k, u = it.rec[KEY], it.rec[UNION]
        brings = {school_of(c[C_SIGLA] or sigla) for c in it.rec[COPIES]} | {school}
        for rid in candidates[k]:
            keyed = schools.get(rid, set())
            taken_here = claimed.get(rid, set())
            if school in keyed or school in taken_here:
                continue
            there = keyed | held.get(rid, set())
            if rid not in same_key[k] and (rid in dead or brings & (there | taken_here)):
                continue
            plan.found[k] = rid
            plan.rows.append((k, school, rid, u, False))
            plan.merges.append(Merge(it, rid, u, sorted(there - {school})))
            claimed.setdefault(rid, set()).update(brings)
            break
        else:
            if k in existing:
                plan.taken.add(k)
    return plan


def write_rows(w: _Out, rows: list[tuple], changed: list[tuple[str | None, str]],
               sigla: str) -> None:
    """Insert the batch's new record_keys rows and store changed union keys."""
    if rows:
        if w.sqlite:
            w.conn.exec_driver_sql(
                f"INSERT INTO {RK.name} ({', '.join(_COLS)}) VALUES (?, ?, ?, ?, ?)",
                [(k, s, rid, u, 1 if owner else 0) for k, s, rid, u, owner in rows])
        else:
            w.session.execute(insert(RK), [dict(zip(_COLS, r)) for r in rows])
    if changed:
        w.session.execute(
            update(RK).where(RK.c.key == bindparam("_key"), RK.c.sigla == school_of(sigla))
            .values(union_key=bindparam("_union")),
            [{"_key": k, "_union": u} for u, k in changed])
