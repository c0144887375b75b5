"""WCAG 2.1 contrast of every colour pair the kiosk draws, in both themes; no colour literals in kv."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiosk.theme import (
    BUTTON_ROLES,
    CONTRAST_PAIRS,
    COVER_COLOURS,
    ON_COVER,
    _hex,
    contrast_ratio,
    cover_colour,
    make_theme,
)

KIOSK = Path(__file__).resolve().parents[2] / "kiosk"


def test_contrast_ratio_matches_wcag_examples() -> None:
    white, black = (1.0, 1.0, 1.0, 1.0), (0.0, 0.0, 0.0, 1.0)
    assert contrast_ratio(white, black) == pytest.approx(21.0)
    assert contrast_ratio(white, white) == pytest.approx(1.0)
    # White on the orange of the first design: the 2.3:1 the issue measured.
    assert contrast_ratio(white, (0xF7 / 255, 0x94 / 255, 0x1D / 255, 1.0)) == pytest.approx(2.3, abs=0.05)
    assert contrast_ratio((0x77 / 255,) * 3 + (1.0,), white) == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large-text"])
def test_every_pair_meets_aa(large: bool) -> None:
    theme = make_theme(large)
    failures = []
    for fg, bg, minimum in CONTRAST_PAIRS:
        ratio = contrast_ratio(getattr(theme, fg), getattr(theme, bg))
        if ratio < minimum:
            failures.append(f"{fg} on {bg}: {ratio:.2f} < {minimum}")
    assert not failures, failures


def test_every_button_role_has_its_text_colour() -> None:
    theme = make_theme()
    for role in BUTTON_ROLES:
        assert hasattr(theme, role) and hasattr(theme, f"on_{role}")
        assert (f"on_{role}", role) in {(f, b) for f, b, _m in CONTRAST_PAIRS}


LITERAL = re.compile(r"^\s*(rgba|color|bg|fg|background_color)\s*:\s*\(?\s*[0-9.]+\s*,")


def test_kv_files_use_theme_colours_only() -> None:
    """A literal colour in kv escapes the contrast check; only fully transparent is allowed."""
    found = []
    for kv in sorted(KIOSK.rglob("*.kv")):
        for n, line in enumerate(kv.read_text(encoding="utf-8").splitlines(), 1):
            if LITERAL.match(line) and not re.search(r":\s*0,\s*0,\s*0,\s*0\s*$", line):
                found.append(f"{kv.name}:{n}: {line.strip()}")
            if re.search(r"\(\s*[0-9.]+\s*,\s*[0-9.]+\s*,\s*[0-9.]+\s*,\s*[0-9.]+\s*\)", line):
                found.append(f"{kv.name}:{n}: {line.strip()}")
    assert not found, found


def test_buttons_draw_text_in_their_roles_colour() -> None:
    """BigButton picks bg and fg from one role, so no kv rule pairs them by hand."""
    widgets = (KIOSK / "widgets.kv").read_text(encoding="utf-8")
    assert "bg: getattr(app.theme, self.role)" in widgets
    assert "fg: getattr(app.theme, 'on_' + self.role)" in widgets
    for kv in sorted(KIOSK.rglob("*.kv")):
        text = kv.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(bg|fg):", text.replace("bg: getattr", "").replace(
            "fg: getattr", ""), re.M), kv.name


def test_generated_cover_colours_keep_white_titles_readable() -> None:
    for prefix, colour in COVER_COLOURS.items():
        assert contrast_ratio(_hex(ON_COVER), _hex(colour)) >= 4.5, (prefix, colour)
    assert cover_colour("84(2Рос=Рус)6") == _hex(COVER_COLOURS["84(2"])
    assert cover_colour("84(4Вел)") == _hex(COVER_COLOURS["84(4"])
    assert cover_colour("22.1я72") == _hex(COVER_COLOURS["22"])
    assert cover_colour(None) == cover_colour("Щ") == _hex(COVER_COLOURS[""])
