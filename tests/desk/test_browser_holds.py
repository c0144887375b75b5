"""Holds («Заказы») in a real browser (Debian's Chromium via Selenium) against `ibc serve` on
the demo library, by keyboard alone as at a desk with a USB scanner: the only copy of
«Ревизор» is lent, a hold is placed from the record's page by typing a card + Enter, the copy
is scanned back at the circulation page and the page says loudly to put it on the hold shelf
for that reader; the slip, the holds page, the reader's panel with the book waiting.

``DESK_SHOTS=docs/screenshots/desk pytest tests/desk/test_browser_holds.py`` writes
desk-holds-record, -return, -slip, -page, -panel, -cancel.
"""

from __future__ import annotations

from tests.desk.conftest import browser_login, shot, type_keys, waiter

LENDER = "2000000229"  # Орлов Дмитрий Игоревич, 7В: has the only copy
WAITER = "2000000252"  # Ильина Екатерина, 9А: queues for it («Ревизор» is 12+)
TITLE = "Ревизор"      # one copy in the demo catalogue


def _only_copy(title: str) -> str:
    """The demo barcode of the first copy of `title` (library/demo/loader.py numbers them)."""
    from library.demo.loader import catalogue, copy_barcode

    n = 0
    for t in catalogue()["titles"]:
        if t["title"] == title:
            assert int(t.get("copies") or 1) == 1
            return copy_barcode(n + 1)
        n += int(t.get("copies") or 1)
    raise AssertionError(title)


def test_place_a_hold_by_card_and_return_the_copy_to_the_hold_shelf(desk_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    url, _cfg = desk_server
    wait = waiter(browser)
    barcode = _only_copy(TITLE)
    browser_login(browser, url)

    # the only copy goes out (scan the card, then the book)
    browser.get(f"{url}/desk/circulation")
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Выдача и возврат"))
    type_keys(browser, LENDER + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Орлов Дмитрий"))
    type_keys(browser, barcode + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "main"), f"Выдано: «{TITLE}»"))

    # the record's page (a scanned barcode in the catalogue's search opens it): the card field
    # has the focus since no copy is on the shelf; a card + Enter places the hold
    browser.get(f"{url}/desk/catalogue?q={barcode}")
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), TITLE))
    # the search lands on «#copy-N», where Chromium skips autofocus: the record's own address
    browser.get(browser.current_url.split("#")[0])
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), TITLE))
    field = browser.find_element(By.ID, "hold-card")
    active = browser.switch_to.active_element
    assert field == active, (active.tag_name, active.get_attribute("id"), browser.current_url)
    type_keys(browser, WAITER + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.ID, "hold-notice"),
                                                "Екатерина И., 9А — в очереди: 1-й"))
    queue = browser.find_element(By.ID, "hold-queue").text
    assert "Екатерина И., 9А" in queue and "в очереди: 1-й" in queue
    assert browser.find_element(By.ID, "hold-card") == browser.switch_to.active_element
    shot(browser, "holds-record")

    # a second Enter with the same card: refused in words next to the field
    type_keys(browser, WAITER + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.ID, "hold-error"), "уже стоит в очереди"))

    # the copy comes back at the start page: the loud message names the reader
    browser.get(f"{url}/desk/circulation")
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Выдача и возврат"))
    type_keys(browser, barcode + Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.ID, "hold-notice")))
    notice = browser.find_element(By.ID, "hold-notice").text
    assert "Отложите на полку заказов. Ждёт: Екатерина И., 9А, до " in notice and TITLE in notice
    assert "Орлов" not in notice
    assert browser.find_element(By.ID, "scan") == browser.switch_to.active_element, \
        "the scan field keeps the focus for the next book"
    shot(browser, "holds-return")

    # the slip (Tab from the scan field reaches the slip link before the form's button)
    link = browser.find_element(By.ID, "hold-slip-link")
    browser.execute_script("arguments[0].focus()", link)
    type_keys(browser, Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Квитанция заказа"))
    slip = browser.find_element(By.ID, "slip").text
    assert "ЗАКАЗ" in slip and "Для: Екатерина И., 9А" in slip and TITLE in slip and barcode in slip
    shot(browser, "holds-slip")

    # the holds page: the copy on the hold shelf, no queue left
    browser.get(f"{url}/desk/holds")
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Заказы"))
    shelf = browser.find_element(By.ID, "hold-shelf").text
    assert barcode in shelf and "Екатерина И., 9А" in shelf
    assert browser.find_element(By.ID, "expire") == browser.switch_to.active_element
    type_keys(browser, Keys.ENTER)  # «Обработать просроченные»: nothing has ended yet
    wait.until(ec.text_to_be_present_in_element((By.ID, "holds-notice"), "Делать нечего"))
    shot(browser, "holds-page")

    # the reader's panel says the book waits; scanning it lends it
    browser.get(f"{url}/desk/circulation")
    type_keys(browser, WAITER + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Ильина Екатерина"))
    ready = browser.find_element(By.CLASS_NAME, "holds-ready").text
    assert TITLE in ready and barcode in ready
    assert "ждёт на полке заказов до" in browser.find_element(By.ID, "reader-holds").text
    shot(browser, "holds-panel")

    # the cancel page (from the panel's link), reached and left by keyboard
    link = browser.find_element(By.CLASS_NAME, "holds-cancel-button")
    browser.execute_script("arguments[0].focus()", link)
    type_keys(browser, Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Отмена заказа"))
    assert browser.find_element(By.ID, "reason") == browser.switch_to.active_element
    shot(browser, "holds-cancel")
    type_keys(browser, Keys.ESCAPE)
    browser.find_element(By.PARTIAL_LINK_TEXT, "Назад").send_keys(Keys.ENTER)  # «← Назад»
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Ильина Екатерина"))
    assert browser.find_element(By.ID, "scan") == browser.switch_to.active_element
    type_keys(browser, barcode + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "main"), f"Выдано: «{TITLE}»"))
    assert "Заказы: 0" in browser.find_element(By.ID, "reader-holds").text
