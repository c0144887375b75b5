"""The desk's textbook titles in a real browser (Debian's Chromium via Selenium, `ibc serve` on
the demo library), by keyboard: open «Учебники» from the menu, filter by grade, open a title,
type a wrong grade (the refusal next to the field), save it right, make a novel a textbook
through the search, upload a small federal list CSV and read its report.

``DESK_SHOTS=docs/screenshots/desk pytest tests/desk/test_browser_textbooks.py`` writes
desk-textbooks-list/-edit-error/-edit/-add/-fpu.png.
"""

from __future__ import annotations

from tests.desk.conftest import browser_login, focused, shot, type_keys, waiter

FPU = ("№ в ФПУ;Предмет;Авторы;Наименование учебника;Класс;Издательство\n"
       "1.1.2.4.1.1.1;Математика;Виленкин Н.Я., Жохов В.И.;Математика;5;Мнемозина\n"
       "1.1.2.1.1.1.1;Русский язык;Ладыженская Т.А., Баранов М.Т.;Русский язык (в 2 частях);5;Просвещение\n"
       "1.1.2.4.1.2.1;Математика;Дорофеев Г.В., Шарыгин И.Ф.;Математика;6;Просвещение\n"
       "1.1.2.8.1.1.1;Астрономия;Воронцов-Вельяминов Б.А.;Астрономия;11;Просвещение\n"
       "1.1.x;Химия;Габриелян О.С.;Химия;8;Просвещение\n")



def _press(driver, element) -> None:
    """Focus an element (as Tab would) and press Enter on it."""
    from selenium.webdriver.common.keys import Keys

    driver.execute_script("arguments[0].focus()", element)
    type_keys(driver, Keys.ENTER)


def _retype(driver, text: str) -> None:
    """Select the focused field's text and type over it."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).perform()
    type_keys(driver, text)


def test_titles_by_keyboard(desk_server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    url, _cfg = desk_server
    wait = waiter(browser, 30)
    browser_login(browser, url)
    _press(browser, browser.find_element(By.LINK_TEXT, "Учебники"))
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Учебники"))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Математика. 5 класс" in body and "Русский язык" in body and "из каталога" in body
    shot(browser, "textbooks-list")

    # the grade filter: the select by keyboard, then «Показать»
    browser.execute_script("document.getElementById('grade').focus()")
    type_keys(browser, "5" + Keys.TAB + Keys.ENTER)
    wait.until(lambda d: "grade=5" in d.current_url)
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Математика. 5 класс" in body and "Математика. 6 класс" not in body

    # open a title: the subject has the focus; a wrong grade first
    _press(browser, browser.find_element(By.LINK_TEXT, "Математика. 5 класс"))
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Математика. 5 класс"))
    assert focused(browser, By.ID, "subject")
    type_keys(browser, Keys.TAB)
    _retype(browser, "12" + Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.ID, "grades-error")))
    assert "от 1 до 11" in browser.find_element(By.ID, "grades-error").text
    assert focused(browser, By.ID, "grades"), "the wrong field has the focus"
    shot(browser, "textbooks-edit-error")
    _retype(browser, "5-6" + Keys.TAB)
    _retype(browser, "МГУ — школе" + Keys.TAB)
    _retype(browser, "1.1.2.4.1.1.1" + Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.ID, "done")))
    assert browser.find_element(By.ID, "done").text == "Сохранено."
    assert browser.find_element(By.ID, "grades").get_attribute("value") == "5-6"
    assert "заданы вручную" in browser.find_element(By.ID, "source").text
    shot(browser, "textbooks-edit")

    # any record can become a textbook: search it, open it, fill it
    _press(browser, browser.find_element(By.PARTIAL_LINK_TEXT, "К списку учебников"))
    wait.until(ec.presence_of_element_located((By.ID, "find")))
    browser.execute_script("document.getElementById('find').focus()")
    type_keys(browser, "Капитанская дочка" + Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".tb-found a")))
    shot(browser, "textbooks-add")
    _press(browser, browser.find_element(By.CSS_SELECTOR, ".tb-found a"))
    wait.until(ec.text_to_be_present_in_element((By.ID, "source"), "пока не учебник"))
    type_keys(browser, "Литература" + Keys.TAB + "8" + Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.ID, "done")))

    # the federal list: the file field has the focus; the driver types the file's path
    path = tmp_path / "fpu.csv"
    path.write_bytes(FPU.encode("cp1251"))
    browser.get(f"{url}/desk/textbooks/fpu")
    wait.until(ec.presence_of_element_located((By.ID, "file")))
    assert focused(browser, By.ID, "file")
    browser.find_element(By.ID, "file").send_keys(str(path))
    type_keys(browser, Keys.TAB * 2 + Keys.ENTER)  # «Только проверить» left off, «Загрузить»
    wait.until(ec.presence_of_element_located((By.ID, "report-h")))
    figures = {k: browser.find_element(By.ID, f"fpu-{k}").text for k in ("rows", "matched", "unmatched",
                                                                         "kept", "errors")}
    assert figures == {"rows": "5", "matched": "2", "unmatched": "1", "kept": "1", "errors": "1"}
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "числа через точку" in body and "оставлено как задано вручную" in body
    # the list on file: the Mathematics number was typed at the desk, astronomy is lacking
    assert "Учебников в перечне: 4" in body and "в каталоге нет 1 из них" in body
    assert "Воронцов-Вельяминов" in browser.find_element(By.ID, "fpu-missing").text
    shot(browser, "textbooks-fpu")
