"""The OPAC's catalogue pages in a real browser (Debian's Chromium, Selenium) against `ibc serve`
on the demo library: type a query by keyboard (in the wrong keyboard layout), see the
corrected results, narrow them with a facet, open a record and see where its copies are, the
new arrivals — on a 375 px phone (nothing wider than the window) and by keyboard only on a
1366 px desktop.

``OPAC_SHOTS=docs/screenshots`` writes opac-home.png, opac-search.png, opac-record.png,
opac-new.png (phone) and opac-search-desktop.png, opac-record-desktop.png.
"""

from __future__ import annotations

from tests.opac.conftest import focused, shot, type_keys, waiter


def _fits(driver) -> None:
    width, inner = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"the page is {width} px wide in a {inner} px window"


def _small_targets(driver) -> list[str]:
    """Links and buttons of the main part less than 44 px high (inline links inside a sentence
    excepted: WCAG's exception for text links)."""
    return driver.execute_script("""
        const out = [];
        for (const el of document.querySelectorAll('main a, main button, main summary, main select, main input')) {
          if (el.closest('p:not(.back)') && el.tagName === 'A' && !el.classList.contains('chip')
              && !el.classList.contains('button')) continue;
          const r = el.getBoundingClientRect();
          if (r.width && r.height < 43.5 && el.type !== 'checkbox' && el.type !== 'hidden')
            out.push(el.tagName + ' ' + (el.textContent || el.name || '').trim().slice(0, 40) + ' ' + r.height);
        }
        return out;""")


def test_search_a_record_and_new_arrivals_on_a_phone(opac_server, phone):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    url, _cfg = opac_server
    driver = phone
    driver.get(f"{url}/opac")
    waiter(driver).until(ec.presence_of_element_located((By.ID, "q")))
    _fits(driver)
    assert driver.find_elements(By.CSS_SELECTOR, ".cards .card"), "the first page shows new arrivals"
    box = driver.find_element(By.ID, "q")
    row = driver.find_element(By.CLASS_NAME, "search-row").size["width"]
    assert row >= 375 - 2 * 16 - 1 and box.size["width"] >= row * 0.6, "the search field is full width"
    assert not _small_targets(driver), _small_targets(driver)
    shot(driver, "home")
    box.click()
    assert focused(driver, By.ID, "q")
    type_keys(driver, "djqyf b vbh" + Keys.ENTER)  # «война и мир» typed in the Latin layout
    waiter(driver).until(ec.url_contains("/opac/search"))
    waiter(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".card-title a")))
    assert "Показаны результаты для «война и мир»" in driver.find_element(By.CLASS_NAME, "corrected").text
    titles = [a.text for a in driver.find_elements(By.CSS_SELECTOR, ".card-title a")]
    assert titles[0] == "Война и мир", titles
    _fits(driver)
    assert not _small_targets(driver), _small_targets(driver)

    # a broader search narrowed by a facet (the author)
    driver.get(f"{url}/opac/search?q=толстой")
    waiter(driver).until(ec.presence_of_element_located((By.CLASS_NAME, "facets")))
    before = driver.find_element(By.CLASS_NAME, "count-line").text
    author = driver.find_element(By.XPATH, "//details[summary='Автор']//a[contains(., 'Толстой, Лев')]")
    name = author.text
    author.click()
    waiter(driver).until(ec.presence_of_element_located((By.CLASS_NAME, "facet-on")))
    assert name in driver.find_element(By.CLASS_NAME, "facet-on").text
    assert driver.find_element(By.CLASS_NAME, "count-line").text != before
    cards = driver.find_elements(By.CSS_SELECTOR, ".card-authors")
    assert cards and all("Толстой, Лев" in c.text for c in cards)
    _fits(driver)
    driver.get(f"{url}/opac/search?q=djqyf")
    waiter(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".card-title a")))
    shot(driver, "search")

    # the record: description and where its copies are
    driver.find_element(By.CSS_SELECTOR, ".card-title a").click()
    waiter(driver).until(ec.presence_of_element_located((By.ID, "copies-h")))
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith("Война и мир")
    copies = driver.find_element(By.CLASS_NAME, "copies").text
    assert "на полке" in copies and "Стеллаж" in copies, copies
    assert driver.find_element(By.ID, "hold-h")
    back = driver.find_element(By.CSS_SELECTOR, ".back a").get_attribute("href")
    assert "/opac/search?q=djqyf" in back
    _fits(driver)
    assert not _small_targets(driver), _small_targets(driver)
    shot(driver, "record")

    # new arrivals: the demo was loaded today
    driver.find_element(By.LINK_TEXT, "Новинки").click()
    waiter(driver).until(ec.url_contains("/opac/new"))
    assert len(driver.find_elements(By.CSS_SELECTOR, ".cards .card")) == 20
    assert driver.find_element(By.CSS_SELECTOR, ".choices [aria-current=page]").text == "30 дней"
    _fits(driver)
    shot(driver, "new")
    driver.find_element(By.CSS_SELECTOR, ".pager a[rel=next]").click()
    waiter(driver).until(ec.url_contains("page=2"))
    assert driver.find_elements(By.CSS_SELECTOR, ".cards .card")


def test_keyboard_only_on_a_desktop(opac_server, desktop):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    url, _cfg = opac_server
    driver = desktop
    driver.get(f"{url}/opac")
    waiter(driver).until(ec.presence_of_element_located((By.ID, "q")))
    for _ in range(12):  # Tab from the top of the page to the search field
        type_keys(driver, Keys.TAB)
        if driver.switch_to.active_element == driver.find_element(By.ID, "q"):
            break
    assert focused(driver, By.ID, "q", seconds=1), "Tab reaches the search field"
    type_keys(driver, "пушкин" + Keys.ENTER)
    waiter(driver).until(ec.url_contains("/opac/search"))
    waiter(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".card-title a")))
    facets, results = (driver.find_element(By.CLASS_NAME, c).rect for c in ("facets", "results"))
    assert facets["x"] + facets["width"] <= results["x"], "facets are a column beside the results"
    _fits(driver)
    shot(driver, "search-desktop")
    # to the first result by keyboard: Tab until it has the focus, Enter opens it
    first = driver.find_element(By.CSS_SELECTOR, ".card-title a")
    title = first.text
    for _ in range(60):
        type_keys(driver, Keys.TAB)
        if driver.switch_to.active_element == first:
            break
    assert driver.switch_to.active_element == first
    outline = driver.execute_script(
        "return getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid", "the focus is visible"
    type_keys(driver, Keys.ENTER)
    waiter(driver).until(ec.presence_of_element_located((By.ID, "copies-h")))
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith(title)
    assert "на полке" in driver.find_element(By.CLASS_NAME, "copies").text or \
        "выдана" in driver.find_element(By.CLASS_NAME, "copies").text
    _fits(driver)
    shot(driver, "record-desktop")


def test_a_city_on_a_phone(opac_server, phone):
    """Runs last (it adds a second school to the module's server): «my school» chosen once in
    the form, then the cards and the record list its copies first, per school."""
    import sqlite3

    import tomllib
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select

    url, cfg = opac_server
    path = tomllib.loads(cfg.read_text(encoding="utf-8"))["database"]["url"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as con:
        con.execute("INSERT INTO schools (sigla, name, created) VALUES ('Ш2', 'Школа № 2', "
                    "'2026-01-01 00:00:00')")
        (rid,) = con.execute("SELECT id FROM records WHERE title = 'Война и мир'").fetchone()
        for barcode, status in (("Ш2-1", "available"), ("Ш2-2", "in_transit")):
            con.execute("INSERT INTO copies (record_id, sigla, barcode, shelf_mark, status, version, "
                        "updated_at) VALUES (?, 'Ш2', ?, '84 Т53', ?, 1, '2026-01-01 00:00:00')",
                        (rid, barcode, status))
    driver = phone
    driver.delete_all_cookies()
    driver.get(f"{url}/opac/search?q=война")
    waiter(driver).until(ec.presence_of_element_located((By.ID, "school")))
    Select(driver.find_element(By.ID, "school")).select_by_visible_text("Школа № 2")
    driver.find_element(By.ID, "q").send_keys(Keys.ENTER)
    waiter(driver).until(ec.url_contains("school="))
    first = driver.find_element(By.CSS_SELECTOR, ".card .avail-schools li").text
    assert first.startswith("Школа № 2") and "есть в наличии: 1 из 2" in first, first
    _fits(driver)
    shot(driver, "search-city")
    driver.get(f"{url}/opac/record/{rid}")  # no school= in the address: the cookie remembers
    waiter(driver).until(ec.presence_of_element_located((By.ID, "copies-h")))
    blocks = driver.find_elements(By.CSS_SELECTOR, ".school-copies")
    assert "Школа № 2 (моя школа)" in blocks[0].text and "в пути" in blocks[0].text
    assert len(blocks) == 2
    _fits(driver)
