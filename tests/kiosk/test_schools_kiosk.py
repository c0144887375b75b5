"""The kiosk's record page in a city's union catalogue (docs/SCHOOLS.md): «В нашей школе: 2 на
полке», «В других школах: Гимназия № 5 — 1 на полке»; nothing new for a single school; the
refusals of another school's book and card; the replica keeps the server's school names."""

from __future__ import annotations

from kiosk.presenters.messages import refusal
from kiosk.presenters.record import RecordPresenter
from kiosk.services import CopyView, RecordView, SchoolCopies
from library.storage.models import Copy, Reader, Record


def _record(*schools: SchoolCopies) -> RecordView:
    return RecordView(1, "Война и мир", ("Толстой, Лев",),
                      copies=(CopyView("A1", "available"), CopyView("A2", "available")),
                      schools=schools)


def test_a_single_school_sees_nothing_new():
    assert RecordPresenter(_record()).schools == []
    alone = SchoolCopies("ИБЦ", "Школа № 1", 2, 2, own=True)
    assert RecordPresenter(_record(alone)).schools == []


def test_our_school_and_the_others():
    p = RecordPresenter(_record(SchoolCopies("ИБЦ", "Школа № 1", 2, 3, own=True),
                                SchoolCopies("ГИМН5", "Гимназия № 5", 1, 1),
                                SchoolCopies("ЛИЦ2", "Лицей № 2", 0, 2)))
    assert p.schools == ["В нашей школе: 2 на полке",
                         "В других школах: Гимназия № 5 — 1 на полке; Лицей № 2 — все выданы"]


def test_our_copies_all_out_or_none_here():
    out = RecordPresenter(_record(SchoolCopies("ИБЦ", "Школа № 1", 0, 1, own=True),
                                  SchoolCopies("ГИМН5", "Гимназия № 5", 1, 1)))
    assert out.schools[0] == "В нашей школе: все выданы"
    none = RecordPresenter(_record(SchoolCopies("ГИМН5", "", 3, 3)))
    assert none.schools == ["В нашей школе этой книги нет",
                            "В других школах: ГИМН5 — 3 на полке"]  # no name: the sigla


def test_refusals_of_another_schools_book_and_card():
    assert refusal("other_school") == "Эта книга из другой школы: отдай её библиотекарю."
    assert refusal("other_school", formal=True) == \
        "Эта книга из другой школы: передайте её библиотекарю."
    assert refusal("other_school_reader").startswith("Твой билет из другой школы")


def test_local_catalogue_record_carries_the_schools(db):
    from kiosk.local import LocalCatalogue
    from library import schools

    with db.transaction() as s:
        schools.add_school(s, "ИБЦ", "Школа № 1")
        schools.add_school(s, "ГИМН5", "Гимназия № 5")
        rec = Record(key="war", title="Война и мир", authors=["Толстой, Лев"])
        rec.copies = [Copy(sigla="ИБЦ", barcode="A1", status="available"),
                      Copy(sigla="", barcode="A0", status="on_loan"),
                      Copy(sigla="ГИМН5", barcode="G1", status="available")]
        s.add_all([rec, Reader(card_number="R1")])
        s.flush()
        rid = rec.id
    view = LocalCatalogue(db, "ИБЦ").record(rid)
    assert [c.barcode for c in view.copies] == ["A1", "A0"]  # the record page: our copies
    assert view.schools == (SchoolCopies("ИБЦ", "Школа № 1", 1, 2, True),
                            SchoolCopies("ГИМН5", "Гимназия № 5", 1, 1, False))
    assert RecordPresenter(view).schools == ["В нашей школе: 1 на полке",
                                             "В других школах: Гимназия № 5 — 1 на полке"]


class _Client:
    """A scripted server: an empty change feed and a list of schools."""

    def __init__(self, schools):
        self.list = schools

    def changes(self, since, after="", limit=1000):
        return {"records": [], "copies": [], "version": since, "next_since": since,
                "next_after": after, "more": False}

    def schools(self):
        return {"school": "ИБЦ", "schools": self.list}


def test_the_replica_keeps_the_servers_school_names(db):
    from kiosk.terminal.replica import Replica
    from library.schools import list_schools

    client = _Client([{"sigla": "ИБЦ", "name": "Школа № 1"},
                      {"sigla": "ГИМН5", "name": "Гимназия № 5"}])
    assert Replica(db, client).sync().schools == 2
    client.list = [{"sigla": "ИБЦ", "name": "Школа № 1 им. Пушкина"}]
    report = Replica(db, client).sync()
    assert report.schools == 2  # one renamed, one gone
    with db.session() as s:
        assert [(v.sigla, v.name) for v in list_schools(s)] == [("ИБЦ", "Школа № 1 им. Пушкина")]
    assert Replica(db, client).sync().schools == 0


# --- the search list in a union catalogue ------------------------------------------------------
def _hit(*schools: SchoolCopies, available: int = 0, copies: int = 0):
    from kiosk.services import Hit

    return Hit(1, "Война и мир", available=available, copies=copies, schools=schools)


def test_search_rows_say_our_shelf_first():
    from kiosk.presenters.search import availability

    ours = SchoolCopies("ИБЦ", "Школа № 1", 1, 2, own=True)
    g5 = SchoolCopies("ГИМН5", "Гимназия № 5", 3, 3)
    # a single school (or a kiosk without schools) reads the hit's own figures, as before
    assert availability(_hit(available=2, copies=2)) == ("На полке: 2", True)
    assert availability(_hit(SchoolCopies("ИБЦ", "Школа № 1", 2, 2, own=True),
                             available=2, copies=2)) == ("На полке: 2", True)
    # several schools: our shelf, not the city's
    assert availability(_hit(ours, g5, available=4, copies=5)) == ("На полке: 1", True)
    out = SchoolCopies("ИБЦ", "Школа № 1", 0, 2, own=True)
    assert availability(_hit(out, g5, available=3, copies=5)) == \
        ("У нас все выданы · в\u00a0других школах: 3", False)
    assert availability(_hit(out, SchoolCopies("ГИМН5", "Гимназия № 5", 0, 1),
                             copies=3)) == ("Все экземпляры выданы", False)
    assert availability(_hit(g5, available=3, copies=3)) == \
        ("Только в других школах: 3 на полке", False)
    assert availability(_hit(SchoolCopies("ГИМН5", "Гимназия № 5", 0, 1), copies=1)) == \
        ("Только в других школах, все выданы", False)


def _city(db) -> dict[str, int]:
    from library import schools
    from library.search import reindex_all

    with db.transaction() as s:
        schools.add_school(s, "ИБЦ", "Школа № 1")
        schools.add_school(s, "ГИМН5", "Гимназия № 5")
        war = Record(key="war", title="Война и мир", authors=["Толстой, Лев"], version=1)
        war.copies = [Copy(sigla="ИБЦ", barcode="A1", status="on_loan"),
                      Copy(sigla="ГИМН5", barcode="G1", status="available")]
        anna = Record(key="anna", title="Анна Каренина", authors=["Толстой, Лев"], version=1)
        anna.copies = [Copy(sigla="ГИМН5", barcode="G2", status="available")]
        child = Record(key="child", title="Детство", authors=["Толстой, Лев"], version=1)
        child.copies = [Copy(sigla="", barcode="A0", status="available")]  # no sigla: ours
        s.add_all([war, anna, child])
        s.flush()
        ids = {"war": war.id, "anna": anna.id, "child": child.id}
    with db.transaction() as s:
        reindex_all(s)
    return ids


def test_local_search_offers_only_our_school(db):
    from kiosk.local import LocalCatalogue
    from kiosk.presenters.search import SearchPresenter

    ids = _city(db)
    p = SearchPresenter(LocalCatalogue(db, "ИБЦ"))
    p.set_query("толстой")
    page = p.search()
    assert page is not None and page.total == 3
    school = [c for c in p.chips if c.field == "school"]
    assert [c.label for c in school] == ["Только наша школа (2)"]  # «Война и мир», «Детство»
    rows = {r.record_id: r.availability for r in p.rows}
    assert rows == {ids["war"]: "У нас все выданы · в\u00a0других школах: 1",
                    ids["anna"]: "Только в других школах: 1 на полке",
                    ids["child"]: "На полке: 1"}
    p.toggle_facet("school", school[0].value)
    page = p.search()
    assert page is not None and {h.id for h in page.hits} == {ids["war"], ids["child"]}
    assert [c.label for c in p.chips if c.field == "school"] == ["Только наша школа (2)"]
    assert [c.selected for c in p.chips if c.field == "school"] == [True]
    p.reset()  # the next reader starts without the filter
    assert p.facets == {}


def test_a_single_school_kiosk_has_no_school_chip(db):
    from kiosk.local import LocalCatalogue
    from library import schools
    from library.search import reindex_all

    with db.transaction() as s:
        schools.add_school(s, "ИБЦ", "Школа № 1")
        rec = Record(key="war", title="Война и мир", authors=["Толстой, Лев"], version=1)
        rec.copies = [Copy(sigla="ЧЗ", barcode="A1", status="available")]  # a department code
        s.add(rec)
    with db.transaction() as s:
        reindex_all(s)
    page = LocalCatalogue(db, "ИБЦ").search("война")
    assert [f.field for f in page.facets if f.field == "school"] == []
    assert page.hits[0].schools == () and page.hits[0].available == 1


def test_remote_search_asks_the_server_for_our_school():
    from kiosk.terminal.catalogue import RemoteCatalogue

    calls = []

    class Api:
        def search(self, q, **params):
            calls.append(params)
            return {"total": 1, "hits": [{
                "id": 7, "title": "Война и мир", "available": 1, "copies": 2,
                "schools": [{"sigla": "ИБЦ", "name": "Школа № 1", "available": 0, "total": 1},
                            {"sigla": "ГИМН5", "name": "Гимназия № 5", "available": 1,
                             "total": 1}]}]}

    remote = RemoteCatalogue(Api(), "ИБЦ")  # type: ignore[arg-type]
    page = remote.search("война", facets={"school": "ИБЦ"})
    assert calls[-1].get("own_school") is True
    assert page.hits[0].schools == (SchoolCopies("ИБЦ", "Школа № 1", 0, 1, True),
                                    SchoolCopies("ГИМН5", "Гимназия № 5", 1, 1, False))
    remote.search("война")
    assert "own_school" not in calls[-1]
