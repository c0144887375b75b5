"""The OPAC's catalogue pages over HTTP on both backends (server/opac/catalogue_pages.py,
docs/OPAC.md «Catalogue pages»): search with its corrections, facets and paging, a record's
copies per school and place, new arrivals, covers, refusals of hostile input, the school
choice of a city, a read-only server, and no reader's data on any page."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.server.conftest import TODAY

SECOND, SECOND_NAME, DEFAULT, DEFAULT_NAME = "Ш2", "Школа № 2", "ИБЦ", "Школьный ИБЦ"
# Every reader of tests.server.conftest.populate: names and cards never appear on a page.
READER_WORDS = ("Петрова", "Сидоров", "Иванова", "Орлова", "Орлов", "Аня", "Ваня", "Мария",
                "Оля", "Петя", "C5A", "C1B", "CPIN", "CBLK", "Гоша", "Гимназистов", "G1")
SECURITY = {"content-security-policy": "default-src 'self'", "x-content-type-options": "nosniff",
            "x-frame-options": "DENY", "cache-control": "no-store"}
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
       b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
       b"\x00\x00IEND\xaeB`\x82")


def _ids(html: str) -> list[int]:
    """The records a list links to, in order."""
    return [int(m) for m in re.findall(r'href="/opac/record/(\d+)\?', html)]


def _record_id(db, key: str) -> int:
    from sqlalchemy import select

    from library.storage.models import Record

    with db.session() as s:
        return s.scalar(select(Record.id).where(Record.key == key))


def _clean(r) -> str:
    """The page's HTML after checking the security headers and that no reader is named."""
    for name, value in SECURITY.items():
        assert value in r.headers.get(name, ""), (name, r.headers.get(name))
    for word in READER_WORDS:
        assert word not in r.text, word
    return r.text


@pytest.fixture
def cat(opac, settings, tmp_path):
    """(client, db) on populate's data plus: a teachers-only media record, a record with
    subjects, year and ISBN (a cover file), 25 «Сказка N» records for paging, a place
    «Стеллаж 3» for ББК 84 and one copy of «Война и мир» on loan until 20.10."""
    from sqlalchemy import select

    from library.places.match import RuleSpec
    from library.places.spec import PlaceSpec
    from library.places.store import add_place
    from library.search import reindex_all
    from library.storage.models import Copy, Loan, MediaItem, Reader, Record

    make, db = opac
    covers = tmp_path / "covers"
    covers.mkdir()
    (covers / "9785170000000.png").write_bytes(PNG)
    settings.library.covers_dir = str(covers)
    with db.transaction() as s:
        secret = Record(key="secret", title="Контрольная работа ответы", item_type="media",
                        authors=["Учительская, Вера"], version=1)
        s.add(secret)
        s.flush()
        s.add(MediaItem(path="/m/secret.mp4", title="Контрольная работа ответы", kind="video",
                        access="teachers", record_id=secret.id))
        open_media = Record(key="photo", title="Фотосинтез в листе", item_type="media", version=1)
        s.add(open_media)
        s.flush()
        s.add(MediaItem(path="/m/photo.mp4", title="Фотосинтез в листе", kind="video",
                        access="everyone", record_id=open_media.id))
        rich = Record(key="rich", title="Приключения Незнайки", authors=["Носов, Николай Николаевич"],
                      publisher="Детская литература", place="Москва", year=2019,
                      isbn="978-5-17-000000-0", annotation="Сказочная повесть о коротышках.",
                      subjects=["Сказочные повести", "Детская литература"], bbk="84(2Рос=Рус)6",
                      age_rating="6+", version=1)
        rich.copies.append(Copy(sigla=DEFAULT, barcode="7001", status="available",
                                shelf_mark="84(2Рос=Рус)6 Н84", version=1))
        rich.copies.append(Copy(sigla=DEFAULT, barcode="7002", status="reserved", version=1))
        rich.copies.append(Copy(sigla=DEFAULT, barcode="7003", status="written_off", version=1))
        s.add(rich)
        for n in range(25):
            r = Record(key=f"tale{n}", title=f"Сказка номер {n}", authors=["Андерсен, Ганс Христиан"],
                       year=1990 + n % 3 * 10, item_type="book" if n % 5 else "textbook", version=1)
            r.copies.append(Copy(sigla=DEFAULT, barcode=f"8{n:03d}", status="available", version=1))
            s.add(r)
        add_place(s, DEFAULT, PlaceSpec("Стеллаж 3", note="полка 2", rules=(RuleSpec(bbk="84"),)))
        war = s.scalar(select(Copy).where(Copy.barcode == "1001"))
        reader = s.scalar(select(Reader).where(Reader.card_number == "C5A"))
        war.status = "on_loan"
        s.add(Loan(copy_id=war.id, reader_id=reader.id, reader_category="pupil",
                   due_date=dt.date(2026, 10, 20), issued_at=dt.datetime(2026, 10, 1, tzinfo=dt.UTC)))
    with db.transaction() as s:
        reindex_all(s)
    return make(), db


def _city(db) -> None:
    """A second school with two copies of «Война и мир» (one in transit) and one of «Анна
    Каренина»; a place «Полка Ш2» of its own."""
    from sqlalchemy import select

    from library.places.match import RuleSpec
    from library.places.spec import PlaceSpec
    from library.places.store import add_place
    from library.schools import add_school, ensure_default
    from library.search import reindex_all
    from library.storage.models import Copy, Record

    with db.transaction() as s:
        ensure_default(s, DEFAULT, DEFAULT_NAME)
        add_school(s, SECOND, SECOND_NAME)
        war = s.scalar(select(Record).where(Record.key == "war"))
        war.copies.append(Copy(sigla=SECOND, barcode="9001", status="available",
                               shelf_mark="84 Т53", version=1))
        war.copies.append(Copy(sigla=SECOND, barcode="9002", status="in_transit", version=1))
        anna = s.scalar(select(Record).where(Record.key == "anna"))
        anna.copies.append(Copy(sigla=SECOND, barcode="9101", status="available", version=1))
        add_place(s, SECOND, PlaceSpec("Полка Ш2", rules=(RuleSpec(shelf="84 Т53"),)))
    with db.transaction() as s:
        reindex_all(s)


# --- the first page --------------------------------------------------------------------------
def test_the_first_page_has_a_labelled_search_field_and_new_arrivals(cat):
    client, db = cat
    r = client.get("/opac")
    assert r.status_code == 200
    html = _clean(r)
    assert '<label for="q">' in html and 'id="q" name="q"' in html
    assert "autofocus" not in html
    assert 'action="/opac/search"' in html
    assert "Новинки" in html or "Новое" in html
    ids = _ids(html)
    assert 0 < len(ids) <= 6
    assert _record_id(db, "secret") not in ids


# --- search ----------------------------------------------------------------------------------
def test_a_search_lists_titles_with_availability_and_places(cat):
    client, db = cat
    html = _clean(client.get("/opac/search", params={"q": "незнайка"}))
    assert _ids(html) == [_record_id(db, "rich")]
    assert "Приключения Незнайки" in html and "Носов, Николай Николаевич" in html
    assert "есть в наличии: 1 из 2" in html  # the written-off copy does not count
    assert "Стеллаж 3 — полка 2" in html
    html = _clean(client.get("/opac/search", params={"q": "война"}))
    assert "есть в наличии: 1 из 2" in html
    html = _clean(client.get("/opac/search", params={"q": "сказка", "available": "1"}))
    assert "Найдено 25 изданий" in html


def test_the_wrong_keyboard_layout_and_a_typo_are_corrected(cat):
    client, db = cat
    html = _clean(client.get("/opac/search", params={"q": "djqyf"}))
    assert "Показаны результаты для «война»" in html
    assert _ids(html) == [_record_id(db, "war")]
    html = _clean(client.get("/opac/search", params={"q": "карнина"}))
    assert _ids(html) == [_record_id(db, "anna")]
    assert "Показаны результаты для «каренина»" in html


def test_nothing_found_gives_hints(cat):
    client, db = cat
    r = client.get("/opac/search", params={"q": "zzzzqqqxxx"})
    html = _clean(r)
    assert r.status_code == 200
    assert "Ничего не найдено" in html and _ids(html) == []
    html = _clean(client.get("/opac/search", params={"q": "незнайка", "type": "textbook"}))
    assert "Ничего не найдено" in html
    assert 'href="/opac/search?q=%D0%BD%D0%B5%D0%B7%D0%BD%D0%B0%D0%B9%D0%BA%D0%B0"' in html
    # an unknown word is left out, and the page says so
    html = _clean(client.get("/opac/search", params={"q": "незнайка zzzzqqqxxx"}))
    assert _ids(html) == [_record_id(db, "rich")] and "Не найдено и не учтено: zzzzqqqxxx" in html


def test_facets_narrow_the_search_and_can_be_removed(cat):
    client, _db = cat
    html = _clean(client.get("/opac/search", params={"q": "сказка"}))
    assert "Найдено 25 изданий" in html
    link = re.search(r'<a href="([^"]*type=textbook[^"]*)">Учебник</a>', html)
    assert link, "the kind facet offers «Учебник»"
    url = link.group(1).replace("&amp;", "&")
    narrowed = _clean(client.get(url))
    assert "Найдено 5 изданий" in narrowed
    assert parse_qs(urlsplit(url).query) == {"q": ["сказка"], "type": ["textbook"]}
    decade = _clean(client.get("/opac/search", params={"q": "сказка", "type": "textbook",
                                                        "decade": "1990"}))
    assert "Найдено 2 издания" in decade  # textbooks: n = 0, 5, 10, 15, 20; of 1990: 0 and 15
    assert len(_ids(decade)) == 2
    assert re.search(r'class="chip"[^>]*>Учебник <', decade) and re.search(r'class="chip"[^>]*>1990–1999 <', decade)
    # the chosen value's link removes it
    on = re.search(r'<a class="facet-on" href="([^"]*)"', narrowed)
    assert on and "type=" not in on.group(1)
    by_author = _clean(client.get("/opac/search", params={"author": "Носов, Николай Николаевич"}))
    assert "Приключения Незнайки" in by_author and "Сказка номер" not in by_author


def test_paging_twenty_a_page_within_bounds(cat):
    client, _db = cat
    first = _clean(client.get("/opac/search", params={"q": "сказка"}))
    assert len(_ids(first)) == 20
    assert "страница 1 из 2" in first and 'rel="next"' in first and 'rel="prev"' not in first
    second = _clean(client.get("/opac/search", params={"q": "сказка", "page": "2"}))
    assert len(_ids(second)) == 5 and 'rel="prev"' in second and 'rel="next"' not in second
    assert not set(_ids(first)) & set(_ids(second))
    beyond = client.get("/opac/search", params={"q": "сказка", "page": "7"})
    assert beyond.status_code == 200 and _ids(beyond.text) == []
    assert "На этой странице ничего нет" in beyond.text
    for bad in ("0", "501", "-1", "x", "1e3", "99999999999999999999", "²", "١"):
        r = client.get("/opac/search", params={"q": "сказка", "page": bad})
        assert r.status_code == 422, bad
        _clean(r)


def test_teachers_only_media_are_never_listed_nor_shown(cat):
    client, db = cat
    secret, photo = _record_id(db, "secret"), _record_id(db, "photo")
    html = _clean(client.get("/opac/search", params={"q": "контрольная работа ответы"}))
    assert secret not in _ids(html) and "Учительская" not in html
    assert photo in _ids(_clean(client.get("/opac/search", params={"q": "фотосинтез"})))
    assert client.get(f"/opac/record/{secret}").status_code == 404
    assert client.get(f"/opac/cover/{secret}").status_code == 404
    assert client.get(f"/opac/record/{photo}").status_code == 200
    assert secret not in _ids(client.get("/opac/new", params={"days": "90"}).text)


@pytest.mark.parametrize("params", [
    {"q": "x" * 501}, {"q": "x" * 10_000}, {"q": "война\x00"}, {"q": "a\x1bb"},
    {"q": "война", "decade": "19x0"}, {"q": "война", "bbk": "99999"},
    {"q": "война", "type": "<script>"}, {"q": "война", "age": "100+"},
    {"q": "война", "author": "x" * 201}, {"q": "война", "language": "rus'--"},
    {"q": "война", "age": "١٢+"}, {"q": "война", "decade": "١٩٩٠"},
])
def test_bad_input_is_a_clear_422_page(cat, params):
    client, _db = cat
    r = client.get("/opac/search", params=params)
    assert r.status_code == 422
    html = _clean(r)
    assert 'role="alert"' in html and '<label for="q">' in html
    assert "x" * 300 not in html  # a long query is not echoed back


def test_hostile_text_is_escaped(cat):
    client, _db = cat
    for q in ('<script>alert(1)</script>', "'; DROP TABLE records; --", '" onfocus="x'):
        r = client.get("/opac/search", params={"q": q})
        assert r.status_code == 200
        html = _clean(r)
        assert "<script>alert" not in html and 'onfocus="x' not in html
    r = client.get("/opac/search", params={"q": "война", "author": "<img src=x>"})
    assert r.status_code == 200 and "<img src=x>" not in r.text
    assert client.get("/opac/search", params={"q": "война"}).status_code == 200  # table intact


# --- a record --------------------------------------------------------------------------------
def test_a_record_shows_its_description_and_copies(cat):
    client, db = cat
    rid = _record_id(db, "rich")
    r = client.get(f"/opac/record/{rid}", params={"back": "/opac/search?q=носов"})
    html = _clean(r)
    assert r.status_code == 200
    for text in ("Приключения Незнайки", "Детская литература", "2019", "978-5-17-000000-0",
                 "Сказочная повесть о коротышках.", "6+", "Москва"):
        assert text in html, text
    assert 'href="/opac/search?author=%D0%9D%D0%BE%D1%81%D0%BE%D0%B2' in html
    assert 'href="/opac/search?subject=' in html
    assert "Стеллаж 3 — полка 2" in html and "на полке" in html
    assert "на полке заказов" in html
    assert html.count('<li><span class="place">') == 2  # the written-off copy is not shown
    assert '<a href="/opac/search?q=носов">' in html  # back to the search it came from
    assert f'src="/opac/cover/{rid}"' in html
    # the hold block: a copy on the shelf answers instead of a hold (holds.shelf_answers)
    assert "Книга есть на полке: приходите в библиотеку" in html
    assert "Войдите, чтобы заказать" not in html
    cover = client.get(f"/opac/cover/{rid}")
    assert cover.status_code == 200 and cover.headers["content-type"] == "image/png"
    assert cover.content == PNG


def test_a_copy_on_loan_shows_its_due_date_never_its_reader(cat):
    client, db = cat
    html = _clean(client.get(f"/opac/record/{_record_id(db, 'war')}"))
    assert "выдана до 20.10" in html
    assert "на полке" in html
    assert 'src="/opac/cover/' not in html
    assert client.get(f"/opac/cover/{_record_id(db, 'war')}").status_code == 404
    from sqlalchemy import update

    from library.search import reindex_all
    from library.storage.models import Copy, Record

    with db.transaction() as s:  # the other copy lent too (no loan row needed for the card)
        s.execute(update(Copy).where(Copy.barcode == "1002").values(status="on_loan"))
        ref = Record(key="dict", title="Толковый словарь", version=1)
        ref.copies.append(Copy(sigla=DEFAULT, barcode="6001", status="not_for_loan", version=1))
        s.add(ref)
    with db.transaction() as s:
        reindex_all(s)
    assert "все выданы" in _clean(client.get("/opac/search", params={"q": "война"}))
    card = _clean(client.get("/opac/search", params={"q": "толковый словарь"}))
    assert "только в читальном зале" in card and "все выданы" not in card
    kid = _clean(client.get(f"/opac/record/{_record_id(db, 'kid')}"))
    assert kid.count('<li><span class="place">') == 1  # one place, one status: one line
    assert "на полке · 2 экземпляра" in kid


@pytest.mark.parametrize("back", ["https://evil.example/", "//evil.example/opac", "/desk",
                                  "/opac\\..\\x", "javascript:alert(1)", "/opac/../desk",
                                  "/opac/search?q=\x00"])
def test_the_back_link_stays_in_the_opac(cat, back):
    client, db = cat
    html = _clean(client.get(f"/opac/record/{_record_id(db, 'war')}", params={"back": back}))
    assert 'href="/opac/search">' in html


@pytest.mark.parametrize("path", ["/opac/record/999999", "/opac/record/0", "/opac/record/abc",
                                  "/opac/record/99999999999999999999999", "/opac/cover/999999",
                                  "/opac/record/²", "/opac/cover/١"])
def test_unknown_records_are_404_pages(cat, path):
    client, _db = cat
    r = client.get(path)
    assert r.status_code == 404
    assert "text/html" in r.headers["content-type"]
    _clean(r)


def test_a_deleted_record_is_404(cat):
    from sqlalchemy import update

    from library.storage.models import Record

    client, db = cat
    rid = _record_id(db, "anna")
    with db.transaction() as s:
        s.execute(update(Record).where(Record.id == rid).values(deleted=True))
    assert client.get(f"/opac/record/{rid}").status_code == 404


# --- a city --------------------------------------------------------------------------------------
def test_a_single_school_shows_no_school_choice(cat):
    client, db = cat
    for path in ("/opac", "/opac/search?q=война", f"/opac/record/{_record_id(db, 'war')}",
                 "/opac/new"):
        html = _clean(client.get(path))
        assert 'name="school"' not in html and "Моя школа" not in html, path
    r = client.get("/opac/search", params={"q": "война", "school": "ЛЮБАЯ"})
    assert r.status_code == 200 and "set-cookie" not in r.headers


def test_a_city_shows_availability_per_school_and_remembers_my_school(cat):
    client, db = cat
    _city(db)
    html = _clean(client.get("/opac/search", params={"q": "война"}))
    assert 'name="school"' in html and SECOND_NAME in html
    assert f"{DEFAULT_NAME}:" in html and f"{SECOND_NAME}:" in html
    r = client.get("/opac/search", params={"q": "война", "school": SECOND})
    cookie = r.headers["set-cookie"]
    assert "ibc_opac_school=" in cookie and "Path=/opac" in cookie and "SameSite=lax" in cookie
    assert "HttpOnly" in cookie
    html = _clean(r)
    assert html.index(f"{SECOND_NAME}:") < html.index(f"{DEFAULT_NAME}:")  # my school first
    # the record page remembers: my school's copies first, each with its place and status
    rid = _record_id(db, "war")
    html = _clean(client.get(f"/opac/record/{rid}"))
    assert html.index(SECOND_NAME) < html.index(DEFAULT_NAME)
    assert "(моя школа)" in html
    assert "Полка Ш2" in html and "в пути" in html and "выдана до 20.10" in html
    # «only in my school»: Денискины рассказы has no copy there
    only = _clean(client.get("/opac/search", params={"q": "рассказы", "only": "1"}))
    assert _ids(only) == []
    assert _record_id(db, "kid") in _ids(_clean(client.get("/opac/search", params={"q": "рассказы"})))
    assert _ids(_clean(client.get("/opac/search", params={"q": "анна", "only": "1"}))) == [
        _record_id(db, "anna")]
    # an unknown school is refused; an empty one forgets the choice
    assert client.get("/opac/search", params={"q": "война", "school": "НЕТ"}).status_code == 422
    r = client.get("/opac/search", params={"q": "война", "school": ""})
    assert "ibc_opac_school=" in r.headers.get("set-cookie", "")
    assert 'selected>' not in r.text


# --- new arrivals ------------------------------------------------------------------------------
def test_new_arrivals_by_period_with_paging(cat):
    from sqlalchemy import update

    from library.storage.models import Record

    client, db = cat
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=60)
    with db.transaction() as s:
        s.execute(update(Record).where(Record.key.in_(["war", "kid"])).values(created_at=old))
    html = _clean(client.get("/opac/new"))  # 30 days by default
    ids = _ids(html)
    assert len(ids) == 20 and 'rel="next"' in html
    rest = _ids(_clean(client.get("/opac/new", params={"page": "2"})))
    shown = set(ids) | set(rest)
    assert _record_id(db, "war") not in shown and _record_id(db, "rich") in shown
    assert _record_id(db, "photo") not in shown  # no copy: not an arrival
    wide = set(_ids(client.get("/opac/new", params={"days": "90"}).text)) | set(
        _ids(client.get("/opac/new", params={"days": "90", "page": "2"}).text))
    assert _record_id(db, "war") in wide
    assert 'aria-current="page"' in html
    for bad in ({"days": "31"}, {"days": "x"}, {"page": "0"}, {"page": "501"}):
        assert client.get("/opac/new", params=bad).status_code == 422, bad


# --- the whole site --------------------------------------------------------------------------
def test_every_page_answers_on_a_read_only_server(opac, settings, tmp_path):
    from fastapi.testclient import TestClient

    from library.storage.database import Database
    from server.app import create_app

    _make, db = opac
    rid = _record_id(db, "war")
    settings.server.read_only = True
    ro_db = Database(db.url.render_as_string(hide_password=False))
    try:
        app = create_app(settings, ro_db, today=lambda: TODAY)
        with TestClient(app, raise_server_exceptions=False) as client:
            assert app.state.ibc.read_only
            for path in ("/opac", "/opac/search?q=djqyf", f"/opac/record/{rid}", "/opac/new",
                         "/opac/new?days=90"):
                r = client.get(path)
                assert r.status_code == 200, (path, r.text[:300])
                _clean(r)
    finally:
        ro_db.dispose()


def test_english_pages(cat):
    client, _db = cat
    client.cookies.set("ibc_opac_lang", "en", path="/opac")
    html = client.get("/opac/search", params={"q": "djqyf"}).text
    assert "Showing results for «война»" in html and "1 title found" in html


def test_every_message_has_its_russian_text():
    """Every msgid of the catalogue's code and templates is in the OPAC's Russian catalogues."""
    import ast
    from pathlib import Path

    from library.i18n import parse_po

    root = Path(__file__).resolve().parents[2] / "server" / "opac"
    have: dict[bytes, bytes] = {}
    for po in sorted((root / "locale" / "ru" / "LC_MESSAGES").glob("*.po")):
        have.update(parse_po(po.read_text(encoding="utf-8"), str(po)))
    used: set[str] = set()
    tree = ast.parse((root / "catalogue_pages.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_"):
            if node.args and isinstance(node.args[0], ast.Constant):
                used.add(node.args[0].value)
    call = re.compile(r"""\b_\(\s*(["'])((?:(?!\1).)*)\1""")
    plural = re.compile(r"""ngettext\(\s*"([^"]*)",\s*"([^"]*)\"""")
    for name in ("home.html", "search.html", "record.html", "new.html", "_card.html",
                 "_search_form.html"):
        text = re.sub(r"\{#.*?#\}", "", (root / "templates" / name).read_text(encoding="utf-8"), flags=re.S)
        used |= {m.group(2) for m in call.finditer(text)}
        used |= {f"{m.group(1)}\0{m.group(2)}" for m in plural.finditer(text)}
    missing = sorted(m for m in used if m.encode() not in have)
    assert not missing, missing


def test_links_quote_what_they_carry(cat):
    """A facet value with «&» and «#» goes through its link intact."""
    client, db = cat
    from library.storage.models import Record

    with db.transaction() as s:
        s.add(Record(key="amp", title="Том & Джерри", authors=["Хана & Барбера #1"], version=1))
    from library.search import reindex_all

    with db.transaction() as s:
        reindex_all(s)
    html = client.get(f"/opac/record/{_record_id(db, 'amp')}").text
    assert f'href="/opac/search?author={quote("Хана & Барбера #1", safe="").replace("%20", "+")}"' in html


def test_headings_in_order_and_every_field_labelled(cat):
    """Each page: one h1, no heading level skipped; every visible field has a <label>."""
    client, db = cat
    _city(db)
    for path in ("/opac", "/opac/search?q=сказка", "/opac/search?q=zzzzqqqxxx",
                 f"/opac/record/{_record_id(db, 'war')}", "/opac/new", "/opac/search?q=x&page=0"):
        html = client.get(path).text
        levels = [int(n) for n in re.findall(r"<h([1-6])\b", html)]
        assert levels.count(1) == 1 and levels[0] == 1, (path, levels)
        assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), (path, levels)
        labelled = set(re.findall(r'<label for="([^"]+)"', html))
        for tag in re.findall(r"<(?:input|select)\b[^>]*>", html):
            if 'type="hidden"' in tag:
                continue
            field_id = re.search(r'id="([^"]+)"', tag)
            wrapped = re.search(r'<label class="check"><' + re.escape(tag[1:]), html)
            assert (field_id and field_id.group(1) in labelled) or wrapped, (path, tag)


def test_browsing_writes_nothing(cat):
    """No search event, no popularity, no row anywhere: the catalogue pages only read."""
    from sqlalchemy import func, select

    from library.storage.models import Event, Record

    client, db = cat

    def snapshot():
        with db.session() as s:
            return (s.scalar(select(func.count()).select_from(Event)),
                    s.scalar(select(func.sum(Record.popularity))),
                    s.scalar(select(func.max(Record.version))))

    before = snapshot()
    for path in ("/opac", "/opac/search?q=война", "/opac/search?q=djqyf&available=1",
                 f"/opac/record/{_record_id(db, 'war')}", "/opac/new"):
        assert client.get(path).status_code == 200
    assert snapshot() == before


def test_a_signed_in_teacher_still_sees_a_pupils_share(cat):
    """The OPAC is public: teachers-only media stay hidden whoever is signed in; the pages know
    the reader is signed in (the header's «Мой кабинет»)."""
    from sqlalchemy import update

    from library.circulation.pins import hash_pin
    from library.storage.models import Reader
    from tests.opac.conftest import csrf

    client, db = cat
    with db.transaction() as s:
        s.execute(update(Reader).where(Reader.card_number == "CT").values(pin_hash=hash_pin("1357")))
    form = client.get("/opac/login")
    r = client.post("/opac/login", data={"card": "CT", "pin": "1357", "csrf": csrf(form.text)})
    assert r.status_code == 303, r.text
    secret = _record_id(db, "secret")
    for path in ("/opac", "/opac/search?q=контрольная работа ответы", "/opac/new?days=90"):
        html = client.get(path).text
        assert 'href="/opac/account"' in html, path
        assert secret not in _ids(html) and "Учительская" not in html, path
    assert client.get(f"/opac/record/{secret}").status_code == 404
    assert client.get(f"/opac/cover/{secret}").status_code == 404
