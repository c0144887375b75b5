"""Colours and sizes of the kiosk: the normal theme and the large-text high-contrast one.

Sizes are pixels for a 1280×800 screen scaled by the window: every touch target is at least
90 px high at 1280×800 (15 mm on a 15-inch 1280×800 panel is about 60 px, so this leaves room
for small fingers).
"""

from __future__ import annotations

from dataclasses import dataclass

RGBA = tuple[float, float, float, float]


@dataclass(frozen=True)
class Theme:
    """One look of the kiosk; kv rules read ``app.theme.<name>``."""

    bg: RGBA
    panel: RGBA
    text: RGBA
    muted: RGBA
    accent: RGBA
    on_accent: RGBA
    action2: RGBA
    action3: RGBA
    ok: RGBA
    bad: RGBA
    key: RGBA
    chip: RGBA
    chip_on: RGBA
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


def make_theme(large: bool = False, scale: float = 1.0) -> Theme:
    """The theme for a window ``scale`` times 1280×800; ``large`` is high-contrast big text."""
    f = scale * (1.25 if large else 1.0)
    s = scale
    if large:
        colours = dict(
            bg=(0, 0, 0, 1), panel=(0.12, 0.12, 0.12, 1), text=(1, 1, 1, 1),
            muted=(1, 0.92, 0.3, 1), accent=(1, 0.86, 0, 1), on_accent=(0, 0, 0, 1),
            action2=(0.35, 0.85, 1, 1), action3=(0.55, 1, 0.45, 1),
            ok=(0, 0.55, 0.15, 1), bad=(0.8, 0, 0, 1), key=(0.22, 0.22, 0.22, 1),
            chip=(0.2, 0.2, 0.2, 1), chip_on=(1, 0.86, 0, 1),
        )
    else:
        colours = dict(
            bg=(0.09, 0.13, 0.22, 1), panel=(0.15, 0.21, 0.33, 1), text=(1, 1, 1, 1),
            muted=(0.75, 0.8, 0.9, 1), accent=(0.98, 0.58, 0.12, 1),
            on_accent=(1, 1, 1, 1), action2=(0.16, 0.5, 0.85, 1), action3=(0.2, 0.6, 0.36, 1),
            ok=(0.13, 0.55, 0.27, 1), bad=(0.78, 0.16, 0.16, 1), key=(0.24, 0.31, 0.46, 1),
            chip=(0.24, 0.31, 0.46, 1), chip_on=(0.98, 0.58, 0.12, 1),
        )
    return Theme(
        **colours,
        font_xl=round(54 * f), font_l=round(36 * f), font_m=round(28 * f), font_s=round(22 * f),
        header_h=round(96 * s), button_h=round(100 * s), key_h=round(84 * s),
        row_h=round(110 * f), pad=round(16 * s), scale=s, high_contrast=large,
    )
