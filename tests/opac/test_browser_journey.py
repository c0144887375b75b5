"""A parent's whole errand on a phone (issue 22's «done when»), in a real browser against `ibc
serve` on the demo library: find the child's book, open its record (where it stands, until when
it is lent — never to whom), sign in from the record page and come back to it, open «Мой
кабинет», renew the loan, sign out. Debian's Chromium at 375×812 (touch, mobile user agent) and
at 1366×768 by keyboard only."""

from __future__ import annotations

import re

import pytest

from tests.opac.conftest import DEMO_CARD, DEMO_PIN, focused, type_keys, waiter
from tests.opac.test_browser_account import _fits, _sign_out, lent

__all__ = ["lent"]  # the module's fixture: a children's book lent to DEMO_CARD


def _errand(driver, url: str, title: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    driver.delete_all_cookies()
    driver.get(f"{url}/opac")
    waiter(driver).until(ec.presence_of_element_located((By.ID, "q")))
    driver.find_element(By.ID, "q").click()
    assert focused(driver, By.ID, "q")
    type_keys(driver, title + Keys.ENTER)
    waiter(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".card-title a")))
    link = next(a for a in driver.find_elements(By.CSS_SELECTOR, ".card-title a") if a.text == title)
    driver.execute_script("arguments[0].focus()", link)
    type_keys(driver, Keys.ENTER)
    waiter(driver).until(ec.url_contains("/opac/record/"))
    record_url = driver.current_url
    copies = driver.find_element(By.ID, "copies-h").find_element(By.XPATH, "..").text
    assert re.search(r"выдана до \d\d\.\d\d", copies), copies  # the date only: never who has it
    _fits(driver)

    sign_in = driver.find_element(By.CSS_SELECTOR, "header nav a[href^='/opac/login']")
    driver.execute_script("arguments[0].focus()", sign_in)
    type_keys(driver, Keys.ENTER)
    waiter(driver).until(ec.url_contains("/opac/login"))
    assert focused(driver, By.ID, "card")
    type_keys(driver, DEMO_CARD + Keys.TAB + DEMO_PIN + Keys.ENTER)
    waiter(driver).until(lambda d: d.current_url == record_url)  # back where the parent was
    mine = driver.find_element(By.CSS_SELECTOR, "header nav a[href='/opac/account']")
    driver.execute_script("arguments[0].focus()", mine)
    type_keys(driver, Keys.ENTER)
    waiter(driver).until(ec.presence_of_element_located((By.ID, "loans-h")))
    item = next(i for i in driver.find_elements(By.CSS_SELECTOR, "#main .items .item") if title in i.text)
    before = re.search(r"\d\d\.\d\d\.\d{4}", item.text).group(0)
    renew = item.find_element(By.CSS_SELECTOR, "form[action='/opac/renew'] button")
    driver.execute_script("arguments[0].focus()", renew)
    type_keys(driver, Keys.ENTER)
    waiter(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, "p.done, p.error")))
    assert not driver.find_elements(By.CSS_SELECTOR, "p.error")
    after = re.search(r"продлена до (\d\d\.\d\d\.\d{4})", driver.find_element(By.CSS_SELECTOR, "p.done").text)
    assert after and after.group(1) != before
    _fits(driver)
    _sign_out(driver, url)


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_find_the_book_sign_in_renew_sign_out(opac_server, lent, device, request):
    url, _cfg = opac_server
    _errand(request.getfixturevalue(device), url, lent)
