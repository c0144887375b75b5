"""The catalogue sync from ИРБИС64 (ils/irbis/sync.py, `ibc irbis sync`) against the emulator on
loopback, on SQLite and PostgreSQL: a small ИРБИС catalogue made here (copies of two holdings)
and the real TEST1.ISO. First sync → searchable with the school's copies only; a record changed
in ИРБИС (version up) → only it is rewritten; deleted → gone here with a tombstone; new →
added; the server stopped mid-run → a clear error, the next run completes, nothing doubled;
the `[irbis]` settings and the CLI's exit codes."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import subprocess
import sys

import pytest
from irbis_fixtures import HOST, PASSWORD, USER
from sqlalchemy import func, select

from config.settings import load_settings
from ils.irbis import IrbisClient, IrbisRecord, IrbisUnavailable
from ils.irbis.emulator import IrbisEmulator, load_records
from ils.irbis.record import LOGICALLY_DELETED, PHYSICALLY_DELETED
from ils.irbis.sync import SyncInterrupted, last_run, sync_catalogue
from library.search.engine import search
from library.search.indexer import index_records
from library.storage.models import (
    Copy,
    Event,
    IrbisSyncRecord,
    Loan,
    Reader,
    Record,
    Tombstone,
)

SCHOOL = "ИБЦ"       # [school] sigla: the copies the kiosk shows
HOLDING = "ШБ"       # [irbis] sigla: the school's copies in ИРБИС (910^d)
OTHER = "ЦБ"         # another library's copies in the same ИРБИС database


def book(title: str, author: str, shifr: str | None, *copies: tuple[str, str, str, str]) -> IrbisRecord:
    """A catalogue record; copies are (status 910^a, inventory ^b, holding ^d, barcode ^h)."""
    rec = IrbisRecord()
    if shifr:
        rec.add_field(903, shifr)
    surname, _, initials = author.partition(" ")
    rec.add_field(700, subfields=[("a", surname), ("b", initials)])
    rec.add_field(200, subfields=[("a", title), ("f", author)])
    rec.add_field(210, subfields=[("a", "Москва"), ("c", "Просвещение"), ("d", "2020")])
    for status, inventory, holding, barcode in copies:
        rec.add_field(910, subfields=[("a", status), ("b", inventory), ("d", holding),
                                      ("h", barcode)])
    return rec


def catalogue() -> list[IrbisRecord]:
    records = [
        book("Война и мир", "Толстой Л. Н.", "84(2)/Т53-1",
             ("0", "1001", HOLDING, "2000000010011"), ("1", "1002", HOLDING, "2000000010028"),
             ("0", "9001", OTHER, "2000000090013")),
        book("Капитанская дочка", "Пушкин А. С.", "84(2)/П91-2",
             ("4", "2001", HOLDING, "2000000020010"), ("9", "2002", "шб", "2000000020027")),
        book("Мцыри", "Лермонтов М. Ю.", None, ("6", "3001", HOLDING, "2000000030019")),
        book("Муму", "Тургенев И. С.", "84(2)/Т87-4", ("0", "4001", OTHER, "2000000040018")),
        book("Чистая поляна", "Носов Н. Н.", "84(2)/Н84-5", ("0", "5001", HOLDING, "2000000050017")),
        book("Каштанка", "Чехов А. П.", "84(2)/Ч56-6", ("0", "6001", HOLDING, "2000000060016")),
        book("Азбука", "Жуковa В. Г.", "74.1/Ж86-7", ("0", "7001", HOLDING, "2000000070015")),
    ]
    untitled = IrbisRecord()  # no 200^a: cannot be mapped, reported by MFN
    untitled.add_field(903, "??/8")
    untitled.add_field(910, subfields=[("a", "0"), ("b", "8001"), ("d", HOLDING)])
    records.append(untitled)
    for mfn, rec in enumerate(records, 1):
        rec.mfn, rec.version = mfn, 1
    return records


N_MAPPED = 7  # records of catalogue() with a title


@pytest.fixture
def emu():
    emulator = IrbisEmulator({USER: (PASSWORD, "ABCMR")})
    emulator.add_database("IBIS", catalogue())
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def irbis(emu):
    with IrbisClient(HOST, emu.port, USER, PASSWORD, workstation="C", timeout=5) as client:
        yield client


def run(db, client, **kw):
    kw.setdefault("school_sigla", SCHOOL)
    kw.setdefault("holding", HOLDING)
    return sync_catalogue(db, client, "IBIS", on_batch=index_records, **kw)


def titles(db, query: str) -> list[str]:
    with db.session() as s:
        return [h.title for h in search(s, query).hits]


def record_of(db, mfn: int) -> Record | None:
    with db.session() as s:
        rid = s.scalar(select(IrbisSyncRecord.record_id).where(IrbisSyncRecord.database == "IBIS",
                                                               IrbisSyncRecord.mfn == mfn))
        if rid is None:
            return None
        rec = s.get(Record, rid)
        if rec is not None:
            rec.copies  # noqa: B018 - loaded before the session closes
        return rec


def versions(db) -> dict[str, int]:
    with db.session() as s:
        return dict(s.execute(select(Record.key, Record.version)).all())


def count(db, model) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def edit(client: IrbisClient, mfn: int, change) -> IrbisRecord:
    rec = client.read_record("IBIS", mfn, lock=True)
    change(rec)
    return client.write_record("IBIS", rec)


# ------------------------------------------------------------------------------ settings

def test_irbis_settings_defaults_environment_and_masked_password(tmp_path):
    st = load_settings(environ={})
    conf = st.irbis
    assert (conf.host, conf.port, conf.database, conf.readers_database, conf.sigla,
            conf.workstation, conf.timeout_s) == ("", 6666, "IBIS", "RDR", "", "C", 10)
    env = {"IBC_IRBIS__HOST": "192.168.1.5", "IBC_IRBIS__PORT": "6667",
           "IBC_IRBIS__USER": "librarian", "IBC_IRBIS__PASSWORD": "0123",
           "IBC_IRBIS__DATABASE": "SCHOOL", "IBC_IRBIS__SIGLA": "ШБ",
           "IBC_IRBIS__WORKSTATION": "B", "IBC_IRBIS__TIMEOUT_S": "3.5"}
    conf = load_settings(environ=env).irbis
    assert (conf.host, conf.port, conf.user, conf.database, conf.sigla, conf.workstation,
            conf.timeout_s) == ("192.168.1.5", 6667, "librarian", "SCHOOL", "ШБ", "B", 3.5)
    assert conf.password.get_secret_value() == "0123"  # text as typed, not the number 123
    shown = repr(load_settings(environ=env)) + str(conf) + str(conf.model_dump())
    assert "0123" not in shown and "**********" in shown
    toml = tmp_path / "ibc.toml"
    toml.write_text('[irbis]\nhost = "irbis.school"\npassword = 4321\n', encoding="utf-8")
    conf = load_settings(toml, environ={}).irbis
    assert conf.host == "irbis.school" and conf.password.get_secret_value() == "4321"
    from config.settings import SettingsError
    for bad in ({"IBC_IRBIS__PORT": "0"}, {"IBC_IRBIS__WORKSTATION": "кат"},
                {"IBC_IRBIS__DATABASE": "IBIS;rm"}, {"IBC_IRBIS__HOST": "a\x07b"}):
        with pytest.raises(SettingsError, match=next(iter(bad))):
            load_settings(environ=bad)


# ------------------------------------------------------------------------------ the sync

def test_first_sync_makes_the_catalogue_searchable_with_the_schools_copies_only(db, irbis):
    report = run(db, irbis)
    assert report.completed and report.error is None
    assert (report.max_mfn, report.read, report.added, report.updated, report.deleted,
            report.unchanged, report.skipped) == (9, 8, N_MAPPED, 0, 0, 0, 1)
    assert report.errors == [{"mfn": 8, "reason": "no title (245$a / 200$a is missing or empty)"}]
    assert titles(db, "война и мир") == ["Война и мир"]
    assert titles(db, "лермонтов") == ["Мцыри"]
    war = record_of(db, 1)
    assert war is not None and war.key == f"903:{SCHOOL}:84(2)/Т53-1"
    # copies of the school's holding only (910^d ШБ, any case), as the school's sigla
    assert sorted((c.sigla, c.inventory_number, c.barcode, c.status) for c in war.copies) == [
        (SCHOOL, "1001", "2000000010011", "available"), (SCHOOL, "1002", "2000000010028", "on_loan")]
    daughter = record_of(db, 2)
    assert sorted((c.inventory_number, c.status) for c in daughter.copies) == [
        ("2001", "lost"), ("2002", "reserved")]
    assert [(c.status, c.status_code) for c in record_of(db, 3).copies] == [("written_off", "6")]
    assert record_of(db, 4).copies == []  # only another library's copy
    assert count(db, Copy) == 8
    with db.session() as s:  # the search index counts the school's copies on the shelf
        [hit] = search(s, "война и мир").hits
        assert (hit.copies, hit.available) == (2, 1)
        ev = s.scalars(select(Event).where(Event.kind == "irbis_sync")).one()
        assert ev.count == N_MAPPED and ev.payload["added"] == N_MAPPED
        assert ev.payload["completed"] is True
    info = last_run(db, "IBIS")
    assert info["max_mfn"] == 9 and info["error"] is None and info["completed_at"] is not None


def test_every_copy_when_no_holding_is_set(db, irbis):
    run(db, irbis, holding="")
    war = record_of(db, 1)
    assert sorted((c.sigla, c.inventory_number) for c in war.copies) == sorted([
        (HOLDING, "1001"), (HOLDING, "1002"), (OTHER, "9001")])
    assert [c.sigla for c in record_of(db, 4).copies] == [OTHER]


def test_a_record_changed_in_irbis_is_the_only_one_rewritten(db, irbis, emu):
    run(db, irbis)
    before = versions(db)
    saved = edit(irbis, 5, lambda r: r.set_field(200, subfields=[("a", "Весёлая поляна"),
                                                                 ("f", "Носов Н. Н.")]))
    assert saved.version == 2
    edit(irbis, 1, lambda r: r.fields_of(910)[1].set("a", "0"))  # the loan came back
    report = run(db, irbis)
    assert (report.read, report.added, report.updated, report.deleted, report.unchanged,
            report.skipped) == (8, 0, 2, 0, 6, 0)  # unchanged: the untitled one too
    after = versions(db)
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {f"903:{SCHOOL}:84(2)/Н84-5", f"903:{SCHOOL}:84(2)/Т53-1"}
    assert titles(db, "весёлая поляна") == ["Весёлая поляна"] and titles(db, "чистая") == []
    assert sorted(c.status for c in record_of(db, 1).copies) == ["available", "available"]
    with db.session() as s:
        [hit] = search(s, "война и мир").hits
        assert hit.available == 2
    again = run(db, irbis)  # nothing changed since
    assert (again.updated, again.added, again.unchanged) == (0, 0, N_MAPPED + 1)
    assert versions(db) == after


def test_a_new_title_without_a_shifr_replaces_its_old_record(db, irbis):
    """Мцыри has no 903: its key is built from the description, so a new title is a new key:
    the record is written under it and the old one deleted (a tombstone), not left behind."""
    run(db, irbis)
    old = record_of(db, 3)
    edit(irbis, 3, lambda r: r.set_field(200, subfields=[("a", "Мцыри. Поэма")]))
    report = run(db, irbis)
    assert report.updated == 1 and report.deleted == 0
    new = record_of(db, 3)
    assert new.id != old.id and new.title == "Мцыри. Поэма"
    assert [c.inventory_number for c in new.copies] == ["3001"]
    assert count(db, Record) == N_MAPPED
    with db.session() as s:
        assert s.get(Record, old.id) is None
        assert s.get(Tombstone, ("r", old.id)) is not None


def test_deleted_in_irbis_goes_here_with_a_tombstone_and_new_ones_come(db, irbis, emu):
    run(db, irbis)
    gone = record_of(db, 6)
    edit(irbis, 6, lambda r: setattr(r, "status", LOGICALLY_DELETED))
    assert irbis.read_records("IBIS", [6, 7])[0].deleted
    fresh = book("Аленький цветочек", "Аксаков С. Т.", "84(2)/А42-9",
                 ("0", "9101", HOLDING, "2000000091016"))
    assert irbis.write_record("IBIS", fresh).mfn == 9
    report = run(db, irbis)
    assert (report.max_mfn, report.added, report.updated, report.deleted, report.unchanged) == (
        10, 1, 0, 1, N_MAPPED)
    assert titles(db, "каштанка") == [] and titles(db, "аленький цветочек") == ["Аленький цветочек"]
    with db.session() as s:
        assert s.get(Record, gone.id) is None
        stones = {(t.kind, t.row_id) for t in s.scalars(select(Tombstone))}
        assert ("r", gone.id) in stones and ("c", gone.copies[0].id) in stones
        row = s.get(IrbisSyncRecord, ("IBIS", 6))
        assert (row.state, row.record_id) == ("deleted", None)
    assert run(db, irbis).deleted == 0  # once
    # a record physically gone: beyond the server's max MFN now
    del emu.databases["IBIS"].slots[9]
    report = run(db, irbis)
    assert report.max_mfn == 9 and report.deleted == 1
    assert titles(db, "аленький цветочек") == []
    assert count(db, Record) == N_MAPPED - 1
    # a database that suddenly reads empty (re-created, wrong one) deletes nothing unless asked
    emu.databases["IBIS"].slots.clear()
    report = run(db, irbis)
    assert report.max_mfn == 1 and report.deleted == 0 and report.completed
    assert "nothing deleted" in report.warnings[0]["reason"]
    assert count(db, Record) == N_MAPPED - 1
    assert run(db, irbis, full=True).deleted == N_MAPPED - 1
    assert count(db, Record) == 0


def test_read_records_with_a_chunk_of_one_mfn(irbis, emu):
    """G with one MFN answers the record without its «mfn#» line: read_records reads a lone
    MFN (a batch's remainder too) with C; physically deleted and unknown MFNs are left out."""
    assert [r.mfn for r in irbis.read_records("IBIS", [1, 2, 3], batch=2)] == [1, 2, 3]
    assert [r.first(200, "a") for r in irbis.read_records("IBIS", [4])] == ["Муму"]
    emu.databases["IBIS"].slots[2].record.status |= PHYSICALLY_DELETED
    assert [r.mfn for r in irbis.read_records("IBIS", [1, 2, 3], batch=1)] == [1, 3]
    assert irbis.read_records("IBIS", [99]) == []


def test_one_record_per_request_and_a_physically_deleted_record(db, irbis, emu):
    """batch_size 1: each request carries one MFN, and the server answers a physically deleted
    one with its error code (-601), which the sync takes as «gone»."""
    first = run(db, irbis, batch_size=1)
    assert first.added == N_MAPPED and first.completed
    emu.databases["IBIS"].slots[7].record.status |= PHYSICALLY_DELETED  # as ИРБИС marks it
    alphabet = record_of(db, 7)
    edit(irbis, 6, lambda r: setattr(r, "status", LOGICALLY_DELETED))  # C returns it, flagged
    report = run(db, irbis, batch_size=1)
    assert (report.read, report.deleted, report.unchanged) == (7, 2, 6)
    assert titles(db, "каштанка") == []
    with db.session() as s:
        assert s.get(Record, alphabet.id) is None
        assert s.get(Tombstone, ("r", alphabet.id)) is not None
    assert titles(db, "азбука") == []


def test_a_deleted_record_with_loan_history_is_hidden_not_lost(db, irbis):
    run(db, irbis)
    war = record_of(db, 1)
    lent = next(c for c in war.copies if c.inventory_number == "1001")
    with db.transaction() as s:
        reader = Reader(card_number="R1", last_name="Иванова", first_name="Анна")
        s.add(reader)
        s.flush()
        s.add(Loan(copy_id=lent.id, reader_id=reader.id, due_date=dt.date(2026, 1, 10),
                   returned_at=dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)))
    version = war.version
    edit(irbis, 1, lambda r: setattr(r, "status", LOGICALLY_DELETED))
    report = run(db, irbis)
    assert report.deleted == 1
    with db.session() as s:
        rec = s.get(Record, war.id)
        assert rec.deleted and rec.version > version
        assert [c.id for c in rec.copies] == [lent.id]  # the loan's copy stays, the other went
        assert s.scalar(select(func.count()).select_from(Loan)) == 1
    assert titles(db, "война и мир") == []


def test_the_server_stopped_mid_sync_then_the_next_run_completes(db, irbis, emu):
    def stop_after_first(done, top, report):
        if done == 3:
            emu.stop()

    with pytest.raises(SyncInterrupted) as info:
        run(db, irbis, batch_size=3, progress=stop_after_first)
    exc = info.value
    assert isinstance(exc.cause, IrbisUnavailable)
    assert not exc.report.completed and exc.report.added == 3
    assert exc.report.error["code"] == "irbis_unavailable"
    assert count(db, Record) == 3  # the first batch, whole; nothing of the second
    state = last_run(db, "IBIS")
    assert state["error"] and state["completed_at"] is None and state["counts"]["added"] == 3
    with db.session() as s:
        ev = s.scalars(select(Event).where(Event.kind == "irbis_sync")).one()
        assert ev.payload["completed"] is False and ev.payload["error"]["code"] == "irbis_unavailable"

    emu.start()  # the same port; the server kept its records and knows the client
    report = run(db, irbis, batch_size=3)
    assert report.completed
    assert (report.added, report.unchanged, report.skipped) == (N_MAPPED - 3, 3, 1)
    assert count(db, Record) == N_MAPPED and count(db, Copy) == 8
    with db.session() as s:
        keys = s.scalars(select(Record.key)).all()
        assert len(keys) == len(set(keys))
        assert s.scalar(select(func.count()).select_from(IrbisSyncRecord)) == 8
    assert titles(db, "азбука") == ["Азбука"]
    assert last_run(db, "IBIS")["error"] is None


def test_an_unreachable_server_is_an_error_before_anything_is_read(db, emu):
    emu.stop()
    client = IrbisClient(HOST, emu.port, USER, PASSWORD, timeout=2)
    with pytest.raises(IrbisUnavailable):
        run(db, client)
    assert count(db, Record) == 0
    assert last_run(db, "IBIS")["error"]


def test_full_rewrites_every_record_and_an_unmappable_one_waits_for_a_change(db, irbis):
    run(db, irbis)
    report = run(db, irbis, full=True)
    assert (report.updated, report.unchanged, report.skipped) == (N_MAPPED, 0, 1)
    assert count(db, Record) == N_MAPPED
    assert run(db, irbis).skipped == 0  # the untitled record is not retried at the same version
    edit(irbis, 8, lambda r: r.set_field(200, subfields=[("a", "Букварь")]))
    report = run(db, irbis)
    assert report.added == 1 and titles(db, "букварь") == ["Букварь"]


def test_the_real_test1_iso(db, shared_testdata):
    iso = shared_testdata / "marc" / "rusmarc" / "amironov73_ManagedIrbis" / "TEST1.ISO"
    if not iso.is_file():
        pytest.skip(f"{iso} is missing")
    emulator = IrbisEmulator({USER: (PASSWORD, "C")})
    emulator.add_database("IBIS", load_records(iso))
    with emulator, IrbisClient(HOST, emulator.port, USER, PASSWORD, timeout=10) as client:
        first = run(db, client, holding="", batch_size=25)
        assert first.completed and first.max_mfn == 82
        assert first.read == 81 and first.added + first.skipped == 81 and first.added >= 75
        assert count(db, Record) == first.added
        some = emulator.record("IBIS", 10)
        title = (some.first(200, "a") or "").split()[0]
        assert title and any(title.casefold() in t.casefold() for t in titles(db, title))
        second = run(db, client, holding="", batch_size=25)
        assert (second.added, second.updated, second.unchanged) == (0, 0, first.added)
        assert versions(db) and count(db, Record) == first.added


# ------------------------------------------------------------------------------ the CLI

def ibc(db, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("IBC_")}
    environ.update(IBC_DATABASE_URL=db.url.render_as_string(hide_password=False),
                   IBC_CONFIG="/dev/null", IBC_SCHOOL__SIGLA=SCHOOL, **env)
    return subprocess.run([sys.executable, "-m", "ibc", "irbis", "sync", *args], env=environ,
                          capture_output=True, text=True, timeout=120)


def test_cli_exit_codes_and_json(db, emu, tmp_path):
    conf = {"IBC_IRBIS__HOST": HOST, "IBC_IRBIS__PORT": str(emu.port), "IBC_IRBIS__USER": USER,
            "IBC_IRBIS__PASSWORD": PASSWORD, "IBC_IRBIS__SIGLA": HOLDING,
            "IBC_DATA_DIR": str(tmp_path)}  # the lock file irbis-sync.lock
    done = ibc(db, "--json", **conf)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["completed"] and out["added"] == N_MAPPED and out["errors"][0]["mfn"] == 8
    assert titles(db, "каштанка") == ["Каштанка"]
    text = ibc(db, **conf)
    assert text.returncode == 0 and f"без изменений {N_MAPPED + 1}" in text.stdout

    wrong = ibc(db, "--json", **{**conf, "IBC_IRBIS__PASSWORD": "wrong-one"})
    assert wrong.returncode == 2 and json.loads(wrong.stdout)["error"]["code"] == "irbis_auth"
    assert "ibc irbis sync:" in wrong.stderr
    for result in (done, text, wrong):
        assert PASSWORD not in result.stdout + result.stderr
        assert "wrong-one" not in result.stdout + result.stderr

    unset = ibc(db, "--json", IBC_DATA_DIR=str(tmp_path))
    assert unset.returncode == 2 and "[irbis] host" in unset.stderr
    quiet = ibc(db, "--if-configured", IBC_DATA_DIR=str(tmp_path))
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    bad = ibc(db, **{**conf, "IBC_IRBIS__PORT": "70000"})
    assert bad.returncode == 2 and "irbis.port" in bad.stderr

    with open(tmp_path / "irbis-sync.lock", "a") as lock:  # another run holds the lock
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        busy = ibc(db, **conf)
        assert busy.returncode == 1 and "уже идёт" in busy.stderr and busy.stdout == ""
        timer = ibc(db, "--if-configured", **conf)
        assert timer.returncode == 0 and "уже идёт" in timer.stderr
    assert ibc(db, **conf).returncode == 0  # released

    emu.stop()
    down = ibc(db, "--json", **{**conf, "IBC_IRBIS__TIMEOUT_S": "2"})
    assert down.returncode == 1
    assert json.loads(down.stdout)["error"]["code"] == "irbis_unavailable"
    assert "ИРБИС" in down.stderr
