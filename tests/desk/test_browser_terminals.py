"""The desk's terminals and media sections in a real browser (Debian's Chromium via Selenium)
against a real `ibc serve` over TLS on the demo library, by keyboard alone: an administrator
makes an enrolment code (shown large, with its QR code), a terminal reads the QR code from the
screen with its camera (`ibc terminals join --camera`) and is listed on line; an offline conflict is resolved with a note; the media list is rescanned and an
item's access changed.

``DESK_SHOTS=docs/screenshots/desk pytest tests/desk/test_browser_terminals.py`` writes
desk-terminals.png, desk-terminals-enrol.png, desk-terminals-conflicts.png, desk-media.png.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.desk.conftest import PASSWORD, browser_login, chromium, ibc, shot, type_keys, waiter
from tests.server.conftest import ServerProcess, write_config


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """(url, database url, media folder) of `ibc serve` with TLS on the demo library, the admin
    `marina`, one media folder with a short tone in it, two offline conflicts."""
    from library.storage.database import open_database
    from server.models import OfflineConflict, Terminal
    from tests.media.conftest import ffmpeg

    tmp = tmp_path_factory.mktemp("desk-term")
    media = tmp / "media"
    (media / "Музыка").mkdir(parents=True)
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=3", str(media / "Музыка" / "Нота_ля.mp3"))
    cfg = tmp / "desk.toml"
    db_url = f"sqlite:///{tmp / 'desk.sqlite3'}"
    write_config(cfg, db_url, "desk", advertise=False, tls="on")
    with cfg.open("a", encoding="utf-8") as f:
        f.write(f'\n[media]\nroots = ["{media}"]\n')
    for argv, stdin in ((["db", "upgrade"], ""), (["demo"], ""),
                        (["librarian", "add", "marina", "--role", "admin"], f"{PASSWORD}\n")):
        done = ibc(cfg, *argv, stdin=stdin)
        assert done.returncode == 0, (argv, done.stdout, done.stderr)
    db = open_database(db_url)
    now = dt.datetime.now(dt.timezone.utc)
    with db.transaction() as s:
        s.add_all([Terminal(name="kiosk-hall", token_hash="a" * 64, created_at=now - dt.timedelta(days=40),
                            last_seen=now - dt.timedelta(hours=3)),
                   Terminal(name="kiosk-old", token_hash="b" * 64, created_at=now - dt.timedelta(days=300),
                            last_seen=now - dt.timedelta(days=20), revoked_at=now - dt.timedelta(days=19))])
        s.add_all([OfflineConflict(txn_id="kiosk-hall:41", terminal="kiosk-hall", op="checkout", card="D-0007",
                                   barcode="DEMO-0001", code="copy_on_loan",
                                   message="Этот экземпляр уже выдан другому читателю",
                                   queued_at=now - dt.timedelta(hours=5)),
                   OfflineConflict(txn_id="kiosk-hall:42", terminal="kiosk-hall", op="checkin", card=None,
                                   barcode="DEMO-0002", code="not_on_loan",
                                   message="Этот экземпляр не был выдан", attempts=2,
                                   queued_at=now - dt.timedelta(hours=4, minutes=50))])
    proc = ServerProcess(cfg, tmp)
    proc.start()
    try:
        yield proc.url, db, media
    finally:
        db.dispose()
        assert proc.stop() == 0


@pytest.fixture(scope="module")
def browser():
    """Chromium that accepts the server's self-signed certificate."""
    driver = chromium(insecure_certs=True)
    try:
        yield driver
    finally:
        driver.quit()


def test_an_admin_enrols_a_terminal_by_keyboard_and_sees_it_listed(lab, browser, tmp_path):
    import json

    import httpx
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    url, _db, _media = lab
    wait = waiter(browser)
    browser_login(browser, url)
    browser.get(f"{url}/desk/terminals")
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Терминалы"))
    active = browser.switch_to.active_element
    assert active.text == "Подключить терминал", "the button has the focus: Enter makes a code"
    type_keys(browser, Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.ID, "enrol-code")))
    code_el = browser.find_element(By.ID, "enrol-code")
    code = code_el.text.strip()
    assert float(code_el.value_of_css_property("font-size").removesuffix("px")) >= 48, "the code is large"
    qr = browser.find_element(By.CSS_SELECTOR, "svg.term-qr")
    assert qr.size["width"] >= 200 and qr.size["height"] == qr.size["width"]
    body = browser.find_element(By.TAG_NAME, "body").text
    assert f"ibc terminals join {code}" in body and "Отпечаток сертификата сервера" in body
    shot(browser, "terminals-enrol")

    # The terminal's camera looks at the desk's screen: `ibc terminals join --camera` reads the
    # QR code (a short video of the QR as Chromium drew it), checks the server's certificate
    # with it and enrols.
    from tests.media.conftest import ffmpeg

    still = tmp_path / "qr.png"
    still.write_bytes(qr.screenshot_as_png)
    video = tmp_path / "qr.mp4"
    ffmpeg("-loop", "1", "-i", str(still), "-t", "2", "-r", "10", "-vf", "pad=640:480:(ow-iw)/2:(oh-ih)/2:white",
           "-pix_fmt", "yuv420p", str(video))
    term = tmp_path / "terminal"
    kiosk_cfg = tmp_path / "kiosk.toml"
    kiosk_cfg.write_text(f'data_dir = "{term}"\n', encoding="utf-8")
    joined = ibc(kiosk_cfg, "terminals", "join", "--camera", str(video), "--url", url, "--name", "kiosk-lab")
    assert joined.returncode == 0, joined.stderr
    assert f"Код с QR-кода: {code}" in joined.stdout and "совпадает с кодом" in joined.stdout
    token = json.loads((term / "terminal.json").read_text(encoding="utf-8"))["token"]
    with httpx.Client(verify=False, timeout=15) as http:  # noqa: S501 — the join above checked it
        assert http.get(f"{url}/api/v1/search", params={"q": "а"},
                        headers={"Authorization": f"Bearer {token}"}).status_code == 200

    assert browser.switch_to.active_element.text == "К списку терминалов"
    type_keys(browser, Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Терминалы"))
    row = browser.find_element(By.XPATH, "//tr[td[1][normalize-space()='kiosk-lab']]").text
    assert "на связи" in row and "только что" in row
    assert "отключён" in browser.find_element(By.XPATH, "//tr[td[1][normalize-space()='kiosk-old']]").text
    shot(browser, "terminals")


def test_a_conflict_is_resolved_with_a_note_by_keyboard(lab, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    from server.conflicts import list_conflicts

    url, db, _media = lab
    wait = waiter(browser)
    browser_login(browser, url)
    browser.get(f"{url}/desk/terminals/conflicts")
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Конфликты без сети"))
    assert "Не решены (2)" in browser.find_element(By.TAG_NAME, "body").text
    assert browser.switch_to.active_element.get_attribute("name") == "note", "the first note has the focus"
    type_keys(browser, "Книга у читателя D-0007, выдачу провела вручную" + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "Конфликт отмечен решённым"))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Не решены (1)" in body and "выдачу провела вручную" in body
    assert [c["txn_id"] for c in list_conflicts(db)] == ["kiosk-hall:42"]
    shot(browser, "terminals-conflicts")


def test_the_media_page_rescans_and_changes_an_access_level_by_keyboard(lab, browser):
    import time

    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    url, _db, media = lab
    wait = waiter(browser)
    browser_login(browser, url)
    browser.get(f"{url}/desk/media")
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Медиатека"))
    assert str(media) in browser.find_element(By.TAG_NAME, "body").text
    button = browser.find_element(By.XPATH, "//button[normalize-space()='Пересканировать']")
    browser.execute_script("arguments[0].focus()", button)
    type_keys(browser, Keys.ENTER)
    wait.until(ec.url_contains("done="))
    deadline = time.monotonic() + 60
    while "Последнее:" not in browser.find_element(By.TAG_NAME, "body").text:
        assert time.monotonic() < deadline, "the rescan did not finish"
        time.sleep(0.5)
        browser.get(f"{url}/desk/media")
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "новых 1" in body and "Нота ля" in body
    # The access level of the new item: Tab from its select to «Сохранить», Enter.
    row = browser.find_element(By.XPATH, "//tr[td[1][contains(., 'Нота ля')]]")
    select = row.find_element(By.TAG_NAME, "select")
    browser.execute_script("arguments[0].focus()", select)
    type_keys(browser, Keys.ARROW_DOWN)  # все → только учителя
    type_keys(browser, Keys.TAB + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "Уровень доступа изменён"))
    row = browser.find_element(By.XPATH, "//tr[td[1][contains(., 'Нота ля')]]")
    chosen = row.find_element(By.CSS_SELECTOR, "select option:checked").text
    assert chosen == "только учителя" and "задан здесь" in row.text
    shot(browser, "media")
