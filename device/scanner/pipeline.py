"""Live acceptance logic: consecutive-frame confirmation, repeat suppression, quality hints.

`ConfirmFilter` is pure (no OpenCV): feed it each frame's reads with a timestamp and it returns
the codes accepted on that frame. A code is accepted after `confirm_frames` equal reads on
consecutive frames, which removes the rare wrong-but-check-digit-valid EAN-13 a decoder returns
on a single blurred frame. It is then suppressed for `repeat_suppress_s` seconds; while the
pupil keeps holding the same book in view the window keeps being extended, so a held book is
checked out once, and showing it again after putting it away works.

`assess_frame` gives "too dark" / "blurred" hints; `annotate` draws a preview picture.
`LivePipeline` glues a `FrameDecoder`, the filter and the hints for one camera.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from device.scanner.codes import Barcode


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


@dataclass(frozen=True)
class FrameHints:
    """Image-quality measures of one frame and whether they are below the thresholds."""

    luminance: float
    sharpness: float
    dark: bool
    blurred: bool

    @property
    def ok(self) -> bool:
        """True when neither hint applies."""
        return not (self.dark or self.blurred)

    @property
    def message(self) -> str:
        """A short Russian hint for the pupil, empty when the picture is fine."""
        if self.dark:
            return "Слишком темно: поднесите книгу ближе к свету"
        if self.blurred:
            return "Изображение размыто: держите книгу неподвижно, чуть дальше от камеры"
        return ""


DARK_BELOW = 40.0  # mean luminance 0..255; a lit reading room gives 90-160 on a webcam
BLUR_BELOW = 60.0  # variance of the Laplacian; a sharp EAN-13 at 20 cm gives several hundred


def assess_frame(image, roi: tuple[float, float] | None = (0.75, 0.8), *,
                 dark_below: float = DARK_BELOW, blur_below: float = BLUR_BELOW) -> FrameHints:  # noqa: ANN001
    """Mean luminance and Laplacian variance of the frame's guide region, at half resolution."""
    import cv2

    from device.scanner.decode import roi_rect, to_gray

    x, y, w, h = roi_rect(image.shape, roi)
    gray = to_gray(image[y:y + h, x:x + w])
    small = gray[::2, ::2]  # half resolution: 4x cheaper, thresholds are set for it
    lum = float(small.mean())
    sharp = float(cv2.Laplacian(small, cv2.CV_64F).var())
    return FrameHints(lum, sharp, lum < dark_below, sharp < blur_below)


def annotate(image, codes: Iterable[Barcode] = (), roi: tuple[float, float] | None = None,
             hints: FrameHints | None = None):  # noqa: ANN001, ANN201
    """A new BGR image with the guide box, each code's outline and value, and the hint text."""
    import cv2
    import numpy as np

    from device.scanner.decode import roi_rect

    out = image.copy() if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if roi is not None:
        x, y, w, h = roi_rect(out.shape, roi)
        cv2.rectangle(out, (x, y), (x + w, y + h), (255, 200, 0), 2)
    for code in codes:
        if not code.points:
            continue
        pts = np.array(code.points, dtype=np.int32).reshape(-1, 1, 2)
        if len(code.points) > 2:
            pts = cv2.convexHull(pts)
        cv2.polylines(out, [pts], True, (0, 220, 0), 3)
        bx, by, _, _ = code.box
        cv2.putText(out, code.value[:32], (bx, max(15, by - 8)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.7, (0, 220, 0), 2)
    if hints is not None and not hints.ok:
        # Hershey fonts have no Cyrillic: the UI shows hints.message; mark the frame only.
        label = "DARK" if hints.dark else "BLUR"
        cv2.putText(out, label, (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 255), 2)
    return out


@dataclass
class FrameResult:
    """What the live pipeline made of one frame."""

    frame_index: int
    t: float
    reads: list[Barcode] = field(default_factory=list)
    accepted: list[Barcode] = field(default_factory=list)
    hints: FrameHints | None = None


class LivePipeline:
    """FrameDecoder + ConfirmFilter (+ hints every few frames) for one video source."""

    def __init__(self, decoder=None, confirm_frames: int = 2, repeat_suppress_s: float = 3.0,  # noqa: ANN001
                 *, hints_every: int = 5, source: str = ""):
        from device.scanner.decode import FrameDecoder

        self.decoder = decoder if decoder is not None else FrameDecoder()
        self.filter = ConfirmFilter(confirm_frames, repeat_suppress_s)
        self.hints_every = hints_every
        self.source = source
        self._last_hints: FrameHints | None = None

    def process(self, frame, frame_index: int, t: float) -> FrameResult:  # noqa: ANN001
        """Decode one frame and return its reads, newly accepted codes and quality hints."""
        reads = self.decoder.decode(frame, frame_index=frame_index, source=self.source)
        accepted = self.filter.feed(reads, t)
        if self.hints_every and frame_index % self.hints_every == 0:
            self._last_hints = assess_frame(frame, self.decoder.roi)
        return FrameResult(frame_index, t, reads, accepted, self._last_hints)
