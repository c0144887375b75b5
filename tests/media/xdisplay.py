"""Real outputs for the playback tests: an Xvfb display (with RandR monitors), screenshots of it,
and a PulseAudio server whose only sink is a null sink we can record from."""

from __future__ import annotations

import array
import math
import os
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _free_display() -> int:
    for n in range(140, 400):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    raise RuntimeError("no free X display number")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


@contextmanager
def xvfb(width: int, height: int) -> Iterator[str]:
    """An Xvfb display ``:N`` with a black root and no window manager. (Xvfb has one RandR
    output and ignores ``xrandr --setmonitor``: two outputs are tested under cage.)"""
    for tool in ("Xvfb", "ffmpeg"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is required (installed by ./install.sh dev)")
    n = _free_display()
    proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", f"{width}x{height}x24", "-br",
                             "-nolisten", "tcp", "-noreset"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while not Path(f"/tmp/.X11-unix/X{n}").exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Xvfb :{n} did not start")
            time.sleep(0.05)
        yield f":{n}"
    finally:
        _stop(proc)


def grab(display: str, width: int, height: int, x: int = 0, y: int = 0):
    """The screen region as an RGB numpy array (ffmpeg's x11grab, as a user's recorder sees it)."""
    import numpy as np

    proc = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "x11grab",
                           "-video_size", f"{width}x{height}", "-i", f"{display}+{x},{y}",
                           "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                          capture_output=True, timeout=30, check=True)
    return np.frombuffer(proc.stdout, dtype=np.uint8).reshape(height, width, 3)


def save_png(display: str, width: int, height: int, path: Path) -> None:
    """A screenshot as PNG (for galleries and failed-test evidence)."""
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "x11grab",
                    "-video_size", f"{width}x{height}", "-i", display, "-frames:v", "1",
                    str(path)], check=True, timeout=30)


def lit(image) -> float:
    """The share of pixels that are not black (any channel above 40)."""
    return float((image.max(axis=2) > 40).mean())


def changed(a, b) -> float:
    """The share of pixels that differ noticeably between two screenshots."""
    import numpy as np

    return float((np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2) > 24).mean())


@contextmanager
def pulse_null_sink(tmp: Path) -> Iterator[dict[str, str]]:
    """A private PulseAudio server whose default sink is a null sink ``ibc_test``; yields the
    environment for clients (PULSE_SERVER)."""
    for tool in ("pulseaudio", "parec"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is required (pulseaudio, pulseaudio-utils: ./install.sh dev)")
    runtime = tmp / "pulse"
    runtime.mkdir(mode=0o700)
    sock = runtime / "native"
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HOME": str(runtime),
           "PULSE_SERVER": f"unix:{sock}"}
    log = (tmp / "pulse.log").open("wb")
    proc = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disable-shm=yes",
         "--log-target=stderr", "-L", "module-null-sink sink_name=ibc_test rate=48000",
         "-L", f"module-native-protocol-unix auth-anonymous=1 socket={sock}",
         "-L", "module-always-sink"],
        env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode != 0:
            if proc.poll() is not None or time.monotonic() > deadline:
                err = (tmp / "pulse.log").read_text(errors="replace")
                raise RuntimeError(f"pulseaudio did not start: {err[-500:]}")
            time.sleep(0.1)
        yield {"PULSE_SERVER": env["PULSE_SERVER"], "XDG_RUNTIME_DIR": str(runtime)}
    finally:
        _stop(proc)
        log.close()


def record_rms(env: dict[str, str], seconds: float = 1.0) -> float:
    """The RMS level (16-bit, mono) of what reaches the null sink over ``seconds``."""
    proc = subprocess.run(["timeout", f"{seconds}", "parec", "-d", "ibc_test.monitor", "--raw",
                           "--format=s16le", "--channels=1", "--rate=48000"],
                          env={**os.environ, **env}, capture_output=True)
    samples = array.array("h", proc.stdout[: len(proc.stdout) // 2 * 2])
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples))


@contextmanager
def cage_headless(tmp: Path, outputs: int = 2, child: list[str] | None = None
                  ) -> Iterator[tuple[str, dict[str, str]]]:
    """cage with ``outputs`` headless 1280×720 outputs side by side (it extends, not mirrors):
    yields its Xwayland DISPLAY and the environment for grim. cage refuses to run as root: as
    root it runs in a user namespace where root is not mapped (as the kiosk unit's User=ibc)."""
    for tool in ("cage", "Xwayland", "grim"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is required (cage, xwayland, grim: ./install.sh dev)")
    runtime = tmp / "wl"
    runtime.mkdir(mode=0o700)
    told = tmp / "display"
    then = shlex.join(child) if child else "sleep 600"
    argv = ["cage", "-d", "--", "sh", "-c", f'echo "$DISPLAY" > {told}; exec {then}']
    if os.geteuid() == 0:
        argv = ["unshare", "--user", "--map-user=1000", "--map-group=1000", *argv]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "XDG_RUNTIME_DIR": str(runtime),
           "WLR_BACKENDS": "headless", "WLR_RENDERER": "pixman", "WLR_LIBINPUT_NO_DEVICES": "1",
           "WLR_HEADLESS_OUTPUTS": str(outputs)}
    log = (tmp / "cage.log").open("wb")
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (told.exists() and told.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"cage did not start: {(tmp / 'cage.log').read_text()[-800:]}")
            time.sleep(0.1)
        yield told.read_text().strip(), {"XDG_RUNTIME_DIR": str(runtime),
                                         "WAYLAND_DISPLAY": "wayland-0"}
    finally:
        _stop(proc)
        log.close()


def grim(env: dict[str, str], output, path: Path):
    """The region of one output (a media.screen.Output: Xwayland's root is cage's output
    layout) as an RGB numpy array, taken by grim, the wlroots screenshot tool."""
    import cv2

    path.unlink(missing_ok=True)
    region = f"{output.x},{output.y} {output.width}x{output.height}"
    subprocess.run(["grim", "-g", region, str(path)], env={**os.environ, **env}, check=True,
                   capture_output=True, timeout=60)
    return cv2.imread(str(path))[:, :, ::-1]


# A stand-in for the kiosk in cage: one white managed X window (cage maximises it over every
# output, and draws other X windows, such as the film's, only while a view is shown).
STAND_IN = """
import time
from Xlib import X, display
d = display.Display()
s = d.screen()
w = s.root.create_window(0, 0, 640, 480, 0, s.root_depth, X.InputOutput, X.CopyFromParent,
                         background_pixel=s.white_pixel, event_mask=X.StructureNotifyMask)
w.set_wm_name("kiosk stand-in")
w.map()
d.sync()
while True:
    while d.pending_events():
        d.next_event()
    time.sleep(0.2)
"""


def white(image) -> float:
    """The share of (near) white pixels: the kiosk stand-in."""
    return float((image.min(axis=2) > 235).mean())
