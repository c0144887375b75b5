"""The desk's reports in a real browser (Debian's Chromium via Selenium, against `ibc serve` on
the demo library), by keyboard alone: open «Отчёты» from the menu, pick a period by its button,
type dates (a wrong pair first), download the report into a folder set in Chrome's prefs, open
the overdue list, choose a class and look at its print view (CDP Emulation.setEmulatedMedia).

``DESK_SHOTS=docs/screenshots/desk pytest tests/desk/test_browser_reports.py`` writes
desk-reports-*.png.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.desk.conftest import browser_login, shot, type_keys, waiter

MAX_TABS = 60


@pytest.fixture(scope="module")
def library(desk_server):
    """The demo library with some loans made overdue and a few overrides this month."""
    from library.storage.database import Database
    from library.storage.models import Copy, Event, Loan, Reader

    url, cfg = desk_server
    db_url = re.search(r'^url = "([^"]+)"', cfg.read_text(encoding="utf-8"), re.M)
    assert db_url
    db = Database(db_url.group(1))
    today = dt.date.today()
    moment = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    try:
        with db.transaction() as s:
            pupils = list(s.scalars(select(Reader).where(Reader.category == "pupil",
                                                         Reader.class_name.is_not(None))
                                    .order_by(Reader.class_name, Reader.id)))
            chosen: dict[str, list[Reader]] = {}
            for r in pupils:  # two pupils of each of four classes
                if len(chosen) < 4 or r.class_name in chosen:
                    chosen.setdefault(r.class_name or "", [])
                    if len(chosen[r.class_name or ""]) < 2:
                        chosen[r.class_name or ""].append(r)
            teacher = s.scalar(select(Reader).where(Reader.category == "teacher").limit(1))
            readers = [r for group in chosen.values() for r in group] + ([teacher] if teacher else [])
            copies = list(s.scalars(select(Copy).where(Copy.status == "available")
                                    .order_by(Copy.id).limit(len(readers))))
            for i, (reader, copy) in enumerate(zip(readers, copies)):
                s.add(Loan(copy_id=copy.id, reader_id=reader.id, reader_category=reader.category,
                           reader_class=reader.class_name, issued_at=moment - dt.timedelta(days=40),
                           due_date=today - dt.timedelta(days=3 + 4 * i), checkout_txn=f"shot-{i}"))
                copy.status = "on_loan"
            for kind, n in (("checkout", 14), ("return", 9), ("renew", 2), ("visit", 23)):
                s.add_all([Event(kind=kind, ts=moment, reader_class="5А", reader_category="pupil",
                                 record_id=copies[i % len(copies)].record_id) for i in range(n)])
            for action, refusal, n in (("checkout", "has_overdue", 2), ("renew", "renewal_limit", 1)):
                for i in range(n):
                    s.add(Event(kind="override", ts=moment, record_id=copies[i].record_id, payload={
                        "action": action, "refusal": refusal, "reason": "Нужна к уроку",
                        "by": "marina"}))
    finally:
        db.dispose()
    return url


def tab_to(driver, matches, what: str) -> None:
    """Press Tab until the focused element `matches` (a keyboard user's way to a control)."""
    from selenium.webdriver.common.keys import Keys

    for _ in range(MAX_TABS):
        if matches(driver.switch_to.active_element):
            return
        type_keys(driver, Keys.TAB)
    raise AssertionError(f"Tab never reached {what}")


def attr(name: str, value: str):
    return lambda el: el.get_attribute(name) == value


def wait_file(folder: Path, suffix: str, timeout: float = 60) -> Path:
    """The finished download with this suffix (Chrome writes *.crdownload until done)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done = [p for p in folder.iterdir() if p.suffix == suffix]
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} in {folder}: {list(folder.iterdir())}")


def test_reports_by_keyboard(library, chrome, downloads):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    url, driver = library, chrome
    wait = waiter(driver, 60)
    browser_login(driver, url)
    tab_to(driver, lambda el: el.tag_name == "a" and el.text == "Отчёты", "the menu's «Отчёты»")
    type_keys(driver, Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Отчёты"))

    tab_to(driver, attr("value", "month"), "«Этот месяц»")
    type_keys(driver, Keys.ENTER)
    wait.until(ec.url_contains("period=month"))
    heading = driver.find_element(By.ID, "figures-heading").text
    assert heading.startswith("Показатели: ") and dt.date.today().strftime("%d.%m.%Y") in heading
    assert driver.find_element(By.CSS_SELECTOR, 'button[value="month"]').get_attribute(
        "aria-pressed") == "true"
    assert driver.find_element(By.ID, "fig-overrides").text == "3"
    assert driver.find_element(By.ID, "fig-loans").text == "14"
    # the relative indicators, from the figures shown above them (14 loans, 23 visits ÷ readers)
    from library.reports.indicators import number_text, ratio

    readers, copies = (int(driver.find_element(By.ID, f"fig-{k}").text) for k in ("readers", "copies"))
    assert driver.find_element(By.ID, "indicators-heading").text == "Относительные показатели"
    for key, a, b, decimals in (("loans_per_reader", 14, readers, 2), ("visits_per_reader", 23, readers, 2),
                                ("loans_per_copy", 14, copies, 2), ("copies_per_reader", copies, readers, 1)):
        assert driver.find_element(By.ID, f"ind-{key}").text == number_text(ratio(a, b, decimals), decimals)
    assert "÷" in driver.find_element(By.CSS_SELECTOR, "#ind-loans_per_reader + dd.meaning").text
    counts = driver.find_element(By.ID, "override-counts").text
    assert "Выдача: есть просроченные книги 2" in counts
    assert "Нужна к уроку" in driver.find_element(By.ID, "override-list").text  # marina is an admin
    shot(driver, "reports")

    # Dates typed the wrong way round: refused in words beside the field, the dates kept.
    tab_to(driver, attr("id", "from"), "the «С» field")
    today = dt.date.today()
    first, last = dt.date(today.year - 1, 9, 1), today  # the school year before, up to today
    a, b = first.strftime("%d.%m.%Y"), last.strftime("%d.%m.%Y")
    type_keys(driver, b + Keys.TAB + a + Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.ID, "to-error")))
    assert "раньше даты «с»" in driver.find_element(By.ID, "to-error").text
    assert driver.find_element(By.ID, "from").get_attribute("value") == b
    shot(driver, "reports-error")

    tab_to(driver, attr("id", "from"), "the «С» field")
    erase = Keys.END + Keys.BACKSPACE * 12
    type_keys(driver, erase + a + Keys.TAB + erase + b + Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.ID, "figures-heading"), f"{a}–{b}"))

    for fmt, suffix in (("csv", ".csv"), ("pdf", ".pdf")):
        tab_to(driver, attr("id", f"download-{fmt}"), f"the {fmt} download link")
        type_keys(driver, Keys.ENTER)
        got = wait_file(downloads, suffix)
        assert got.name == f"Отчёт ИБЦ {first.isoformat()}_{last.isoformat()}{suffix}"
        data = got.read_bytes()
        if fmt == "pdf":
            assert data.startswith(b"%PDF")
        else:
            text = data.decode("utf-8-sig")
            assert "Выдачи и продления в обход правил;Выдача: есть просроченные книги;Количество;2" in text
            assert "Нужна к уроку" not in text and "marina" not in text

    # The overdue list: from the link on the reports page, then one class chosen in the list.
    tab_to(driver, lambda el: el.tag_name == "a" and el.text.startswith("Должники по классам"),
           "the overdue list link")
    type_keys(driver, Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Должники по классам"))
    assert driver.switch_to.active_element.get_attribute("id") == "class", "the class filter has the focus"
    sections = driver.find_elements(By.CSS_SELECTOR, "section.overdue-class")
    assert len(sections) >= 2
    first_class = driver.find_elements(By.CSS_SELECTOR, "#class option")[1]
    label, key = first_class.text, first_class.get_attribute("value")
    shot(driver, "reports-overdue")

    type_keys(driver, Keys.ARROW_DOWN + Keys.TAB + Keys.ENTER)  # the first class, «Показать»
    wait.until(ec.url_contains("class="))
    headings = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "section.overdue-class h2")]
    assert len(headings) == 1 and label in headings[0] and "должники на" in headings[0]
    assert key

    driver.get(f"{url}/desk/reports/overdue")
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "section.overdue-class")))
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not driver.find_element(By.TAG_NAME, "header").is_displayed()
        assert not driver.find_element(By.CSS_SELECTOR, "form.overdue-filter").is_displayed()
        breaks = driver.execute_script(
            "return [...document.querySelectorAll('section.overdue-class')]"
            ".map(s => getComputedStyle(s).breakBefore)")
        assert breaks[0] == "auto" and set(breaks[1:]) == {"page"}
        shot(driver, "reports-overdue-print")
        pdf = base64.b64decode(driver.print_page())  # Chromium's own print: one class a page
        assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == len(breaks)
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
