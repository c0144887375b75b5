"""Gettext catalogues: the tiny .po compiler, Russian plurals, complete Russian catalogue."""

from __future__ import annotations

import gettext
import io

import pytest

from kiosk import i18n
from kiosk.i18n_extract import extract, missing
from library.i18n import CatalogueError

PO = '''msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\\n"

msgid "Hello"
msgstr "Привет"

#, fuzzy
msgid "Draft"
msgstr "Черновик"

msgid "{n} book"
msgid_plural "{n} books"
msgstr[0] "{n} книга"
msgstr[1] "{n} книги"
msgstr[2] "{n} книг"

msgctxt "genitive"
msgid "May"
msgstr "мая"

msgid "Long"
msgstr "a "
"b"
'''


def test_compiled_catalogue_reads_with_stdlib_gettext():
    tr = gettext.GNUTranslations(io.BytesIO(i18n.compile_mo(i18n.parse_po(PO))))
    assert tr.gettext("Hello") == "Привет"
    assert tr.gettext("Draft") == "Draft"  # fuzzy entries are not used
    assert [tr.ngettext("{n} book", "{n} books", n) for n in (1, 3, 5, 21, 11)] == [
        "{n} книга", "{n} книги", "{n} книг", "{n} книга", "{n} книг"]
    assert tr.pgettext("genitive", "May") == "мая"
    assert tr.gettext("Long") == "a b"


def test_bad_po_names_the_line():
    with pytest.raises(CatalogueError, match=":2:"):
        i18n.parse_po('msgid "a"\nmsgstr "b\n')


def test_russian_is_default_and_english_switches():
    assert i18n.language() == "ru"
    assert i18n._("Find a book") == "Найти книгу"
    i18n.set_language("en")
    assert i18n._("Find a book") == "Find a book"
    assert i18n.ngettext("{n} book", "{n} books", 2) == "{n} books"
    with pytest.raises(ValueError, match="unsupported language"):
        i18n.set_language("de")


def test_every_message_in_sources_has_a_russian_translation():
    assert len(extract()) > 100
    assert missing("ru") == []


def test_msgids_are_english():
    cyrillic = [m for m in extract() if any("а" <= c.lower() <= "я" for c in "".join(m))]
    assert cyrillic == []


def test_compile_all_writes_mo_files(tmp_path):
    for lang in i18n.LANGUAGES:
        target = tmp_path / lang / "LC_MESSAGES"
        target.mkdir(parents=True)
        (target / "kiosk.po").write_text(i18n.po_path(lang).read_text(encoding="utf-8"),
                                         encoding="utf-8")
    written = i18n.compile_all(tmp_path)
    assert [p.name for p in written] == ["kiosk.mo", "kiosk.mo"]
    assert i18n.load_translations("ru", tmp_path).gettext("Return a book") == "Вернуть книгу"


def test_the_catalogue_passes_msgfmt_check():
    """No msgid twice (a later copy would silently win over an empty first one), no broken
    format: the catalogue is as GNU gettext's own checker wants it."""
    import shutil
    import subprocess

    from kiosk.i18n import LOCALE_DIR

    assert shutil.which("msgfmt"), "msgfmt missing: `./install.sh dev` installs gettext"
    po = LOCALE_DIR / "ru" / "LC_MESSAGES" / "kiosk.po"
    out = subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(po)], capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0, out.stderr
