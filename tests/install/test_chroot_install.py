"""The real thing: `install.sh server` and `install.sh terminal` in a clean Debian 12 chroot.

A minbase bookworm root is unpacked from a debootstrap tarball cached in /var/cache/ibc-test
(made once from the host's Debian mirror), the host's pip configuration is copied in, and the
script runs as root inside the chroot, where systemd is not PID 1: units must be enabled, not
started. Then the installed `ibc --version` and `ibc doctor` must work, the installed units must
pass `systemd-analyze verify --root`, and (server) a second run must back up first, keep an
edited config, and `--uninstall` must keep the data. Needs root, debootstrap and the network.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("IBC_TEST_CACHE", "/var/cache/ibc-test"))
TARBALL = CACHE / "bookworm-minbase.tgz"
SUITE = "bookworm"
PIP_FILES = [Path("/etc/pip.conf"), Path("/etc/xdg/pip"), Path("/root/.config/pip/pip.conf")]
PIP_ENV = ("PIP_DEFAULT_TIMEOUT", "PIP_DISABLE_PIP_VERSION_CHECK", "PIP_FIND_LINKS",
           "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_CONSTRAINT")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]


def _need(condition: bool, reason: str) -> None:
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def debian_mirror() -> str:
    """The host's Debian mirror for the bookworm suite (sources.list or deb822 .sources)."""
    files = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for f in files:
        if not f.is_file():
            continue
        text = f.read_text(errors="replace")
        for stanza in re.split(r"\n\s*\n", text):
            fields = dict(re.findall(r"^(\w[\w-]*):\s*(.+)$", stanza, re.M))
            if SUITE in fields.get("Suites", "").split() and "deb" in fields.get("Types", "").split():
                return fields["URIs"].split()[0]
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and SUITE in parts[2:3]:
                return next(p for p in parts[1:] if "://" in p)
    pytest.fail(f"no Debian {SUITE} mirror in /etc/apt/sources.list*")


def _run(cmd: list[str], timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)  # noqa: S603
    assert proc.returncode == 0, f"{cmd} -> {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


def _tarball() -> Path:
    """The cached minbase tarball, made from the mirror on the first run."""
    if not TARBALL.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        work = CACHE / "make-tarball"
        shutil.rmtree(work, ignore_errors=True)
        partial = TARBALL.with_suffix(".part.tgz")
        _run(["debootstrap", "--variant=minbase", f"--make-tarball={partial}", SUITE, str(work),
              debian_mirror()], timeout=1800)
        shutil.rmtree(work, ignore_errors=True)
        partial.rename(TARBALL)
    return TARBALL


class Chroot:
    """A throw-away Debian root with /proc, /sys, /dev, caches and pip's local indexes mounted."""

    def __init__(self, path: Path):
        self.path = path
        self.mounts: list[Path] = []

    def _bind(self, src: Path, rel: str, *, readonly: bool = False, recursive: bool = False) -> None:
        dst = self.path / rel.lstrip("/")
        dst.mkdir(parents=True, exist_ok=True)
        self.mounts.append(dst)  # before mounting: an interrupted mount is still undone
        _run(["mount", "--rbind" if recursive else "--bind", str(src), str(dst)])
        if recursive:
            _run(["mount", "--make-rslave", str(dst)])
        if readonly:
            _run(["mount", "-o", "remount,bind,ro", str(dst)])

    def setup(self) -> None:
        """Unpack, then prepare for apt and pip without starting any daemon."""
        _run(["debootstrap", "--variant=minbase", f"--unpack-tarball={_tarball()}", SUITE,
              str(self.path), debian_mirror()], timeout=1800)
        root = self.path
        shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
        # the usual chroot rule: maintainer scripts must not start services
        policy = root / "usr/sbin/policy-rc.d"
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        for f in PIP_FILES:  # the host's pip configuration, verbatim
            if f.is_dir():
                shutil.copytree(f, root / str(f).lstrip("/"), dirs_exist_ok=True)
            elif f.is_file():
                (root / str(f.parent).lstrip("/")).mkdir(parents=True, exist_ok=True)
                shutil.copy(f, root / str(f).lstrip("/"))
        ca = Path("/etc/ssl/certs/ca-certificates.crt")
        if ca.exists():  # kept apart: the chroot's ca-certificates package rewrites its own bundle
            (root / "usr/local/share/ibc-test").mkdir(parents=True, exist_ok=True)
            shutil.copy(ca, root / "usr/local/share/ibc-test/host-ca.crt")
        self.mounts.append(root / "proc")
        _run(["mount", "-t", "proc", "proc", str(root / "proc")])
        self._bind(Path("/sys"), "/sys", recursive=True)
        self._bind(Path("/dev"), "/dev", recursive=True)
        for local in pip_local_dirs():
            self._bind(local, str(local), readonly=True)
        for cache, inside in (("apt-archives", "/var/cache/apt/archives"), ("pip", "/root/.cache/pip")):
            (CACHE / cache / "partial").mkdir(parents=True, exist_ok=True)
            self._bind(CACHE / cache, inside)
        src = root / "usr/src/ibc-kiosk"
        files = _run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT).stdout
        for name in filter(None, files.split("\0")):
            if (ROOT / name).is_file() and not name.startswith("docs/screenshots/"):
                (src / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, src / name)

    def env(self) -> dict[str, str]:
        """A clean root environment plus the host's pip settings."""
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               "HOME": "/root", "LANG": "C.UTF-8", "DEBIAN_FRONTEND": "noninteractive"}
        env.update({k: os.environ[k] for k in PIP_ENV if k in os.environ})
        if (self.path / "usr/local/share/ibc-test/host-ca.crt").exists():
            env["PIP_CERT"] = "/usr/local/share/ibc-test/host-ca.crt"
        return env

    def run(self, *cmd: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        """Run a command inside the chroot."""
        proc = subprocess.run(["chroot", str(self.path), *cmd], capture_output=True, text=True,  # noqa: S603
                              timeout=timeout, env=self.env())
        if check:
            assert proc.returncode == 0, f"{cmd} -> {proc.returncode}\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"
        return proc

    def kill_strays(self) -> list[int]:
        """Kill processes left running inside this chroot (none should be)."""
        strays = []
        for pid_dir in Path("/proc").iterdir():
            if not pid_dir.name.isdigit():
                continue
            try:
                if os.readlink(pid_dir / "root") == str(self.path):
                    strays.append(int(pid_dir.name))
            except OSError:
                continue
        for pid in strays:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        return strays

    def teardown(self) -> None:
        """Unmount everything (innermost first) and delete the root."""
        self.kill_strays()
        for m in reversed(self.mounts):
            if subprocess.run(["umount", "-R", str(m)], capture_output=True).returncode:
                subprocess.run(["umount", "-R", "-l", str(m)], capture_output=True)
        if not any(str(self.path) in line for line in Path("/proc/mounts").read_text().splitlines()):
            shutil.rmtree(self.path, ignore_errors=True)


def pip_local_dirs() -> list[Path]:
    """Local folders the host's pip configuration points at (find-links, file:// indexes)."""
    text = " ".join(f.read_text() for f in (Path("/etc/pip.conf"), Path("/etc/xdg/pip/pip.conf"),
                                            Path("/root/.config/pip/pip.conf")) if f.is_file())
    text += " " + os.environ.get("PIP_FIND_LINKS", "")
    dirs = {Path(m) for m in re.findall(r"(?:file://)?(/opt/[^\s'\"]+|/srv/[^\s'\"]+)", text)}
    out = []
    for d in sorted(dirs):
        d = d.parent if d.name == "simple" else d
        if d.is_dir() and d not in out:
            out.append(d)
    return out


@pytest.fixture
def chroot(tmp_path_factory):
    """A fresh Debian 12 minbase chroot, torn down afterwards."""
    _need(os.geteuid() == 0, "the chroot install test needs root")
    _need(bool(shutil.which("debootstrap")), "debootstrap missing: apt-get install debootstrap")
    path = Path(tmp_path_factory.mktemp("debian-root"))
    path.chmod(0o755)  # it is "/" inside: user ibc must be able to enter it
    CACHE.mkdir(parents=True, exist_ok=True)
    # Test runs on one machine share the caches (and apt's lock in them): one chroot at a time.
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        box = Chroot(path)
        try:
            box.setup()
            yield box
        finally:
            box.teardown()


def _verify_installed_units(box: Chroot, units: list[str]) -> None:
    if not shutil.which("systemd-analyze"):
        return
    for unit in units:
        proc = subprocess.run(["systemd-analyze", "verify", "--man=no", f"--root={box.path}", unit],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0 and not proc.stderr.strip(), f"{unit}: {proc.stderr}"


@pytest.mark.parametrize("role", ["server", "terminal"])
def test_install_in_clean_debian(chroot, role):
    """install.sh ROLE installs, enables the units without starting them, and ibc works."""
    started = time.monotonic()
    out = chroot.run("/usr/src/ibc-kiosk/install.sh", role, timeout=2400)
    print(f"install.sh {role}: {time.monotonic() - started:.0f} s")
    assert "units enabled, not started" in out.stdout
    root = chroot.path

    version = chroot.run("/usr/local/bin/ibc", "--version").stdout
    assert version.startswith("ibc-kiosk ")
    doctor = chroot.run("runuser", "-u", "ibc", "--", "/opt/ibc/bin/ibc", "doctor", "--json",
                        "--timeout", "10", check=False)
    assert doctor.returncode in (0, 1), doctor.stderr
    checks = json.loads(doctor.stdout)
    db = [c for c in checks if c["check"] in ("база данных", "database")]
    assert db and all(c["status"] != "FAIL" for c in db), checks
    assert (root / "var/lib/ibc/ibc.sqlite3").exists()
    assert (root / "etc/ibc/ibc.toml").read_text() == (ROOT / f"config/{role}.toml").read_text()
    assert not chroot.kill_strays(), "install.sh left processes running in the chroot"
    modules = {"server": "fastapi, uvicorn, psycopg, matplotlib, zeroconf, vlc, Xlib",
               "terminal": "cv2, vlc, Xlib, zeroconf, kivy"}[role]
    chroot.run("/opt/ibc/bin/python", "-c", f"import {modules}")
    # what playback needs: VLC's video outputs (else a black screen), codecs, the sound stack
    playback = ["vlc-plugin-video-output", "vlc-plugin-base", "libvlc5", "pulseaudio", "alsa-utils"]
    status = chroot.run("dpkg-query", "-W", "-f", "${Package} ${Status}\n", *playback,
                        check=False).stdout
    installed = {line.split()[0] for line in status.splitlines() if "install ok installed" in line}
    assert set(playback) <= installed, status
    assert (root / "usr/lib/x86_64-linux-gnu/vlc/plugins/video_output/libxcb_x11_plugin.so").exists()
    video = [c for c in checks if c["check"] == "видео и звук"]
    assert video and video[0]["status"] != "FAIL", checks  # no display in a chroot: a WARN

    wants = root / "etc/systemd/system/timers.target.wants/ibc-backup.timer"
    assert wants.is_symlink()
    if role == "server":
        assert (root / "etc/systemd/system/multi-user.target.wants/ibc-server.service").is_symlink()
        assert (root / "etc/systemd/system/multi-user.target.wants/ibc-display.service").is_symlink()
        assert (root / "etc/systemd/system/timers.target.wants/ibc-holds-expire.timer").is_symlink()
        assert (root / "etc/systemd/system/timers.target.wants/ibc-irbis-sync.timer").is_symlink()
        assert (root / "usr/bin/Xorg").exists() and (root / "usr/bin/xauth").exists()
        groups = chroot.run("id", "-nG", "ibc").stdout.split()
        assert {"audio", "video"} <= set(groups), groups
        # The TLS certificate for the terminals, made at install by the service user.
        tls = chroot.run("stat", "-c", "%U %a %n", "/var/lib/ibc/tls/server.key",
                         "/var/lib/ibc/tls/server.crt").stdout.split("\n")
        assert tls[0] == "ibc 600 /var/lib/ibc/tls/server.key", tls
        assert tls[1].startswith("ibc ") and "SHA-256" in chroot.run(
            "runuser", "-u", "ibc", "--", "/opt/ibc/bin/ibc", "tls", "show").stdout
        _verify_installed_units(chroot, ["ibc-server.service", "ibc-display.service",
                                         "ibc-backup.service", "ibc-backup.timer",
                                         "ibc-holds-expire.service", "ibc-holds-expire.timer",
                                         "ibc-irbis-sync.service", "ibc-irbis-sync.timer"])
        _upgrade_and_uninstall(chroot)
    else:
        assert (root / "etc/systemd/system/graphical.target.wants/ibc-kiosk.service").is_symlink()
        assert (root / "usr/bin/cage").exists() and (root / "etc/pam.d/ibc-kiosk").exists()
        groups = chroot.run("id", "-nG", "ibc").stdout.split()
        assert {"video", "render", "input", "lp", "audio"} <= set(groups), groups
        assert os.readlink(root / "etc/systemd/system/default.target").endswith("graphical.target")
        # the holds job runs on the server only (a terminal has no library of its own)
        assert not (root / "etc/systemd/system/timers.target.wants/ibc-holds-expire.timer").exists()
        assert not (root / "etc/systemd/system/timers.target.wants/ibc-irbis-sync.timer").exists()
        _verify_installed_units(chroot, ["ibc-kiosk.service", "ibc-backup.service"])


def _upgrade_and_uninstall(box: Chroot) -> None:
    """Second run: backup first, edited config kept; --uninstall keeps the data, --purge not."""
    root = box.path
    cfg = root / "etc/ibc/ibc.toml"
    cfg.write_text(cfg.read_text().replace('name = "Школьный ИБЦ"', 'name = "Школа № 7"'))
    box.run("runuser", "-u", "ibc", "--", "/opt/ibc/bin/ibc", "demo")
    cert = (root / "var/lib/ibc/tls/server.crt").read_bytes()
    out = box.run("/usr/src/ibc-kiosk/install.sh", "server", timeout=1800).stdout
    assert "backing up the library first" in out
    assert (root / "var/lib/ibc/tls/server.crt").read_bytes() == cert  # enrolled terminals keep it
    backups = list((root / "var/lib/ibc/backups").glob("ibc-backup-*.tar.gz"))
    assert len(backups) == 1
    assert "Школа № 7" in cfg.read_text() and (root / "etc/ibc/ibc.toml.dist").exists()
    box.run("runuser", "-u", "ibc", "--", "/opt/ibc/bin/ibc", "restore", "--check",
            f"/var/lib/ibc/backups/{backups[0].name}")
    box.run("/usr/src/ibc-kiosk/install.sh", "--uninstall")
    assert not (root / "opt/ibc").exists()
    assert not (root / "etc/systemd/system/ibc-server.service").exists()
    assert (root / "var/lib/ibc/ibc.sqlite3").exists() and cfg.exists()
    box.run("/usr/src/ibc-kiosk/install.sh", "--uninstall", "--purge")
    assert not (root / "var/lib/ibc").exists() and not (root / "etc/ibc").exists()
    assert box.run("id", "ibc", check=False).returncode != 0
