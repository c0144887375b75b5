"""The desk's class sets in a real browser (Debian's Chromium via Selenium, `ibc serve` on the
demo library), by keyboard: open the class list from «Учебники», choose 5А's set (three textbooks), scan one
copy to the class, issue the rest automatically (the demo has 5 copies a title for 7 pupils:
the shortage is told), open the class teacher's print list, collect by typed barcodes (one
accepted with the pupil's name, one not on loan: loud); a job left running by a dead server is
shown interrupted and run again by Enter; the whole grade at once.

``DESK_SHOTS=docs/screenshots/desk pytest tests/desk/test_browser_class_sets.py`` writes
desk-textbooks-classes/-class/-class-issued/-class-print/-collect/-collect-warning.png and
desk-class-sets-job/-job-running/-job-interrupted/-job-grades.png (the class issue as a background job, a job
cut off by a dead server and run again, the whole grade's button).
"""

from __future__ import annotations

import sqlite3
from urllib.parse import quote

from tests.desk.conftest import browser_login, shot, type_keys, waiter

TITLES = ("Русский язык. 5 класс", "Литература. 5 класс", "Математика. 5 класс")


def _press(driver, element) -> None:
    """Focus an element (as Tab would) and press Enter on it."""
    from selenium.webdriver.common.keys import Keys

    driver.execute_script("arguments[0].focus()", element)
    type_keys(driver, Keys.ENTER)


def _codes(cfg, title: str) -> list[tuple[str, str]]:
    """(barcode, status) of a title's copies, in inventory order."""
    con = sqlite3.connect(cfg.parent / "desk.sqlite3")
    try:
        return con.execute(
            "SELECT c.barcode, c.status FROM copies c JOIN records r ON r.id = c.record_id "
            "WHERE r.title = ? ORDER BY c.inventory_number, c.barcode, c.id", (title,)).fetchall()
    finally:
        con.close()


def test_class_sets_by_keyboard(desk_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select

    url, cfg = desk_server
    wait = waiter(browser, 30)
    browser_login(browser, url)
    _press(browser, browser.find_element(By.LINK_TEXT, "Учебники"))
    wait.until(ec.presence_of_element_located((By.ID, "link-class-sets")))
    _press(browser, browser.find_element(By.ID, "link-class-sets"))
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Комплекты учебников"))
    assert "5А" in browser.find_element(By.TAG_NAME, "table").text
    year = int(browser.find_element(By.ID, "year").get_attribute("value"))
    shot(browser, "textbooks-classes")
    _press(browser, browser.find_element(By.LINK_TEXT, "5А"))
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Класс 5А"))
    assert browser.find_element(By.ID, "scan") == browser.switch_to.active_element

    # the set: each textbook chosen in the select by typing its name, then «Добавить в комплект»
    for title in TITLES:
        browser.execute_script("document.getElementById('record').focus()")
        type_keys(browser, title)
        assert Select(browser.find_element(By.ID, "record")).first_selected_option.text.startswith(title)
        _press(browser, browser.find_element(By.XPATH, "//button[@value='add']"))
        wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".cs-done"), "добавлен"))
    caption = browser.find_element(By.XPATH, "//caption[contains(., 'Учебники класса 5А')]/..").text
    assert all(t in caption for t in TITLES)

    # scan issue: the scan field has the focus; the first free Mathematics copy
    free = [c for c, status in _codes(cfg, TITLES[2]) if status == "available"]
    type_keys(browser, free[0] + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".cs-scan .cs-done"), "Выдано: Математика"))
    assert browser.find_element(By.ID, "scan") == browser.switch_to.active_element
    shot(browser, "textbooks-class")

    # issue the rest automatically: a background job whose page reloads itself until the report
    # is there; 7 pupils, 5 copies a title → the shortage per title
    _press(browser, browser.find_element(By.XPATH, "//button[normalize-space()='Выдать автоматически']"))
    wait.until(ec.url_contains("/desk/textbooks/classes/jobs/"))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".cs-report")))
    report = browser.find_element(By.CSS_SELECTOR, ".cs-report").text
    assert "Не хватает экземпляров" in report and "не хватает 2" in report
    assert "Математика. 5 класс: выдано 4" in report
    assert browser.find_element(By.ID, "job-state").text == "готово"
    assert not browser.find_elements(By.CSS_SELECTOR, "meta[http-equiv=refresh]")
    shot(browser, "class-sets-job")
    _press(browser, browser.find_element(By.CSS_SELECTOR, ".cs-report h2 a"))
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Класс 5А"))
    who = browser.find_element(By.XPATH, "//caption[starts-with(., 'Выдано:')]").text
    assert "Выдано: 15 из 21" in who
    shot(browser, "textbooks-class-issued")

    # the class teacher's print list
    _press(browser, browser.find_element(By.LINK_TEXT, "Экземпляр для классного руководителя"))
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".cs-teacher"), "Для классного руководителя"))
    assert "Подпись" in browser.find_element(By.CSS_SELECTOR, "table.cs-print").text
    shot(browser, "textbooks-class-print")

    # collection by typed barcodes
    browser.get(f"{url}/desk/textbooks/classes/collect?cls={quote('5А')}")
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Сдача учебников"))
    assert browser.find_element(By.ID, "scan") == browser.switch_to.active_element
    before = browser.find_element(By.XPATH, "//h2[starts-with(., 'Ещё не сдано')]").text
    type_keys(browser, free[0] + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".cs-done"), "Принято: Математика. 5 класс"))
    assert ", 5А" in browser.find_element(By.CSS_SELECTOR, ".cs-done").text
    after = browser.find_element(By.XPATH, "//h2[starts-with(., 'Ещё не сдано')]").text
    assert int(after.split(":")[1]) == int(before.split(":")[1]) - 1
    shot(browser, "textbooks-collect")
    type_keys(browser, free[0] + Keys.ENTER)  # again: already taken back, nothing twice
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".cs-done"), "Уже принято"))
    others = [c for c, status in _codes(cfg, "Недоросль") if status == "available"]
    type_keys(browser, others[0] + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".cs-loud"), "не выдан"))
    shot(browser, "textbooks-collect-warning")
    assert browser.find_element(By.PARTIAL_LINK_TEXT, "Скачать XLSX (класс 5А)")

    # a job left running by a server that died: interrupted, «Запустить ещё раз» goes on
    con = sqlite3.connect(cfg.parent / "desk.sqlite3")
    try:
        with con:
            job = con.execute(
                "INSERT INTO desk_jobs (kind, target, started_by, started_at, state, progress, total, "
                "report, boot) VALUES ('class_issue', ?, 'marina', CURRENT_TIMESTAMP, 'running', 3, 6, "
                "'{}', 'gone')", (f"{year}:5А",)).lastrowid
    finally:
        con.close()
    browser.get(f"{url}/desk/textbooks/classes/jobs/{job}")
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".cs-alert"), "Запустите ещё раз"))
    assert browser.find_element(By.ID, "job-state").text == "прервана"
    assert browser.switch_to.active_element.text == "Запустить ещё раз"
    shot(browser, "class-sets-job-interrupted")
    type_keys(browser, Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".cs-report")))
    # it goes on: the 14 held stay, the pupil who handed Mathematics in is not given it again, the
    # copy handed in goes to a pupil who had none
    rerun = browser.find_element(By.CSS_SELECTOR, ".cs-report").text
    assert "Выдано сейчас: 1. Уже было на руках: 14." in rerun and "уже вернули: 1" in rerun

    # a job still running (its row as the server's own thread would leave it mid-way: the same
    # boot): the page says how far it is and reloads itself until the row says done
    con = sqlite3.connect(cfg.parent / "desk.sqlite3")
    try:
        with con:
            boot = con.execute("SELECT boot FROM desk_jobs WHERE state = 'done' LIMIT 1").fetchone()[0]
            job = con.execute(
                "INSERT INTO desk_jobs (kind, target, started_by, started_at, state, progress, total, "
                "report, boot) VALUES ('class_issue', ?, 'marina', CURRENT_TIMESTAMP, 'running', 120, 240, "
                "'{}', ?)", (f"{year}:9А", boot)).lastrowid
    finally:
        con.close()
    browser.get(f"{url}/desk/textbooks/classes/jobs/{job}")
    wait.until(ec.text_to_be_present_in_element((By.ID, "job-state"), "идёт"))
    assert "Выдано 120 из ~240" in browser.find_element(By.CSS_SELECTOR, "label[for=job-progress]").text
    assert browser.find_elements(By.CSS_SELECTOR, "meta[http-equiv=refresh]")
    shot(browser, "class-sets-job-running")
    report = ('{"classes": [{"class": "9А", "year": %d, "pupils": 30, "titles": 8, "lent": 240, '
              '"per_title": [], "held_before": 0, "issued_before": 0, "missing": [], "refused": []}]}' % year)
    con = sqlite3.connect(cfg.parent / "desk.sqlite3")
    try:
        with con:
            con.execute("UPDATE desk_jobs SET state = 'done', progress = 240, finished_at = CURRENT_TIMESTAMP, "
                        "report = ? WHERE id = ?", (report, job))
    finally:
        con.close()
    waiter(browser, 15).until(ec.text_to_be_present_in_element((By.ID, "job-state"), "готово"))  # reloaded
    assert "Выдано сейчас: 240" in browser.find_element(By.CSS_SELECTOR, ".cs-report").text

    # the whole grade, from the class list
    browser.get(f"{url}/desk/textbooks/classes")
    button = browser.find_element(By.XPATH, "//button[normalize-space()='Выдать всем 5-м классам']")
    shot(browser, "class-sets-job-grades")
    _press(browser, button)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".cs-report")))
    assert "Выдача 5-м классам" in browser.find_element(By.TAG_NAME, "h1").text

