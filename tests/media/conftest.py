"""Generated media (ffmpeg lavfi test sources) shared by the media tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly; fail the test with its stderr."""
    proc = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args],
                          capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr.decode()


@pytest.fixture(scope="session")
def media_src(tmp_path_factory) -> Path:
    """A 3 s video (with sound and a title tag), a 2 s audio file and a PNG."""
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is required (Debian package ffmpeg)")
    d = tmp_path_factory.mktemp("media_src")
    ffmpeg("-f", "lavfi", "-i", "testsrc=duration=3:size=320x240:rate=25",
           "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
           "-shortest", "-metadata", "title=Древний Рим", str(d / "video.mp4"))
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=660:duration=2", str(d / "tone.mp3"))
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48", "-frames:v", "1", str(d / "pic.png"))
    return d


@pytest.fixture(autouse=True)
def _fresh_xlib_event_table():
    """python-xlib keeps one event-code table for all connections of a process (a class
    attribute of its protocol Display), so a second, different X server in the same process
    (Xvfb, then cage's Xwayland, whose extensions have other event codes) fails to connect with
    "TypeError: 'type' object does not support item assignment". The product talks to one X
    server per process; the tests start many, each with a fresh table."""
    try:
        from Xlib.protocol import display, event
    except ImportError:
        yield
        return
    display.Display.event_classes = event.event_class.copy()
    yield
