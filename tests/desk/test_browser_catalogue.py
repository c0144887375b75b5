"""The desk's catalogue in a real browser (Debian's Chromium via Selenium, `ibc serve` on the demo
library), by keyboard as at a desk with a USB scanner: search and read the facets, scan a copy's
barcode to open its record, change the copy's status in the editor, upload a MARC file with a
broken record and read the report.

``DESK_SHOTS=docs/screenshots/desk pytest tests/desk/test_browser_catalogue.py`` writes
desk-catalogue-search/-record/-copy/-import/-job-running/-job.png.
"""

from __future__ import annotations

from tests.desk.conftest import browser_login, focused, shot, type_keys, waiter
from tests.desk.test_catalogue import _broken, _marc

FIRST_COPY = "2100000000012"  # the demo's first copy (library/demo/loader.py copy_barcode(1))


def _wait(driver, seconds: float = 30):

    return waiter(driver, seconds)



def _press(driver, element) -> None:
    """Focus an element (as Tab would) and press Enter on it."""
    from selenium.webdriver.common.keys import Keys

    driver.execute_script("arguments[0].focus()", element)
    type_keys(driver, Keys.ENTER)


def test_search_scan_and_edit_a_copy_by_keyboard(desk_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    url, _cfg = desk_server
    wait = _wait(browser)
    browser_login(browser, url)
    browser.get(f"{url}/desk/catalogue")
    wait.until(ec.presence_of_element_located((By.ID, "q")))
    assert focused(browser, By.ID, "q"), "the search field has the focus: a scan goes there"
    type_keys(browser, "пушкин" + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.ID, "found"), "Найдено"))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Евгений Онегин" in body and "Уточнить" in body and "Наличие" in body
    assert "на месте:" in body
    shot(browser, "catalogue-search")

    # a hit opens its record (Enter on the focused link), and back
    _press(browser, browser.find_element(By.LINK_TEXT, "Капитанская дочка"))
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Капитанская дочка"))
    assert "Экземпляры (5)" in browser.find_element(By.TAG_NAME, "body").text
    browser.back()
    wait.until(ec.text_to_be_present_in_element((By.ID, "found"), "Найдено"))

    # a facet by keyboard: «Есть на полке»
    _press(browser, browser.find_element(By.LINK_TEXT, "Есть на полке"))
    wait.until(ec.text_to_be_present_in_element((By.CLASS_NAME, "cat-chosen"), "Выбрано"))

    # a scanned barcode opens the record of its copy
    browser.get(f"{url}/desk/catalogue")
    wait.until(ec.presence_of_element_located((By.ID, "q")))
    assert focused(browser, By.ID, "q")
    type_keys(browser, FIRST_COPY + Keys.ENTER)
    wait.until(ec.url_contains("/desk/catalogue/record/"))
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Недоросль"))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert FIRST_COPY in body and "Фонвизин" in body and "Экземпляры (3)" in body
    shot(browser, "catalogue-record")

    # the copy editor: status «в ремонте», saved by Tab to the button and Enter
    row = browser.find_element(By.CSS_SELECTOR, "tr[id^=copy-]")
    _press(browser, row.find_element(By.PARTIAL_LINK_TEXT, "Изменить"))
    wait.until(ec.url_contains("/desk/catalogue/copy/"))
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), FIRST_COPY))
    shot(browser, "catalogue-copy")
    status = browser.find_element(By.ID, "status")
    browser.execute_script("arguments[0].focus()", status)
    type_keys(browser, "в ремонте")
    assert status.get_attribute("value") == "bindery"
    type_keys(browser, Keys.TAB)
    assert browser.switch_to.active_element.text == "Сохранить"
    type_keys(browser, Keys.ENTER)
    wait.until(ec.url_contains("saved="))
    done = browser.find_element(By.CLASS_NAME, "cat-done").text
    assert f"Сохранено: экземпляр {FIRST_COPY} — в ремонте" in done


def test_upload_a_marc_file_and_read_its_report(desk_server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    url, _cfg = desk_server
    wait = _wait(browser)
    browser_login(browser, url)
    browser.get(f"{url}/desk/catalogue/import")
    wait.until(ec.presence_of_element_located((By.ID, "file")))
    assert focused(browser, By.ID, "file"), "the file field has the focus"
    path = tmp_path / "новые книги.mrc"
    many = 15_000  # enough to watch it run for a moment
    path.write_bytes(_marc(1, "7001") + _broken(2) + b"".join(_marc(n, f"7{n:04d}") for n in range(3, many + 2)))
    # A file chooser is the operating system's dialog: the driver types the path into the field.
    browser.find_element(By.ID, "file").send_keys(str(path))
    shot(browser, "catalogue-import")
    type_keys(browser, Keys.TAB * 3)  # the format, the encoding (both «определить»), «Загрузить»
    assert browser.switch_to.active_element.text == "Загрузить"
    type_keys(browser, Keys.ENTER)
    wait.until(ec.url_contains("/desk/catalogue/import/"))
    if browser.find_element(By.ID, "job-state").text == "идёт":
        assert browser.find_elements(By.CSS_SELECTOR, 'meta[http-equiv="refresh"][content="2"]')

        def midway(driver) -> bool:  # a refresh that shows records read while it still runs
            try:
                state = driver.find_element(By.ID, "job-state").text
                value = int(driver.find_element(By.ID, "job-progress").get_attribute("value") or 0)
            except Exception:  # noqa: BLE001 - the page is being reloaded
                return False
            return state != "идёт" or value > 0

        _wait(browser, 60).until(midway)
        if browser.find_element(By.ID, "job-state").text == "идёт":
            shot(browser, "catalogue-job-running")
    _wait(browser, 120).until(ec.text_to_be_present_in_element((By.ID, "job-state"), "готово"))  # refreshes itself
    assert not browser.find_elements(By.CSS_SELECTOR, 'meta[http-equiv="refresh"]')
    body = browser.find_element(By.TAG_NAME, "body").text
    assert browser.find_element(By.ID, "added").text == str(many)
    assert browser.find_element(By.ID, "failed").text == "1"
    assert f"Прочитано записей: {many + 1} из {many + 1}" in body
    assert "справочник полей не сходится" in body and "новые книги.mrc" in body
    assert browser.find_element(By.ID, "job-progress").get_attribute("value") == "100"
    shot(browser, "catalogue-job")
    # the imported titles are found
    browser.get(f"{url}/desk/catalogue")
    wait.until(ec.presence_of_element_located((By.ID, "q")))
    type_keys(browser, "сказки о рыбаке" + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.ID, "found"), "Найдено"))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert all(f"Сказки о рыбаке {n}" in body for n in (1, 3, 4))

    # the list of imports
    browser.get(f"{url}/desk/catalogue/import")
    wait.until(ec.presence_of_element_located((By.CLASS_NAME, "cat-jobs")))
    assert "новые книги.mrc" in browser.find_element(By.CLASS_NAME, "cat-jobs").text
