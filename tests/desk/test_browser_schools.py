"""The desk per school in a real browser (Debian's Chromium via Selenium) against `ibc serve` on
the demo library with a second school ГИМН5 «Гимназия № 5»: its librarian `gleb` (added by
`ibc librarian add --school`) logs in by keyboard, scans a reader of ГИМН5 and lends a ГИМН5
copy; a copy of the demo school is refused with the desk's words. Returns are open to every
school: the demo school's copy lent before comes back at gleb's desk with «отправьте её туда».

``DESK_SHOTS=docs/screenshots/desk pytest tests/desk/test_browser_schools.py`` writes
desk-school-lend and desk-school-return.
"""

from __future__ import annotations

from tests.desk.conftest import PASSWORD, browser_login, ibc, shot, type_keys, waiter
from tests.desk.test_browser_circulation import _first_copy

GYM, GYM_NAME = "ГИМН5", "Гимназия № 5"
CARD, BOOK = "5500000001", "5599000001"


def _second_school(cfg) -> None:
    """ГИМН5 with one record («Физика. 7 класс», copy BOOK), a reader (CARD) and its librarian."""
    import tomllib

    from library.search import reindex_all
    from library.storage.database import Database
    from library.storage.models import Copy, Reader, Record

    for argv, stdin in ((["schools", "add", GYM, GYM_NAME], ""),
                        (["librarian", "add", "gleb", "--school", GYM], f"{PASSWORD}\n")):
        done = ibc(cfg, *argv, stdin=stdin)
        assert done.returncode == 0, (argv, done.stdout, done.stderr)
    url = tomllib.loads(cfg.read_text(encoding="utf-8"))["database"]["url"]
    db = Database(url)
    try:
        with db.transaction() as s:
            rec = Record(key="gym-phys-7", title="Физика. 7 класс", authors=["Пёрышкин, А. В."], version=1)
            rec.copies.append(Copy(sigla=GYM, barcode=BOOK, status="available", version=1))
            s.add(rec)
            s.add(Reader(card_number=CARD, first_name="Гоша", last_name="Гимназистов", class_name="7А",
                         sigla=GYM))
        with db.transaction() as s:
            reindex_all(s)
    finally:
        db.dispose()


def test_a_school_b_librarian_lends_a_school_b_copy_by_keyboard(desk_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    url, cfg = desk_server
    _second_school(cfg)
    wait = waiter(browser)
    browser_login(browser, url, "gleb")
    assert GYM in browser.find_element(By.ID, "who-school").text
    browser.get(f"{url}/desk/circulation")
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Выдача и возврат"))
    type_keys(browser, CARD + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Гимназистов Гоша"))

    other = _first_copy("Недоросль")  # the demo school's copy
    type_keys(browser, other + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element(
        (By.TAG_NAME, "main"), "Этот экземпляр принадлежит другой школе: его выдают там"))
    assert browser.find_element(By.ID, "scan") == browser.switch_to.active_element

    type_keys(browser, BOOK + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.ID, "loan-count"), "1 из"))
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "Выдано: «Физика. 7 класс»" in main
    assert "Физика. 7 класс" in browser.find_element(By.CLASS_NAME, "circ-loans").text
    shot(browser, "school-lend")


def test_a_copy_of_another_school_comes_back_with_where_to_send_it(desk_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    url, _cfg = desk_server
    wait = waiter(browser)
    # the demo school's admin (every school) lends a demo copy to a demo reader …
    browser_login(browser, url)
    browser.get(f"{url}/desk/circulation")
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Выдача и возврат"))
    book = _first_copy("Бедная Лиза")
    type_keys(browser, "2000000229" + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Орлов Дмитрий"))
    type_keys(browser, book + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "main"), "Выдано: «Бедная Лиза»"))
    # … and it is handed in at ГИМН5's desk
    browser_login(browser, url, "gleb")
    browser.get(f"{url}/desk/circulation")
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Выдача и возврат"))
    type_keys(browser, book + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "main"), "Принято: «Бедная Лиза»"))
    assert "отправьте её туда" in browser.find_element(By.TAG_NAME, "main").text
    shot(browser, "school-return")
