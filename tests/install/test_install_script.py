"""install.sh: shellcheck-clean, clear usage errors, role example configs that load."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from config.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_shellcheck_clean():
    """install.sh and the X11 session script pass shellcheck."""
    if not shutil.which("shellcheck"):
        if os.environ.get("CI"):
            pytest.fail("shellcheck missing: install.sh dev must install it")
        pytest.skip("shellcheck not installed (apt-get install shellcheck)")
    proc = subprocess.run(["shellcheck", "install.sh", "systemd/ibc-kiosk-x11-session"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_unknown_argument_is_a_usage_error():
    """A typo stops before anything is installed, with the usage line."""
    proc = subprocess.run([str(ROOT / "install.sh"), "sever"], capture_output=True, text=True)
    assert proc.returncode == 2 and "usage:" in proc.stderr and "sever" in proc.stderr


def test_roles_need_root():
    """server/terminal/--uninstall refuse to run as an ordinary user (as root: run as nobody)."""
    prefix = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
    for args in (["server"], ["terminal"], ["--uninstall"]):
        proc = subprocess.run([*prefix, "bash", str(ROOT / "install.sh"), *args],
                              capture_output=True, text=True)
        assert proc.returncode == 1 and "run as root" in proc.stderr


@pytest.mark.parametrize("role", ["server", "terminal"])
def test_role_examples_load(role):
    """config/<role>.toml validates on top of the defaults."""
    settings = load_settings(ROOT / "config" / f"{role}.toml", environ={})
    assert settings.server.port == 8470
    assert settings.server.advertise is (role == "server")


def _packages(name: str) -> list[str]:
    """One of install.sh's package arrays, as bash reads it."""
    script = "; ".join(line for line in (ROOT / "install.sh").read_text().splitlines()
                       if line.split("=", 1)[0].endswith("_pkgs"))
    proc = subprocess.run(["bash", "-c", f'{script}; printf "%s\\n" "${{{name}[@]}}"'],
                          capture_output=True, text=True, check=True)
    return proc.stdout.split()


def test_terminal_packages_for_the_kiosk_session():
    """cage comes with Xwayland (the kiosk is an X11 client; cage exits without it); dev gets
    what tests/install/test_kiosk_session.py runs."""
    assert {"cage", "xwayland"} <= set(_packages("cage_pkgs"))
    assert {"xinit", "matchbox-window-manager", "x11-xserver-utils"} <= set(_packages("x11_pkgs"))
    assert {"libgl1", "libxi6"} <= set(_packages("kiosk_pkgs"))
    assert {"cage", "xwayland", "grim", "xvfb", "ffmpeg", "matchbox-window-manager",
            "x11-xserver-utils", "xinit"} <= set(_packages("dev_pkgs") + _packages("media_pkgs"))
