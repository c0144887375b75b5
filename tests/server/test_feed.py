"""The change feed carries deletions (tombstones written by database triggers) to the terminals'
replicas, rows still at version 0, and a full resync for a replica older than the tombstones kept
(SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, func, select

from library.search import schema as ss
from library.storage.models import Copy, Counter, Record, Tombstone, utcnow


@pytest.fixture
def replica(api, enrol, tmp_path):
    """(Replica of the test server in a local SQLite, its db, the server's db)."""
    from kiosk.terminal import ApiClient
    from kiosk.terminal.replica import Replica
    from library.marc.writer import next_version
    from library.storage.database import open_database

    client, db = api
    with db.transaction() as s:  # the fixture stamps version 1 without moving the counter
        next_version(s)
    token = enrol("k1")["Authorization"].split()[1]
    local = open_database(f"sqlite:///{tmp_path / 'replica.sqlite3'}")
    api_client = ApiClient("http://testserver", token, transport=client._transport)
    try:
        yield Replica(local, api_client, page=4), local, db
    finally:
        api_client.close()
        local.dispose()


def _rows(db) -> tuple[set, set]:
    """(record keys, copy barcodes)."""
    with db.session() as s:
        return set(s.scalars(select(Record.key))), set(s.scalars(select(Copy.barcode)))


def _state(db) -> tuple[set, set, dict]:
    """(record keys, copy barcodes, {record key: (copies, available) in the search index});
    no search document of a record that is gone."""
    with db.session() as s:
        keys = set(s.scalars(select(Record.key)))
        barcodes = set(s.scalars(select(Copy.barcode)))
        docs = {k: (c, a) for k, c, a in s.execute(
            select(Record.key, ss.docs.c.copies, ss.docs.c.available)
            .join(ss.docs, ss.docs.c.record_id == Record.id))}
        orphans = s.scalar(select(func.count()).select_from(ss.docs).where(
            ss.docs.c.record_id.not_in(select(Record.id))))
        assert orphans == 0
    return keys, barcodes, docs


def test_a_deleted_record_and_copy_leave_the_replica(replica):
    rep, local, db = replica
    first = rep.sync()
    assert (first.copies, first.deleted) == (6, 0)  # records: parents come along with copies
    assert _state(local)[:2] == _rows(db)
    assert _state(local)[2]["war"] == (2, 2)

    with db.transaction() as s:  # Core, as the importer deletes copies no longer in the file
        s.execute(delete(Copy).where(Copy.barcode == "1002"))
    with db.transaction() as s:  # ORM, with its copies (cascade)
        s.delete(s.scalar(select(Record).where(Record.key == "anna")))
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Tombstone)) == 4  # 1002, anna, 3001, 3002

    report = rep.sync()
    assert report.deleted >= 2 and not report.resynced
    keys, barcodes, docs = _state(local)
    assert keys == {"war", "kid"} and barcodes == {"1001", "2001", "2002"}
    assert docs == {"war": (1, 1), "kid": (2, 2)}  # availability follows the deleted copy
    assert (keys, barcodes) == _rows(db)
    with local.session() as s:
        assert s.scalar(select(func.count()).select_from(Tombstone)) == 0  # a replica keeps none
    assert rep.sync().deleted == 0  # the cursor moved past the tombstones


def test_an_id_used_again_is_not_deleted_by_its_old_tombstone(replica):
    from library.marc.writer import next_version

    rep, local, db = replica
    rep.sync()
    with db.transaction() as s:
        top = s.scalar(select(func.max(Copy.id)))
        rid = s.scalar(select(Copy.record_id).where(Copy.id == top))
        s.execute(delete(Copy).where(Copy.id == top))
    with db.transaction() as s:  # SQLite gives the highest id again; PostgreSQL a new one
        s.add(Copy(record_id=rid, sigla="ИБЦ", barcode="9009", version=next_version(s)))
    rep.sync()
    assert _state(local)[:2] == _rows(db) and "9009" in _rows(db)[1]


def test_rows_at_version_zero_are_in_the_feed_from_the_start(api):
    from server.feed import changes

    _client, db = api
    with db.transaction() as s:
        s.add(Record(key="zero", title="Без версии", version=0))
    with db.session() as s:
        page = changes(s, 0, "", 100)
        assert "zero" in {r["key"] for r in page["records"]}
        assert page["next_since"] >= 1  # version 0 came first
        assert "zero" not in {r["key"] for r in changes(s, 1, "", 100)["records"]}


def test_pruned_tombstones_make_an_old_replica_resync(replica):
    from library.feed import missed_deletions
    from server.feed import PRUNED, changes, prune_tombstones

    rep, local, db = replica
    rep.sync()
    since, after = rep.cursor()
    with db.transaction() as s:
        s.execute(delete(Copy).where(Copy.barcode == "2002"))
    with db.transaction() as s:
        assert prune_tombstones(s) == 0  # fresh ones stay
        later = utcnow() + dt.timedelta(days=181)
        assert prune_tombstones(s, now=later) == 1
    with db.session() as s:
        horizon = s.get(Counter, PRUNED).value
        assert changes(s, since, after)["pruned"] == horizon > since
    assert missed_deletions(since, after, horizon)
    assert missed_deletions(horizon, "c1", horizon) and not missed_deletions(horizon, "", horizon)
    assert not missed_deletions(since, after, 0)
    report = rep.sync()
    assert report.resynced and report.copies == 5
    assert _state(local)[:2] == _rows(db) and "2002" not in _rows(db)[1]
    assert rep.sync().resynced is False
    with local.session() as s:
        assert s.get(Counter, "replica_full").value == 0  # the full pass caught up


def test_a_full_pass_is_not_an_old_cursor(replica):
    """A first sync in small pages steps through cursors older than the pruned tombstones."""
    from server.feed import prune_tombstones

    rep, local, db = replica
    with db.transaction() as s:
        s.execute(delete(Copy).where(Copy.barcode == "2002"))
    with db.transaction() as s:
        prune_tombstones(s, now=utcnow() + dt.timedelta(days=181))
    report = rep.sync()
    assert report.pages > 1 and not report.resynced
    assert _state(local)[:2] == _rows(db)
