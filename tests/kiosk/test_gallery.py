"""The screenshot gallery: every state renders without errors and without clipped text at both
sizes, and docs/screenshots holds exactly the states the code renders."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.gallery import gallery_steps

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
SIZES = ("1280x800", "1920x1080")
NOT_GALLERY = {"reader-cards.png", "report-charts.png", "report-page1.png"}


def test_committed_gallery_equals_the_rendered_states():
    states = [name for name, _action in gallery_steps()]
    assert len(states) == len(set(states))
    expected = {f"{s}-{size}.png" for s in states for size in SIZES}
    # the OPAC's pages (opac-*.png, written by tests/opac's browser tests with OPAC_SHOTS) are
    # the README's second table, not kiosk states
    committed = {p.name for p in SHOTS.glob("*.png") if not p.name.startswith("opac-")} - NOT_GALLERY
    assert committed == expected, (sorted(committed - expected), sorted(expected - committed))
    listed = re.findall(r"^\| `([a-z0-9-]+)` \|", (SHOTS / "README.md").read_text("utf-8"), re.M)
    assert listed == states  # the README's table, in the gallery's order


@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES)
def test_every_state_renders_with_nothing_clipped(tmp_path, size):
    env = dict(os.environ, SDL_VIDEODRIVER="offscreen", SDL_AUDIODRIVER="dummy",
               KIVY_HOME=str(tmp_path / "kivy"), KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1")
    proc = subprocess.run([sys.executable, "-m", "kiosk.gallery", "--size", size,
                           "-o", str(tmp_path / "out")], capture_output=True, text=True,
                          timeout=300, env=env, cwd=ROOT, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, proc.stderr[-3000:]
    out = json.loads(lines[-1])
    assert out["errors"] == []  # includes every label whose text does not fit its box
    assert len(out["written"]) == len(gallery_steps())


def test_the_opac_pages_are_listed():
    """Every opac-*.png is in the README's OPAC table, and every row there has its file."""
    committed = {p.name for p in SHOTS.glob("opac-*.png")}
    listed = set(re.findall(r"^\| \[(opac-[a-z0-9-]+\.png)\]", (SHOTS / "README.md").read_text("utf-8"), re.M))
    assert committed and committed == listed, (sorted(committed - listed), sorted(listed - committed))
