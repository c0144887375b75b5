"""Colours and sizes of the kiosk: the normal theme and the large-text high-contrast one.

Sizes are pixels for a 1280×800 screen scaled by the window: every touch target is at least
90 px high at 1280×800 (15 mm on a 15-inch 1280×800 panel is about 60 px, so this leaves room
for small fingers).

Colours are *roles*: every filled control has a background role (``accent``, ``action2``, …)
and its own text colour ``on_<role>``; kv rules never write colour literals (a test reads the kv
files). `CONTRAST_PAIRS` lists every foreground/background pair the screens draw, with the WCAG
2.1 level it must meet; `contrast_ratio` computes it (tests/kiosk/test_theme.py checks both
themes).
"""

from __future__ import annotations

from dataclasses import dataclass

RGBA = tuple[float, float, float, float]

# Filled controls: (background role). Each has an ``on_<role>`` text colour.
BUTTON_ROLES = ("accent", "action2", "action3", "key", "chip", "chip_on", "ok", "bad", "dialog",
                "warn")
# WCAG 2.1: 4.5:1 for text (1.4.3), 3:1 for large text and for the boundary of a control that
# is told apart from the screen by its fill (1.4.11).
TEXT, LARGE, CONTROL = 4.5, 3.0, 3.0


@dataclass(frozen=True)
class Theme:
    """One look of the kiosk; kv rules read ``app.theme.<name>``."""

    bg: RGBA
    panel: RGBA
    text: RGBA
    muted: RGBA
    ok_text: RGBA  # green words (on the shelf, accepted) on bg or panel
    bad_text: RGBA  # red words (overdue, refused) on bg or panel
    accent: RGBA
    on_accent: RGBA
    action2: RGBA
    on_action2: RGBA
    action3: RGBA
    on_action3: RGBA
    ok: RGBA
    on_ok: RGBA
    bad: RGBA
    on_bad: RGBA
    key: RGBA
    on_key: RGBA
    chip: RGBA
    on_chip: RGBA
    chip_line: RGBA  # the outline of an unselected chip
    chip_on: RGBA
    on_chip_on: RGBA
    dialog: RGBA  # the button on the red error dialog
    on_dialog: RGBA
    warn: RGBA  # the offline banner
    on_warn: RGBA
    veil: RGBA  # the dark veil under overlays (idle warning, asleep)
    on_veil: RGBA
    highlight: RGBA  # the shelf on the floor plan, the camera's accepted-code flash
    font_xl: float
    font_l: float
    font_m: float
    font_s: float
    header_h: float
    button_h: float
    key_h: float
    row_h: float
    pad: float
    scale: float = 1.0
    high_contrast: bool = False


def _hex(value: str, alpha: float = 1.0) -> RGBA:
    value = value.lstrip("#")
    r, g, b = (int(value[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return (round(r, 4), round(g, 4), round(b, 4), alpha)


NORMAL = dict(
    bg=_hex("#172138"), panel=_hex("#263654"), text=_hex("#FFFFFF"), muted=_hex("#C0CCE6"),
    ok_text=_hex("#80F299"), bad_text=_hex("#FF9E8F"),
    accent=_hex("#FA941F"), on_accent=_hex("#111827"),
    action2=_hex("#2A75C4"), on_action2=_hex("#FFFFFF"),
    action3=_hex("#1C8048"), on_action3=_hex("#FFFFFF"),
    ok=_hex("#1B7D47"), on_ok=_hex("#FFFFFF"),
    bad=_hex("#D03030"), on_bad=_hex("#FFFFFF"),
    key=_hex("#5A6E9C"), on_key=_hex("#FFFFFF"),
    chip=_hex("#263654"), on_chip=_hex("#FFFFFF"), chip_line=_hex("#C0CCE6"),
    chip_on=_hex("#FA941F"), on_chip_on=_hex("#111827"),
    dialog=_hex("#FFFFFF"), on_dialog=_hex("#A61B1B"),
    warn=_hex("#FFCC33"), on_warn=_hex("#1A1A1A"),
    veil=_hex("#000000", 0.8), on_veil=_hex("#FFFFFF"),
    highlight=_hex("#FFD23F"),
)
LARGE_TEXT = dict(
    bg=_hex("#000000"), panel=_hex("#1F1F1F"), text=_hex("#FFFFFF"), muted=_hex("#FFEB4D"),
    ok_text=_hex("#8CFF73"), bad_text=_hex("#FF8C80"),
    accent=_hex("#FFDB00"), on_accent=_hex("#000000"),
    action2=_hex("#59D9FF"), on_action2=_hex("#000000"),
    action3=_hex("#8CFF73"), on_action3=_hex("#000000"),
    ok=_hex("#007A24"), on_ok=_hex("#FFFFFF"),
    bad=_hex("#CC0000"), on_bad=_hex("#FFFFFF"),
    key=_hex("#5E5E5E"), on_key=_hex("#FFFFFF"),
    chip=_hex("#1F1F1F"), on_chip=_hex("#FFFFFF"), chip_line=_hex("#FFFFFF"),
    chip_on=_hex("#FFDB00"), on_chip_on=_hex("#000000"),
    dialog=_hex("#FFFFFF"), on_dialog=_hex("#B30000"),
    warn=_hex("#FFDB00"), on_warn=_hex("#000000"),
    veil=_hex("#000000", 0.88), on_veil=_hex("#FFFFFF"),
    highlight=_hex("#FFDB00"),
)

# Every (foreground, background, minimum) the screens draw, beyond the button roles.
CONTRAST_PAIRS: tuple[tuple[str, str, float], ...] = (
    *((fg, bg, TEXT) for fg in ("text", "muted", "ok_text", "bad_text", "accent")
      for bg in ("bg", "panel")),
    *((f"on_{role}", role, TEXT) for role in BUTTON_ROLES),
    ("on_veil", "veil", TEXT),
    # Filled controls against the screen and the panels they sit on.
    *((role, "bg", CONTROL) for role in ("accent", "action2", "action3", "key", "chip_on", "bad")),
    ("chip_line", "bg", CONTROL),  # an unselected chip is an outline
    ("chip_line", "panel", CONTROL),
    # On panels a button is told apart by its label (W3C, Understanding 1.4.11: the text of a
    # button identifies it), so only state colours are checked there.
    ("chip_on", "panel", CONTROL),
    ("chip_on", "chip", CONTROL),  # a selected chip is told apart from the others
    ("highlight", "panel", CONTROL),
    ("accent", "panel", CONTROL),  # the search field's outline
)


# Generated covers: a colour per ББК section, white title on it (checked by the contrast test).
# Longest prefix wins; «84(2» is Russian fiction, «84(4» foreign fiction.
COVER_COLOURS: dict[str, str] = {
    "": "#546E7A", "0": "#4E342E", "1": "#4E342E", "2": "#00695C", "22": "#00838F",
    "26": "#2E7D32", "28": "#33691E", "3": "#455A64", "5": "#AD1457", "6": "#6D4C41",
    "63": "#8D3B12", "7": "#5E35B1", "75": "#1565C0", "8": "#283593", "81": "#1565C0",
    "83": "#4527A0", "84": "#B71C1C", "84(2": "#A0361B", "84(4": "#2E6B30", "9": "#37474F",
}
ON_COVER = "#FFFFFF"


def cover_colour(bbk: str | None) -> RGBA:
    """The colour of a generated cover, picked from the record's ББК section."""
    code = (bbk or "").strip().replace(" ", "")
    for n in range(len(code), -1, -1):
        if code[:n] in COVER_COLOURS:
            return _hex(COVER_COLOURS[code[:n]])
    return _hex(COVER_COLOURS[""])


def make_theme(large: bool = False, scale: float = 1.0) -> Theme:
    """The theme for a window ``scale`` times 1280×800; ``large`` is high-contrast big text."""
    f = scale * (1.25 if large else 1.0)
    s = scale
    colours = LARGE_TEXT if large else NORMAL
    return Theme(
        **colours,
        font_xl=round(54 * f), font_l=round(36 * f), font_m=round(28 * f), font_s=round(22 * f),
        header_h=round(96 * s), button_h=round(100 * s), key_h=round(84 * s),
        row_h=round(110 * f), pad=round(16 * s), scale=s, high_contrast=large,
    )


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def luminance(colour: RGBA, over: RGBA | None = None) -> float:
    """WCAG relative luminance; a translucent colour is first blended over ``over``."""
    r, g, b, a = colour
    if a < 1 and over is not None:
        r, g, b = (a * c + (1 - a) * o for c, o in zip((r, g, b), over[:3]))
    return 0.2126 * _linear(r) + 0.7152 * _linear(g) + 0.0722 * _linear(b)


def contrast_ratio(fg: RGBA, bg: RGBA, behind: RGBA = (1.0, 1.0, 1.0, 1.0)) -> float:
    """WCAG 2.1 contrast ratio (1…21); a translucent ``bg`` is taken over ``behind``
    (white by default: the worst case for a dark veil)."""
    lb = luminance(bg, behind)
    lf = luminance(fg, bg if bg[3] >= 1 else None)
    hi, lo = max(lf, lb), min(lf, lb)
    return (hi + 0.05) / (lo + 0.05)
