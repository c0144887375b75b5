"""Barcode-like stripes in a grayscale image: where a 1-D code is, at what angle, how sharp.

Both decoders scan along image rows (and columns): a 1-D code held at 20-70° off the axes is
crossed by no row from end to end and is missed. A 1-D code is a patch of parallel edges, so
its image gradients all point one way (±): the structure tensor ``J = [[gx², gx·gy], [gx·gy,
gy²]]`` averaged over 16x16-pixel cells has one dominant eigenvector there (coherence near 1)
and a large trace (edge energy), where paper, skin and sensor noise give a low coherence, and a
QR code's bars in both directions give a low one too. `find_stripes` groups the coherent,
energetic cells into regions and reports each region's direction across the bars (the
gradient's mean doubled-angle vector), its centre and its extent along and across the bars;
`straighten` cuts one region out turned so that the bars stand vertical (what the decoders read
best) and averages a few pixels along the bars, which removes sensor noise without blurring an
edge. `measure_bars` gives the "seen but not read" hints their reasons: bars too thin for the
decoders (hold it closer) or edges too soft (blur: hold it still).

Cost on one core for a 960x576 region of interest: about 1 ms (Sobel at full resolution, then
the tensor pooled to cells; downscaling first would wash out 2-pixel bars).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy and OpenCV load with the functions that use them
    import numpy as np
    from cv2.typing import MatLike
    from numpy.typing import NDArray

CELL = 16  # pixels; a 2-pixel-module code still spans several bars per cell


@dataclass(frozen=True)
class Stripes:
    """A barcode-like region: parallel bars at one angle."""

    angle: float  # direction across the bars (the gradient), degrees in [-90, 90), y down
    center: tuple[float, float]  # in the analysed image's pixels
    length: float  # extent across the bars, pixels (the code with part of its quiet zone)
    height: float  # extent along the bars, pixels
    coherence: float  # 0..1: how well the region's cells agree on one direction
    cells: int

    @property
    def bars_angle(self) -> float:
        """The direction of the bars themselves, degrees in [-90, 90)."""
        return (self.angle + 180.0) % 180.0 - 90.0

    def corners(self) -> tuple[tuple[float, float], ...]:
        """The region's rotated rectangle (four points, image coordinates)."""
        c, s = math.cos(math.radians(self.angle)), math.sin(math.radians(self.angle))
        cx, cy = self.center
        hl, hh = self.length / 2, self.height / 2
        return tuple((cx + du * c - dv * s, cy + du * s + dv * c)
                     for du, dv in ((-hl, -hh), (hl, -hh), (hl, hh), (-hl, hh)))


def find_stripes(gray: MatLike, *, cell: int = CELL, min_coherence: float = 0.6, min_length: float = 40,
                 limit: int = 3) -> list[Stripes]:
    """Barcode-like regions of a 2-D uint8 image, most convincing first (at most `limit`)."""
    import cv2
    import numpy as np

    h, w = gray.shape[:2]
    cols, rows = w // cell, h // cell
    if cols < 3 or rows < 2:
        return []
    img = gray[:rows * cell, :cols * cell]
    # Scharr, not Sobel: Sobel's 3x3 kernel is anisotropic for thin bars and biases the angle
    # by up to 2.5° on 2-pixel modules (Scharr: 0.3°), enough to smear a long code.
    gx = cv2.Scharr(img, cv2.CV_32F, 1, 0)
    gy = cv2.Scharr(img, cv2.CV_32F, 0, 1)
    size = (cols, rows)
    jxx = cv2.resize(gx * gx, size, interpolation=cv2.INTER_AREA)
    jyy = cv2.resize(gy * gy, size, interpolation=cv2.INTER_AREA)
    jxy = cv2.resize(gx * gy, size, interpolation=cv2.INTER_AREA)
    energy = jxx + jyy
    a, b = jxx - jyy, 2 * jxy
    aniso = np.sqrt(a * a + b * b)
    coherence = aniso / (energy + 1e-6)
    # The noise floor from the quieter cells: sensor noise gives ~24 sigma² per cell, a code
    # tens of times more; the 25th percentile still sees paper when a code fills the view.
    floor = max(float(np.percentile(energy, 25)), 20.0)
    mask = ((coherence > min_coherence) & (energy > 4.0 * floor)).astype(np.uint8)
    # Wide spaces between bars (up to 4 modules) can leave a cell empty: close the gaps.
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    found: list[tuple[float, Stripes]] = []
    for k in range(1, n):
        if stats[k, cv2.CC_STAT_AREA] < 3:
            continue
        sel = labels == k
        sa, sb = float(a[sel].sum()), float(b[sel].sum())
        agree = math.hypot(sa, sb) / (float(aniso[sel].sum()) + 1e-6)
        if agree < min_coherence:
            continue  # cells pointing several ways: text, a QR code, a picture
        theta = 0.5 * math.atan2(sb, sa)
        c, s = math.cos(theta), math.sin(theta)
        ys, xs = np.nonzero(sel)
        px, py = (xs + 0.5) * cell, (ys + 0.5) * cell
        u, v = px * c + py * s, -px * s + py * c
        length = float(u.max() - u.min()) + cell
        height = float(v.max() - v.min()) + cell
        if length < min_length or height < cell:
            continue  # a single edge (a book's border) is long along the bars, thin across
        um, vm = float(u.max() + u.min()) / 2, float(v.max() + v.min()) / 2
        center = (um * c - vm * s, um * s + vm * c)
        angle = (math.degrees(theta) + 90.0) % 180.0 - 90.0
        region = Stripes(angle, center, length, height, agree, int(sel.sum()))
        found.append((region.cells * agree, region))
    found.sort(key=lambda item: -item[0])
    return [r for _, r in found[:limit]]


def straighten(gray: MatLike, region: Stripes, *, margin: float = 0.12, pad: float = 24.0,
               smooth: int = 5) -> tuple[MatLike, NDArray[np.float64]]:
    """`region` of `gray` cut out with the bars vertical, plus the 2x3 map of its pixels back.

    The cut is `margin` of the length plus `pad` pixels longer at each end (the decoders need
    the quiet zone) and slightly taller; `smooth` pixels are averaged along the bars (noise
    goes, edges stay: a dim, noisy picture reads again).
    """
    import cv2
    import numpy as np

    c, s = math.cos(math.radians(region.angle)), math.sin(math.radians(region.angle))
    length = region.length * (1 + 2 * margin) + 2 * pad
    height = region.height + 8
    # The output's (0, 0) sits at the region's "top-left" in the rotated frame.
    x0 = region.center[0] - c * length / 2 + s * height / 2
    y0 = region.center[1] - s * length / 2 - c * height / 2
    m = np.array([[c, -s, x0], [s, c, y0]], dtype=np.float64)
    # Cubic: linear interpolation softens 2-pixel bars enough to lose blurred codes.
    out = cv2.warpAffine(gray, m, (max(1, int(length)), max(1, int(height))),
                         flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                         borderMode=cv2.BORDER_REPLICATE)
    if smooth > 1:
        out = cv2.blur(out, (1, smooth))
    return out, m


def sharpen_across(straight: MatLike, sigma: float = 1.0, amount: float = 1.0) -> MatLike:
    """An unsharp mask across the bars only (a `straighten` result): steeper blurred edges."""
    import cv2

    soft = cv2.GaussianBlur(straight, (0, 0), sigmaX=sigma, sigmaY=0.1)
    return cv2.addWeighted(straight, 1 + amount, soft, -amount, 0)


@dataclass(frozen=True)
class BarMeasure:
    """What a straightened region's rows say about its bars."""

    element_px: float  # mean width of a bar or space, pixels (a module is about 0.6 of it)
    edge_slope: float  # steepest edges relative to the contrast: 0.4-0.9 sharp, <0.3 blurred
    contrast: float  # 5th-95th percentile spread of the profile, grey levels
    uniformity: float = 0.0  # share of the variance explained by columns: bars run the height
    edges: int = 0  # crossings of the profile's middle level

    @property
    def barcode_like(self) -> bool:
        """Long, continuous bars in numbers: a 1-D code rather than a line of text or an edge.

        Generated codes in every condition measured give a uniformity of 0.89 or more and 40+
        edges; lines of printed text mostly 0.1-0.8 (median 0.54), since letters do not run the
        height of the line.
        """
        return self.uniformity >= BARS_UNIFORM and self.edges >= BARS_MIN_EDGES


BARS_UNIFORM = 0.8
BARS_MIN_EDGES = 16  # the shortest library code, a 10-digit Code 128 card, has 48


def measure_bars(straight: MatLike) -> BarMeasure:
    """Bar continuity, element width and edge sharpness of an unsmoothed `straighten` result."""
    import numpy as np

    h = straight.shape[0]
    band = straight[h // 4: max(h // 4 + 1, 3 * h // 4)].astype(np.float32)
    profile = band.mean(axis=0)
    if profile.size < 8:
        return BarMeasure(0.0, 0.0, 0.0)
    lo, hi = np.percentile(profile, (5, 95))
    contrast = float(hi - lo)
    total = float(band.var())
    if contrast < 1e-3 or total < 1e-6:
        return BarMeasure(0.0, 0.0, 0.0)
    uniformity = 1.0 - float(((band - profile) ** 2).mean()) / total
    # Edges: the profile crosses its middle level; bars and spaces lie between crossings.
    above = profile > (lo + hi) / 2
    crossings = np.flatnonzero(above[1:] != above[:-1])
    if crossings.size < 3:
        return BarMeasure(0.0, 0.0, contrast, uniformity, int(crossings.size))
    element = float(crossings[-1] - crossings[0]) / (crossings.size - 1)
    # The steepest part of each edge, relative to the contrast (median over edges).
    d = np.abs(np.diff(profile))
    slopes = [d[max(0, i - 2): i + 3].max() for i in crossings]
    return BarMeasure(element, float(np.median(slopes)) / contrast, contrast, uniformity,
                      int(crossings.size))


@dataclass(frozen=True)
class Candidate:
    """A barcode-like region cut out upright, ready for the decoders."""

    region: Stripes
    image: MatLike  # uint8, bars vertical, unsmoothed
    matrix: NDArray[np.float64]  # 2x3: the cut's pixel coordinates -> the analysed image's
    bars: BarMeasure


def candidates(gray: MatLike, *, limit: int = 2, examine: int = 4, whole: MatLike | None = None,

               offset: tuple[int, int] = (0, 0)) -> list[Candidate]:
    """The `limit` most barcode-like regions of `gray`, cut out upright and measured.

    `examine` regions are cut out (about 0.2 ms each) so that a code on a book cover is not
    crowded out by the cover's lines of text: the cut's bar continuity ranks them. When `gray`
    is a part of a bigger picture `whole` at `offset`, the cuts (and the regions and maps
    returned) are in `whole`'s coordinates: a code at the edge of the part keeps its quiet zone.
    """
    out = []
    for found in find_stripes(gray, limit=examine):
        region = replace(found, center=(found.center[0] + offset[0],
                                        found.center[1] + offset[1]))
        image, m = straighten(gray if whole is None else whole, region, smooth=1)
        out.append(Candidate(region, image, m, measure_bars(image)))
    out.sort(key=lambda c: (not c.bars.barcode_like,
                            -c.region.cells * c.region.coherence * max(c.bars.uniformity, 0.0)))
    return out[:limit]
