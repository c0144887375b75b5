"""The camera preview with a guide frame; a placeholder picture when there is no camera.

Frames come from a camera thread: the thread must hand them over with `FrameBridge.post` (one
`Clock.schedule_once` hop), never touch the texture itself — Kivy's GL context belongs to the UI
thread.
"""

from __future__ import annotations

from kivy.clock import Clock
from kivy.graphics import Color, Line, Rectangle
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.widget import Widget


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
    """Shows frames (or the placeholder) with a guide frame where to hold the code."""

    has_camera = BooleanProperty(False)
    hint = StringProperty("")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._texture = placeholder_texture()
        with self.canvas:
            Color(1, 1, 1, 1)
            self._image = Rectangle(texture=self._texture)
            Color(1, 0.86, 0.2, 1)
            self._corners = [Line(width=5) for _ in range(4)]
        self.bind(pos=self._layout, size=self._layout)

    def _layout(self, *_args) -> None:
        self._image.pos, self._image.size = self.pos, self.size
        w, h = self.width * 0.7, self.height * 0.42
        x, y = self.center_x - w / 2, self.center_y - h / 2
        c = min(w, h) * 0.25
        # Four corner brackets: children understand "put the code inside the corners".
        corners = ((x, y, 1, 1), (x + w, y, -1, 1), (x, y + h, 1, -1), (x + w, y + h, -1, -1))
        for line, (cx, cy, dx, dy) in zip(self._corners, corners):
            line.points = [cx + dx * c, cy, cx, cy, cx, cy + dy * c]

    def show_frame(self, data: bytes, width: int, height: int) -> None:
        """Draw one RGB frame (UI thread only)."""
        if self._texture.size != (width, height):
            self._texture = Texture.create(size=(width, height), colorfmt="rgb")
            self._texture.flip_vertical()
            self._image.texture = self._texture
        self._texture.blit_buffer(data, colorfmt="rgb", bufferfmt="ubyte")
        self.has_camera = True
        self.canvas.ask_update()


class FrameBridge:
    """The one hop from a camera thread to the UI thread."""

    def __init__(self, preview: CameraPreview):
        self.preview = preview

    def post(self, data: bytes, width: int, height: int) -> None:
        """Called from any thread."""
        Clock.schedule_once(lambda _dt: self.preview.show_frame(data, width, height))


class PreviewFeed:
    """The camera thread's ``on_preview`` callback: scales the annotated BGR frame down and turns
    it into RGB bytes on the camera thread, then one `Clock.schedule_once` hop draws it into the
    preview of the shown screen. At most one frame is in flight; later ones are dropped, so a
    busy UI never builds a backlog."""

    def __init__(self, target, max_width: int = 640):  # noqa: ANN001 - () -> CameraPreview | None
        self.target = target
        self.max_width = max_width
        self.shown = 0
        self.dropped = 0
        self._pending = False

    def __call__(self, frame, _result=None) -> None:  # noqa: ANN001 - numpy BGR frame
        """Called on the camera thread."""
        import cv2

        if self._pending:
            self.dropped += 1
            return
        h, w = frame.shape[:2]
        if w > self.max_width:
            h, w = int(h * self.max_width / w), self.max_width
            frame = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
        data = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB).tobytes()
        self._pending = True
        Clock.schedule_once(lambda _dt: self._show(data, w, h))

    def _show(self, data: bytes, width: int, height: int) -> None:
        self._pending = False
        widget = self.target()
        if widget is not None:
            widget.show_frame(data, width, height)
            self.shown += 1

