"""Synthetic barcode pictures for tests, benchmarks and demos (numpy + OpenCV, no other package).

`ean13_image` draws EAN-13 bars from the GS1 tables, `code128_image` Code 128 (what the reader
cards and copy labels carry); `qr_image` uses OpenCV's QR encoder; `place` puts a code on a noisy
1280x720 "webcam" background at a position, in-plane angle and perspective tilt; `degrade` adds
what a school webcam adds: defocus blur, motion blur, dim light (less signal, more gain noise).
"""

from __future__ import annotations

from device.scanner.codes import is_valid_ean13, mod10_check_digit

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


def bars_image(modules: str, module_px: float = 3, height: int = 120, quiet: int = 11):  # noqa: ANN201
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


def ean13_image(value: str, module_px: float = 3, height: int = 120, quiet: int = 11):  # noqa: ANN201
    """A grayscale numpy image of an EAN-13 (white quiet zone, no human-readable digits)."""
    return bars_image(ean13_modules(value), module_px, height, quiet)


def code128_image(value: str, module_px: float = 3, height: int = 80, quiet: int = 10):  # noqa: ANN201
    """A grayscale numpy image of a Code 128 (white quiet zone, no human-readable text)."""
    return bars_image(code128_modules(value), module_px, height, quiet)


def qr_image(text: str, module_px: int = 6):  # noqa: ANN201
    """A grayscale numpy image of a QR code (OpenCV's encoder), with a quiet zone."""
    import cv2

    enc = cv2.QRCodeEncoder.create()
    small = enc.encode(text)
    img = cv2.resize(small, None, fx=module_px, fy=module_px, interpolation=cv2.INTER_NEAREST)
    return cv2.copyMakeBorder(img, 4 * module_px, 4 * module_px, 4 * module_px, 4 * module_px,
                              cv2.BORDER_CONSTANT, value=255)


def background(width: int = 1280, height: int = 720, seed: int = 0, noise: float = 12.0):  # noqa: ANN201
    """A BGR frame: a soft gradient with Gaussian sensor noise, like an empty webcam picture."""
    import numpy as np

    rng = np.random.default_rng(seed)
    ys = np.linspace(90, 150, height, dtype=np.float32)[:, None]
    xs = np.linspace(-20, 20, width, dtype=np.float32)[None, :]
    base = ys + xs + rng.normal(0, noise, (height, width)).astype(np.float32)
    gray = np.clip(base, 0, 255).astype(np.uint8)
    return np.dstack([gray, gray, gray])


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


def place(frame, code, center: tuple[int, int] | None = None, angle: float = 0.0,
          scale: float = 1.0, seed: int = 0, noise: float = 6.0, tilt: float = 0.0):  # noqa: ANN001, ANN201
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
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(code, m, (fw, fh), flags=cv2.INTER_LINEAR, borderValue=0)
    mask = cv2.warpPerspective(np.full_like(code, 255), m, (fw, fh), flags=cv2.INTER_NEAREST)
    rng = np.random.default_rng(seed)
    noisy = np.clip(warped.astype(np.float32) * 0.85 + 20
                    + rng.normal(0, noise, warped.shape), 0, 255).astype(np.uint8)
    sel = mask > 0
    for ch in range(3):
        out[..., ch][sel] = noisy[sel]
    return out


def degrade(frame, *, blur: float = 0.0, motion: int = 0, motion_angle: float = 0.0,
            light: float = 1.0, noise: float = 0.0, seed: int = 0):  # noqa: ANN001, ANN201
    """A copy of `frame` as a poorer camera sees it.

    `blur`: defocus, a Gaussian of that sigma in pixels; `motion`: a motion blur `motion` pixels
    long at `motion_angle` degrees (0 = horizontal); `light`: brightness factor (0.25 = a dim
    corner); `noise`: extra sensor noise sigma added after dimming (a webcam raises its gain in
    the dark, so dim pictures are noisier).
    """
    import cv2
    import numpy as np

    out = frame.astype(np.float32)
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
        rng = np.random.default_rng(seed)
        out = out + rng.normal(0, noise, out.shape[:2])[..., None].astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)
