"""The OPAC's pages checked for accessibility in a real browser (Debian's Chromium) at phone and
desktop size, as rendered — not from the stylesheet's comments: every visible text meets WCAG AA
contrast against its effective background (4.5:1, 3:1 for large text: ≥ 24 px, or ≥ 18.66 px
bold), every form control has a label, every image an alt text, one h1 and no skipped heading
level, the page's language is set, and nothing is wider than the window."""

from __future__ import annotations

import pytest

from tests.opac.conftest import DEMO_CARD, DEMO_PIN, waiter

# The browser's own computation: colours as rendered (rgb/rgba), the background of the nearest
# ancestor that paints one (alpha blended over white), the WCAG relative luminance.
AUDIT_JS = r"""
function rgba(s) { const m = s.match(/rgba?\(([^)]+)\)/); if (!m) return [0, 0, 0, 0];
  const p = m[1].split(',').map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; }
function lum(c) { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); }
function background(el) { let layers = [];
  for (let e = el; e; e = e.parentElement) { const b = rgba(getComputedStyle(e).backgroundColor);
    if (b[3] > 0) { layers.push(b); if (b[3] >= 1) break; } }
  let c = [255, 255, 255];
  for (const b of layers.reverse()) c = [0, 1, 2].map(i => b[i] * b[3] + c[i] * (1 - b[3]));
  return c; }
const out = {contrast: [], unlabelled: [], noalt: [], headings: [], lang: document.documentElement.lang,
             wide: document.documentElement.scrollWidth > window.innerWidth};
for (const el of document.querySelectorAll('body *')) {
  const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  const st = getComputedStyle(el), r = el.getBoundingClientRect();
  if (!own || st.visibility === 'hidden' || st.display === 'none' || r.width === 0 || r.height === 0) continue;
  if (el.closest('.skip, .visually-hidden')) continue;
  const fg = rgba(st.color), bg = background(el);
  const blended = [0, 1, 2].map(i => fg[i] * fg[3] + bg[i] * (1 - fg[3]));
  const [a, b] = [lum(blended), lum(bg)].sort((x, y) => y - x);
  const ratio = (a + 0.05) / (b + 0.05), size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight) >= 700;
  const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
  if (ratio < need) out.contrast.push(`${el.tagName}.${el.className} «${el.textContent.trim().slice(0, 40)}» ${ratio.toFixed(2)} < ${need}`);
}
for (const el of document.querySelectorAll('input, select, textarea')) {
  if (el.type === 'hidden') continue;
  if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label')) out.unlabelled.push(el.outerHTML.slice(0, 80));
}
for (const img of document.querySelectorAll('img')) if (!img.hasAttribute('alt')) out.noalt.push(img.src);
out.headings = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h => Number(h.tagName[1]));
return out;
"""


def _audit(driver, page: str) -> list[str]:
    result = driver.execute_script(AUDIT_JS)
    problems = [f"{page}: contrast {c}" for c in result["contrast"]]
    problems += [f"{page}: no label for {c}" for c in result["unlabelled"]]
    problems += [f"{page}: no alt on {c}" for c in result["noalt"]]
    levels = result["headings"]
    if levels.count(1) != 1 or levels[0] != 1:
        problems.append(f"{page}: headings {levels} (one h1, first)")
    problems += [f"{page}: heading h{b} after h{a}" for a, b in zip(levels, levels[1:]) if b > a + 1]
    if result["lang"] != "ru":
        problems.append(f"{page}: lang={result['lang']!r}")
    if result["wide"]:
        problems.append(f"{page}: wider than the window")
    return problems


def _record_of(driver, url: str) -> str:
    from selenium.webdriver.common.by import By

    driver.get(f"{url}/opac/search?q=война")
    return driver.find_element(By.CSS_SELECTOR, ".card-title a").get_attribute("href")


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_every_page_is_accessible(opac_server, device, request):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver = request.getfixturevalue(device)
    url, _cfg = opac_server
    driver.delete_all_cookies()
    problems: list[str] = []
    record = _record_of(driver, url)
    for page in ("/opac", "/opac/search?q=djqyf", "/opac/search?q=пушкин&available=1",
                 "/opac/search?q=zzzzqqqq", record.removeprefix(url), "/opac/new?days=90",
                 "/opac/login", "/opac/record/999999"):
        driver.get(url + page)
        waiter(driver).until(ec.presence_of_element_located((By.TAG_NAME, "h1")))
        problems += _audit(driver, page)
    driver.get(f"{url}/opac/login")
    driver.find_element(By.ID, "card").send_keys(DEMO_CARD)
    driver.find_element(By.ID, "pin").send_keys(DEMO_PIN)
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    waiter(driver).until(ec.presence_of_element_located((By.ID, "loans-h")))
    for page in ("/opac/account", "/opac/account/history", "/opac/account/pin", record.removeprefix(url)):
        driver.get(url + page)
        waiter(driver).until(ec.presence_of_element_located((By.TAG_NAME, "h1")))
        problems += _audit(driver, page)
    assert not problems, "\n".join(problems)
