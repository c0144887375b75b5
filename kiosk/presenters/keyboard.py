"""On-screen keyboard layouts (ЙЦУКЕН, QWERTY, digits) and the text they edit."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.i18n import _

BACKSPACE = "\b"
SPACE = " "
CLEAR = "\x18"
HIDE = "\x1b"
LAYOUT_PREFIX = "layout:"

LAYOUTS: dict[str, tuple[str, ...]] = {
    "ru": ("ЙЦУКЕНГШЩЗХЪ", "ФЫВАПРОЛДЖЭ", "ЯЧСМИТЬБЮЁ"),
    "en": ("QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM"),
    "digits": ("1234567890", "-.,:;!?()", "\"'/+=№"),
}
# The label of the key that switches to each layout.
LAYOUT_LABELS = {"ru": "АБВ", "en": "ABC", "digits": "123"}


@dataclass(frozen=True)
class Key:
    """One key: what it types (or a command) and its label and relative width."""

    value: str
    label: str
    width: float = 1.0


def rows(layout: str) -> list[list[Key]]:
    """The key rows of a layout plus a bottom row of commands."""
    letters = [[Key(c.lower(), c) for c in row] for row in LAYOUTS[layout]]
    letters[-1].append(Key(BACKSPACE, _("Erase"), 1.9))
    bottom = [Key(LAYOUT_PREFIX + name, label, 1.4) for name, label in LAYOUT_LABELS.items()
              if name != layout]
    # «Готово» folds the keyboard: the results get the whole screen.
    bottom += [Key(SPACE, _("Space"), 4.6), Key(CLEAR, _("Clear"), 1.6), Key(HIDE, _("Done"), 1.6)]
    return letters + [bottom]


class TextBuffer:
    """The query being typed: keys edit it, with a length cap."""

    def __init__(self, max_len: int = 60):
        self.text = ""
        self.max_len = max_len

    def press(self, value: str) -> bool:
        """Apply one key; True when the text changed."""
        before = self.text
        if value == BACKSPACE:
            self.text = self.text[:-1]
        elif value == CLEAR:
            self.text = ""
        elif value == SPACE:
            if self.text and not self.text.endswith(" "):
                self.text += " "
        elif len(value) == 1 and len(self.text) < self.max_len:
            self.text += value
        return self.text != before
