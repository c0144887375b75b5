"""SRU 1.2 at /sru (server/sru.py, library/search/cql.py) against a real `ibc serve` process, on
SQLite and PostgreSQL, read by an independent SRU client (sruthi) and by pymarc."""

from __future__ import annotations

import io
import os
import re
import xml.etree.ElementTree as ET

import httpx
import pymarc
import pytest

from tests.server.conftest import ServerProcess, populate, write_config

SRW = "{http://www.loc.gov/zing/srw/}"
DIAG = "{http://www.loc.gov/zing/srw/diagnostic/}"
HOLD = "{info:ibc/sru/holdings-v1}"
READERS = ("C5A", "C1B", "CPIN", "CBLK", "Петрова", "Сидоров", "Иванова", "Орлова", "Орлов",
           "Аня", "Ваня", "Мария", "Оля", "Петя", "7А", "1Б", "9В")
TALES = 55  # more than the 50 records an answer may carry


def _fill(db) -> None:
    """The server fixture's library, its readers and media, plus: a RUSMARC record and a MARC21
    record with their MARC stored, a deleted record, two schools, 55 tales for paging."""
    from library.marc.iso2709 import encode_record
    from library.marc.model import ControlField, DataField, MarcRecord
    from library.search import reindex_all
    from library.storage.models import Copy, MediaItem, Record, School

    populate(db)
    rus = MarcRecord("00000nam0a2200000 i 450 ", [
        ControlField("001", "ru-chess"),
        DataField("010", " ", " ", [("a", "5-17-015240-X"), ("d", "100 р.")]),
        DataField("200", "1", " ", [("a", "Шахматы для всех"), ("f", "Анатолий Карпов")]),
        DataField("210", " ", " ", [("a", "Москва"), ("c", "АСТ"), ("d", "1995")]),
        # a stray control character (XML 1.0 forbids it): published without it
        DataField("300", " ", " ", [("a", "Примечание, которого нет в колонках\x01")]),
        DataField("317", " ", " ", [("a", "Дар семьи Петровых")]),  # provenance: names people
        DataField("606", " ", " ", [("a", "Шахматы")]),
        DataField("700", " ", "1", [("a", "Карпов"), ("g", "Анатолий Евгеньевич")]),
        DataField("907", " ", " ", [("c", "20240101"), ("b", "Иванова М. П.")]),  # ИРБИС: cataloguer
    ])
    m21 = MarcRecord("00000nam a2200000 i 4500", [
        ControlField("001", "en-chess"),
        DataField("020", " ", " ", [("a", "9780140449136")]),
        DataField("100", "1", " ", [("a", "Fischer, Bobby")]),
        DataField("245", "1", "0", [("a", "Chess for kids and parents")]),
        DataField("260", " ", " ", [("a", "New York"), ("b", "Bantam"), ("c", "2005")]),
        DataField("500", " ", " ", [("a", "A note only the MARC keeps")]),
        DataField("541", " ", " ", [("a", "Gift of the Petrov family")]),  # names a donor
        DataField("590", " ", " ", [("a", "Local note: Mrs Smith")]),
        DataField("650", " ", "0", [("a", "Chess")]),
    ])
    with db.transaction() as s:
        s.add_all([School(sigla="ШК1", name="Школа №1"), School(sigla="ШК2", name="Школа №2")])
        chess = Record(key="ru-chess", source_format="rusmarc", title="Шахматы для всех",
                       responsibility="Анатолий Карпов", authors=["Карпов, Анатолий Евгеньевич"],
                       publisher="АСТ", place="Москва", year=1995, isbn="5-17-015240-X",
                       isbns=["5-17-015240-X"], subjects=["Шахматы"],
                       marc=encode_record(rus, "utf-8"), marc_encoding="utf-8", version=1)
        chess.copies = [Copy(sigla="ШК1", barcode="9001", status="available", version=1),
                        Copy(sigla="ШК1", barcode="9002", status="on_loan", version=1),
                        Copy(sigla="ШК2", barcode="9003", status="available", version=1)]
        s.add(chess)
        s.add(Record(key="en-chess", source_format="marc21", title="Chess for kids and parents",
                     authors=["Fischer, Bobby"], publisher="Bantam", place="New York", year=2005,
                     isbn="9780140449136", isbns=["9780140449136"], subjects=["Chess"],
                     marc=encode_record(m21, "utf-8"), marc_encoding="utf-8", version=1,
                     copies=[Copy(sigla="ШК2", barcode="9004", status="available", version=1)]))
        s.add(Record(key="gone", title="Удалённая шахматная книга", authors=["Карпов"], year=1995,
                     deleted=True, version=1))
        seen_by_all = Record(key="media-open", title="Фотосинтез: видеоурок", item_type="media",
                             version=1)
        teachers = Record(key="media-teach", title="Контрольная по шахматам: ответы",
                          item_type="media", version=1)
        s.add_all([seen_by_all, teachers])
        s.flush()
        s.add_all([MediaItem(path="/m/open.mp4", title=seen_by_all.title, kind="video",
                             access="everyone", record_id=seen_by_all.id),
                   MediaItem(path="/m/teach.mp4", title=teachers.title, kind="video",
                             access="teachers", record_id=teachers.id)])
        for i in range(1, TALES + 1):
            s.add(Record(key=f"tale{i:02d}", title=f"Сказки народов мира, том {i}",
                         authors=["Афанасьев, Александр"], year=1960 + i % 20,
                         subjects=["Сказки"], version=1))
    with db.transaction() as s:
        reindex_all(s)


def _pg_database():
    """A fresh migrated PostgreSQL database (copied from the session's template)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = os.environ["IBC_TEST_PG_URL"]
    name = f"ibc_sru_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    return name, admin, make_url(base).set(database=name).render_as_string(hide_password=False), text


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sru(request, tmp_path_factory):
    """(base URL of /sru, the database URL, tmp dir) of one `ibc serve` on a filled library."""
    from library.storage.database import open_database

    tmp = tmp_path_factory.mktemp(f"sru-{request.param}")
    drop = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'sru.sqlite3'}"
    else:
        template = request.getfixturevalue("pg_template")
        name, admin, url, text = _pg_database()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))

        def drop():
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    db = open_database(url)
    _fill(db)
    db.dispose()
    cfg = tmp / "sru.toml"
    write_config(cfg, url, "sru", advertise=False)
    proc = ServerProcess(cfg, tmp)
    proc.start()
    try:
        yield f"{proc.url}/sru", url, tmp
    finally:
        proc.stop()
        if drop:
            drop()


SEEN: list[str] = []  # every answer of the module, checked for reader data


def get(url: str, **params) -> ET.Element:
    r = httpx.get(url, params=params, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/xml")
    SEEN.append(r.text)
    return ET.fromstring(r.content)


def search(url: str, query: str, **params) -> ET.Element:
    return get(url, operation="searchRetrieve", version="1.2", query=query, **params)


def diagnostic(root: ET.Element) -> int | None:
    uri = root.find(f"{SRW}diagnostics/{DIAG}diagnostic/{DIAG}uri")
    return None if uri is None else int(uri.text.rsplit("/", 1)[1])


def marc_records(root: ET.Element) -> list[pymarc.Record]:
    """The records of an answer, read by pymarc from their MARCXML."""
    out = []
    for data in root.iterfind(f"{SRW}records/{SRW}record/{SRW}recordData"):
        (rec,) = list(data)
        out.extend(pymarc.parse_xml_to_array(io.BytesIO(ET.tostring(rec))))
    return out


def keys(url: str, query: str) -> set[str]:
    root = search(url, query, maximumRecords="50")
    assert diagnostic(root) is None, ET.tostring(root)
    found = {r["001"].data for r in marc_records(root)}
    assert int(root.findtext(f"{SRW}numberOfRecords")) == len(found)
    return found


def test_explain_read_by_sruthi(sru):
    """sruthi reads the ZeeRex record: server, indexes per set, schemas, limits."""
    import sruthi

    url = sru[0]
    info = sruthi.explain(url)
    assert info.sru_version == "1.2"
    assert info.server["host"] == "127.0.0.1" and info.server["database"] == "sru"
    assert info.server["port"] == int(url.split(":")[2].split("/")[0])
    assert set(info.index["dc"]) == {"title", "creator", "subject", "date"}
    assert set(info.index["bath"]) == {"isbn"} and "serverChoice" in info.index["cql"]
    assert info.schema["marcxml"]["identifier"] == "info:srw/schema/1/marcxml-v1.1"
    assert "rusmarc" in info.schema
    assert info.config["maximumRecords"] == 50
    assert info.config["defaults"]["numberOfRecords"] == 10
    assert get(url).tag == f"{SRW}explainResponse"  # no operation: explain


def test_sruthi_pages_through_every_match(sru):
    """sruthi follows nextRecordPosition over 55 matches, 7 at a time: each record once."""
    import sruthi

    res = sruthi.searchretrieve(sru[0], query='dc.title = "сказки"', maximum_records=7)
    assert res.count == TALES
    got = [r for r in res]
    assert sorted(r["text"] for r in got) == [f"tale{i:02d}" for i in range(1, TALES + 1)]  # 001
    assert {r["schema"] for r in got} == {"info:ibc/schema/rusmarcxml-v1"}
    (chess,) = list(sruthi.searchretrieve(sru[0], query="bath.isbn = 9780140449136",
                                          record_schema="marcxml"))
    assert chess["schema"] == "info:srw/schema/1/marcxml-v1.1" and chess["text"] == "en-chess"
    assert chess["extra"]["sigla"] == "ШК2" and chess["extra"]["available"] == "1"


def test_paging_bounds(sru):
    url = sru[0]
    root = search(url, "cql.allRecords = 1", maximumRecords="100000")
    total = int(root.findtext(f"{SRW}numberOfRecords"))
    assert total == 3 + 1 + 2 + TALES  # books, the open media item, chess ×2; not deleted/teachers
    assert len(root.findall(f"{SRW}records/{SRW}record")) == 50
    assert root.findtext(f"{SRW}nextRecordPosition") == "51"
    last = search(url, "cql.allRecords = 1", startRecord="51", maximumRecords="50")
    assert len(last.findall(f"{SRW}records/{SRW}record")) == total - 50
    assert last.find(f"{SRW}nextRecordPosition") is None
    positions = [int(p.text) for p in last.iter(f"{SRW}recordPosition")]
    assert positions == list(range(51, total + 1))
    assert diagnostic(search(url, "cql.allRecords = 1", startRecord=str(total + 1))) == 61
    none = search(url, "dc.title = нетакогослова", startRecord="1")
    assert diagnostic(none) is None and none.findtext(f"{SRW}numberOfRecords") == "0"
    count_only = search(url, "сказки", maximumRecords="0")
    assert count_only.findtext(f"{SRW}numberOfRecords") == str(TALES)
    assert count_only.find(f"{SRW}records") is None


def test_stored_rusmarc_read_by_pymarc_with_holdings(sru):
    """The RUSMARC record as stored (a field the columns do not keep is there), found by its
    ISBN-10 with hyphens or its ISBN-13; holdings per school in extraRecordData."""
    url = sru[0]
    for isbn in ("5-17-015240-X", "517015240x", "978-5-17-015240-5"):
        root = search(url, f'bath.isbn = "{isbn}"')
        (rec,) = marc_records(root)
        assert rec["001"].data == "ru-chess"
        assert rec["200"]["a"] == "Шахматы для всех" and rec["010"]["a"] == "5-17-015240-X"
        assert rec["300"]["a"] == "Примечание, которого нет в колонках"
        # holdings are told per school beside the record, never as the record's own fields;
        # local fields and notes naming people are never published (catalogue_xml.PRIVATE_TAGS)
        assert not rec.get_fields("910", "907", "899", "317")
    (held,) = root.iter(f"{HOLD}holdings")
    schools = {s.get("sigla"): (s.findtext(f"{HOLD}name"), s.get("available"), s.get("total"))
               for s in held}
    assert schools == {"ШК1": ("Школа №1", "1", "2"), "ШК2": ("Школа №2", "1", "1")}
    assert root.findtext(f"{SRW}records/{SRW}record/{SRW}recordSchema") == "info:ibc/schema/rusmarcxml-v1"


def test_marc21_on_request(sru):
    """recordSchema=marcxml: the MARC21 record as stored, the RUSMARC one built as MARC21 from
    its stored columns (so without the RUSMARC-only note)."""
    url = sru[0]
    (en,) = marc_records(search(url, "bath.isbn = 9780140449136", recordSchema="marcxml"))
    assert en["245"]["a"] == "Chess for kids and parents" and en["500"]["a"] == "A note only the MARC keeps"
    assert not en.get_fields("541", "590", "852", "952")
    root = search(url, "dc.creator = карпов", recordSchema="info:srw/schema/1/marcxml-v1.1")
    (ru,) = marc_records(root)
    assert ru["245"]["a"] == "Шахматы для всех" and ru["100"]["a"] == "Карпов, Анатолий Евгеньевич"
    assert ru["020"]["a"] == "5-17-015240-X" and ru["260"]["c"] == "1995" and ru["650"]["a"] == "Шахматы"
    assert not ru.get_fields("300", "500")
    assert not ru.get_fields("952", "852")  # the copies: per school in extraRecordData
    assert root.findtext(f"{SRW}records/{SRW}record/{SRW}recordSchema") == "info:srw/schema/1/marcxml-v1.1"
    # the MARC21 record asked as RUSMARC is built from its columns
    (back,) = marc_records(search(url, "bath.isbn = 9780140449136", recordSchema="rusmarc"))
    assert back["200"]["a"] == "Chess for kids and parents" and not back.get_fields("245")
    # string packing: the same record, escaped
    s = search(url, "bath.isbn = 9780140449136", recordPacking="string")
    text = s.findtext(f"{SRW}records/{SRW}record/{SRW}recordData")
    assert text.startswith("<record") and "Chess for kids" in text


BOOKS = {"war", "kid", "anna"}
CHESS = {"ru-chess", "en-chess"}


@pytest.mark.parametrize("query, expected", [
    ("толстой", BOOKS),
    ("cql.serverChoice = Толстого", BOOKS),  # stemmed like the catalogue's search
    ("dc.title = мира and dc.creator = толстой", {"war"}),  # stems: «мира» finds «мир»
    ("dc.title = мир not сказки", {"war"}),
    ('dc.title = "мир война"', {"war"}),  # = is all words, any order
    ('dc.title adj "мир война"', set()),  # adj is a phrase, in order
    ('dc.title adj "война и мир"', {"war"}),
    ('dc.title any "анна денискины"', {"anna", "kid"}),
    ('dc.title all "анна каренина"', {"anna"}),
    ('dc.title == "Война и мир"', {"war"}),
    ('dc.title == "война"', set()),  # the whole title
    ("title = каренина", {"anna"}),  # dc is the default context set
    ("dc.subject = шахматы", {"ru-chess"}),
    ("dc.subject = chess", {"en-chess"}),
    ("шахмат*", {"ru-chess"}),
    ("chess or шахматы", CHESS),
    ("(chess or шахматы) and dc.date < 2000", {"ru-chess"}),
    ("(chess or шахматы) not dc.date >= 2000", {"ru-chess"}),
    ("толстой not (dc.title = мир or dc.title = анна)", {"kid"}),
    ("dc.date within \"1994 2006\" and (dc.creator = карпов or dc.creator = fischer)", CHESS),
    ("dc.date = 1995", {"ru-chess"}),
    ("dc.date <> 1995 and dc.subject any \"chess шахматы\"", {"en-chess"}),
    ("dc.date > 2004 and chess", {"en-chess"}),
    ("dc.date <= 1995 and шахматы", {"ru-chess"}),
    ("bath.isbn any \"9780140449136 5170152400\"", CHESS),  # 978517015240-5 either way
    ("ШАХМАТЫ", {"ru-chess"}),
    ("удалённая", set()),  # deleted records never appear
    ("контрольная", set()),  # teachers-only media never appear anonymously
    ("шахматам", {"ru-chess"}),
    ("dc.title = фотосинтез", {"media-open"}),
    ('> x = "info:srw/cql-context-set/1/dc-v1.1" x.title = каренина', {"anna"}),
    ('dc.title = "\'; DROP TABLE records; --"', set()),
    ("cql.serverChoice = \"x') OR 1=1 --\"", set()),
])
def test_cql_queries(sru, query, expected):
    assert keys(sru[0], query) == expected


@pytest.mark.parametrize("params, number", [
    ({"query": "dc.title = (a"}, 10),
    ({"query": "(dc.title = a"}, 10),
    ({"query": "a and"}, 10),
    ({"query": ""}, 10),
    ({"query": '"unterminated'}, 10),
    ({"query": "dc.isbn = 1"}, 16),
    ({"query": "zz.title = 1"}, 15),
    ({"query": "dc.title < мир"}, 19),
    ({"query": "dc.date adj 1990"}, 19),
    ({"query": "dc.title =/stem мир"}, 20),
    ({"query": "мир prox война"}, 39),
    ({"query": "dc.date = девяностые"}, 36),
    ({"query": "bath.isbn = 12345"}, 36),
    ({"query": "м*р"}, 28),
    ({"query": "м*"}, 29),
    ({"query": "a sortBy dc.title"}, 80),
    ({"query": " or ".join(["мир"] * 40)}, 38),
    ({"query": "мир " * 600}, 6),
    ({"query": 'dc.title = "' + " ".join(["слово"] * 17) + '"'}, 6),
    ({"query": "мир", "maximumRecords": "-1"}, 6),
    ({"query": "мир", "startRecord": "0"}, 6),
    ({"query": "мир", "startRecord": "abc"}, 6),
    ({"query": "мир", "startRecord": "100000000"}, 6),
    ({"query": "мир", "recordSchema": "dc"}, 66),
    ({"query": "мир", "recordPacking": "json"}, 71),
    ({"query": "мир", "sortKeys": "title"}, 80),
    ({"query": "мир", "nonsense": "1"}, 8),
    ({}, 7),
    ({"query": "мир", "version": "2.0"}, 5),
])
def test_diagnostics(sru, params, number):
    """HTTP 200 and the diagnostic SRU 1.2 names; no records."""
    root = get(sru[0], operation="searchRetrieve", **{"version": "1.2", **params})
    assert root.tag == f"{SRW}searchRetrieveResponse"
    assert diagnostic(root) == number
    assert root.findtext(f"{SRW}numberOfRecords") == "0" and root.find(f"{SRW}records") is None


def test_operation_and_version_diagnostics(sru):
    url = sru[0]
    assert diagnostic(get(url, operation="scan", version="1.2", scanClause="a")) == 8
    assert diagnostic(get(url, operation="scan", version="1.2")) == 4
    no_version = get(url, operation="searchRetrieve", query="мир")
    assert diagnostic(no_version) == 7
    assert diagnostic(get(url, query="мир")) == 7  # a query without an operation
    assert get(url, operation="searchRetrieve", version="1.1", query="мир").find(
        f"{SRW}records") is not None


def test_post_form_and_read_only_server(sru):
    """SRU over POST; and a read-only `ibc serve` on the same database answers GET and POST."""
    url, db_url, tmp = sru
    r = httpx.post(url, data={"operation": "searchRetrieve", "version": "1.2",
                              "query": "dc.title = каренина"}, timeout=30)
    assert r.status_code == 200 and "Анна Каренина" in r.text
    SEEN.append(r.text)
    cfg = tmp / "ro.toml"
    write_config(cfg, db_url, "ro", advertise=False, read_only=True)
    proc = ServerProcess(cfg, tmp)
    proc.start()
    try:
        ro = f"{proc.url}/sru"
        assert keys(ro, "dc.creator = карпов") == {"ru-chess"}
        r = httpx.post(ro, data={"operation": "searchRetrieve", "version": "1.2",
                                 "query": "шахматы"}, timeout=30)
        assert r.status_code == 200 and "Шахматы для всех" in r.text
        assert httpx.post(f"{proc.url}/api/v1/session", json={"card": "C5A"}).status_code in (401, 503)
    finally:
        proc.stop()


def test_no_reader_data_in_any_answer(sru):
    """Every record in both schemas and both packings, explain, a reader's name searched: no
    card number or name of a seeded reader anywhere (and every answer of this module)."""
    url = sru[0]
    for schema in ("rusmarc", "marcxml"):
        for start in ("1", "51"):
            search(url, "cql.allRecords = 1", startRecord=start, maximumRecords="50",
                   recordSchema=schema)
    search(url, "cql.allRecords = 1", recordPacking="string", maximumRecords="50")
    get(url, operation="explain", version="1.2")
    assert keys(url, "петрова or сидоров or c5a") == set()
    words = re.compile(r"[\wА-Яа-яЁё]+")
    for text in SEEN:
        found = set(words.findall(text))
        leaked = [r for r in READERS if r in found]
        assert not leaked, leaked
