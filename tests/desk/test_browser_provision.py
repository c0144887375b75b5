"""The desk's textbook provision in a real browser (Debian's Chromium via Selenium, against `ibc
serve` on the demo library), by keyboard alone: from «Учебники» open the provision, read the
class × subject table (shortfalls in words), type a wrong year (refused beside the field), look at
next year's needs and the order list, and download the report «Обеспеченность учебниками».

``DESK_SHOTS=docs/screenshots/desk pytest tests/desk/test_browser_provision.py`` writes
desk-textbooks-provision*.png.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.desk.conftest import browser_login, shot, type_keys, waiter
from tests.desk.test_browser_reports import attr, tab_to, wait_file


@pytest.fixture(scope="module")
def school(desk_server):
    """The demo library, one copy of its first textbook lost; the figures the page must show
    (library.textbooks.provision on the same database, this school year)."""
    from sqlalchemy import select

    from library.circulation.school_year import school_year
    from library.storage.database import Database
    from library.storage.models import Copy, TextbookTitle
    from library.textbooks.provision import next_year, order_list, provision

    url, cfg = desk_server
    db_url = re.search(r'^url = "([^"]+)"', cfg.read_text(encoding="utf-8"), re.M)
    assert db_url
    db = Database(db_url.group(1))
    year = school_year(dt.date.today())
    try:
        with db.transaction() as s:
            first = s.scalar(select(TextbookTitle.record_id).where(TextbookTitle.grade_from.is_not(None))
                             .order_by(TextbookTitle.record_id).limit(1))
            assert first is not None, "the demo has textbooks with grades"
            copy = s.scalar(select(Copy).where(Copy.record_id == first, Copy.status == "available").limit(1))
            if copy is not None:
                copy.status = "lost"
        with db.session() as s:
            prov = provision(s, year, home="ИБЦ")
            order = order_list(s, next_year(s, year, home="ИБЦ"))
    finally:
        db.dispose()
    assert prov.needs, "the demo's pupils need textbooks"
    return url, year, prov, order


def back_to(driver, matches, what: str) -> None:
    """Press Shift+Tab until the focused element `matches` (back from an autofocused field)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    for _ in range(60):
        if matches(driver.switch_to.active_element):
            return
        ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
    raise AssertionError(f"Shift+Tab never reached {what}")


def test_provision_by_keyboard(school, chrome, downloads):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    url, year, prov, order = school
    driver = chrome
    wait = waiter(driver, 60)
    browser_login(driver, url)
    tab_to(driver, lambda el: el.tag_name == "a" and el.text == "Учебники", "the menu's «Учебники»")
    type_keys(driver, Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Учебники"))
    back_to(driver, attr("id", "link-provision"), "the provision link")  # the search field has the focus
    type_keys(driver, Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Обеспеченность учебниками"))
    assert driver.switch_to.active_element.get_attribute("id") == "year", "the year field has the focus"
    assert f"{year}/{(year + 1) % 100:02d}" in driver.find_element(By.TAG_NAME, "h1").text
    total = prov.total()
    text = driver.find_element(By.ID, "prov-total").text
    assert f"{min(100, total.percent or 0)} %" in text and f"{total.provided} из {total.needed}" in text
    rows = driver.find_elements(By.CSS_SELECTOR, "#prov-classes tbody tr")
    assert len(rows) == len(prov.needs)
    short = [n for n in prov.needs if n.shortfall]
    marked = driver.find_elements(By.CSS_SELECTOR, "#prov-classes tbody tr.prov-short")
    assert len(marked) == len(short)
    for row, need in zip(marked, short):
        assert row.text.endswith(f"не хватает: {need.shortfall}")
        colour = row.find_element(By.TAG_NAME, "td").value_of_css_property("color")
        assert colour in ("rgba(143, 29, 29, 1)", "rgb(143, 29, 29)")
    shot(driver, "textbooks-provision")

    # A wrong year: refused beside the field, the typed value kept.
    erase = Keys.END + Keys.BACKSPACE * 6
    type_keys(driver, erase + "19x" + Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.ID, "year-error")))
    assert "год его сентября" in driver.find_element(By.ID, "year-error").text
    assert driver.find_element(By.ID, "year").get_attribute("value") == "19x"
    shot(driver, "textbooks-provision-error")
    tab_to(driver, attr("id", "year"), "the year field")
    type_keys(driver, erase + str(year) + Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.ID, "prov-total")))

    # The report's PDF and XLSX, by keyboard.
    for fmt, suffix in (("pdf", ".pdf"), ("xlsx", ".xlsx")):
        tab_to(driver, attr("id", f"download-{fmt}"), f"the {fmt} download link")
        type_keys(driver, Keys.ENTER)
        got = wait_file(downloads, suffix)
        assert got.name == f"Обеспеченность учебниками {year}-{(year + 1) % 100:02d}{suffix}"
        assert got.read_bytes()[:4] == (b"%PDF" if fmt == "pdf" else b"PK\x03\x04")

    # Next year's needs, then the order list.
    tab_to(driver, lambda el: el.tag_name == "a" and el.text == "Потребность на следующий год",
           "the next year link")
    type_keys(driver, Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Потребность на следующий год"))
    assert driver.find_elements(By.CSS_SELECTOR, "#prov-next-classes tbody tr")
    shot(driver, "textbooks-provision-next")
    tab_to(driver, lambda el: el.tag_name == "a" and el.text == "Заказ", "the order link")
    type_keys(driver, Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Заказ учебников"))
    if order:
        rows = driver.find_elements(By.CSS_SELECTOR, "#prov-order tbody tr")
        assert len(rows) == len(order)
        caption = driver.find_element(By.CSS_SELECTOR, "#prov-order caption").text
        assert caption == f"Купить: {sum(x.copies for x in order)} экз."
    else:
        assert "Нечего покупать" in driver.find_element(By.ID, "prov-order").text
    shot(driver, "textbooks-provision-order")
