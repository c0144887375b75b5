"""The OPAC's «my account» in a real browser (Debian's Chromium, Selenium) against `ibc serve` on
the demo library, where the demo pupil DEMO_CARD has PIN DEMO_PIN and a loan: sign in by
keyboard, see the loan, renew it and see the new due date, the reading history, sign out (the
account is closed afterwards) — on a 375 px phone and a 1366 px desktop, nothing wider than
the window.

``OPAC_SHOTS=docs/screenshots`` writes opac-login.png, opac-account.png, opac-history.png
(phone) and opac-account-desktop.png.
"""

from __future__ import annotations

import re
import sqlite3

import pytest
import tomllib

from tests.desk.conftest import ibc
from tests.opac.conftest import DEMO_CARD, DEMO_PIN, focused, shot, type_keys, waiter


@pytest.fixture(scope="module")
def lent(opac_server) -> str:
    """The title of a children's book lent to the demo reader (by `ibc checkout`, as at the
    desk): their demo loan is a class textbook, which is not renewed."""
    _url, cfg = opac_server
    db_url = tomllib.loads(cfg.read_text(encoding="utf-8"))["database"]["url"]
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as con:
        (barcode, title), (read, _title) = con.execute(
            "SELECT min(c.barcode), r.title FROM copies c JOIN records r ON r.id = c.record_id "
            "WHERE c.status = 'available' AND c.barcode IS NOT NULL AND coalesce(r.age_min, 0) <= 6 "
            "AND coalesce(r.item_type, 'book') = 'book' GROUP BY r.id ORDER BY r.id LIMIT 2").fetchall()
    for argv in (["checkout", "--reader", DEMO_CARD, "--item", read], ["checkin", "--item", read],
                 ["checkout", "--reader", DEMO_CARD, "--item", barcode]):
        done = ibc(cfg, *argv)  # one book read and returned, one on loan
        assert done.returncode == 0, (argv, done.stdout, done.stderr)
    return title


def _fits(driver) -> None:
    width, inner = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"the page is {width} px wide in a {inner} px window"


def _sign_in(driver, url: str, screenshot: str | None = None) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    driver.get(f"{url}/opac/account")  # not signed in: the sign-in form, back here afterwards
    waiter(driver).until(ec.url_contains("/opac/login"))
    assert focused(driver, By.ID, "card"), "the card field has the focus"
    _fits(driver)
    type_keys(driver, DEMO_CARD + Keys.TAB + "0000" + Keys.ENTER)  # a wrong PIN first
    waiter(driver).until(ec.presence_of_element_located((By.ID, "login-error")))
    assert "Неверный номер билета или PIN" in driver.find_element(By.ID, "login-error").text
    if screenshot:
        shot(driver, screenshot)
    driver.find_element(By.ID, "card").clear()
    driver.find_element(By.ID, "card").click()
    type_keys(driver, DEMO_CARD + Keys.TAB + DEMO_PIN + Keys.ENTER)
    waiter(driver).until(ec.url_contains("/opac/account"))
    waiter(driver).until(ec.presence_of_element_located((By.ID, "loans-h")))


def _sign_out(driver, url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    button = driver.find_element(By.CSS_SELECTOR, "form.logout button")
    driver.execute_script("arguments[0].focus()", button)
    type_keys(driver, Keys.ENTER)
    waiter(driver).until(lambda d: d.current_url.rstrip("/").endswith("/opac"))
    assert "Войти" in driver.find_element(By.CSS_SELECTOR, "header nav").text
    driver.get(f"{url}/opac/account")  # the session is over server-side
    waiter(driver).until(ec.url_contains("/opac/login"))


def test_a_reader_signs_in_renews_and_signs_out_on_a_phone(opac_server, phone, lent):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    url, _cfg = opac_server
    _sign_in(phone, url, screenshot="login")
    body = phone.find_element(By.TAG_NAME, "main").text
    assert "Книги на руках" in body and DEMO_CARD not in phone.page_source
    [item] = [i for i in phone.find_elements(By.CSS_SELECTOR, "#main .items .item") if lent in i.text]
    before = re.search(r"\d\d\.\d\d\.\d{4}", item.text).group(0)
    _fits(phone)
    renew = item.find_element(By.CSS_SELECTOR, "form[action='/opac/renew'] button")
    phone.execute_script("arguments[0].focus()", renew)
    type_keys(phone, Keys.ENTER)
    waiter(phone).until(ec.presence_of_element_located((By.CSS_SELECTOR, "p.done, p.error")))
    assert not phone.find_elements(By.CSS_SELECTOR, "p.error"), phone.find_element(By.CSS_SELECTOR, "p.error").text
    notice = phone.find_element(By.CSS_SELECTOR, "p.done").text
    after = re.search(r"продлена до (\d\d\.\d\d\.\d{4})", notice).group(1)
    assert after != before and after in phone.find_element(By.CSS_SELECTOR, ".items").text
    _fits(phone)
    shot(phone, "account")

    # the reading history: off, turned on by keyboard
    phone.find_element(By.LINK_TEXT, "История чтения и её настройка").send_keys(Keys.ENTER)
    waiter(phone).until(ec.url_contains("/opac/account/history"))
    assert "выключена" in phone.find_element(By.TAG_NAME, "main").text
    button = phone.find_element(By.XPATH, "//button[normalize-space()='Включить историю чтения']")
    phone.execute_script("arguments[0].focus()", button)
    type_keys(phone, Keys.ENTER)
    waiter(phone).until(ec.presence_of_element_located(
        (By.XPATH, "//button[normalize-space()='Выключить историю чтения']")))
    assert phone.find_elements(By.CSS_SELECTOR, "#main .items .item"), "the returned book is listed"
    _fits(phone)
    shot(phone, "history")
    _sign_out(phone, url)


def test_the_account_on_a_desktop(opac_server, desktop, lent):
    from selenium.webdriver.common.by import By

    url, _cfg = opac_server
    _sign_in(desktop, url)
    assert desktop.find_elements(By.CSS_SELECTOR, "form[action='/opac/renew'] button")
    headings = [h.tag_name for h in desktop.find_elements(By.CSS_SELECTOR, "main h1, main h2")]
    assert headings[0] == "h1" and set(headings[1:]) == {"h2"}
    _fits(desktop)
    shot(desktop, "account-desktop")
    _sign_out(desktop, url)


def _change_pin(driver, current: str, new: str, again: str) -> None:
    """Fill the PIN form by keyboard (the current PIN's field has the focus) and send it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    assert focused(driver, By.ID, "current"), "the current PIN's field has the focus"
    page = driver.find_element(By.TAG_NAME, "html")
    type_keys(driver, current + Keys.TAB + new + Keys.TAB + again + Keys.ENTER)
    waiter(driver).until(ec.staleness_of(page))  # the answer, not the form's own page
    waiter(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, "p.done, p.error")))


def test_a_reader_changes_the_pin_by_keyboard_on_a_phone(opac_server, phone):
    """Change the PIN (a mismatch first), see «PIN изменён», sign in with the new one, and put
    DEMO_PIN back for the module's other tests."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    url, _cfg = opac_server
    new_pin = "5927"
    _sign_in(phone, url)
    phone.find_element(By.LINK_TEXT, "Сменить PIN").send_keys(Keys.ENTER)
    waiter(phone).until(ec.url_contains("/opac/account/pin"))
    assert "от 4 до 8 цифр" in phone.find_element(By.ID, "pin-rule").text
    _fits(phone)
    _change_pin(phone, DEMO_PIN, new_pin, "5928")
    assert "Новые PIN не совпадают" in phone.find_element(By.CSS_SELECTOR, "p.error").text
    _fits(phone)
    shot(phone, "account-pin")
    _change_pin(phone, DEMO_PIN, new_pin, new_pin)
    assert not phone.find_elements(By.CSS_SELECTOR, "p.error"), phone.find_element(By.CSS_SELECTOR, "p.error").text
    assert "PIN изменён" in phone.find_element(By.CSS_SELECTOR, "p.done").text
    assert DEMO_CARD not in phone.page_source
    phone.get(f"{url}/opac/account/pin")  # still signed in: back to the old PIN
    waiter(phone).until(ec.presence_of_element_located((By.ID, "current")))
    _change_pin(phone, new_pin, DEMO_PIN, DEMO_PIN)
    assert "PIN изменён" in phone.find_element(By.CSS_SELECTOR, "p.done").text
    _sign_out(phone, url)
    _sign_in(phone, url)  # DEMO_PIN signs in again
    _sign_out(phone, url)
