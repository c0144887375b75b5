"""The desk in two languages: every text of its pages has a Russian translation (msgids are
English), no Russian is left in the desk's code or templates outside the catalogues, the .po
files are valid, and `GET /desk/lang/en` switches a browser to English."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.desk.conftest import logged_in

ROOT = Path(__file__).resolve().parents[2]
DESK = ROOT / "server" / "desk"
CYRILLIC = re.compile("[А-Яа-яЁё]")
ALLOW = "# not UI text"  # a line with Russian that is data, not a message (a regex, a mapping key…)
CALL = re.compile(r"""\b(?:N_|_)\(\s*(?P<q>["'])(?P<id>(?:\\.|(?!(?P=q)).)*)(?P=q)\s*[,)]""", re.S)
NCALL = re.compile(r"""\bngettext\(\s*(?P<q>["'])(?P<one>(?:\\.|(?!(?P=q)).)*)(?P=q)\s*,\s*"""
                   r"""(?P<q2>["'])(?P<many>(?:\\.|(?!(?P=q2)).)*)(?P=q2)""", re.S)
JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)
CLASS_NAME = re.compile(r"^\d{1,2}[А-ЯЁ]$")


def _templates(root: Path = DESK) -> list[Path]:
    return sorted((root / "templates").glob("*.html"))


def _sources(root: Path = DESK) -> list[Path]:
    return sorted(root.glob("*.py"))


def _docstring_nodes(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _unescape(text: str) -> str:
    return ast.literal_eval(f'"{text}"') if "\\" in text else text


def used_messages(root: Path = DESK) -> set[tuple[str, ...]]:
    """Every msgid (and plural pair) in the code and templates of a front end (the desk's, or
    the OPAC's: tests/opac/test_i18n.py)."""
    found: set[tuple[str, ...]] = set()
    for path in _sources(root):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
                name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
                args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                if name in ("_", "N_") and args:
                    found.add((args[0],))
                elif name == "ngettext" and len(args) >= 2:
                    found.add((args[0], args[1]))
    for path in _templates(root):
        text = JINJA_COMMENT.sub("", path.read_text(encoding="utf-8"))
        found |= {(_unescape(m["id"]),) for m in CALL.finditer(text)}
        found |= {(_unescape(m["one"]), _unescape(m["many"])) for m in NCALL.finditer(text)}
    return found


def russian_left(root: Path = DESK) -> list[str]:
    """Lines of a front end's code and templates with Russian outside its catalogues (a
    docstring, a Jinja comment and a line marked ALLOW do not count)."""
    left = []
    for path in _templates(root):
        text = JINJA_COMMENT.sub(lambda m: "\n" * m.group().count("\n"), path.read_text(encoding="utf-8"))
        for n, line in enumerate(text.splitlines(), 1):
            if CYRILLIC.search(line) and ALLOW not in line:
                left.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    for path in _sources(root):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        tree = ast.parse(source)
        docstrings = _docstring_nodes(tree)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                    and CYRILLIC.search(node.value)
                    and not any(ALLOW in lines[i - 1] for i in range(node.lineno, (node.end_lineno or node.lineno) + 1))):
                left.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:80]!r}")
    return left


def test_no_russian_outside_the_catalogues():
    """Russian words live in server/desk/locale only: the English switch shows no Russian
    text of ours (reader names and titles are data)."""
    left = russian_left()
    assert not left, "Russian outside the catalogues (use _(\"English\") + a Russian msgstr):\n" + "\n".join(left)


def test_every_message_has_its_russian_text():
    from library.i18n import parse_po
    from server.desk.i18n import catalogue_files

    files = catalogue_files("ru")
    assert files, "server/desk/locale/ru/LC_MESSAGES/*.po"
    have: dict[bytes, bytes] = {}
    for path in files:
        have.update(parse_po(path.read_text(encoding="utf-8"), str(path)))
    missing = sorted("\\0".join(m) for m in used_messages() if "\0".join(m).encode() not in have)
    assert not missing, "no Russian text for:\n" + "\n".join(missing)


def test_a_message_in_two_catalogues_reads_the_same():
    """The catalogues are read into one: a msgid in two files must not say two things (the
    later file would silently win)."""
    from library.i18n import parse_po
    from server.desk.i18n import catalogue_files

    seen: dict[bytes, tuple[bytes, str]] = {}
    clashes = []
    for path in catalogue_files("ru"):
        for key, value in parse_po(path.read_text(encoding="utf-8"), str(path)).items():
            if key and key in seen and seen[key][0] != value:
                clashes.append(f"{key.decode()!r}: {seen[key][1]} {seen[key][0].decode()!r} ≠ "
                               f"{path.name} {value.decode()!r}")
            seen.setdefault(key, (value, path.name))
    assert not clashes, "\n".join(clashes)


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="msgfmt (gettext) not installed")
def test_the_catalogues_are_valid_po(tmp_path):
    from server.desk.i18n import catalogue_files

    for path in catalogue_files("ru"):
        done = subprocess.run(["msgfmt", "--check", "-o", str(tmp_path / "x.mo"), str(path)],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, (path, done.stderr)


def _chrome(html: str) -> list[str]:
    """The texts of our own elements: navigation, headings of sections, labels, buttons, table
    headers and captions (never data)."""
    texts = []
    for tag in ("nav", "label", "button", "th", "caption", "legend", "h2", "title"):
        texts += re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", html, re.S)
    return [re.sub(r"<[^>]+>", " ", t).strip() for t in texts]


def test_the_english_switch(desk):
    make, _db = desk
    client = logged_in(make, "boss", "очень-длинный-пароль")
    r = client.get("/desk/lang/en", params={"next": "/desk/readers?q=x"})
    assert r.status_code == 303 and r.headers["location"] == "/desk/readers?q=x"
    cookie = r.headers["set-cookie"]
    assert "ibc_desk_lang=en" in cookie and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    pages = ["/desk", "/desk/circulation", "/desk/circulation?card=C5A", "/desk/readers",
             "/desk/catalogue", "/desk/catalogue?q=война", "/desk/reports", "/desk/reports/overdue",
             "/desk/media", "/desk/terminals", "/desk/terminals/conflicts", "/desk/accounts",
             "/desk/catalogue/import", "/desk/readers/new", "/desk/readers/import",
             "/desk/readers/school-year", "/desk/textbooks", "/desk/textbooks/fpu",
             "/desk/textbooks/classes", "/desk/textbooks/classes/collect",
             "/desk/textbooks/provision", "/desk/textbooks/provision/next",
             "/desk/textbooks/provision/order", "/desk/accounts/audit"]
    russian = {}
    for page in pages:
        r = client.get(page)
        assert r.status_code == 200, (page, r.status_code)
        assert '<html lang="en">' in r.text
        bad = [t for t in _chrome(r.text) if CYRILLIC.search(t) and not t.startswith("Русский")
               and not CLASS_NAME.match(t)]  # a class («7А») heading a row is data
        if bad:
            russian[page] = bad
    assert not russian, russian
    client.get("/desk/lang/ru")
    r = client.get("/desk")
    assert '<html lang="ru">' in r.text and "Выдача" in r.text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/desk", "/api/v1/search",
                                    "/desk\\..\\x", "javascript:alert(1)"])
def test_the_switch_never_leaves_the_desk(desk, target):
    make, _db = desk
    r = make().get("/desk/lang/en", params={"next": target})
    assert r.status_code == 303 and r.headers["location"] == "/desk"
