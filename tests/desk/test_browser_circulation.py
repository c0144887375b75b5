"""«Выдача и возврат» in a real browser (Debian's Chromium via Selenium) against `ibc serve` on
the demo library, by keyboard alone as at a desk with a USB scanner: a card typed + Enter opens
the reader, three books typed + Enter are lent, the receipt, the books scanned back at the start
page, a refusal by the age rating overridden with a reason.

``DESK_SHOTS=docs/screenshots/desk pytest tests/desk/test_browser_circulation.py`` writes
desk-circulation-start, -panel, -receipt, -override.
"""

from __future__ import annotations

from tests.desk.conftest import browser_login, shot, type_keys, waiter

READER = "2000000229"  # Орлов Дмитрий Игоревич, 7В
LITTLE = "2000000101"  # Иванов Артём, 1А: seven years old


def _first_copy(title: str) -> str:
    """The demo barcode of the first copy of `title` (library/demo/loader.py numbers them)."""
    from library.demo.loader import catalogue, copy_barcode

    n = 0
    for t in catalogue()["titles"]:
        if t["title"] == title:
            return copy_barcode(n + 1)
        n += int(t.get("copies") or 1)
    raise AssertionError(title)


def test_lend_three_books_and_take_them_back_by_keyboard(desk_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    url, _cfg = desk_server
    wait = waiter(browser)
    browser_login(browser, url)
    browser.get(f"{url}/desk/circulation")
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Выдача и возврат"))
    scan = browser.find_element(By.ID, "scan")
    assert scan == browser.switch_to.active_element, "the scan field has the focus"
    shot(browser, "circulation-start")

    type_keys(browser, READER + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Орлов Дмитрий"))
    assert browser.find_element(By.ID, "scan") == browser.switch_to.active_element

    books = {"Недоросль": _first_copy("Недоросль"), "Бедная Лиза": _first_copy("Бедная Лиза"),
             "Горе от ума": _first_copy("Горе от ума")}
    for n, (title, barcode) in enumerate(books.items(), 1):
        type_keys(browser, barcode + Keys.ENTER)
        wait.until(ec.text_to_be_present_in_element((By.ID, "loan-count"), f"{n} из 5"))
        assert f"Выдано: «{title}»" in browser.find_element(By.TAG_NAME, "main").text
        assert browser.find_element(By.ID, "scan") == browser.switch_to.active_element, \
            "the focus is back on the scan field after each book"
    table = browser.find_element(By.CLASS_NAME, "circ-loans").text
    assert all(title in table for title in books)
    shot(browser, "circulation-panel")

    # The receipt: the link after lending, by keyboard.
    link = browser.find_element(By.LINK_TEXT, "Квитанция")
    browser.execute_script("arguments[0].focus()", link)
    type_keys(browser, Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Квитанция"))
    receipt = browser.find_element(By.CLASS_NAME, "circ-receipt").text
    assert "Читатель: Дмитрий О." in receipt and "Орлов" not in receipt
    assert all(title in receipt for title in books) and "Всего книг: 3" in receipt
    assert "Принтер на сервере не настроен" in browser.find_element(By.TAG_NAME, "main").text
    shot(browser, "circulation-receipt")
    type_keys(browser, Keys.ENTER)  # «Назад к читателю» has the focus
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Орлов Дмитрий"))

    # «Закончить» (Tab from the scan field past «Выдать»), then the books scanned back.
    assert browser.find_element(By.ID, "scan") == browser.switch_to.active_element
    type_keys(browser, Keys.TAB + Keys.TAB + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Выдача и возврат"))
    assert "Орлов" not in browser.find_element(By.TAG_NAME, "body").text
    for n, (title, barcode) in enumerate(books.items(), 1):
        type_keys(browser, barcode + Keys.ENTER)
        wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "main"), f"Принято: «{title}»"))
        assert browser.find_element(By.TAG_NAME, "main").text.count("Принято:") == n
        assert browser.find_element(By.ID, "scan") == browser.switch_to.active_element
    type_keys(browser, READER + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Орлов Дмитрий"))
    assert browser.find_element(By.ID, "loan-count").text == "0 из 5"
    assert "Принято" not in browser.find_element(By.TAG_NAME, "main").text, \
        "the returns of the start page are not this reader's visit"


def test_an_age_refusal_overridden_with_a_reason(desk_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    url, _cfg = desk_server
    wait = waiter(browser)
    browser_login(browser, url)
    browser.get(f"{url}/desk/circulation")
    wait.until(ec.presence_of_element_located((By.ID, "scan")))
    type_keys(browser, LITTLE + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Иванов Артём"))
    type_keys(browser, _first_copy("Анна Каренина") + Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.ID, "refusal")))
    refusal = browser.find_element(By.ID, "refusal").text
    assert "Книга для читателей 16+" in refusal and "Выдать всё равно" in refusal
    assert browser.find_element(By.ID, "loan-count").text == "0 из 5"
    assert browser.find_element(By.ID, "scan") == browser.switch_to.active_element
    shot(browser, "circulation-override")

    # Shift+Tab from the scan field: back through the override form to its reason.
    reason = browser.find_element(By.ID, "reason")
    browser.execute_script("arguments[0].focus()", reason)
    type_keys(browser, Keys.ARROW_DOWN + Keys.TAB + "читает с мамой" + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.ID, "loan-count"), "1 из 5"))
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "Выдано: «Анна Каренина»" in main
    assert "вопреки правилу: Разрешение заведующей: читает с мамой" in main
