"""«Сдача учебников» at the kiosk: POST /api/v1/textbooks/collect, the terminal's port over it
(kiosk.terminal.circulation_port.RemoteCirculation.collect) and the local port
(kiosk.local.LocalCollection), on SQLite and PostgreSQL (the `db` fixture)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from library.storage.models import Copy, Loan, Record, TransactionLog

from .conftest import TODAY, populate

V = "/api/v1"


def _school(db, settings):
    """«Алгебра 7» (a textbook): T1 lent to Петрова Аня (7А), T2 on the shelf; «Денискины
    рассказы» 2001 (not a textbook) lent to Сидоров Ваня (1Б). Returns the service."""
    from library.circulation.service import CirculationService

    with db.transaction() as s:
        r = Record(key="alg7", title="Алгебра 7", authors=["Макарычев, Ю. Н."],
                   item_type="textbook", version=1)
        for bc in ("T1", "T2"):
            r.copies.append(Copy(sigla="ИБЦ", barcode=bc, status="available", version=1))
        s.add(r)
    svc = CirculationService.from_settings(db, settings.circulation, today=lambda: TODAY)
    svc.checkout("C5A", "T1", "lend-t1")
    svc.checkout("C1B", "2001", "lend-2001")
    return svc


def _session(client, auth: dict, card: str) -> dict:
    r = client.post(f"{V}/session", json={"card": card}, headers=auth)
    assert r.status_code == 200, r.text
    return {**auth, "X-Reader-Session": r.json()["session"]}


def _open_loans(db, barcode: str) -> int:
    with db.session() as s:
        return len(s.scalars(select(Loan).join(Copy, Loan.copy_id == Copy.id)
                             .where(Copy.barcode == barcode, Loan.returned_at.is_(None))).all())


def test_collect_needs_a_terminal_and_a_staff_session(api, enrol, settings):
    client, db = api
    _school(db, settings)
    body = {"barcode": "T1"}
    assert client.post(f"{V}/textbooks/collect", json=body).status_code == 401
    auth = enrol("kiosk-1")
    r = client.post(f"{V}/textbooks/collect", json=body, headers=auth)
    assert r.status_code == 401 and r.json()["code"] == "no_session"
    pupil = _session(client, auth, "C5A")
    r = client.post(f"{V}/textbooks/collect", json=body, headers=pupil)
    assert r.status_code == 403 and r.json()["code"] == "staff_only"
    assert "Петрова" not in r.text
    assert _open_loans(db, "T1") == 1  # refused: nothing returned
    teacher = _session(client, auth, "CT")
    other = enrol("kiosk-2")  # a session is bound to its terminal
    r = client.post(f"{V}/textbooks/collect", json=body,
                    headers={**other, "X-Reader-Session": teacher["X-Reader-Session"]})
    assert r.status_code == 401


def test_collect_names_the_pupil_once(api, enrol, settings):
    client, db = api
    _school(db, settings)
    teacher = _session(client, enrol("kiosk-1"), "CT")
    r = client.post(f"{V}/textbooks/collect", json={"barcode": "T1", "class_name": "7А"},
                    headers=teacher)
    assert r.status_code == 200, r.text
    assert r.json() == {"kind": "accepted", "title": "Алгебра 7", "pupil": "Петрова А.",
                        "class_name": "7А", "other_class": False, "textbook": True,
                        "active": True, "lost_found": False}
    assert _open_loans(db, "T1") == 0
    with db.session() as s:
        loan = s.scalar(select(Loan).join(Copy, Loan.copy_id == Copy.id).where(Copy.barcode == "T1"))
        assert loan is not None and loan.return_txn == f"ret:{loan.id}"
        assert s.get(TransactionLog, f"ret:{loan.id}") is not None
    again = client.post(f"{V}/textbooks/collect", json={"barcode": "T1"}, headers=teacher)
    assert again.status_code == 200
    assert again.json()["kind"] == "already" and again.json()["pupil"] == "Петрова А."
    with db.session() as s:  # the repeated scan changed nothing
        assert len(s.scalars(select(TransactionLog).where(TransactionLog.txn_id.like("ret:%"))).all()) == 1


def test_collect_tells_other_class_not_textbook_not_on_loan_unknown(api, enrol, settings):
    client, db = api
    _school(db, settings)
    teacher = _session(client, enrol("kiosk-1"), "CT")

    def scan(code, cls=None):
        body = {"barcode": code} if cls is None else {"barcode": code, "class_name": cls}
        r = client.post(f"{V}/textbooks/collect", json=body, headers=teacher)
        assert r.status_code == 200, r.text
        return r.json()

    novel = scan("2001", "7А")
    assert (novel["kind"], novel["pupil"], novel["class_name"]) == ("accepted", "Сидоров В.", "1Б")
    assert novel["other_class"] is True and novel["textbook"] is False
    shelf = scan("T2")
    assert (shelf["kind"], shelf["title"], shelf["pupil"]) == ("not_on_loan", "Алгебра 7", "")
    unknown = scan("NO-SUCH-COPY")
    assert (unknown["kind"], unknown["pupil"], unknown["title"]) == ("unknown_copy", "", "")
    r = client.post(f"{V}/textbooks/collect", json={"barcode": "T2", "class_name": "7А\x07"},
                    headers=teacher)
    assert r.status_code == 422


def _remote(api, enrol, tmp_path):
    from kiosk.terminal import ApiClient
    from kiosk.terminal.circulation import TerminalCirculation
    from kiosk.terminal.circulation_port import RemoteCirculation
    from kiosk.terminal.offline import OfflineQueue

    test_client, _db = api
    token = enrol("kiosk-remote")["Authorization"].removeprefix("Bearer ")
    client = ApiClient("http://testserver", token, transport=test_client._transport)
    return client, RemoteCirculation(TerminalCirculation("kiosk-remote", client,
                                                         OfflineQueue(tmp_path / "q.sqlite3")))


def test_the_terminal_port(api, enrol, settings, tmp_path):
    from kiosk.services import CollectionPort
    from kiosk.terminal.circulation import OfflineRefused
    from library.textbooks.issue import ClassSetError

    _client, db = api
    _school(db, settings)
    client, port = _remote(api, enrol, tmp_path)
    assert isinstance(port, CollectionPort)
    pupil = port.find_reader("C5A")
    with pytest.raises(ClassSetError) as refused:
        port.collect(pupil, "T1")
    assert refused.value.code == "staff_only"
    teacher = port.find_reader("CT")
    with pytest.raises(ClassSetError):  # not this session's reader
        port.collect(pupil, "T1")
    got = port.collect(teacher, "T1", class_name="7А")
    assert (got.kind, got.title, got.pupil, got.class_name) == ("accepted", "Алгебра 7",
                                                                "Петрова А.", "7А")
    assert not got.loud
    assert port.collect(teacher, "T1").kind == "already"
    other = port.collect(teacher, "2001", class_name="7А")
    assert other.other_class and not other.textbook and other.loud
    client._base = lambda: None  # the server is gone: no names offline
    with pytest.raises(OfflineRefused):
        port.collect(teacher, "T2")


def test_the_local_port(db, settings):
    from kiosk.local import LocalCollection
    from kiosk.services import CollectionPort
    from library.circulation.values import ReaderView
    from library.storage.models import Reader
    from library.textbooks.issue import ClassSetError

    populate(db)
    svc = _school(db, settings)
    port = LocalCollection(svc, terminal="kiosk-local")
    assert isinstance(port, CollectionPort)
    pupil = svc.find_reader("C5A")
    with pytest.raises(ClassSetError) as refused:
        port.collect(pupil, "T1")
    assert refused.value.code == "staff_only"
    # the port reads the category from the database, not from the view it is given
    forged = ReaderView(pupil.id, "C5A", "Аня", "П.", "7А", "teacher")
    with pytest.raises(ClassSetError):
        port.collect(forged, "T1")
    assert _open_loans(db, "T1") == 1
    teacher = svc.find_reader("CT")
    got = port.collect(teacher, "T1")
    assert (got.kind, got.pupil, got.class_name, got.active) == ("accepted", "Петрова А.", "7А", True)
    assert port.collect(teacher, "T1").kind == "already"
    assert port.collect(teacher, "T2").kind == "not_on_loan"
    with db.transaction() as s:  # a teacher who left is no longer staff here
        s.scalar(select(Reader).where(Reader.card_number == "CT")).active = False
    with pytest.raises(ClassSetError):
        port.collect(teacher, "2001")
