"""Gettext for the kiosk: English msgids, Russian by default, switchable at run time.

Catalogues live in ``kiosk/locale/<lang>/LC_MESSAGES/kiosk.po``. The .po compiler of
library/i18n.py turns a .po into .mo bytes: ``python -m kiosk.i18n`` writes the
.mo files at build time, and at run time a missing or stale .mo is compiled in memory, so a
source checkout never shows raw msgids. Plural forms and ``msgctxt`` are supported.
"""

from __future__ import annotations

import gettext
import io
from pathlib import Path
from typing import TypedDict

from library.i18n import compile_mo, parse_po

DOMAIN = "kiosk"
LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"


class _State(TypedDict):
    lang: str
    tr: gettext.NullTranslations  # GNUTranslations once a language is set


_state: _State = {"lang": DEFAULT_LANGUAGE, "tr": gettext.NullTranslations()}


def po_path(lang: str, locale_dir: Path = LOCALE_DIR) -> Path:
    """Where the catalogue of one language lives."""
    return locale_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_translations(lang: str, locale_dir: Path = LOCALE_DIR) -> gettext.GNUTranslations:
    """The translations of one language: the .mo when fresh, else the .po compiled in memory."""
    po = po_path(lang, locale_dir)
    mo = po.with_suffix(".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        data = mo.read_bytes()
    else:
        data = compile_mo(parse_po(po.read_text(encoding="utf-8"), str(po)))
    return gettext.GNUTranslations(io.BytesIO(data))


def set_language(lang: str, locale_dir: Path = LOCALE_DIR) -> None:
    """Switch every later `_()` call to ``lang`` (ru or en)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}: use one of {', '.join(LANGUAGES)}")
    _state["tr"] = load_translations(lang, locale_dir)
    _state["lang"] = lang


def language() -> str:
    """The current language code."""
    return str(_state["lang"])


def _(msgid: str) -> str:
    """Translate one message."""
    return _state["tr"].gettext(msgid)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message with a number (Russian has three plural forms)."""
    return _state["tr"].ngettext(singular, plural, n)


def pgettext(context: str, msgid: str) -> str:
    """Translate a message in a context (for example month names in the genitive)."""
    return _state["tr"].pgettext(context, msgid)


FORMAL = "formal"  # the msgctxt of the «Вы» variant of a message said to a reader


def say(msgid: str, formal: bool = False) -> str:
    """A message said to a reader: «ты» to pupils (the plain entry), «Вы» to teachers (the
    ``formal`` context, falling back to the plain entry where both read the same)."""
    if formal:
        text = pgettext(FORMAL, msgid)
        if text != msgid:
            return text
    return _(msgid)


def nsay(singular: str, plural: str, n: int, formal: bool = False) -> str:
    """`say` with a number."""
    if formal:
        text = _state["tr"].npgettext(FORMAL, singular, plural, n)
        if text not in (singular, plural):
            return text
    return ngettext(singular, plural, n)


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention
    """Mark a string for extraction without translating it now."""
    return msgid


def tr(msgid: str, _lang: str = "") -> str:
    """`_()` for kv rules: pass ``app.lang`` as the second argument so the text re-binds."""
    return _(msgid)


def compile_all(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Write the .mo beside every .po (the build step); returns the files written."""
    written = []
    for lang in LANGUAGES:
        po = po_path(lang, locale_dir)
        mo = po.with_suffix(".mo")
        mo.write_bytes(compile_mo(parse_po(po.read_text(encoding="utf-8"), str(po))))
        written.append(mo)
    return written


if __name__ == "__main__":  # pragma: no cover
    for path in compile_all():
        print(path)
