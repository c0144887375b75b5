"""The camera preview: the picture mirrored at its own aspect, guide corners over the decoder's
region, the pipeline's hint code, a green flash when a code is accepted; a placeholder picture
when there is no camera.

Frames come from a camera thread: the thread must hand them over with `PreviewFeed` (or
`FrameBridge.post`): one `Clock.schedule_once` hop, never touching the texture itself — Kivy's
GL context belongs to the UI thread. The geometry (aspect, crop, mirror, where the region of
interest lands) is `kiosk.camera_geometry`, pure Python and unit-tested.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kivy.clock import Clock
from kivy.graphics import Color, Line, Rectangle
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.camera_geometry import DEFAULT_ROI, PLACEHOLDER_FRAME, PreviewView, preview_view

GUIDE = (1, 0.86, 0.2, 1)  # yellow corners: "put the code inside"
ACCEPTED = (0.25, 0.85, 0.45, 1)  # green: read and accepted
BACKDROP = (0.08, 0.09, 0.11, 1)  # the strips the picture does not cover
FLASH_S = 0.5


def placeholder_texture(width: int = 64, height: int = 48) -> Texture:
    """A soft grey-blue gradient shown when no camera is attached."""
    rows = []
    for y in range(height):
        v = 40 + int(30 * y / height)
        rows.append(bytes([v, v + 6, v + 18]) * width)
    texture = Texture.create(size=(width, height), colorfmt="rgb")
    texture.blit_buffer(b"".join(rows), colorfmt="rgb", bufferfmt="ubyte")
    return texture


class CameraPreview(Widget):
    """Shows frames (or the placeholder) with guide corners exactly over the decoder's region.

    `hint` receives the pipeline's hint code ("closer", "steadier", "dark", "blurred" or "");
    the screen that shows the preview turns it into words. `roi` is the decoder's region of
    interest (fractions of the frame), `frame_size` the picture's size (16:9 until a frame
    arrives), `mirror` the selfie view.
    """

    has_camera = BooleanProperty(False)
    hint = StringProperty("")
    roi = ObjectProperty(DEFAULT_ROI, allownone=True)
    frame_size = ObjectProperty(PLACEHOLDER_FRAME)
    mirror = BooleanProperty(True)

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._texture = placeholder_texture()
        self._flash_points: list[tuple[float, float]] = []
        self._unflash: Any = None
        with self.canvas:
            Color(*BACKDROP)
            self._back = Rectangle()
            Color(1, 1, 1, 1)
            self._image = Rectangle(texture=self._texture)
            self._guide_color = Color(*GUIDE)
            self._corners = [Line(width=5) for _ in range(4)]
            self._flash_color = Color(*ACCEPTED[:3], 0)
            self._flash_line = Line(width=4, close=True)
        self.bind(pos=self._layout, size=self._layout, roi=self._layout,
                  frame_size=self._layout, mirror=self._layout)
        self._layout()

    def view(self) -> PreviewView:
        """The current frame-to-widget mapping."""
        return preview_view(tuple(self.frame_size), (self.x, self.y, self.width, self.height),
                            self.roi, mirror=self.mirror)

    def _layout(self, *_args: Any) -> None:
        view = self.view()
        self._back.pos, self._back.size = self.pos, self.size
        x, y, w, h = view.image_rect()
        self._image.pos, self._image.size = (x, y), (w, h)
        if self.has_camera:
            self._image.tex_coords = view.tex_coords()
        gx, gy, gw, gh = view.roi_rect(self.roi)
        c = min(gw, gh) * 0.25
        # Four corner brackets: children understand "put the code inside the corners".
        corners = ((gx, gy, 1, 1), (gx + gw, gy, -1, 1), (gx, gy + gh, 1, -1),
                   (gx + gw, gy + gh, -1, -1))
        for line, (cx, cy, dx, dy) in zip(self._corners, corners):
            line.points = [cx + dx * c, cy, cx, cy, cx, cy + dy * c]
        self._flash_line.points = view.points_to_widget(self._flash_points)

    def show_frame(self, data: bytes, width: int, height: int) -> None:
        """Draw one RGB frame, top row first (UI thread only)."""
        if not self.has_camera or self._texture.size != (width, height):
            self._texture = Texture.create(size=(width, height), colorfmt="rgb")
            self._image.texture = self._texture  # resets tex_coords: _layout sets them again
            self.has_camera = True
        self._texture.blit_buffer(data, colorfmt="rgb", bufferfmt="ubyte")
        if tuple(self.frame_size) != (width, height):
            self.frame_size = (width, height)  # lays out
        else:
            self._image.tex_coords = self.view().tex_coords()
        self.canvas.ask_update()

    def flash(self, points: Sequence[tuple[float, float]] = ()) -> None:
        """A code was accepted: corners and the code's outline (frame pixels) green for a moment."""
        self._flash_points = list(points)
        self._guide_color.rgba = ACCEPTED
        self._flash_color.a = 1 if len(self._flash_points) > 2 else 0
        self._layout()
        if self._unflash is not None:
            self._unflash.cancel()
        self._unflash = Clock.schedule_once(self._end_flash, FLASH_S)

    def _end_flash(self, _dt: float = 0) -> None:
        self._unflash = None
        self._flash_points = []
        self._guide_color.rgba = GUIDE
        self._flash_color.a = 0
        self._flash_line.points = []

    @property
    def flashing(self) -> bool:
        """True while the accepted-code flash shows."""
        return self._unflash is not None


class FrameBridge:
    """The one hop from a camera thread to the UI thread (frames only)."""

    def __init__(self, preview: CameraPreview):
        self.preview = preview

    def post(self, data: bytes, width: int, height: int) -> None:
        """Called from any thread."""
        Clock.schedule_once(lambda _dt: self.preview.show_frame(data, width, height))


class PreviewFeed:
    """The camera thread's ``on_preview(frame, result)`` callback.

    On the camera thread: the raw BGR frame (``raw_frames``: `CameraSource` then skips its own
    annotations, which would come out mirrored) is scaled down and turned into RGB bytes; the
    result's hint code, region of interest and accepted codes are kept. Then one
    `Clock.schedule_once` hop hands the latest of all that to the preview of the shown screen.
    At most one hop is in flight; frames arriving meanwhile are dropped (counted), their hint and
    accepted codes still reach the preview with the hop already under way.
    """

    raw_frames = True

    def __init__(self, target: Callable[[], CameraPreview | None], max_width: int = 640):
        self.target = target
        self.max_width = max_width
        self.shown = 0
        self.dropped = 0
        self._pending = False
        self._hint = ""
        self._roi: tuple[float, float] | None = DEFAULT_ROI
        self._flashes: list[list[tuple[float, float]]] = []

    def __call__(self, frame: Any, result: Any = None) -> None:  # numpy BGR, FrameResult
        """Called on the camera thread."""
        import cv2

        h, w = frame.shape[:2]
        scale = min(1.0, self.max_width / w) if w else 1.0
        if result is not None:
            self._hint = result.hint
            self._roi = result.roi
            for code in result.accepted:
                self._flashes.append([(x * scale, y * scale) for x, y in code.points])
        if self._pending:
            self.dropped += 1
            return
        if scale < 1.0:
            h, w = int(h * scale), self.max_width
            frame = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
        data = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB).tobytes()
        self._pending = True
        Clock.schedule_once(lambda _dt: self._show(data, w, h))

    def _show(self, data: bytes, width: int, height: int) -> None:
        self._pending = False
        flashes, self._flashes = self._flashes, []
        widget = self.target()
        if widget is None:
            return
        widget.roi = self._roi
        widget.show_frame(data, width, height)
        widget.hint = self._hint
        for points in flashes:
            widget.flash(points)
        self.shown += 1
