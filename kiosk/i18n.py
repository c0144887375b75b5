"""Gettext for the kiosk: English msgids, Russian by default, switchable at run time.

Catalogues live in ``kiosk/locale/<lang>/LC_MESSAGES/kiosk.po``. A tiny compiler (the logic of
CPython's Tools/i18n/msgfmt.py) turns a .po into .mo bytes: ``python -m kiosk.i18n`` writes the
.mo files at build time, and at run time a missing or stale .mo is compiled in memory, so a
source checkout never shows raw msgids. Plural forms and ``msgctxt`` are supported.
"""

from __future__ import annotations

import array
import ast
import gettext
import io
import struct
from pathlib import Path
from typing import Any, TypedDict

from library.errors import IbcError

DOMAIN = "kiosk"
LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"


class _State(TypedDict):
    lang: str
    tr: gettext.NullTranslations  # GNUTranslations once a language is set


_state: _State = {"lang": DEFAULT_LANGUAGE, "tr": gettext.NullTranslations()}


class CatalogueError(IbcError, ValueError):
    """A .po file cannot be parsed; the message names the file and line."""

    code = "catalogue"


def parse_po(text: str, name: str = "<po>") -> dict[bytes, bytes]:
    """Messages of a .po file as .mo keys/values (context, plurals, header included)."""
    messages: dict[bytes, bytes] = {}
    # str values by keyword, plus "fuzzy": True and "msgstr[]": {index: str}
    entry: dict[str, Any] = {}
    section: tuple[str, int] | None = None

    def flush() -> None:
        if "msgid" in entry and not entry.get("fuzzy"):
            msgid = entry["msgid"]
            if "msgid_plural" in entry:
                msgid = f"{msgid}\0{entry['msgid_plural']}"
                forms = entry.get("msgstr[]", {})
                msgstr = "\0".join(forms[i] for i in sorted(forms))
            else:
                msgstr = entry.get("msgstr", "")
            if "msgctxt" in entry:
                msgid = f"{entry['msgctxt']}\x04{msgid}"
            if msgstr or msgid == "":
                messages[msgid.encode()] = msgstr.encode()
        entry.clear()

    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("#,") and "fuzzy" in line:
            if "msgstr" in entry or "msgstr[]" in entry:
                flush()
            entry["fuzzy"] = True
            continue
        if not line or line.startswith("#"):
            continue
        key, _, rest = line.partition(" ")
        if line.startswith('"'):
            key, rest = "", line
        elif key in ("msgctxt", "msgid") and ("msgstr" in entry or "msgstr[]" in entry):
            flush()
        try:
            value = ast.literal_eval(rest.strip())
        except (SyntaxError, ValueError) as exc:
            raise CatalogueError(f"{name}:{lineno}: cannot read {raw!r}") from exc
        if key.startswith("msgstr["):
            index = int(key[7:-1])
            entry.setdefault("msgstr[]", {})[index] = value
            section = ("msgstr[]", index)
        elif key in ("msgctxt", "msgid", "msgid_plural", "msgstr"):
            entry[key] = value
            section = (key, -1)
        elif key == "" and section is not None:
            field, index = section
            if field == "msgstr[]":
                entry["msgstr[]"][index] += value
            else:
                entry[field] += value
        else:
            raise CatalogueError(f"{name}:{lineno}: unexpected {raw!r}")
    flush()
    return messages


def compile_mo(messages: dict[bytes, bytes]) -> bytes:
    """The GNU .mo bytes of parsed messages."""
    keys = sorted(messages)
    ids = strs = b""
    offsets = []
    for key in keys:
        offsets.append((len(ids), len(key), len(strs), len(messages[key])))
        ids += key + b"\0"
        strs += messages[key] + b"\0"
    keystart = 7 * 4 + 16 * len(keys)
    valuestart = keystart + len(ids)
    koffsets: list[int] = []
    voffsets: list[int] = []
    for o1, l1, o2, l2 in offsets:
        koffsets += [l1, o1 + keystart]
        voffsets += [l2, o2 + valuestart]
    header = struct.pack("Iiiiiii", 0x950412DE, 0, len(keys), 7 * 4, 7 * 4 + len(keys) * 8, 0, 0)
    return header + array.array("i", koffsets + voffsets).tobytes() + ids + strs


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
