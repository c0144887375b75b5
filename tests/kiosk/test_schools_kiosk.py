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
