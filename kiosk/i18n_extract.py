"""Find every translatable message in the kiosk sources (.py and .kv) and update the .po files.

``python -m kiosk.i18n_extract`` adds missing msgids (with an empty translation) to each
catalogue and lists them; the tests use `extract` to check that nothing is untranslated.
`say(msgid, formal)` and `nsay(...)` (a message to a reader) need both the plain («ты») entry
and the ``msgctxt "formal"`` («Вы») one. Other contexts are not extracted: month names are
listed by hand with ``msgctxt "genitive"``.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from kiosk.i18n import FORMAL, LANGUAGES, LOCALE_DIR, parse_po, po_path

ROOT = Path(__file__).parent
KV_CALL = re.compile(r"""\btr\(\s*(['"])(.+?)\1""")
FUNCS = {"_", "N_", "tr"}


def _py_messages(path: Path) -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        args = [a.value for a in node.args if isinstance(a, ast.Constant)
                and isinstance(a.value, str)]
        if node.func.id in FUNCS and args:
            found.add((args[0],))
        elif node.func.id == "ngettext" and len(args) >= 2:
            found.add((args[0], args[1]))
        elif node.func.id == "say" and args:
            found |= {(args[0],), (f"{FORMAL}\x04{args[0]}",)}
        elif node.func.id == "nsay" and len(args) >= 2:
            found |= {(args[0], args[1]), (f"{FORMAL}\x04{args[0]}", args[1])}
    return found


def extract(root: Path = ROOT) -> set[tuple[str, ...]]:
    """Every (msgid,) or (singular, plural) used in the sources."""
    found: set[tuple[str, ...]] = set()
    for path in sorted(root.rglob("*.py")):
        found |= _py_messages(path)
    for path in sorted(root.rglob("*.kv")):
        found |= {(m.group(2),) for m in KV_CALL.finditer(path.read_text(encoding="utf-8"))}
    return found


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def missing(lang: str, locale_dir: Path = LOCALE_DIR) -> list[tuple[str, ...]]:
    """Messages used in the sources but absent from a catalogue."""
    have = parse_po(po_path(lang, locale_dir).read_text(encoding="utf-8"))
    keys = {k.decode() for k in have}
    return sorted(m for m in extract() if "\0".join(m) not in keys)


def update(lang: str, locale_dir: Path = LOCALE_DIR) -> list[tuple[str, ...]]:
    """Append empty entries for missing messages; returns them."""
    new = missing(lang, locale_dir)
    if new:
        with po_path(lang, locale_dir).open("a", encoding="utf-8") as out:
            for m in new:
                context, _sep, msgid = m[0].rpartition("\x04")
                ctx = f"\nmsgctxt {_quote(context)}" if context else ""
                if len(m) == 1:
                    out.write(f"{ctx}\nmsgid {_quote(msgid)}\nmsgstr \"\"\n")
                else:
                    out.write(f"{ctx}\nmsgid {_quote(msgid)}\nmsgid_plural {_quote(m[1])}\n"
                              'msgstr[0] ""\nmsgstr[1] ""\nmsgstr[2] ""\n')
    return new


TRANSLATED = tuple(lang for lang in LANGUAGES if lang != "en")  # English msgids need no entries

if __name__ == "__main__":  # pragma: no cover
    for language in TRANSLATED:
        for message in update(language):
            print(language, message)
    sys.exit(0)
