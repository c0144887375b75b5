"""Control characters: the one definition of what may not sit in an identifier or reach a
librarian's terminal raw.

A card number, a barcode or a search typed at a kiosk is stored and later printed by the command
line (`ibc queue list`, `ibc report`, `ibc search`). An ESC sequence stored there would drive the
librarian's terminal (move the cursor, rewrite lines, change the title), so:

* the API refuses identifiers and queries that contain one (``NO_CONTROLS_PATTERN``, used by the
  server's request schemas);
* the command line escapes whatever it prints (``printable``): data imported before, or from a
  MARC file, is shown as ``\\x1b`` instead of being obeyed.

C0 controls (U+0000–U+001F) except tab and newline in text, DEL (U+007F) and C1 controls
(U+0080–U+009F: 0x9B is a one-byte CSI on many terminals) count.
"""

from __future__ import annotations

import re

CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A whole value with no control character at all (not even tab or newline): identifiers, queries.
NO_CONTROLS_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"


def has_controls(value: str) -> bool:
    """True when ``value`` holds any control character (tab and newline included)."""
    return ANY_CONTROL.search(value) is not None


def printable(text: str) -> str:
    """``text`` safe for a terminal: controls other than tab and newline shown as ``\\xNN``
    (carriage return too: it would let a value overwrite the start of its line)."""
    return CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
