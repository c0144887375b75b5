"""Live acceptance logic: consecutive-frame confirmation, repeat suppression, quality hints.

`ConfirmFilter` is pure (no OpenCV): feed it each frame's reads with a timestamp and it returns
the codes accepted on that frame. A code is accepted after `confirm_frames` equal reads on
consecutive frames, which removes the rare wrong-but-check-digit-valid EAN-13 a decoder returns
on a single blurred frame. It is then suppressed for `repeat_suppress_s` seconds; while the
pupil keeps holding the same book in view the window keeps being extended, so a held book is
checked out once, and showing it again after putting it away works.

Hints are stable codes (`HINT_CODES`), never UI text: the kiosk translates them.
`assess_frame` measures the guide region every few frames: "dark" (mean luminance) and
"blurred" (Laplacian variance). The decoder's stripes step reports a barcode-like region it
could not read (`Seen`); seen unread on `hint_after` frames (six: a quarter of a second), it
becomes "closer" when the bars are too short or thin for the decoders (the region under 200
pixels long, or bars and spaces under 2.6 pixels on average) and "steadier" when their edges
are soft (blur or motion). While codes are being read no hint is shown (`FrameResult.hint`).
Measured on generated codes (tests/device/test_scanner_angles.py): 1.2-pixel modules give
"closer", sigma-1.5 blur or 4 pixels of motion on 2-pixel modules "steadier"; empty frames,
lines of printed text and QR codes give none.

`annotate` draws a preview picture; `LivePipeline` glues a `FrameDecoder`, the filter and the
hints for one camera, and `FrameResult` carries the reads, the accepted codes, the hint code,
the unread region and the decoder's region of interest to the preview.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from device.scanner.codes import Barcode

if TYPE_CHECKING:
    from cv2.typing import MatLike

    from device.scanner.decode import FrameDecoder, Seen


class ConfirmFilter:
    """Accepts a code after N equal reads on consecutive frames, then suppresses repeats."""

    def __init__(self, confirm_frames: int = 2, repeat_suppress_s: float = 3.0, *,
                 extend_while_visible: bool = True, max_frame_gap_s: float = 0.5):
        if confirm_frames < 1:
            raise ValueError("confirm_frames must be >= 1")
        self.confirm_frames = confirm_frames
        self.repeat_suppress_s = repeat_suppress_s
        self.extend_while_visible = extend_while_visible
        # Frames further apart than this (a stalled camera) are not "consecutive".
        self.max_frame_gap_s = max_frame_gap_s
        self._last_t: float | None = None
        self._streak: dict[tuple[str, str], int] = {}
        self._quiet_until: dict[tuple[str, str], float] = {}

    def reset(self) -> None:
        """Forget streaks and suppression (e.g. when a new pupil starts a session)."""
        self._streak.clear()
        self._quiet_until.clear()
        self._last_t = None

    def feed(self, codes: Iterable[Barcode], t: float) -> list[Barcode]:
        """Codes accepted on this frame (taken at monotonic time `t` seconds)."""
        current: dict[tuple[str, str], Barcode] = {}
        for code in codes:
            current.setdefault(code.key, code)
        if self._last_t is not None and t - self._last_t > self.max_frame_gap_s:
            self._streak.clear()
        self._last_t = t
        # A frame without the code breaks its streak: confirmation needs consecutive frames.
        self._streak = {k: self._streak.get(k, 0) + 1 for k in current}
        self._quiet_until = {k: u for k, u in self._quiet_until.items() if u > t}
        accepted: list[Barcode] = []
        for key, code in current.items():
            if key in self._quiet_until:
                if self.extend_while_visible:
                    self._quiet_until[key] = t + self.repeat_suppress_s
                continue
            if self._streak[key] >= self.confirm_frames:
                accepted.append(code)
                self._quiet_until[key] = t + self.repeat_suppress_s
        return accepted


# Hint codes, most urgent first. device/ carries no UI text: the kiosk translates the code.
HINT_CODES = ("dark", "closer", "steadier", "blurred")


@dataclass(frozen=True)
class FrameHints:
    """Image-quality measures of one frame and which hints apply.

    `dark` and `blurred` come from the whole guide region (`assess_frame`); `closer` and
    `steadier` from a barcode-like region that stayed unread for a few frames (`LivePipeline`).
    """

    luminance: float
    sharpness: float
    dark: bool
    blurred: bool
    closer: bool = False  # bars seen but too thin for the decoders: hold the code closer
    steadier: bool = False  # bars seen, big enough, but their edges are soft: hold it still

    @property
    def ok(self) -> bool:
        """True when no hint applies."""
        return not self.code

    @property
    def code(self) -> str:
        """The most urgent hint code (one of `HINT_CODES`), empty when the picture is fine."""
        return next((c for c in HINT_CODES if getattr(self, c)), "")


DARK_BELOW = 40.0  # mean luminance 0..255; a lit reading room gives 90-160 on a webcam
BLUR_BELOW = 60.0  # variance of the Laplacian; a sharp EAN-13 at 20 cm gives several hundred
# "Seen but not read": bars this short (pixels, the code with part of its quiet zone) or bars
# and spaces this narrow (mean width, pixels) are too small: a 95-module EAN-13 at 200 pixels
# has 2-pixel modules, and generated codes stop reading below ~1.5-pixel modules (about 2.6-pixel
# elements). Edges less steep than this fraction of the contrast per pixel are blurred (sharp
# bars give 0.4-0.9, sigma 1.5 blur or 4 pixels of motion 0.2-0.27; docs/BENCHMARKS.md).
CLOSER_BELOW_PX = 200.0
CLOSER_ELEMENT_PX = 2.6
SOFT_EDGES_BELOW = 0.3


def seen_reason(seen: Seen | None) -> str:
    """Why a seen barcode-like region was not read: "closer", "steadier" or ""."""
    if seen is None:
        return ""
    element = seen.bars.element_px
    if seen.stripes.length < CLOSER_BELOW_PX or 0 < element < CLOSER_ELEMENT_PX:
        return "closer"
    if seen.bars.edge_slope < SOFT_EDGES_BELOW:
        return "steadier"
    return ""


def assess_frame(image: MatLike, roi: tuple[float, float] | None = (0.75, 0.8), *,
                 dark_below: float = DARK_BELOW, blur_below: float = BLUR_BELOW) -> FrameHints:
    """Mean luminance and Laplacian variance of the frame's guide region, at half resolution."""
    import cv2

    from device.scanner.decode import roi_rect, to_gray

    x, y, w, h = roi_rect(image.shape, roi)
    gray = to_gray(image[y:y + h, x:x + w])
    small = gray[::2, ::2]  # half resolution: 4x cheaper, thresholds are set for it
    lum = float(small.mean())
    sharp = float(cv2.Laplacian(small, cv2.CV_64F).var())
    return FrameHints(lum, sharp, lum < dark_below, sharp < blur_below)


def annotate(image: MatLike, codes: Iterable[Barcode] = (), roi: tuple[float, float] | None = None,
             hints: FrameHints | None = None, seen: Seen | None = None) -> MatLike:
    """A new BGR image with the guide box, each code's outline and value, the unread
    barcode-like region (`seen`, a `device.scanner.decode.Seen`) and the hint code."""
    import cv2
    import numpy as np

    from device.scanner.decode import roi_rect

    out = image.copy() if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if roi is not None:
        x, y, w, h = roi_rect(out.shape, roi)
        cv2.rectangle(out, (x, y), (x + w, y + h), (255, 200, 0), 2)
    if seen is not None:
        quad = np.array(seen.stripes.corners(), dtype=np.int32).reshape(-1, 1, 2)
        cv2.polylines(out, [quad], True, (0, 200, 255), 2)
    for code in codes:
        if not code.points:
            continue
        pts = np.array(code.points, dtype=np.int32).reshape(-1, 1, 2)
        outline = cv2.convexHull(pts) if len(code.points) > 2 else pts
        cv2.polylines(out, [outline], True, (0, 220, 0), 3)
        bx, by = min(p[0] for p in code.points), min(p[1] for p in code.points)
        cv2.putText(out, code.value[:32], (bx, max(15, by - 8)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.7, (0, 220, 0), 2)
    if hints is not None and hints.code:
        # Hershey fonts have no Cyrillic, and device/ carries no UI text: the code only.
        cv2.putText(out, hints.code.upper(), (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 1.0,
                    (0, 0, 255), 2)
    return out


@dataclass
class FrameResult:
    """What the live pipeline made of one frame."""

    frame_index: int
    t: float
    reads: list[Barcode] = field(default_factory=list)
    accepted: list[Barcode] = field(default_factory=list)
    hints: FrameHints | None = None
    # The hint to show now (one of HINT_CODES, "" for none): `hints.code`, but nothing while
    # codes are being read.
    hint: str = ""
    seen: Seen | None = None  # a barcode-like region not read on this frame
    roi: tuple[float, float] | None = None  # where the decoder looks, fractions of the frame


class LivePipeline:
    """FrameDecoder + ConfirmFilter + hints for one video source.

    The picture hints (dark, blurred) are measured every `hints_every` frames; a barcode-like
    region seen but not read on `hint_after` frames (a frame without it counts one back) gives
    "closer" or "steadier", until a code is read or the region has been gone for two frames.
    """

    def __init__(self, decoder: FrameDecoder | None = None, confirm_frames: int = 2,
                 repeat_suppress_s: float = 3.0, *, hints_every: int = 5, hint_after: int = 6,
                 source: str = ""):
        from device.scanner.decode import FrameDecoder

        self.decoder = decoder if decoder is not None else FrameDecoder()
        self.filter = ConfirmFilter(confirm_frames, repeat_suppress_s)
        self.hints_every = hints_every
        self.hint_after = max(1, hint_after)
        self.source = source
        self._last_hints: FrameHints | None = None
        self._unread = 0  # frames with a barcode-like region and no read, recently
        self._gone = 0  # frames since a barcode-like region was last seen
        self._reason = ""

    def process(self, frame: MatLike, frame_index: int, t: float) -> FrameResult:

        """Decode one frame and return its reads, newly accepted codes and quality hints."""
        scan = getattr(self.decoder, "scan", None)
        if scan is not None:
            found = scan(frame, frame_index=frame_index, source=self.source)
            reads, seen = found.codes, found.seen
        else:  # any object with decode() (tests, other decoders): no "seen" regions
            reads, seen = self.decoder.decode(frame, frame_index=frame_index,
                                              source=self.source), None
        accepted = self.filter.feed(reads, t)
        if self.hints_every and frame_index % self.hints_every == 0:
            self._last_hints = assess_frame(frame, self.decoder.roi)
        self._track(bool(reads), seen)
        hints = self._last_hints
        if self._reason:
            base = hints if hints is not None else FrameHints(0.0, 0.0, False, False)
            hints = replace(base, closer=self._reason == "closer",
                            steadier=self._reason == "steadier")
        hint = "" if reads or hints is None else hints.code
        return FrameResult(frame_index, t, reads, accepted, hints, hint, seen,
                           getattr(self.decoder, "roi", None))

    def _track(self, read: bool, seen: Seen | None) -> None:
        if read:
            self._unread, self._gone, self._reason = 0, 0, ""
            return
        if seen is None:
            self._gone += 1
            self._unread = max(0, self._unread - 1)
            if self._gone > 2:
                self._reason = ""
            return
        self._gone = 0
        self._unread = min(self._unread + 1, 2 * self.hint_after)
        if self._unread >= self.hint_after:
            self._reason = seen_reason(seen)
