"""Translations of the domain core's user-facing messages (gettext, English msgids).

Catalogues: library/locale/<lang>/LC_MESSAGES/ibc.po, compiled to .mo with `msgfmt`
(scripts/compile-translations); tests check every message has a Russian translation and the
.mo is current.

Also the one .po reader and .mo compiler (the logic of CPython's Tools/i18n/msgfmt.py) that the
kiosk's and the desk's catalogues are loaded with: `parse_po`, `compile_mo`, `po_translations`.
"""

from __future__ import annotations

import array
import ast
import gettext
import io
import struct
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from library.errors import IbcError

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "ibc"


@lru_cache(maxsize=8)
def translator(language: str) -> Callable[[str], str]:
    """gettext for `language` ("ru", "en"); English is the msgid itself."""
    if language == "en":
        return lambda msg: msg
    tr = gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)
    return tr.gettext


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


def po_translations(paths: Iterable[Path]) -> gettext.GNUTranslations:
    """One catalogue made of several .po files (compiled in memory; a later file's entry wins)."""
    messages: dict[bytes, bytes] = {}
    for path in paths:
        messages.update(parse_po(path.read_text(encoding="utf-8"), str(path)))
    return gettext.GNUTranslations(io.BytesIO(compile_mo(messages)))
