"""Where the camera picture and the decoder's region land in the preview widget (pure Python).

The preview shows the frame at its own aspect ratio, mirrored like a selfie camera (a pupil
moves the book the way the picture moves; the decoder still reads the unmirrored frame), and
fills the widget (cover-crop) as long as the decoder's region of interest stays whole on
screen. When the widget's shape would crop into that region (the kiosk's tall, narrow preview
column and a 16:9 webcam), the picture is shown smaller, the region with a small margin
filling the widget, and the strips the frame does not cover stay background: the guide corners
must show where the decoder looks, and that is the part of the picture that matters.

Coordinates: frame pixels have y down (row 0 on top); the widget's have y up (Kivy).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_ROI = (0.75, 0.8)  # device.scanner.decode.FrameDecoder's default region
PLACEHOLDER_FRAME = (1280, 720)  # no camera yet: a 16:9 webcam is assumed


def roi_box(frame_size: tuple[int, int],
            roi: tuple[float, float] | None) -> tuple[float, float, float, float]:
    """The centred region ``(x, y, w, h)`` in frame pixels, as `device.scanner.decode.roi_rect`."""
    fw, fh = frame_size
    if roi is None:
        return 0.0, 0.0, float(fw), float(fh)
    rw, rh = max(1, int(fw * roi[0])), max(1, int(fh * roi[1]))
    return float((fw - rw) // 2), float((fh - rh) // 2), float(rw), float(rh)


@dataclass(frozen=True)
class PreviewView:
    """One frame size shown in one widget rectangle: scale, crop and mirror."""

    frame_size: tuple[int, int]
    widget: tuple[float, float, float, float]  # x, y, width, height (Kivy, y up)
    scale: float  # widget pixels per frame pixel
    mirror: bool

    def to_widget(self, px: float, py: float) -> tuple[float, float]:
        """A frame point (pixels, y down) in widget coordinates (y up)."""
        fw, fh = self.frame_size
        x, y, w, h = self.widget
        dx = (px - fw / 2) * self.scale
        return (x + w / 2 - dx if self.mirror else x + w / 2 + dx,
                y + h / 2 - (py - fh / 2) * self.scale)

    def visible(self) -> tuple[float, float, float, float]:
        """The part of the frame on screen ``(x0, y0, x1, y1)``, frame pixels."""
        fw, fh = self.frame_size
        _, _, w, h = self.widget
        hw, hh = w / 2 / self.scale, h / 2 / self.scale
        return (max(0.0, fw / 2 - hw), max(0.0, fh / 2 - hh),
                min(float(fw), fw / 2 + hw), min(float(fh), fh / 2 + hh))

    def image_rect(self) -> tuple[float, float, float, float]:
        """Where to draw the visible part of the frame ``(x, y, w, h)``, widget coordinates."""
        x0, y0, x1, y1 = self.visible()
        ax, ay = self.to_widget(x0, y1)  # bottom-left on screen unless mirrored
        bx, by = self.to_widget(x1, y0)
        return min(ax, bx), min(ay, by), abs(bx - ax), abs(by - ay)

    def tex_coords(self) -> tuple[float, ...]:
        """Texture coordinates of `image_rect` (bottom-left, bottom-right, top-right, top-left)
        for a texture blitted top row first, i.e. with the frame's row 0 at t = 0."""
        fw, fh = self.frame_size
        x0, y0, x1, y1 = self.visible()
        left, right = (x1 / fw, x0 / fw) if self.mirror else (x0 / fw, x1 / fw)
        bottom, top = y1 / fh, y0 / fh
        return (left, bottom, right, bottom, right, top, left, top)

    def rect_to_widget(self, box: tuple[float, float, float, float]
                       ) -> tuple[float, float, float, float]:
        """A frame rectangle ``(x, y, w, h)`` (pixels) as a widget rectangle ``(x, y, w, h)``."""
        bx, by, bw, bh = box
        ax, ay = self.to_widget(bx, by + bh)
        cx, cy = self.to_widget(bx + bw, by)
        return min(ax, cx), min(ay, cy), abs(cx - ax), abs(cy - ay)

    def roi_rect(self, roi: tuple[float, float] | None) -> tuple[float, float, float, float]:
        """The decoder's region of interest in widget coordinates ``(x, y, w, h)``."""
        return self.rect_to_widget(roi_box(self.frame_size, roi))

    def points_to_widget(self, points: tuple[tuple[float, float], ...] | list) -> list[float]:
        """Frame points as a flat ``[x0, y0, x1, y1, ...]`` list for a Kivy `Line`."""
        flat: list[float] = []
        for px, py in points:
            flat.extend(self.to_widget(px, py))
        return flat


def preview_view(frame_size: tuple[int, int], widget: tuple[float, float, float, float],
                 roi: tuple[float, float] | None = DEFAULT_ROI, *, mirror: bool = True,
                 margin: float = 0.03) -> PreviewView:
    """How a frame of `frame_size` fills `widget`: cover-crop, but never into `roi`.

    `margin` (a fraction of the frame's width and height) is kept around the region so the
    guide corners do not sit on the widget's edge.
    """
    fw, fh = frame_size
    _, _, w, h = widget
    if fw <= 0 or fh <= 0 or w <= 0 or h <= 0:
        return PreviewView((max(fw, 1), max(fh, 1)), widget, 1.0, mirror)
    _, _, rw, rh = roi_box(frame_size, roi)
    keep_w, keep_h = min(fw, rw + 2 * margin * fw), min(fh, rh + 2 * margin * fh)
    cover = max(w / fw, h / fh)
    scale = min(cover, w / keep_w, h / keep_h)
    return PreviewView((fw, fh), widget, scale, mirror)
