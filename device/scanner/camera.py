"""`CameraSource`: a capture thread on `cv2.VideoCapture` (device index, video file or URL).

The thread reads frames, runs the `LivePipeline` and calls the code callback with each accepted
code on the capture thread; optionally also a preview callback ``on_preview(frame, result)``
with the `FrameResult` (reads, accepted codes, the hint code, the decoder's region of interest)
every `preview_every` frames and on every frame that accepted a code. The frame is annotated
(`pipeline.annotate`) unless the callback has a true ``raw_frames`` attribute: the kiosk draws
its own guide and outlines over a mirrored picture, and drawn text would come out mirrored. The
Kivy app bridges those calls to its own thread. The thread is a daemon and `stop()` joins it.
`scan_video_file` runs the same pipeline synchronously over a file (``ibc scan-video``, tests).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from device.scanner.base import CodeCallback
from device.scanner.codes import Barcode, Format
from device.scanner.errors import CameraUnavailable
from device.scanner.pipeline import FrameResult, LivePipeline, annotate

if TYPE_CHECKING:  # OpenCV loads when a camera opens
    import cv2

log = logging.getLogger(__name__)

PreviewCallback = Callable[[object, FrameResult], None]
# A webcam that returns no frame for this many reads in a row is treated as unplugged.
MAX_READ_FAILURES = 25


def parse_camera(camera: str | int) -> tuple[str | int, bool]:
    """``(argument for VideoCapture, is_file)``: "0" means device 0, else a path or a URL."""
    if isinstance(camera, int):
        return camera, False
    text = str(camera).strip()
    if not text:
        raise CameraUnavailable("—", "камера отключена в настройках")
    if text.isdigit():
        return int(text), False
    if "://" in text or text.startswith("/dev/"):
        return text, False
    if not os.path.isfile(text):
        raise CameraUnavailable(text, "файл не найден")
    return text, True


def open_capture(camera: str | int, width: int = 1280,
                 height: int = 720) -> tuple[cv2.VideoCapture, bool]:
    """An opened `cv2.VideoCapture` and whether it is a file; CameraUnavailable otherwise."""
    import cv2

    target, is_file = parse_camera(camera)
    try:
        cap = cv2.VideoCapture(target)
    except cv2.error as exc:
        raise CameraUnavailable(str(camera), "OpenCV не открыл источник") from exc
    if not cap.isOpened():
        cap.release()
        reason = "не удалось открыть видеофайл" if is_file else "устройство не отвечает или занято"
        raise CameraUnavailable(str(camera), reason)
    if not is_file:
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
    return cap, is_file


class CameraSource:
    """A webcam (or video file/URL) as a `BarcodeSource`, decoding on its own daemon thread."""

    def __init__(self, camera: str | int = "0", *, confirm_frames: int = 2,
                 repeat_suppress_s: float = 3.0, formats: Iterable[str | Format] | None = None,
                 decoders: Iterable[str] | None = None, roi: tuple[float, float] | None = (0.75, 0.8),
                 on_preview: PreviewCallback | None = None, preview_every: int = 2,
                 realtime: bool = False, name: str | None = None):
        self.camera = camera
        self.name = name or f"camera:{camera}"
        self.confirm_frames = confirm_frames
        self.repeat_suppress_s = repeat_suppress_s
        self.formats = formats
        self.decoders = decoders
        self.roi = roi
        self.on_preview = on_preview
        self.preview_every = max(1, preview_every)
        self.realtime = realtime  # pace a video file at its frame rate (demos)
        self.frames_read = 0
        self.finished = threading.Event()
        self._last_error: Exception | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cap: cv2.VideoCapture | None = None

    @property
    def available(self) -> bool:
        """True while the capture thread is running without error."""
        return self._thread is not None and self._thread.is_alive() and self._last_error is None

    @property
    def last_error(self) -> Exception | None:
        """The last `CameraUnavailable` (or callback failure), or None."""
        return self._last_error

    def start(self, callback: CodeCallback) -> None:
        """Open the camera (raises CameraUnavailable) and start the capture thread."""
        from device.scanner.decode import FrameDecoder

        if self._thread is not None:
            raise RuntimeError("camera source already started")
        try:
            cap, is_file = open_capture(self.camera)
        except CameraUnavailable as exc:
            self._last_error = exc
            raise
        decoder = FrameDecoder(self.formats, self.decoders, roi=self.roi)
        pipeline = LivePipeline(decoder, self.confirm_frames, self.repeat_suppress_s,
                                source=self.name)
        self._cap = cap
        self._last_error = None
        self._stop.clear()
        self.finished.clear()
        self._thread = threading.Thread(target=self._run, args=(cap, is_file, pipeline, callback),
                                        name=f"scanner-{self.name}", daemon=True)
        self._thread.start()

    def _run(self, cap: cv2.VideoCapture, is_file: bool, pipeline: LivePipeline,
             callback: CodeCallback) -> None:
        import cv2

        fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        t0 = time.monotonic()
        failures = 0
        index = 0
        try:
            while not self._stop.is_set():
                ok, frame = cap.read()
                if not ok or frame is None:
                    if is_file:
                        break  # end of the video
                    failures += 1
                    if failures >= MAX_READ_FAILURES:
                        self._last_error = CameraUnavailable(str(self.camera),
                                                             "камера перестала передавать кадры")
                        break
                    time.sleep(0.02)
                    continue
                failures = 0
                # Files use video time so that confirmation and suppression match the recording.
                t = index / fps if is_file else time.monotonic() - t0
                if is_file and self.realtime:
                    delay = t0 + t - time.monotonic()
                    if delay > 0 and self._stop.wait(delay):
                        break
                result = pipeline.process(frame, index, t)
                self.frames_read = index + 1
                for code in result.accepted:
                    self._deliver(callback, code)
                preview_fn = self.on_preview
                if preview_fn is not None and (index % self.preview_every == 0
                                               or result.accepted):
                    if not getattr(preview_fn, "raw_frames", False):
                        frame = annotate(frame, result.reads, self.roi, result.hints,
                                         result.seen)
                    self._deliver(preview_fn, frame, result)
                index += 1
        finally:
            cap.release()
            self.finished.set()

    def _deliver(self, fn: Callable[..., object], *args: object) -> None:

        try:
            fn(*args)
        except Exception as exc:  # a UI bug must not kill the camera thread
            log.exception("scanner callback failed")
            self._last_error = exc

    def stop(self) -> None:
        """Stop the capture thread, join it and release the camera. Safe to call twice."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self._thread = None


def iter_video(path: str, confirm_frames: int = 2, repeat_suppress_s: float = 3.0,
               formats: Iterable[str | Format] | None = None,
               roi: tuple[float, float] | None = (0.75, 0.8)) -> Iterator[FrameResult]:
    """Run the live pipeline synchronously over every frame of a video file (video time)."""
    import cv2

    from device.scanner.decode import FrameDecoder

    cap, _ = open_capture(path)
    try:
        fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        pipeline = LivePipeline(FrameDecoder(formats, roi=roi), confirm_frames, repeat_suppress_s,
                                source=str(path))
        index = 0
        while True:
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            yield pipeline.process(frame, index, index / fps)
            index += 1
    finally:
        cap.release()


def scan_video_file(path: str, confirm_frames: int = 2, repeat_suppress_s: float = 3.0,
                    formats: Iterable[str | Format] | None = None) -> list[tuple[Barcode, float]]:
    """Accepted codes of a video file with their video time in seconds (frame in the barcode)."""
    out: list[tuple[Barcode, float]] = []
    for result in iter_video(path, confirm_frames, repeat_suppress_s, formats):
        out.extend((code, result.t) for code in result.accepted)
    return out
