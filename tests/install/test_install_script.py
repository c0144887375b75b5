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
