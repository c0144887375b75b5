"""The languages of the server's web pages — the librarian's desk and the public catalogue
(OPAC, server/opac): Russian (the default) and English, switched per browser.

Msgids are English, as everywhere in the project; the Russian text lives in
``server/desk/locale/ru/LC_MESSAGES/<part>.po`` (one file per part of the desk, so its pages
and its words stay together) and ``server/opac/locale/ru/LC_MESSAGES/*.po`` (the OPAC's), all
read into one catalogue at start by library.i18n's .po compiler. English is the msgid itself.
The OPAC keeps its own language cookie (``ibc_opac_lang``) and sets the request's language
with `set_language` in its middleware (server/opac/web.py).

The language of a request comes from the cookie ``ibc_desk_lang`` (set by ``GET
/desk/lang/{ru|en}``); `DeskHeaders` (server/desk/web.py) puts it in a context variable for
the request, so `_()` works in a route, in a helper it calls and in a template (render passes
`_`, `ngettext` and `lang`). Texts defined at import time are marked with `N_()` and
translated where they are shown (``{{ _(text) }}`` in a template).

`tests/desk/test_i18n.py` checks that every message has its Russian text and that no Russian
is left in the desk's code or templates outside a catalogue.
"""

from __future__ import annotations

import contextvars
import gettext
from functools import lru_cache
from pathlib import Path

from library.i18n import po_translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
OPAC_LOCALE_DIR = Path(__file__).resolve().parents[1] / "opac" / "locale"
LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"
COOKIE = "ibc_desk_lang"
LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}  # not UI text: each name in its own language

_language: contextvars.ContextVar[str] = contextvars.ContextVar("desk_language", default=DEFAULT_LANGUAGE)


def catalogue_files(lang: str, locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """The .po files of one language, in name order."""
    return sorted((locale_dir / lang / "LC_MESSAGES").glob("*.po"))


@lru_cache(maxsize=4)
def _translations(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    return po_translations(catalogue_files(lang) + catalogue_files(lang, OPAC_LOCALE_DIR))


def language_of(cookie: str | None) -> str:
    """The language a cookie asks for (the default when missing or unknown)."""
    return cookie if cookie in LANGUAGES else DEFAULT_LANGUAGE


def set_language(lang: str) -> contextvars.Token[str]:
    """Make `lang` the language of the current request (context)."""
    return _language.set(language_of(lang))


def reset_language(token: contextvars.Token[str]) -> None:
    """Undo set_language."""
    _language.reset(token)


def language() -> str:
    """The current request's language."""
    return _language.get()


def _(msgid: str) -> str:
    """Translate a message into the request's language."""
    return _translations(_language.get()).gettext(msgid)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message with a number (Russian has three plural forms)."""
    return _translations(_language.get()).ngettext(singular, plural, n)


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention
    """Mark a text for translation where it is shown (translated later with `_`)."""
    return msgid
