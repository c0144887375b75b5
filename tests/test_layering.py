"""The core must load without UI or hardware libraries; the CLI must load lazily."""

import subprocess
import sys

import pytest

HEAVY = ("kivy", "cv2", "vlc", "zeroconf", "fastapi")


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return {m for m in out.stdout.strip().split(",") if m}


def test_library_loads_no_ui_or_hardware_modules():
    assert _loaded_after("import library, library.storage, library.errors") == set()


@pytest.mark.parametrize("argv", [["--help"], ["db", "--help"]])
def test_cli_parser_loads_nothing_heavy(argv):
    code = (
        "import contextlib, io, ibc.cli\n"
        "try:\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        f"        ibc.cli.main({argv!r})\n"
        "except SystemExit:\n"
        "    pass"
    )
    assert _loaded_after(code) == set()
