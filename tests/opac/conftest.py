"""Shared fixtures of the OPAC's tests (server/opac, docs/OPAC.md).

HTTP level (TestClient, SQLite and PostgreSQL through the `db` fixture): `opac` gives
(make_client, db) on a populated database (tests.server.conftest.populate: readers C5A without
a PIN, CPIN with PIN 4321, CBLK blocked…); `csrf(html)` the form token of a page.

Browser (Debian's Chromium via Selenium): `opac_server` runs `ibc serve` on the demo library
(module scope) where the demo reader 2000000170 has PIN 2468 and a loan; `phone` is headless
Chromium emulating a 375×812 phone (touch, mobile user agent), `desktop` one at 1366×768;
`shot(driver, name)` writes docs/screenshots/opac-NAME.png when OPAC_SHOTS names the folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.desk.conftest import (
    CHROMIUM,
    DRIVER,
    clients_of,
    csrf,
    focused,
    ibc,
    make_app,
    type_keys,
    waiter,
)
from tests.server.conftest import ServerProcess, populate, write_config

__all__ = ["csrf", "focused", "type_keys", "waiter", "DEMO_CARD", "DEMO_PIN"]

DEMO_CARD, DEMO_PIN = "2000000170", "2468"  # a demo pupil with a loan (library/demo/catalogue.json)
PHONE = (375, 812)


@pytest.fixture
def settings():
    from config.settings import load_settings

    return load_settings(environ={})


@pytest.fixture
def opac(db, settings):
    """(make_client, db): clients of one app on a populated database."""
    populate(db)
    with clients_of(make_app(db, settings)) as make:
        yield make, db


@pytest.fixture(scope="module")
def opac_server(tmp_path_factory):
    """(url, config) of `ibc serve` on the demo library; the demo reader DEMO_CARD has DEMO_PIN."""
    tmp = tmp_path_factory.mktemp("opac")
    cfg = tmp / "opac.toml"
    write_config(cfg, f"sqlite:///{tmp / 'opac.sqlite3'}", "opac", advertise=False)
    for argv, stdin in ((["db", "upgrade"], ""), (["demo"], ""),
                        (["readers", "set-pin", DEMO_CARD], f"{DEMO_PIN}\n{DEMO_PIN}\n")):
        done = ibc(cfg, *argv, stdin=stdin)
        assert done.returncode == 0, (argv, done.stdout, done.stderr)
    proc = ServerProcess(cfg, tmp)
    proc.start()
    try:
        yield proc.url, cfg
    finally:
        assert proc.stop() == 0


def chromium(size: tuple[int, int], *, mobile: bool):
    """Headless Debian Chromium in Russian: a phone (`mobile`: device metrics, touch, a mobile
    user agent) or a desktop window of `size`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert shutil.which("chromium") and shutil.which("chromedriver"), \
        "Chromium missing: `./install.sh dev` installs chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={size[0]},{size[1]}", "--lang=ru-RU", "--no-first-run"):
        options.add_argument(arg)
    if mobile:
        options.add_experimental_option("mobileEmulation", {
            "deviceMetrics": {"width": size[0], "height": size[1], "pixelRatio": 2.0, "touch": True},
            "userAgent": "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like "
                         "Gecko) Chrome/120.0 Mobile Safari/537.36"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture(scope="module")
def phone():
    """Headless Chromium as a 375×812 phone for a module's tests."""
    driver = chromium(PHONE, mobile=True)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def desktop():
    """Headless Chromium at 1366×768 for a module's tests."""
    driver = chromium((1366, 768), mobile=False)
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver, name: str) -> None:
    """docs/screenshots/opac-NAME.png (the whole page's height, up to 4000 px) when OPAC_SHOTS
    names the folder; the window is put back afterwards."""
    where = os.environ.get("OPAC_SHOTS")
    if not where:
        return
    Path(where).mkdir(parents=True, exist_ok=True)
    width, inner, height, ratio = driver.execute_script(
        "return [window.innerWidth, window.innerHeight, document.documentElement.scrollHeight,"
        " window.devicePixelRatio]")
    mobile = int(width) < 600  # the phone fixture
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": int(width), "height": min(int(height), 4000), "deviceScaleFactor": ratio,
        "mobile": mobile})
    try:
        driver.save_screenshot(str(Path(where) / f"opac-{name}.png"))
    finally:  # back to the window the test had
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": int(width), "height": int(inner), "deviceScaleFactor": ratio, "mobile": mobile})
