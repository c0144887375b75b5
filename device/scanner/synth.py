"""Synthetic barcode pictures for tests, benchmarks and demos (numpy + OpenCV, no other package).

`ean13_image` draws EAN-13 bars from the GS1 tables; `qr_image` uses OpenCV's QR encoder;
`place` puts a code on a noisy 1280x720 "webcam" background at a position and angle.
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


def ean13_image(value: str, module_px: int = 3, height: int = 120, quiet: int = 11):  # noqa: ANN201
    """A grayscale numpy image of an EAN-13 (white quiet zone, no human-readable digits)."""
    import numpy as np

    mods = ean13_modules(value)
    row = np.array([0 if m == "1" else 255 for m in mods], dtype=np.uint8)
    row = np.repeat(row, module_px)
    pad = np.full(quiet * module_px, 255, dtype=np.uint8)
    row = np.concatenate([pad, row, pad])
    img = np.tile(row, (height, 1))
    margin = np.full((quiet * module_px // 2, img.shape[1]), 255, dtype=np.uint8)
    return np.vstack([margin, img, margin])


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


def place(frame, code, center: tuple[int, int] | None = None, angle: float = 0.0,
          scale: float = 1.0, seed: int = 0, noise: float = 6.0):  # noqa: ANN001, ANN201
    """A copy of BGR `frame` with grayscale `code` pasted (scaled, rotated, noisy) at `center`."""
    import cv2
    import numpy as np

    out = frame.copy()
    if scale != 1.0:
        code = cv2.resize(code, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = code.shape[:2]
    fh, fw = out.shape[:2]
    cx, cy = center or (fw // 2, fh // 2)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    m[0, 2] += cx - w / 2
    m[1, 2] += cy - h / 2
    warped = cv2.warpAffine(code, m, (fw, fh), flags=cv2.INTER_LINEAR, borderValue=0)
    mask = cv2.warpAffine(np.full_like(code, 255), m, (fw, fh), flags=cv2.INTER_NEAREST)
    rng = np.random.default_rng(seed)
    noisy = np.clip(warped.astype(np.float32) * 0.85 + 20
                    + rng.normal(0, noise, warped.shape), 0, 255).astype(np.uint8)
    sel = mask > 0
    for ch in range(3):
        out[..., ch][sel] = noisy[sel]
    return out
