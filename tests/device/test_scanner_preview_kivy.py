"""The kiosk's camera preview drawn for real (Kivy offscreen, in a subprocess: one window per
process): mirrored, at the frame's aspect, guide corners over the decoder's region, the hint
code and the accepted-code flash delivered through `PreviewFeed`'s one Clock hop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("cv2")
pytest.importorskip("kivy")


def test_preview_mirrors_keeps_aspect_and_guides_over_the_roi(tmp_path):
    env = dict(os.environ, SDL_VIDEODRIVER="offscreen", SDL_AUDIODRIVER="dummy",
               KIVY_HOME=str(tmp_path / "kivy"), KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, __file__, str(tmp_path / "shot.png")],
                          capture_output=True, text=True, timeout=120, env=env, cwd=root,
                          check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    out = json.loads(lines[-1])
    assert out["before"] == {"has_camera": False, "frame_size": [1280, 720], "hint": ""}
    assert out["hint"] == "closer" and out["shown"] == 1
    assert out["flashing"] and not out["flashing_later"]
    # the red patch sits at the frame's left: on screen it is on the right (mirrored)
    (x0, y0, x1, y1), (ix, iy, iw, ih) = out["red"], out["image"]
    assert x0 > ix + iw / 2 and iy < y0 < y1 < iy + ih
    # 200 x 120 frame pixels stay 5:3 on screen (a stretched preview squashed them ~3x)
    assert (x1 - x0) / (y1 - y0) == pytest.approx(200 / 120, rel=0.08)
    # the guide's corners: yellow before the flash, green during it, where the ROI maps
    assert out["corner_pixels_flash"] == [[64, 217, 115]] * 4
    assert out["corner_pixels_after"] == [[255, 219, 51]] * 4


def _scenario(shot: str) -> None:
    """Runs in the subprocess: draw, feed one frame, read pixels back."""
    import cv2
    import numpy as np
    from kivy.base import EventLoop
    from kivy.clock import Clock
    from kivy.core.window import Window

    from device.scanner.codes import Barcode, Format
    from device.scanner.pipeline import FrameResult
    from kiosk.camera import CameraPreview, PreviewFeed

    Window.size = (400, 700)
    preview = CameraPreview(size_hint=(None, None), size=(357, 655), pos=(20, 20))
    Window.add_widget(preview)
    before = {"has_camera": preview.has_camera, "frame_size": list(preview.frame_size),
              "hint": preview.hint}

    def tick(seconds: float = 0.05) -> None:
        end = Clock.get_time() + seconds
        while Clock.get_time() < end:
            EventLoop.idle()

    frame = np.full((720, 1280, 3), 90, np.uint8)
    frame[300:420, 200:400] = (0, 0, 255)  # BGR red, left of the centre
    code = Barcode(Format.EAN13, "9785170910656",
                   ((560, 300), (720, 300), (720, 420), (560, 420)))
    result = FrameResult(0, 0.0, [code], [code], None, "closer", None, (0.75, 0.8))
    feed = PreviewFeed(lambda: preview)
    feed(frame, result)
    tick(0.1)

    def pixels() -> np.ndarray:
        Window.screenshot(shot)
        saved = sorted(Path(shot).parent.glob(Path(shot).stem + "*.png"))[-1]
        img = cv2.cvtColor(cv2.imread(str(saved)), cv2.COLOR_BGR2RGB)
        saved.unlink()
        return img[::-1]  # rows bottom-up, as Kivy's y

    def corners() -> list[list[int]]:
        gx, gy, gw, gh = preview.view().roi_rect(preview.roi)
        pts = [(gx, gy), (gx + gw, gy), (gx, gy + gh), (gx + gw, gy + gh)]
        img = pixels()
        return [[int(v) for v in img[round(y), round(x)]] for x, y in pts]

    flash_corners = corners()
    flashing = preview.flashing
    img = pixels()
    red = np.argwhere((img[..., 0] > 200) & (img[..., 1] < 60) & (img[..., 2] < 60))
    tick(0.7)
    out = {
        "before": before, "hint": preview.hint, "shown": feed.shown, "flashing": flashing,
        "flashing_later": preview.flashing, "corner_pixels_flash": flash_corners,
        "corner_pixels_after": corners(),
        "red": [int(red[:, 1].min()), int(red[:, 0].min()), int(red[:, 1].max()) + 1,
                int(red[:, 0].max()) + 1],
        "image": list(preview.view().image_rect()),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    _scenario(sys.argv[1])
