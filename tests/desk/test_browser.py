"""The librarian's desk in a real browser: Debian's Chromium driven by Selenium and
chromium-driver (both installed by `./install.sh dev`), against a real `ibc serve` on the demo
library. Everything by keyboard, as at a desk with a USB scanner: Tab, typing and Enter.

With ``DESK_SHOTS=DIR`` the test also writes the pages' screenshots there
(``docs/screenshots/desk/desk-*.png`` are made this way: ``DESK_SHOTS=docs/screenshots/desk pytest
tests/desk/test_browser.py``).
"""

from __future__ import annotations

from tests.desk.conftest import PASSWORD, shot, type_keys


def test_a_librarian_logs_in_and_out_by_keyboard(desk_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    url, _cfg = desk_server
    wait = WebDriverWait(browser, 15)
    browser.get(f"{url}/desk")  # not logged in: the login page
    wait.until(ec.url_contains("/desk/login"))
    assert browser.find_element(By.NAME, "name") == browser.switch_to.active_element, \
        "the name field has the focus: the librarian types at once"
    shot(browser, "login")

    type_keys(browser, "marina" + Keys.TAB + "не тот пароль" + Keys.ENTER)  # a wrong password
    wait.until(ec.presence_of_element_located((By.NAME, "password")))
    assert "Неверное имя или пароль" in browser.find_element(By.TAG_NAME, "body").text
    assert "/desk/login" in browser.current_url

    field = browser.find_element(By.NAME, "password")
    field.clear()
    name = browser.find_element(By.NAME, "name")
    name.clear()
    name.click()
    type_keys(browser, "marina" + Keys.TAB + PASSWORD + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Рабочее место"))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "marina" in body
    assert "/desk/login" not in browser.current_url
    shot(browser, "home")
    for path, name in (("/desk/accounts", "accounts"), ("/desk/accounts/audit", "audit")):
        browser.get(f"{url}{path}")
        wait.until(ec.presence_of_element_located((By.TAG_NAME, "table")))
        shot(browser, name)
    browser.get(f"{url}/desk")

    # Logout by keyboard: focus the «Выйти» button and press Enter.
    logout = browser.find_element(By.XPATH, "//button[normalize-space()='Выйти']")
    browser.execute_script("arguments[0].focus()", logout)
    type_keys(browser, Keys.ENTER)
    wait.until(ec.url_contains("/desk/login"))
    browser.get(f"{url}/desk")  # the session is over: back to the login page
    wait.until(ec.url_contains("/desk/login"))


def test_the_desk_cookie_is_guarded(desk_server, browser):
    """The session cookie is HttpOnly and SameSite=Strict: no script and no other site sees it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    url, _cfg = desk_server
    browser.delete_all_cookies()
    browser.get(f"{url}/desk/login")
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.NAME, "name")))
    browser.find_element(By.NAME, "name").send_keys("marina")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD + Keys.ENTER)
    WebDriverWait(browser, 15).until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"),
                                                                      "Рабочее место"))
    cookie = browser.get_cookie("ibc_desk")
    assert cookie and cookie["httpOnly"] and cookie.get("sameSite") == "Strict"
    assert "ibc_desk" not in browser.execute_script("return document.cookie")


def test_the_english_switch_by_keyboard(desk_server, browser):
    """The «English» link in the header (reached by Tab) shows the same page in English, and
    «Русский» brings Russian back; the choice stays for the next pages."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    from tests.desk.conftest import browser_login, waiter

    url, _cfg = desk_server
    browser_login(browser, url)
    wait = waiter(browser)
    link = browser.find_element(By.LINK_TEXT, "English")
    browser.execute_script("arguments[0].focus()", link)
    type_keys(browser, Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Librarian's desk"))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    shot(browser, "home-en")
    browser.get(f"{url}/desk/circulation")
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "Reader card or book barcode"))
    browser.find_element(By.ID, "scan").send_keys("2000000229" + Keys.ENTER)  # a demo pupil's card
    wait.until(ec.url_contains("card=2000000229"))
    shot(browser, "circulation-panel-en")
    link = browser.find_element(By.LINK_TEXT, "Русский")
    browser.execute_script("arguments[0].focus()", link)
    type_keys(browser, Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "nav"), "Выдача"))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ru"
