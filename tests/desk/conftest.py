"""Shared fixtures of the desk's tests.

HTTP level (TestClient, SQLite and PostgreSQL through the `db` fixture): `desk` gives
(make_client, db) on a populated database (tests.server.conftest.populate) with the accounts
`marina` (librarian) and `boss` (admin); `logged_in(make)` a client with a live session;
`csrf(html)` the form token of a page.

Browser (Debian's Chromium via Selenium): `desk_server` runs `ibc serve` on the demo library
with the admin `marina` (module scope: each test module has its own server and database);
`browser` is headless Chromium at 1366×768; `browser_login(driver, url)` logs in by keyboard;
`shot(driver, name)` writes docs/screenshots/desk/desk-NAME.png when DESK_SHOTS is set.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server.conftest import TODAY, ServerProcess, populate, write_config

PASSWORD = "библиотека-2026"
ADMIN_PASSWORD = "очень-длинный-пароль"
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture
def settings():
    from config.settings import load_settings

    return load_settings(environ={})


def make_app(db, settings):
    from server.app import create_app

    return create_app(settings, db, today=lambda: TODAY)


@pytest.fixture
def desk(db, settings):
    """(make_client, db): clients of one app on a populated database with two accounts."""
    from server.desk.accounts import add_account

    populate(db)
    add_account(db, "marina", PASSWORD)
    add_account(db, "boss", ADMIN_PASSWORD, "admin")
    with clients_of(make_app(db, settings)) as make:
        yield make, db


@contextlib.contextmanager
def clients_of(app):
    """`make()` → a new TestClient of `app` (no redirects followed, server errors as answers),
    each closed at the end."""
    from fastapi.testclient import TestClient

    clients = []

    def make() -> TestClient:
        client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
        client.__enter__()
        clients.append(client)
        return client

    try:
        yield make
    finally:
        for client in clients:
            client.__exit__(None, None, None)


def csrf(html: str) -> str:
    """The hidden form token of a desk page."""
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


def login(client, name: str = "marina", password: str = PASSWORD):
    form = client.get("/desk/login")
    assert form.status_code == 200
    return client.post("/desk/login", data={"name": name, "password": password,
                                             "csrf": csrf(form.text)})


def logged_in(make, name: str = "marina", password: str = PASSWORD):
    """A new client with a live desk session of `name`."""
    client = make()
    r = login(client, name, password)
    assert r.status_code == 303 and r.headers["location"] == "/desk", r.text
    return client


def ibc(cfg: Path, *argv: str, stdin: str = "") -> subprocess.CompletedProcess:
    """`ibc --config CFG ARGV…` in a subprocess."""
    env = {k: v for k, v in os.environ.items() if k != "IBC_CONFIG"}
    return subprocess.run([sys.executable, "-m", "ibc", "--config", str(cfg), *argv],
                          input=stdin, capture_output=True, text=True, timeout=120, env=env,
                          check=False)


@pytest.fixture
def ipp_printer(tmp_path):
    """A real IPP printer (CUPS' ippeveprinter) on loopback for a receipt or a slip: started,
    stopped after the test; skipped with the reason where cups-ipp-utils is not installed
    (`./install.sh dev` installs it, so CI always has it)."""
    from tests.device.test_printer_ipp import IppEvePrinter

    if IppEvePrinter.missing():
        pytest.skip(IppEvePrinter.missing())
    printer = IppEvePrinter(tmp_path).start()
    try:
        yield printer
    finally:
        printer.stop()


def spooled_pdf(printer, seconds: float = 10.0) -> bytes:
    """The first job the printer spooled, waited for up to `seconds` (b"" when none came)."""
    import time

    deadline = time.monotonic() + seconds
    while not printer.spooled() and time.monotonic() < deadline:
        time.sleep(0.1)
    spooled = printer.spooled()
    return spooled[0].read_bytes() if spooled else b""


@pytest.fixture(scope="module")
def desk_server(tmp_path_factory):
    """(url, config) of `ibc serve` on the demo library with one admin account `marina`."""
    tmp = tmp_path_factory.mktemp("desk")
    cfg = tmp / "desk.toml"
    write_config(cfg, f"sqlite:///{tmp / 'desk.sqlite3'}", "desk", advertise=False)
    for argv, stdin in ((["db", "upgrade"], ""), (["demo"], ""),
                        (["librarian", "add", "marina", "--role", "admin"], f"{PASSWORD}\n")):
        done = ibc(cfg, *argv, stdin=stdin)
        assert done.returncode == 0, (argv, done.stdout, done.stderr)
    proc = ServerProcess(cfg, tmp)
    proc.start()
    try:
        yield proc.url, cfg
    finally:
        assert proc.stop() == 0


def chromium(*, insecure_certs: bool = False, prefs: dict | None = None, page_load_s: int = 30):
    """Headless Debian Chromium at 1366×768 (the desk PC's usual screen), in Russian;
    `insecure_certs` accepts the server's self-signed certificate (what a desk PC does once the
    school's certificate is trusted), `prefs` are Chrome preferences (a download folder)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert shutil.which("chromium") and shutil.which("chromedriver"), \
        "Chromium missing: `./install.sh dev` installs chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    if insecure_certs:
        options.set_capability("acceptInsecureCerts", True)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1366,768", "--lang=ru-RU", "--no-first-run"):
        options.add_argument(arg)
    if prefs:
        options.add_experimental_option("prefs", prefs)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(page_load_s)
    return driver


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for a module's tests (closed after them)."""
    driver = chromium()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    """A module's download folder for `chrome`."""
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def chrome(downloads):
    """Chromium whose downloads land in `downloads` (Chrome prefs), for tests of files."""
    driver = chromium(page_load_s=60, prefs={
        "download.default_directory": str(downloads), "download.prompt_for_download": False,
        "download.directory_upgrade": True, "safebrowsing.enabled": False})
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver, name: str) -> None:
    """docs/screenshots/desk/desk-NAME.png (full page height) when DESK_SHOTS names the folder."""
    where = os.environ.get("DESK_SHOTS")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        chrome = driver.execute_script("return window.outerHeight - window.innerHeight")  # toolbar
        driver.set_window_size(1366, max(768, min(int(height) + int(chrome or 0), 4000)))
        driver.save_screenshot(str(Path(where) / f"desk-{name}.png"))
        driver.set_window_size(1366, 768)


def type_keys(driver, text: str) -> None:
    """Type into the focused element, as a keyboard or a USB scanner does."""
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(text).perform()


def focused(driver, by: str, value: str, seconds: float = 10) -> bool:
    """True once the element has the focus (autofocus lands a few frames after the page's
    nodes exist: a loaded machine needs the wait), False if it never does."""
    from selenium.common.exceptions import TimeoutException

    try:
        waiter(driver, seconds).until(
            lambda d: d.find_element(by, value) == d.switch_to.active_element)
    except TimeoutException:
        return False
    return True


def browser_login(driver, url: str, name: str = "marina", password: str = PASSWORD) -> None:
    """Log in by keyboard (the name field has the focus) and wait for the home page. The wait
    rides out the error Chromium gives while the login page's nodes go away under the navigation
    («Node with given id does not belong to the document», not a StaleElementReference)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.delete_all_cookies()
    driver.get(f"{url}/desk/login")
    WebDriverWait(driver, 15).until(ec.presence_of_element_located((By.NAME, "name")))
    assert focused(driver, By.NAME, "name", 15), "the login page gives the name field the focus"
    type_keys(driver, name + Keys.TAB + password + Keys.ENTER)
    WebDriverWait(driver, 15, ignored_exceptions=(WebDriverException,)).until(
        lambda d: "Рабочее место" in d.find_element(By.TAG_NAME, "h1").text)


def waiter(driver, seconds: float = 15):
    """A WebDriverWait that rides out Chromium's error for a node gone under a navigation (a
    real failure still ends in a TimeoutException)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, ignored_exceptions=(WebDriverException,))
