"""Inter-school requests («Запросы других школ», /desk/requests) in a real browser (Debian's
Chromium via Selenium) against `ibc serve` on the demo library, by keyboard alone as at a desk
with a USB scanner: a pupil of Школа № 2 has asked for a book only Гимназия № 5 has; the
gymnasium's page lists the request and the scan of the copy sends it; Школа № 2's page lists it
coming and the scan on arrival puts it on the hold shelf for the pupil.

``DESK_SHOTS=docs/screenshots/desk pytest tests/desk/test_browser_requests.py`` writes
desk-requests-send, -sent, -incoming, -received.
"""

from __future__ import annotations

from tests.desk.conftest import browser_login, shot, type_keys, waiter

A, B = "ГИМН5", "ШК2"


def _city(cfg) -> None:
    """Two more schools, a book only the gymnasium has, a pupil of Школа № 2 who asked for it
    at her school's kiosk (the core's place_hold, as the terminal API calls it)."""
    from config.settings import load_settings
    from library import schools
    from library.circulation.rules import Policy
    from library.circulation.service import CirculationService
    from library.storage.database import open_database
    from library.storage.models import Copy, Reader, Record

    db = open_database(f"sqlite:///{cfg.parent / 'desk.sqlite3'}")
    try:
        with db.transaction() as s:
            schools.add_school(s, A, "Гимназия № 5")
            schools.add_school(s, B, "Школа № 2")
            rec = Record(key="browser-timur", title="Тимур и его команда",
                         authors=["Гайдар, Аркадий Петрович"])
            rec.copies = [Copy(sigla=A, barcode="G-7001", status="available", shelf_mark="84Р-Г")]
            s.add_all([rec, Reader(card_number="B-9001", first_name="Боря", last_name="Ершов",
                                   class_name="5Б", category="pupil", sigla=B)])
        with db.session() as s:
            rid = s.query(Record.id).filter_by(key="browser-timur").scalar()
        svc = CirculationService(db, Policy.from_settings(load_settings(environ={}).circulation))
        svc.default_school = "ИБЦ"
        assert svc.place_hold("B-9001", rid, "browser-h1", terminal="kiosk-b").request
    finally:
        db.dispose()


def test_send_and_receive_by_keyboard(desk_server, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    url, cfg = desk_server
    _city(cfg)
    wait = waiter(browser)
    browser_login(browser, url)

    # the holds page links the requests now that the service has several schools
    browser.get(f"{url}/desk/holds")
    link = browser.find_element(By.ID, "to-requests")
    assert link.text == "Запросы школ"

    browser.get(f"{url}/desk/requests?school={A}")
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Гимназия № 5"))
    rows = browser.find_element(By.ID, "requests").text
    assert "Тимур и его команда" in rows and "Школа № 2" in rows and "1 (84Р-Г)" in rows
    assert browser.switch_to.active_element == browser.find_element(By.ID, "send-barcode")
    shot(browser, "requests-send")
    type_keys(browser, "G-7001" + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.ID, "requests-notice"),
                                                "Отправлено в Школа № 2: «Тимур и его команда»"))
    assert "G-7001" in browser.find_element(By.ID, "outgoing").text
    assert "Другие школы ничего у нас не просят." in browser.find_element(By.ID, "requests").text
    shot(browser, "requests-sent")

    # Школа № 2's desk: the school chooser by keyboard (Shift+Tab from the scan field)
    assert browser.switch_to.active_element == browser.find_element(By.ID, "send-barcode")
    ActionChains(browser).key_down(Keys.SHIFT).send_keys(Keys.TAB + Keys.TAB).key_up(
        Keys.SHIFT).perform()
    chooser = browser.switch_to.active_element
    assert chooser.get_attribute("id") == "school"
    type_keys(browser, Keys.DOWN + Keys.DOWN + Keys.TAB + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Школа № 2"))
    incoming = browser.find_element(By.ID, "incoming").text
    assert "G-7001" in incoming and "Гимназия № 5" in incoming and "Боря Е., 5Б" in incoming
    # from the send field two Tabs reach the arrival field
    type_keys(browser, Keys.TAB + Keys.TAB)
    assert browser.switch_to.active_element == browser.find_element(By.ID, "receive-barcode")
    shot(browser, "requests-incoming")
    type_keys(browser, "G-7001" + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.ID, "requests-notice"),
                                                "приехала: поставьте на полку заказов"))
    assert "Боря Е., 5Б" in browser.find_element(By.ID, "requests-notice").text
    assert "К нам ничего не едет." in browser.find_element(By.ID, "incoming").text
    shot(browser, "requests-received")

    # the hold shelf lists it for the pupil
    browser.get(f"{url}/desk/holds")
    assert "Боря Е., 5Б" in browser.find_element(By.ID, "hold-shelf").text
