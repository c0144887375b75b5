"""The librarian's desk in a real browser: Debian's Chromium driven by Selenium and
chromium-driver (both installed by `./install.sh dev`), against a real `ibc serve` on the demo
library. Everything by keyboard, as at a desk with a USB scanner: Tab, typing and Enter.

With ``DESK_SHOTS=DIR`` the test also writes the pages' screenshots there
(``docs/screenshots/desk/desk-*.png`` are made this way: ``DESK_SHOTS=docs/screenshots/desk pytest
tests/desk/test_browser.py``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server.conftest import ServerProcess, write_config

PASSWORD = "библиотека-2026"
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def _ibc(cfg: Path, *argv: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "IBC_CONFIG"}
    return subprocess.run([sys.executable, "-m", "ibc", "--config", str(cfg), *argv],
                          input=stdin, capture_output=True, text=True, timeout=120, env=env,
                          check=False)


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """(url, config) of `ibc serve` on the demo library with one admin account."""
    tmp = tmp_path_factory.mktemp("desk")
    cfg = tmp / "desk.toml"
    write_config(cfg, f"sqlite:///{tmp / 'desk.sqlite3'}", "desk", advertise=False)
    for argv, stdin in ((["db", "upgrade"], ""), (["demo"], ""),
                        (["librarian", "add", "marina", "--role", "admin"], f"{PASSWORD}\n")):
        done = _ibc(cfg, *argv, stdin=stdin)
        assert done.returncode == 0, (argv, done.stdout, done.stderr)
    proc = ServerProcess(cfg, tmp)
    proc.start()
    try:
        yield proc.url, cfg
    finally:
        assert proc.stop() == 0


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium at 1366×768 (the desk PC's usual screen), in Russian."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert shutil.which("chromium") and shutil.which("chromedriver"), \
        "Chromium missing: `./install.sh dev` installs chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1366,768", "--lang=ru-RU", "--no-first-run"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _shot(driver, name: str) -> None:
    where = os.environ.get("DESK_SHOTS")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(where) / f"desk-{name}.png"))


def _type(driver, text: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(text).perform()


def test_a_librarian_logs_in_and_out_by_keyboard(desk, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    url, _cfg = desk
    wait = WebDriverWait(browser, 15)
    browser.get(f"{url}/desk")  # not logged in: the login page
    wait.until(ec.url_contains("/desk/login"))
    assert browser.find_element(By.NAME, "name") == browser.switch_to.active_element, \
        "the name field has the focus: the librarian types at once"
    _shot(browser, "login")

    _type(browser, "marina" + Keys.TAB + "не тот пароль" + Keys.ENTER)  # a wrong password
    wait.until(ec.presence_of_element_located((By.NAME, "password")))
    assert "Неверное имя или пароль" in browser.find_element(By.TAG_NAME, "body").text
    assert "/desk/login" in browser.current_url

    field = browser.find_element(By.NAME, "password")
    field.clear()
    name = browser.find_element(By.NAME, "name")
    name.clear()
    name.click()
    _type(browser, "marina" + Keys.TAB + PASSWORD + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Рабочее место"))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "marina" in body
    assert "/desk/login" not in browser.current_url
    _shot(browser, "home")

    # Logout by keyboard: focus the «Выйти» button and press Enter.
    logout = browser.find_element(By.XPATH, "//button[normalize-space()='Выйти']")
    browser.execute_script("arguments[0].focus()", logout)
    _type(browser, Keys.ENTER)
    wait.until(ec.url_contains("/desk/login"))
    browser.get(f"{url}/desk")  # the session is over: back to the login page
    wait.until(ec.url_contains("/desk/login"))


def test_the_desk_cookie_is_guarded(desk, browser):
    """The session cookie is HttpOnly and SameSite=Strict: no script and no other site sees it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    url, _cfg = desk
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
