"""The desk's readers section in a real browser (Debian's Chromium via Selenium) against
`ibc serve` on the demo library, by keyboard alone: search, add a reader (a refused form first),
set the reader's PIN, upload a class list, look at the school-year preview.

``DESK_SHOTS=docs/screenshots/desk pytest tests/desk/test_browser_readers.py`` writes
desk-readers-list, -new, -reader, -import and -year.
"""

from __future__ import annotations

from tests.desk.conftest import browser_login, shot, type_keys, waiter


def _tab_to(driver, element_id: str, limit: int = 80) -> None:
    """Press Tab until the element with `element_id` has the focus (as a keyboard user does)."""
    from selenium.webdriver.common.keys import Keys

    for _ in range(limit):
        if driver.switch_to.active_element.get_attribute("id") == element_id:
            return
        type_keys(driver, Keys.TAB)
    raise AssertionError(f"Tab never reached #{element_id}")


def test_readers_by_keyboard(desk_server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    url, _cfg = desk_server
    wait = waiter(browser)
    browser_login(browser, url)

    # the list: the search field has the focus; a class typed + Enter
    browser.get(f"{url}/desk/readers")
    wait.until(ec.presence_of_element_located((By.ID, "q")))
    assert browser.switch_to.active_element.get_attribute("id") == "q"
    type_keys(browser, "5а" + Keys.ENTER)
    wait.until(ec.url_contains("q="))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "table.rd-table")))
    rows = browser.find_elements(By.CSS_SELECTOR, "table.rd-table tbody tr")
    assert len(rows) == 7 and all(r.text.startswith("5А") for r in rows)
    shot(browser, "readers-list")

    # a new reader: first without a class (refused next to the field, the form kept)
    browser.get(f"{url}/desk/readers/new")
    wait.until(ec.presence_of_element_located((By.ID, "last_name")))
    assert browser.switch_to.active_element.get_attribute("id") == "last_name"
    type_keys(browser, "Соколова" + Keys.TAB + "Вера" + Keys.TAB + "Павловна" + Keys.TAB + Keys.TAB
              + Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.ID, "class_name-error")))
    assert "Ученику нужен класс" in browser.find_element(By.ID, "class_name-error").text
    assert browser.find_element(By.ID, "last_name").get_attribute("value") == "Соколова"
    assert browser.switch_to.active_element.get_attribute("id") == "class_name", \
        "the refused field has the focus"
    shot(browser, "readers-new")
    type_keys(browser, "6 б" + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Соколова Вера Павловна"))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Читатель добавлен" in body and "6Б" in body
    card = browser.find_element(By.ID, "card").text
    assert card.isdigit()

    # the PIN, typed twice, by Tab from the top of the page
    type_keys(browser, Keys.TAB)
    _tab_to(browser, "pin")
    type_keys(browser, "2580" + Keys.TAB + "2580" + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "p.rd-done"), "ПИН-код установлен"))
    assert browser.find_element(By.ID, "pin-state").text == "есть"
    shot(browser, "readers-reader")

    # a class list (the file chosen as a user picks it; then Tab to the button and Enter)
    lst = tmp_path / "6b.csv"
    lst.write_text("ФИО;Класс;Номер билета\nСоколова Вера Павловна;6Б;" + card + "\n"
                   "Волков Глеб Ильич;6Б;3000000001\nБез Класса;;3000000002\n", encoding="utf-8")
    browser.get(f"{url}/desk/readers/import")
    wait.until(ec.presence_of_element_located((By.ID, "file")))
    browser.find_element(By.ID, "file").send_keys(str(lst))
    type_keys(browser, Keys.TAB + Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.ID, "report")))
    assert browser.find_element(By.ID, "added").text == "1"
    assert browser.find_element(By.ID, "updated").text == "1"
    assert browser.find_element(By.ID, "skipped").text == "1"
    shot(browser, "readers-import")

    # the school-year preview (the move itself is not made here)
    browser.get(f"{url}/desk/readers/school-year")
    wait.until(ec.presence_of_element_located((By.ID, "plan")))
    plan = browser.find_element(By.ID, "plan").text
    assert "5А → 6А: 7 учеников" in plan and "11Б: выпуск, 7 учеников" in plan
    assert browser.find_element(By.XPATH, "//button[normalize-space()='Перевести классы']")
    shot(browser, "readers-year")
