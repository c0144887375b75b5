"""Synthetic barcode pictures for tests, benchmarks and demos (numpy + OpenCV, no other package).

`ean13_image` draws EAN-13 bars from the GS1 tables, `code128_image` Code 128 (what the reader
cards and copy labels carry); `qr_image` uses OpenCV's QR encoder; `place` puts a code on a noisy
1280x720 "webcam" background at a position, in-plane angle and perspective tilt; `degrade` adds
what a school webcam adds: defocus blur, motion blur, dim light (less signal, more gain noise).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from device.scanner.codes import is_valid_ean13, mod10_check_digit

if TYPE_CHECKING:  # numpy and OpenCV load with the functions that use them
    import numpy as np
    from cv2.typing import MatLike
    from numpy.typing import NDArray

_L = ["0001101", "0011001", "0010011", "0111101", "0100011",
      "0110001", "0101111", "0111011", "0110111", "0001011"]
_G = ["0100111", "0110011", "0011011", "0100001", "0011101",
      "0111001", "0000101", "0010001", "0001001", "0010111"]
_R = ["1110010", "1100110", "1101100", "1000010", "1011100",
      "1001110", "1010000", "1000100", "1001000", "1110100"]
_PARITY = ["LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG",
           "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL"]

# Code 128 symbol widths (bar, space, bar, space, bar, space), values 0..106 (106 = stop + bar).
_C128 = (
    "212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 221312 231212 112232 "
    "122132 122231 113222 123122 123221 223211 221132 221231 213212 223112 312131 311222 321122 "
    "321221 312212 322112 322211 212123 212321 232121 111323 131123 131321 112313 132113 132311 "
    "211313 231113 231311 112133 112331 132131 113123 113321 133121 313121 211331 231131 213113 "
    "213311 213131 311123 311321 331121 312113 312311 332111 314111 221411 431111 111224 111422 "
    "121124 121421 141122 141221 112214 112412 122114 122411 142112 142211 241211 221114 413111 "
    "241112 134111 111242 121142 121241 114212 124112 124211 411212 421112 421211 212141 214121 "
    "412121 111143 111341 131141 114113 114311 411113 411311 113141 114131 311141 411131 211412 "
    "211214 211232 2331112"
).split()
_CODE_C, _START_B, _START_C, _STOP = 99, 104, 105, 106


def ean13_modules(value: str) -> str:
    """The 95 modules ('1' = bar) of an EAN-13; a 12-digit value gets its check digit added."""
    if len(value) == 12 and value.isdigit():
        value += str(mod10_check_digit(value))
    if not is_valid_ean13(value):
        raise ValueError(f"not a valid EAN-13: {value!r}")
    parity = _PARITY[int(value[0])]
    left = "".join((_L if p == "L" else _G)[int(d)] for p, d in zip(parity, value[1:7]))
    right = "".join(_R[int(d)] for d in value[7:])
    return "101" + left + "01010" + right + "101"


def code128_modules(value: str) -> str:
    """The modules ('1' = bar) of a Code 128: code set C for an even run of digits, else B."""
    if not value or any(not 32 <= ord(ch) < 127 for ch in value):
        raise ValueError(f"Code 128 set B/C holds printable ASCII only: {value!r}")
    if value.isdigit() and len(value) >= 4:
        # What label printers do: digit pairs in set C, an odd first digit in set B first.
        head = [_START_B, ord(value[0]) - 32, _CODE_C] if len(value) % 2 else [_START_C]
        digits = value[len(value) % 2:]
        symbols = head + [int(digits[i:i + 2]) for i in range(0, len(digits), 2)]
    else:
        symbols = [_START_B] + [ord(ch) - 32 for ch in value]
    check = (symbols[0] + sum(i * s for i, s in enumerate(symbols[1:], 1))) % 103
    out: list[str] = []
    for sym in symbols + [check, _STOP]:
        out.extend(("1" if k % 2 == 0 else "0") * int(w) for k, w in enumerate(_C128[sym]))
    return "".join(out)


def bars_image(modules: str, module_px: float = 3, height: int = 120,
               quiet: int = 11) -> NDArray[np.uint8]:
    """A grayscale numpy image of a 1-D code's modules with a white quiet zone around it."""
    import cv2
    import numpy as np

    bars = np.array([0 if m == "1" else 255 for m in modules], dtype=np.uint8)
    pad = np.full(quiet, 255, dtype=np.uint8)
    line = np.concatenate([pad, bars, pad])[None, :]
    width = round(line.shape[1] * module_px)
    # INTER_AREA: a fractional module width gives grey edge pixels, as a camera does.
    row = cv2.resize(line, (width, 1), interpolation=cv2.INTER_AREA if module_px >= 1
                     else cv2.INTER_LINEAR)
    img = np.repeat(row, height, axis=0)
    margin = np.full((max(1, int(quiet * module_px) // 2), width), 255, dtype=np.uint8)
    return np.vstack([margin, img, margin])


def ean13_image(value: str, module_px: float = 3, height: int = 120,
                quiet: int = 11) -> NDArray[np.uint8]:
    """A grayscale numpy image of an EAN-13 (white quiet zone, no human-readable digits)."""
    return bars_image(ean13_modules(value), module_px, height, quiet)


def code128_image(value: str, module_px: float = 3, height: int = 80,
                  quiet: int = 10) -> NDArray[np.uint8]:
    """A grayscale numpy image of a Code 128 (white quiet zone, no human-readable text)."""
    return bars_image(code128_modules(value), module_px, height, quiet)


def qr_image(text: str, module_px: int = 6) -> MatLike:
    """A grayscale numpy image of a QR code (OpenCV's encoder), with a quiet zone."""
    import cv2

    enc = cv2.QRCodeEncoder.create()
    small = enc.encode(text)
    img = cv2.resize(small, None, fx=module_px, fy=module_px, interpolation=cv2.INTER_NEAREST)
    return cv2.copyMakeBorder(img, 4 * module_px, 4 * module_px, 4 * module_px, 4 * module_px,
                              cv2.BORDER_CONSTANT, value=255)


def background(width: int = 1280, height: int = 720, seed: int = 0,
               noise: float = 12.0) -> MatLike:
    """A BGR frame: a soft gradient with Gaussian sensor noise, like an empty webcam picture."""
    import cv2
    import numpy as np

    ys = np.linspace(90, 150, height, dtype=np.float32)[:, None]
    xs = np.linspace(-20, 20, width, dtype=np.float32)[None, :]
    base = ys + xs + _noise((height, width), noise, seed)
    gray = np.clip(base, 0, 255).astype(np.uint8)
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)


def _noise(shape: tuple[int, ...], sigma: float, seed: int) -> NDArray[np.float32]:
    """Gaussian noise, float32, repeatable per seed (OpenCV's generator: 3x numpy's speed)."""
    import cv2
    import numpy as np

    out = np.empty(shape, dtype=np.float32)
    cv2.setRNGSeed(seed)
    cv2.randn(out, 0.0, float(sigma))  # type: ignore[call-overload]  # scalars are fine
    return out


FOCAL_PX = 1000.0  # a 720p webcam with a ~65° horizontal field of view


def code_quad(size: tuple[int, int], center: tuple[float, float], angle: float = 0.0,
              tilt: float = 0.0, focal: float = FOCAL_PX) -> list[tuple[float, float]]:
    """Frame positions of the corners (TL, TR, BR, BL) of a ``(w, h)`` code picture.

    The code is turned by `tilt` degrees about its own vertical axis (a book turned away, its
    right edge further from the camera: perspective, bars thinner on one side), then by `angle`
    degrees counter-clockwise in the picture plane, its centre at `center`.
    """
    import math

    w, h = size
    t, a = math.radians(tilt), math.radians(angle)
    out = []
    for x, y in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)):
        z = focal + x * math.sin(t)
        px, py = focal * x * math.cos(t) / z, focal * y / z
        # counter-clockwise on screen (y down), like cv2.getRotationMatrix2D
        rx = px * math.cos(a) + py * math.sin(a)
        ry = -px * math.sin(a) + py * math.cos(a)
        out.append((center[0] + rx, center[1] + ry))
    return out


def place(frame: MatLike, code: MatLike, center: tuple[int, int] | None = None,
          angle: float = 0.0, scale: float = 1.0, seed: int = 0, noise: float = 6.0,
          tilt: float = 0.0) -> MatLike:
    """A copy of BGR `frame` with grayscale `code` pasted (scaled, tilted, rotated, noisy)."""
    import cv2
    import numpy as np

    out = frame.copy()
    if scale != 1.0:
        code = cv2.resize(code, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = code.shape[:2]
    fh, fw = out.shape[:2]
    cx, cy = center or (fw // 2, fh // 2)
    src = np.array([(0, 0), (w, 0), (w, h), (0, h)], dtype=np.float32)
    dst = np.array(code_quad((w, h), (cx, cy), angle, tilt), dtype=np.float32)
    # Warp into the quad's bounding box only (a tenth of the frame's cost).
    x0, y0 = (max(0, int(v) - 1) for v in dst.min(axis=0))
    x1, y1 = min(fw, int(dst[:, 0].max()) + 2), min(fh, int(dst[:, 1].max()) + 2)
    if x1 <= x0 or y1 <= y0:
        return out
    m = cv2.getPerspectiveTransform(src, dst - np.array([x0, y0], dtype=np.float32))
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpPerspective(code, m, size, flags=cv2.INTER_LINEAR, borderValue=0)
    mask = cv2.warpPerspective(np.full_like(code, 255), m, size, flags=cv2.INTER_NEAREST)
    noisy = np.clip(warped.astype(np.float32) * 0.85 + 20 + _noise(warped.shape, noise, seed),
                    0, 255).astype(np.uint8)
    sel = mask > 0
    box = out[y0:y1, x0:x1]
    for ch in range(box.shape[2] if box.ndim == 3 else 1):
        plane = box[..., ch] if box.ndim == 3 else box
        plane[sel] = noisy[sel]
    return out


def degrade(frame: MatLike, *, blur: float = 0.0, motion: int = 0, motion_angle: float = 0.0,
            light: float = 1.0, noise: float = 0.0, seed: int = 0) -> MatLike:
    """A grey BGR copy of `frame` as a poorer camera sees it.

    `blur`: defocus, a Gaussian of that sigma in pixels; `motion`: a motion blur `motion` pixels
    long at `motion_angle` degrees (0 = horizontal); `light`: brightness factor (0.25 = a dim
    corner); `noise`: extra sensor noise sigma added after dimming (a webcam raises its gain in
    the dark, so dim pictures are noisier).
    """
    import cv2
    import numpy as np

    gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    out: MatLike = gray.astype(np.float32)
    if blur > 0:

        out = cv2.GaussianBlur(out, (0, 0), blur)
    if motion > 1:
        line = np.zeros((motion, motion), np.float32)
        line[motion // 2, :] = 1.0
        rot = cv2.getRotationMatrix2D(((motion - 1) / 2, (motion - 1) / 2), motion_angle, 1.0)
        kernel = cv2.warpAffine(line, rot, (motion, motion))
        kernel = (kernel / max(float(kernel.sum()), 1e-6)).astype(np.float32)
        out = cv2.filter2D(out, -1, kernel)
    if light != 1.0:
        out = out * light
    if noise > 0:
        out = out + _noise(out.shape, noise, seed)
    done = np.clip(out, 0, 255).astype(np.uint8)
    return done if frame.ndim == 2 else cv2.cvtColor(done, cv2.COLOR_GRAY2BGR)


# Conditions of the generated angle sweeps (tests/device/test_scanner_angles.py, bench/
# scanner_angles.py): a webcam at 720p, a code 20-40 cm away.
CONDITIONS: dict[str, dict[str, float]] = {
    "plain": {},
    "tilt": {"tilt": 40.0},  # turned away 40° (alternately left and right edge further)
    "blur": {"blur": 1.5},  # out of focus
    "motion": {"motion": 4},  # moved 4 pixels across the bars during the exposure
    "dim": {"light": 0.3, "noise": 4.0},  # a dim corner: a third of the light, more gain noise
}


@functools.lru_cache(maxsize=8)
def _shared_background(seed: int) -> MatLike:
    frame = background(seed=seed)
    frame.flags.writeable = False  # shared between calls: `place` copies it
    return frame


def held(code: MatLike, angle: float, condition: str = "plain", frames: int = 3, seed: int = 0,
         center: tuple[int, int] = (640, 360)) -> list[MatLike]:

    """`frames` consecutive 1280x720 frames of grayscale `code` held at `angle` degrees under
    one of `CONDITIONS`, drifting a few pixels per frame as a hand does."""
    params = dict(CONDITIONS[condition])
    tilt = params.pop("tilt", 0.0) * (1 if seed % 2 == 0 else -1)
    out = []
    for i in range(frames):
        frame = place(_shared_background((seed + i) % 8), code,
                      center=(center[0] + 3 * i, center[1] + i), angle=angle, tilt=tilt,
                      seed=seed * 31 + i)
        if params:
            motion = int(params.get("motion", 0))
            # motion across the bars: the harmful direction (along them changes nothing)
            frame = degrade(frame, blur=params.get("blur", 0.0), motion=motion,
                            motion_angle=angle, light=params.get("light", 1.0),
                            noise=params.get("noise", 0.0), seed=seed * 31 + i)
        out.append(frame)
    return out
