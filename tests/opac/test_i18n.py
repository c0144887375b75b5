"""The OPAC in two languages, as the desk (tests/desk/test_i18n.py, whose readers of code and
templates this reuses): every text of its pages has a Russian translation, no Russian is left in
the OPAC's code or templates outside server/opac/locale, the desk's and the OPAC's catalogues —
read into one — never give one msgid two texts, and `GET /opac/lang/en` switches a browser to
English without leaving the OPAC."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.desk.test_i18n import CYRILLIC, _chrome, russian_left, used_messages
from tests.opac.conftest import csrf

ROOT = Path(__file__).resolve().parents[2]
OPAC = ROOT / "server" / "opac"


def _all_catalogues() -> list[Path]:
    from server.desk.i18n import OPAC_LOCALE_DIR, catalogue_files

    return catalogue_files("ru") + catalogue_files("ru", OPAC_LOCALE_DIR)


def test_no_russian_outside_the_catalogues():
    left = russian_left(OPAC)
    assert not left, "Russian outside the catalogues (use _(\"English\") + a Russian msgstr):\n" + "\n".join(left)


def test_every_message_has_its_russian_text():
    from library.i18n import parse_po
    from server.desk.i18n import OPAC_LOCALE_DIR, catalogue_files

    assert catalogue_files("ru", OPAC_LOCALE_DIR), "server/opac/locale/ru/LC_MESSAGES/*.po"
    have: dict[bytes, bytes] = {}
    for path in _all_catalogues():
        have.update(parse_po(path.read_text(encoding="utf-8"), str(path)))
    missing = sorted("\\0".join(m) for m in used_messages(OPAC) if "\0".join(m).encode() not in have)
    assert not missing, "no Russian text for:\n" + "\n".join(missing)


def test_a_message_in_two_catalogues_reads_the_same():
    """The desk's and the OPAC's catalogues are read into one: a msgid in two files must not
    say two things (the later file would silently win on both)."""
    from library.i18n import parse_po

    seen: dict[bytes, tuple[bytes, str]] = {}
    clashes = []
    for path in _all_catalogues():
        for key, value in parse_po(path.read_text(encoding="utf-8"), str(path)).items():
            if key and key in seen and seen[key][0] != value:
                clashes.append(f"{key.decode()!r}: {seen[key][1]} {seen[key][0].decode()!r} ≠ "
                               f"{path.name} {value.decode()!r}")
            seen.setdefault(key, (value, path.name))
    assert not clashes, "\n".join(clashes)


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="msgfmt (gettext) not installed")
def test_the_catalogues_are_valid_po(tmp_path):
    from server.desk.i18n import OPAC_LOCALE_DIR, catalogue_files

    for path in catalogue_files("ru", OPAC_LOCALE_DIR):
        done = subprocess.run(["msgfmt", "--check", "-o", str(tmp_path / "x.mo"), str(path)],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, (path, done.stderr)


def _english(client, pages: list[str]) -> dict[str, list[str]]:
    russian = {}
    for page in pages:
        r = client.get(page)
        assert r.status_code == 200, (page, r.status_code)
        assert '<html lang="en">' in r.text
        # our own words only: the language link names Russian in Russian, a page's <title> may
        # carry a book's title or the query (data)
        texts = [t.replace("Русский", "") for t in _chrome(r.text)
                 if t not in re.findall(r"<title>(.*?)</title>", r.text, re.S)]
        bad = [t for t in texts if CYRILLIC.search(t)]
        if bad:
            russian[page] = bad
    return russian


def test_the_english_switch(opac):
    make, db = opac
    client = make()
    r = client.get("/opac/lang/en", params={"next": "/opac/search?q=x"})
    assert r.status_code == 303 and r.headers["location"] == "/opac/search?q=x"
    cookie = r.headers["set-cookie"]
    assert "ibc_opac_lang=en" in cookie and "HttpOnly" in cookie and "Path=/opac" in cookie
    with db.session() as s:
        from library.storage.models import Record

        record_id = s.query(Record.id).filter(Record.title == "Война и мир").scalar()
    public = ["/opac", "/opac/search?q=война", "/opac/search?q=zzzzqqq", f"/opac/record/{record_id}",
              "/opac/new", "/opac/login"]
    assert not _english(client, public)
    form = client.get("/opac/login")
    r = client.post("/opac/login", data={"card": "CPIN", "pin": "4321", "csrf": csrf(form.text)})
    assert r.status_code == 303, r.text
    assert not _english(client, ["/opac/account", "/opac/account/history", f"/opac/record/{record_id}"])
    client.get("/opac/lang/ru")
    r = client.get("/opac")
    assert '<html lang="ru">' in r.text and "Поиск" in r.text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/opac", "/desk",
                                    "/opac\\..\\x", "javascript:alert(1)", "/opacx"])
def test_the_switch_never_leaves_the_opac(opac, target):
    make, _db = opac
    r = make().get("/opac/lang/en", params={"next": target})
    assert r.status_code == 303 and r.headers["location"] == "/opac"
    assert re.search(r"ibc_opac_lang=en", r.headers["set-cookie"])
