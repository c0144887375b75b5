"""Frame decoding with zxing-cpp and pyzbar: a thorough path for still images, a cheap one for video.

Measured on the 79 real photos of ../shared/testdata/barcodes (see tests/device/
test_scanner_photos.py and docs/BENCHMARKS.md):

* zxing-cpp and pyzbar each miss codes the other reads (zxing: two EAN-13s, pyzbar: two EAN-13s
  and a QR code), so the still-image path runs both on the original image and merges.
* Pre-processed variants (CLAHE, unsharp, 2x upscale, blur) rescue little and both decoders then
  return wrong EAN-13s *with a valid check digit* (e.g. pyzbar 9780204816638 for 9780804816632).
  So a variant's read of a weak-checksum format (EAN/UPC, Code 39) counts only when two attempts
  agree; QR (Reed-Solomon) and Code 128 (mod 103) reads are accepted from one attempt.
* Both decoders scan rows and columns only: a 1-D code held 20-70° off the axes is missed. The
  still path adds the image rotated 45° and each barcode-like region cut out upright (below).

`decode_frame` is the thorough path (``ibc scan-image``); `FrameDecoder` is the live path, on a
centre region of interest (cropping keeps small codes, downscaling loses them). Per frame:

1. *stripes* (`device.scanner.stripes`, ~1 ms): the structure tensor finds barcode-like regions
   (parallel bars) and their angle; each of the best two is cut out turned upright (bars
   vertical), averaged along the bars, and read by zxing-cpp with 1-D formats only (a 300x150
   crop: ~1 ms), then pyzbar on the same crop (better on blur), then zxing-cpp on the crop
   sharpened across the bars. Any angle, tilt up to ~40°, dim light: see docs/BENCHMARKS.md.
2. zxing-cpp on the whole region with all formats (QR codes, and 1-D codes the stripes missed).
3. pyzbar on the whole region, every third frame that the cheap steps left empty (30-60 ms on
   a noisy region; on the real photos it still adds three EAN-13s that nothing else reads).

Measured (docs/BENCHMARKS.md): the fixed 45° rotation the live path used to try
(``fixed_angles``) adds no read in the generated angle sweep once the stripes step runs, and one
of the 79 real photos (a QR code printed on a cracker, read by the rotation's resampling, not
its angle) for 2-3 ms on every empty frame, so it is off. The strategy that last found a code is
tried first on the next frame, so consecutive-frame confirmation is not broken by the rotation
of the costly step. A region seen but not read is returned as `Seen` (`FrameDecoder.scan`) for
the "hold it closer / still" hints.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING

from device.scanner.codes import (
    DEFAULT_FORMATS,
    RETAIL_FORMATS,
    WEAK_FORMATS,
    Barcode,
    Format,
    Point,
    parse_formats,
    validate,
)
from device.scanner.errors import DecoderUnavailable
from device.scanner.stripes import (
    BarMeasure,
    Candidate,
    Stripes,
    candidates,
    find_stripes,
    sharpen_across,
    straighten,
)

if TYPE_CHECKING:  # numpy and OpenCV load with the functions that use them
    import numpy as np
    from cv2.typing import MatLike
    from numpy.typing import NDArray

DECODERS = ("zxing", "zbar")
# An image's pixel coordinates -> another image's (a rotated or cut-out picture's back to the
# picture it was made from).
PointMap = Callable[[tuple[Point, ...]], tuple[Point, ...]]

_ZXING_NAMES = {
    Format.EAN13: "EAN13", Format.EAN8: "EAN8", Format.UPCA: "UPCA", Format.UPCE: "UPCE",
    Format.CODE128: "Code128", Format.CODE39: "Code39", Format.CODE93: "Code93",
    Format.CODABAR: "Codabar", Format.ITF: "ITF", Format.QR: "QRCode",
    Format.DATAMATRIX: "DataMatrix",
}
_ZXING_BACK = {
    "EAN-13": Format.EAN13, "EAN-8": Format.EAN8, "UPC-A": Format.UPCA, "UPC-E": Format.UPCE,
    "Code 128": Format.CODE128, "Code 39": Format.CODE39, "Code 93": Format.CODE93,
    "Codabar": Format.CODABAR, "ITF": Format.ITF, "QR Code": Format.QR,
    "Data Matrix": Format.DATAMATRIX, "DataMatrix": Format.DATAMATRIX,
}
_ZBAR_NAMES = {
    Format.EAN13: "EAN13", Format.EAN8: "EAN8", Format.UPCA: "UPCA", Format.UPCE: "UPCE",
    Format.CODE128: "CODE128", Format.CODE39: "CODE39", Format.CODE93: "CODE93",
    Format.CODABAR: "CODABAR", Format.ITF: "I25", Format.QR: "QRCODE",
}
_ZBAR_BACK = {v: k for k, v in _ZBAR_NAMES.items()}


@functools.cache
def _zxing() -> ModuleType | None:
    try:
        import zxingcpp
    except ImportError:
        return None
    return zxingcpp


@functools.cache
def _zbar() -> ModuleType | None:
    try:
        from pyzbar import pyzbar
    except (ImportError, OSError):  # OSError/ImportError: libzbar0 missing
        return None
    return pyzbar


def available_decoders() -> tuple[str, ...]:
    """Names of the installed decoders, best first (``zxing``, ``zbar``)."""
    return tuple(n for n, mod in (("zxing", _zxing()), ("zbar", _zbar())) if mod is not None)


def _pick_decoders(decoders: Iterable[str] | None) -> tuple[str, ...]:
    have = available_decoders()
    if decoders is None:
        chosen = have
    else:
        wanted = tuple(decoders)
        unknown = [d for d in wanted if d not in DECODERS]
        if unknown:
            raise ValueError(f"неизвестный декодер {unknown[0]!r}; известны: zxing, zbar")
        chosen = tuple(d for d in wanted if d in have)
    if not chosen:
        raise DecoderUnavailable(", ".join(decoders) if decoders else "")
    return chosen


def to_gray(image: MatLike) -> MatLike:
    """A 2-D uint8 grayscale view of a BGR, BGRA or grayscale numpy image."""
    import cv2

    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def rotate_image(image: MatLike, angle: float) -> tuple[MatLike, NDArray[np.float64]]:
    """`image` rotated by `angle` degrees on an enlarged white canvas, plus the inverse 2x3 map."""
    import cv2
    import numpy as np

    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    rotated = cv2.warpAffine(image, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=255)
    return rotated, cv2.invertAffineTransform(m).astype(np.float64)


def _transform(points: Iterable[Point], m: NDArray[np.float64] | None, dx: int = 0,
               dy: int = 0) -> tuple[Point, ...]:
    out = []
    for x, y in points:
        if m is not None:

            x, y = m[0, 0] * x + m[0, 1] * y + m[0, 2], m[1, 0] * x + m[1, 1] * y + m[1, 2]
        out.append((int(round(x)) + dx, int(round(y)) + dy))
    return tuple(out)


def read_zxing(image: MatLike, formats: Sequence[Format] = DEFAULT_FORMATS, *, try_rotate: bool = True,
               try_downscale: bool = True, try_invert: bool = True, addons: bool = False,
               code39_check: bool = False) -> list[Barcode]:
    """Validated reads of zxing-cpp on a BGR or grayscale numpy image."""
    zx = _zxing()
    if zx is None:
        raise DecoderUnavailable("zxing-cpp")
    fmts = tuple(getattr(zx.BarcodeFormat, _ZXING_NAMES[f]) for f in formats if f in _ZXING_NAMES)
    if not fmts:
        return []
    kwargs = {}
    if addons:
        kwargs["ean_add_on_symbol"] = zx.EanAddOnSymbol.Read
    results = zx.read_barcodes(image, formats=fmts, try_rotate=try_rotate,
                               try_downscale=try_downscale, try_invert=try_invert, **kwargs)
    found: list[Barcode] = []
    for r in results:
        fmt = _ZXING_BACK.get(str(r.format))
        if fmt is None:
            continue
        text, addon = r.text, ""
        if fmt is Format.EAN13 and len(text) in (15, 18) and text.isdigit():
            text, addon = text[:13], text[13:]  # ean_add_on_symbol=Read appends the add-on
        pos = r.position
        points = tuple((int(p.x), int(p.y)) for p in
                       (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left))
        code = validate(Barcode(fmt, text, points, addon=addon, extra={"decoder": "zxing"}),
                        code39_check=code39_check)
        if code is not None:
            found.append(code)
    return found


def read_zbar(image: MatLike, formats: Sequence[Format] = DEFAULT_FORMATS, *,
              code39_check: bool = False) -> list[Barcode]:
    """Validated reads of pyzbar (libzbar0) on a numpy image (converted to grayscale)."""
    zb = _zbar()
    if zb is None:
        raise DecoderUnavailable("pyzbar/libzbar0")
    symbols = [getattr(zb.ZBarSymbol, _ZBAR_NAMES[f]) for f in formats if f in _ZBAR_NAMES]
    if not symbols:
        return []
    found: list[Barcode] = []
    for d in zb.decode(to_gray(image), symbols=symbols):
        fmt = _ZBAR_BACK.get(d.type)
        if fmt is None:
            continue
        try:
            text = d.data.decode("utf-8")
        except UnicodeDecodeError:
            text = d.data.decode("latin-1")
        points = tuple((int(p.x), int(p.y)) for p in d.polygon)
        code = validate(Barcode(fmt, text, points, extra={"decoder": "zbar"}),
                        code39_check=code39_check)
        if code is not None:
            found.append(code)
    return found


# --- merging votes ---------------------------------------------------------------------------

def _overlap(a: Barcode, b: Barcode, margin: int = 8) -> bool:
    ba, bb = a.box, b.box
    if ba is None or bb is None:
        return True  # unknown position: assume the same place (the safe choice)
    ax, ay, aw, ah = ba
    bx, by, bw, bh = bb
    return (ax - margin <= bx + bw and bx - margin <= ax + aw
            and ay - margin <= by + bh and by - margin <= ay + ah)


def _family(fmt: Format) -> str:
    return "retail" if fmt in RETAIL_FORMATS else fmt.value


class _Votes:
    """Reads per code identity, each attempt (decoder x image variant) voting at most once."""

    def __init__(self) -> None:
        self.reads: dict[tuple[str, str], list[Barcode]] = {}
        self.voters: dict[tuple[str, str], set[str]] = {}

    def add(self, attempt: str, codes: Iterable[Barcode]) -> int:
        n = 0
        for code in codes:
            self.reads.setdefault(code.key, []).append(code)
            voters = self.voters.setdefault(code.key, set())
            if attempt not in voters:
                voters.add(attempt)
                n += 1
        return n

    def count(self, key: tuple[str, str]) -> int:
        return len(self.voters.get(key, ()))

    def merged(self, key: tuple[str, str]) -> Barcode:
        reads = self.reads[key]
        best = next((c for c in reads if c.addon), reads[0])
        decoders = sorted({c.extra.get("decoder", "") for c in reads} - {""})
        return best.with_(extra={"decoders": decoders, "votes": self.count(key)})

    def conflicts(self, keys: list[tuple[str, str]]) -> list[set[tuple[str, str]]]:
        """Groups of different codes of one family read at the same place."""
        groups: list[set[tuple[str, str]]] = []
        for i, a in enumerate(keys):
            for b in keys[i + 1:]:
                ca, cb = self.reads[a][0], self.reads[b][0]
                if _family(ca.format) != _family(cb.format):
                    continue
                if not any(_overlap(x, y) for x in self.reads[a] for y in self.reads[b]):
                    continue
                for g in groups:
                    if a in g or b in g:
                        g.update((a, b))
                        break
                else:
                    groups.append({a, b})
        return groups


def _resolve(votes: _Votes, keys: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Keep each conflict group's clear winner by votes; drop a tied group entirely."""
    keep = list(keys)
    for group in votes.conflicts(keys):
        ranked = sorted(group, key=votes.count, reverse=True)
        for k in group:
            keep.remove(k)
        if votes.count(ranked[0]) > votes.count(ranked[1]):
            keep.append(ranked[0])
    return keep


def decode_frame(image: MatLike, formats: Iterable[str | Format] | None = None,
                 decoders: Iterable[str] | None = None, *, thorough: bool = True,
                 code39_check: bool = False, source: str = "",
                 frame_index: int | None = None) -> list[Barcode]:
    """All barcodes in one image (thorough path for still images; see the module docstring)."""
    fmts = parse_formats(formats)
    names = _pick_decoders(decoders)
    gray = to_gray(image)
    votes = _Votes()

    def attempt(name: str, variant: str, img: MatLike, inverse: PointMap | None = None) -> None:
        if name == "zxing":
            codes = read_zxing(img, fmts, addons=variant == "orig", code39_check=code39_check)
        else:
            codes = read_zbar(img, fmts, code39_check=code39_check)
        if inverse is not None:
            codes = [c.with_(points=inverse(c.points)) for c in codes]
        votes.add(f"{name}:{variant}", codes)

    # zxing gets the colour image (its own grayscale conversion reads slightly more), zbar gray.
    for name in names:
        attempt(name, "orig", image if name == "zxing" else gray)
    primary = list(votes.reads)
    if thorough:
        variants = _variants(gray) if not primary or votes.conflicts(primary) else []
        for variant, img, inverse in variants:
            for name in names:
                attempt(name, variant, img, inverse)
    keys = [k for k in votes.reads
            if k in primary or votes.count(k) >= 2 or votes.reads[k][0].format not in WEAK_FORMATS]
    keys = _resolve(votes, keys)
    return [votes.merged(k).with_(source=source, frame_index=frame_index) for k in keys]


def _variants(gray: MatLike) -> list[tuple[str, MatLike, PointMap | None]]:
    """Extra images for the thorough path: contrast-equalised, rotated 45°, upscaled if small,
    and each barcode-like region turned upright."""
    import cv2

    out: list[tuple[str, MatLike, PointMap | None]] = []
    out.append(("clahe", cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(gray), None))
    rotated, inv = rotate_image(gray, 45)
    out.append(("rot45", rotated, functools.partial(_transform, m=inv)))
    if max(gray.shape) <= 640:
        up = cv2.resize(gray, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
        out.append(("up2", up, lambda pts: tuple((x // 2, y // 2) for x, y in pts)))
    # 1-D codes at any angle: each barcode-like region cut out with its bars upright.
    for i, region in enumerate(find_stripes(gray, limit=3)):
        straight, m = straighten(gray, region)
        out.append((f"stripes{i}", straight, functools.partial(_transform, m=m)))

    return out


# --- live path -------------------------------------------------------------------------------

def roi_rect(shape: Sequence[int], roi: tuple[float, float] | None) -> tuple[int, int, int, int]:
    """Pixel rectangle ``(x, y, w, h)`` of a centred region covering `roi` fractions of a frame."""
    h, w = shape[:2]
    if roi is None:
        return 0, 0, w, h
    rw, rh = max(1, int(w * roi[0])), max(1, int(h * roi[1]))
    return (w - rw) // 2, (h - rh) // 2, rw, rh


@dataclass(frozen=True)
class Seen:
    """A barcode-like region that no decoder read on this frame (the "seen, not read" hint)."""

    stripes: Stripes  # in full-frame coordinates
    bars: BarMeasure


@dataclass
class Scan:
    """One frame through `FrameDecoder.scan`: the codes, and what was seen but not read."""

    codes: list[Barcode] = field(default_factory=list)
    seen: Seen | None = None
    strategy: str = ""  # what read the codes: "stripes", "zxing", "zbar", "zxing@45"


_MATRIX_FORMATS = frozenset({Format.QR, Format.DATAMATRIX})


class FrameDecoder:
    """Cheap per-frame decoding for live video (see the module docstring for the policy)."""

    def __init__(self, formats: Iterable[str | Format] | None = None,
                 decoders: Iterable[str] | None = None, *,
                 roi: tuple[float, float] | None = (0.75, 0.8), code39_check: bool = False,
                 rotate: bool = True, zbar_every: int = 3, fixed_angles: Sequence[float] = (),
                 max_stripes: int = 2, zbar_stripes: bool = True,
                 sharpen: tuple[float, float] | None = (1.0, 2.0)):
        self.formats = parse_formats(formats)
        self.decoders = _pick_decoders(decoders)
        self.roi = roi
        self.code39_check = code39_check
        self.linear = tuple(f for f in self.formats if f not in _MATRIX_FORMATS)
        # `rotate`: find 1-D codes' stripes and read them turned upright (any angle).
        self.rotate = rotate and bool(self.linear)
        self.max_stripes = max_stripes
        self.zbar_stripes = zbar_stripes and "zbar" in self.decoders[1:]
        self.sharpen = sharpen
        self.zbar_every = max(0, zbar_every)
        primary = self.decoders[0]
        # Whole-region strategies after the stripes: the primary decoder (QR codes, anything
        # the stripes missed), fixed rotations if asked, zbar on every `zbar_every`-th empty
        # frame only (30-45 ms on a noisy 960x576 region).
        self.cheap: list[str] = [primary] + [f"{primary}@{a:g}" for a in fixed_angles]
        self.costly: list[str] = [d for d in self.decoders if d != primary] if zbar_every else []
        self._sticky: str | None = None
        self._since_costly = self.zbar_every  # the first empty frame may use it at once

    def _read(self, name: str, img: MatLike, formats: Sequence[Format], *,
              rotate: bool = True) -> list[Barcode]:
        if name == "zxing":
            # Only the given resolution: downscaled tries cost time and the ROI keeps the size.
            return read_zxing(img, formats, try_rotate=rotate, try_downscale=False,
                              try_invert=False, code39_check=self.code39_check)
        return read_zbar(img, formats, code39_check=self.code39_check)

    def _run(self, strategy: str, crop: MatLike, x: int, y: int) -> list[Barcode]:
        name, _, angle = strategy.partition("@")
        if not angle:
            return [c.with_(points=_transform(c.points, None, x, y))
                    for c in self._read(name, crop, self.formats)]
        img, inverse = rotate_image(to_gray(crop), float(angle))
        return [c.with_(points=_transform(c.points, inverse, x, y))
                for c in self._read(name, img, self.formats)]

    def _upright(self, cand: Candidate) -> list[Barcode]:
        """Read one upright cut: attempts in turn until a strong read, or two agree on a weak one.

        Averaged along the bars, every row of the cut is the same row, so zxing-cpp's own check
        that two scan lines agree proves nothing there, and it returns check-digit-valid wrong
        EAN-13s on thin bars (also an EAN-13 inside a Code 128): a weak-format read counts only
        when a second attempt (pyzbar, or the sharpened or 2x-stretched cut) reads the same.
        """
        import cv2
        import numpy as np

        # Averaging a few pixels along the bars removes sensor noise, not edges.
        img = cv2.blur(cand.image, (1, 5))
        primary = self.decoders[0]
        # (decoder, image maker, the image's pixels -> the cut's pixels as (sx, sy, dy))
        attempts: list[tuple[str, Callable[[], MatLike], tuple[float, float, float]]] = [
            (primary, lambda: img, (1.0, 1.0, 0.0))]
        if self.zbar_stripes:
            # zbar scans every row and column: on the central band's every other row it reads
            # the same codes at a quarter of the cost (~1 ms instead of ~4).
            top = img.shape[0] // 4
            band = np.ascontiguousarray(img[top: max(top + 1, 3 * top): 2])
            attempts.append(("zbar", lambda: band, (1.0, 2.0, float(top))))
        if cand.bars.barcode_like:  # the fallbacks only for what looks like a code
            if self.sharpen:
                sigma, amount = self.sharpen
                attempts.append((primary, lambda: sharpen_across(img, sigma, amount),
                                 (1.0, 1.0, 0.0)))
            # Thin far ends of a tilted code read once stretched across the bars.
            attempts.append((primary, lambda: cv2.resize(img, None, fx=2, fy=1,
                                                         interpolation=cv2.INTER_CUBIC),
                             (0.5, 1.0, 0.0)))
        votes = _Votes()
        for k, (name, make, (sx, sy, dy)) in enumerate(attempts):
            m = cand.matrix.copy()
            m[:, 2] += m[:, 1] * dy
            m[:, 0] *= sx
            m[:, 1] *= sy
            found = self._read(name, make(), self.linear, rotate=False)
            votes.add(str(k), [c.with_(points=_transform(c.points, m)) for c in found])
            keys = [key for key in votes.reads if votes.count(key) >= 2
                    or votes.reads[key][0].format not in WEAK_FORMATS]
            if keys:
                return [votes.reads[key][0] for key in keys]
        return []

    def _stripes(self, gray: MatLike,
                 rect: tuple[int, int, int, int]) -> tuple[list[Barcode], Seen | None]:
        """Read each barcode-like region turned upright; the best unread one as `Seen`."""
        codes: list[Barcode] = []
        seen = None
        x, y, w, h = rect
        roi = gray[y:y + h, x:x + w]
        for cand in candidates(roi, limit=self.max_stripes, whole=gray, offset=(x, y)):
            found = self._upright(cand)
            if found:
                codes += found
            elif seen is None and cand.bars.barcode_like:
                seen = Seen(cand.region, cand.bars)
        return codes, seen

    def _plan(self) -> list[str]:
        order = (["stripes"] if self.rotate else []) + list(self.cheap)
        if self._sticky is not None and self._sticky in order:
            # The strategy that read a code last frame goes first, so the next frame (needed
            # for consecutive-frame confirmation) reads it again at once.
            order.remove(self._sticky)
            order.insert(0, self._sticky)
        if self._since_costly >= max(1, self.zbar_every):
            order += [s for s in self.costly if s not in order]
        return order

    def scan(self, frame: MatLike, frame_index: int | None = None, source: str = "") -> Scan:
        """Codes in the frame's region of interest (full-frame coordinates), and what was seen."""
        x, y, w, h = roi_rect(frame.shape, self.roi)
        crop = frame[y:y + h, x:x + w]
        codes: list[Barcode] = []
        seen = None
        used_costly = False
        hit = None
        for strategy in self._plan():
            used_costly |= strategy in self.costly
            if strategy == "stripes":
                # The whole frame: a code at the region's edge keeps its quiet zone in the cut.
                codes, seen = self._stripes(to_gray(frame), (x, y, w, h))
            else:
                codes = self._run(strategy, crop, x, y)
            if codes:
                hit = strategy
                break
        self._since_costly = 0 if used_costly else self._since_costly + 1
        self._sticky = hit if hit is not None and hit not in ("stripes", self.cheap[0]) else None
        out: dict[tuple[str, str], Barcode] = {}
        for c in codes:
            out.setdefault(c.key, c.with_(frame_index=frame_index, source=source))
        return Scan(list(out.values()), None if out else seen, hit or "")

    def decode(self, frame: MatLike, frame_index: int | None = None,
               source: str = "") -> list[Barcode]:

        """Codes in the frame's region of interest, in full-frame coordinates."""
        return self.scan(frame, frame_index, source).codes
