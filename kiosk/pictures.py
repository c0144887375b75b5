"""Pictures of the kiosk: book covers (the librarian's image or a generated one) and the plan
of a room with the book's shelf highlighted.

Drawn with Kivy's canvas from the theme's colours; nothing here reads files except a cover
image the catalogue port already found.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kivy.app import App
from kivy.clock import Clock
from kivy.core.image import Image as CoreImage
from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Ellipse, Line, Rectangle, RoundedRectangle
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.theme import ON_COVER, Theme, _hex, cover_colour

if TYPE_CHECKING:
    from kivy.graphics.texture import Texture


def _theme() -> Theme:
    return App.get_running_app().theme


def fit_cover(tex_w: float, tex_h: float, w: float, h: float) -> tuple[float, float, float, float]:
    """The texture region (u, v, du, dv in 0..1) that fills a w×h box without stretching."""
    if tex_w <= 0 or tex_h <= 0 or w <= 0 or h <= 0:
        return 0.0, 0.0, 1.0, 1.0
    box, tex = w / h, tex_w / tex_h
    if tex > box:  # wider picture: crop the sides
        du = box / tex
        return (1 - du) / 2, 0.0, du, 1.0
    dv = tex / box
    return 0.0, (1 - dv) / 2, 1.0, dv


_TEXTS: dict[tuple, Texture | None] = {}


def _text_texture(text: str, size: int, bold: bool, w: int, h: int, valign: str,
                  lines: int) -> Texture | None:
    """A rendered cover text, kept: the same letters and titles come back on every search."""
    key = (text, size, bold, w, h, valign, lines)
    tex = _TEXTS.get(key)
    if tex is None:
        label = CoreLabel(text=text, font_size=size, bold=bold, text_size=(w, h),
                          halign="center", valign=valign, max_lines=lines, color=_hex(ON_COVER))
        label.refresh()
        tex = label.texture
        if len(_TEXTS) > 500:  # bounded: a long day of searches must not grow memory
            _TEXTS.clear()
        _TEXTS[key] = tex
    return tex


class CoverView(Widget):
    """A cover: the image file when there is one, else the title and author on a colour picked
    from the ББК section (so every row has a picture). ``compact`` draws the first letter only."""

    title = StringProperty("")
    author = StringProperty("")
    bbk = StringProperty("")
    source = StringProperty("")
    compact = BooleanProperty(False)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._texture = None
        self._loaded = ""
        # Several properties change together when a result row is reused: draw once per frame.
        self._redraw = Clock.create_trigger(self._draw, -1)
        self.bind(pos=self._redraw, size=self._redraw, title=self._redraw, author=self._redraw,
                  bbk=self._redraw, source=self._redraw, compact=self._redraw)
        self._redraw()

    def _load(self) -> None:
        if self.source == self._loaded:
            return
        self._loaded = self.source
        self._texture = None
        if self.source:
            try:
                self._texture = CoreImage(self.source).texture
            except Exception:  # noqa: BLE001 - a broken file: the generated cover instead
                self._texture = None

    def _draw(self, *_args) -> None:
        self._load()
        self.canvas.clear()
        if self.width < 4 or self.height < 4:
            return
        radius = [max(4.0, min(self.width, self.height) * 0.06)]
        with self.canvas:
            if self._texture is not None:
                tex_w, tex_h = self._texture.size
                u, v, du, dv = fit_cover(tex_w, tex_h, self.width, self.height)
                tex = self._texture.get_region(u * self._texture.width, v * self._texture.height,
                                               du * self._texture.width, dv * self._texture.height)
                Color(1, 1, 1, 1)
                Rectangle(texture=tex, pos=self.pos, size=self.size)
                return
            Color(*cover_colour(self.bbk))
            RoundedRectangle(pos=self.pos, size=self.size, radius=radius)
            Color(*_hex(ON_COVER))
            # A spine line on the left, like the back of a book.
            Line(points=[self.x + self.width * 0.1, self.y + 4, self.x + self.width * 0.1,
                         self.top - 4], width=max(1.0, self.width * 0.015))
            if self.compact or self.width < 110:  # a thumbnail: the first letter, big
                self._text(self.title[:1].upper(), self.height * 0.5, bold=True,
                           area=(self.x + self.width * 0.1, self.y, self.width * 0.9, self.height))
                return
            pad = self.width * 0.16
            inner_w = self.width - pad - self.width * 0.06
            title_h = self.height * 0.66
            self._text(self.title, max(10.0, self.width * 0.11), bold=True,
                       area=(self.x + pad, self.y + self.height - title_h - 6, inner_w, title_h),
                       valign="top", lines=5)
            self._text(self.author, max(9.0, self.width * 0.085),
                       area=(self.x + pad, self.y + 6, inner_w, self.height * 0.26),
                       valign="bottom", lines=2)

    def _text(self, text: str, size: float, *, area: tuple[float, float, float, float],
              bold: bool = False, valign: str = "middle", lines: int = 1) -> None:
        if not text:
            return
        x, y, w, h = area
        tex = _text_texture(text, round(size), bold, round(w), round(h), valign, lines)
        if tex is None:
            return
        Rectangle(texture=tex, pos=(x + (w - tex.width) / 2, y + (h - tex.height) / 2),
                  size=tex.size)


class PlanView(Widget):
    """The plan of a room: every place as an outline, the book's place filled and named.

    ``places`` is a list of `kiosk.presenters.record.PlanPlace` (boxes in 0..1, y from the top).
    """

    places = ListProperty([])
    room = StringProperty("")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bind(pos=self._draw, size=self._draw, places=self._draw, room=self._draw)

    def target_rect(self) -> tuple[float, float, float, float] | None:
        """Where the highlighted place is drawn (window coordinates of this widget's parent)."""
        for p in self.places:
            if p.target:
                return self._rect(p.box)
        return None

    def _rect(self, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        x, y, w, h = box
        return (self.x + x * self.width, self.top - (y + h) * self.height,
                w * self.width, h * self.height)

    def _draw(self, *_args) -> None:
        self.canvas.clear()
        if not self.places or self.width < 10 or self.height < 10:
            return
        theme = _theme()
        with self.canvas:
            Color(*theme.bg)
            RoundedRectangle(pos=self.pos, size=self.size, radius=[10])
            Color(*theme.muted)
            Line(rounded_rectangle=(self.x + 1, self.y + 1, self.width - 2, self.height - 2, 10),
                 width=1.5)
            for p in self.places:
                rx, ry, rw, rh = self._rect(p.box)
                if p.target:
                    Color(*theme.highlight)
                    RoundedRectangle(pos=(rx, ry), size=(rw, rh), radius=[4])
                else:
                    Color(*theme.chip)
                    RoundedRectangle(pos=(rx, ry), size=(rw, rh), radius=[4])
                    Color(*theme.chip_line)
                    Line(rounded_rectangle=(rx, ry, rw, rh, 4), width=1)
            target = next((p for p in self.places if p.target), None)
            if target is not None:
                self._label(target.name, theme)

    def _label(self, name: str, theme: Theme) -> None:
        """The target's name beside it, inside the room, over no other place if it can be."""
        rx, ry, rw, rh = self._rect(next(p for p in self.places if p.target).box)
        label = CoreLabel(text=name, font_size=theme.font_s, bold=True, color=theme.text)
        label.refresh()
        tex = label.texture
        tw, th = tex.size
        others = [self._rect(p.box) for p in self.places if not p.target]
        gap = 8
        candidates = [
            (rx + rw + gap, ry + rh / 2 - th / 2),  # right
            (rx - gap - tw, ry + rh / 2 - th / 2),  # left
            (rx + rw / 2 - tw / 2, ry - gap - th),  # below
            (rx + rw / 2 - tw / 2, ry + rh + gap),  # above
        ]

        def clamp(x: float, y: float) -> tuple[float, float]:
            return (min(max(self.x + 6, x), self.right - 6 - tw),
                    min(max(self.y + 4, y), self.top - 4 - th))

        def overlap(x: float, y: float) -> float:
            area = 0.0
            for ox, oy, ow, oh in [*others, (rx, ry, rw, rh)]:
                dx = min(x + tw, ox + ow) - max(x, ox)
                dy = min(y + th, oy + oh) - max(y, oy)
                if dx > 0 and dy > 0:
                    area += dx * dy
            return area

        x, y = min((clamp(*c) for c in candidates), key=lambda c: overlap(*c))
        Color(*theme.panel)
        RoundedRectangle(pos=(x - 6, y - 2), size=(tw + 12, th + 4), radius=[6])
        Color(*theme.text)
        Rectangle(texture=tex, pos=(x, y), size=tex.size)


class HoldGuide(Widget):
    """A small looping picture of how to show a code to the camera: a card (or a book with its
    barcode on the back) moves up to the camera, straight and close, then back.

    ``what`` is "card" or "book". The animation runs only while the widget is visible
    (``running``), so a hidden guide costs nothing.
    """

    what = StringProperty("card")
    phase = NumericProperty(0.0)  # 0 far … 1 at the camera
    running = BooleanProperty(False)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._anim = None
        self.bind(pos=self._draw, size=self._draw, what=self._draw, phase=self._draw,
                  running=self._run)

    def _run(self, *_args) -> None:
        from kivy.animation import Animation

        if self._anim is not None:
            self._anim.cancel(self)
            self._anim = None
        if self.running:
            anim = (Animation(phase=1.0, duration=1.2, t="out_cubic")
                    + Animation(phase=1.0, duration=0.8)
                    + Animation(phase=0.0, duration=0.6, t="in_out_sine")
                    + Animation(phase=0.0, duration=0.4))
            anim.repeat = True
            self._anim = anim
            anim.start(self)

    def _draw(self, *_args) -> None:
        self.canvas.clear()
        if self.width < 40 or self.height < 40:
            return
        theme = _theme()
        h = min(self.height, self.width * 0.55, 260 * theme.scale)  # the picture's own scale
        cam_r = h * 0.16
        cam_x, cam_y = self.x + cam_r * 1.3 + 6, self.center_y
        with self.canvas:
            # The camera: a body with a lens, on the left (where the preview is).
            Color(*theme.key)
            RoundedRectangle(pos=(cam_x - cam_r * 1.3, cam_y - cam_r * 1.1),
                             size=(cam_r * 2.6, cam_r * 2.2), radius=[cam_r * 0.4])
            # The lens as filled discs (an animated wide Line is slow on a software rasteriser).
            for colour, r in ((theme.text, 0.78), (theme.key, 0.66), (theme.highlight, 0.38),
                              (theme.key, 0.26)):
                Color(*colour)
                Ellipse(pos=(cam_x - cam_r * r, cam_y - cam_r * r), size=(cam_r * r * 2,) * 2)
            # The card or book, sliding towards the lens as `phase` grows.
            obj_w = h * (0.62 if self.what == "card" else 0.55)
            obj_h = h * (0.40 if self.what == "card" else 0.78)
            far_x = self.right - obj_w - 6
            near_x = cam_x + cam_r * 1.6
            x = far_x + (near_x - far_x) * self.phase
            y = cam_y - obj_h / 2
            Color(*(theme.chip_line if self.what == "card" else cover_colour("84(2")))
            RoundedRectangle(pos=(x, y), size=(obj_w, obj_h), radius=[6])
            # The barcode: black bars on a white label, where a child should look for it.
            lab_w, lab_h = obj_w * 0.7, obj_h * (0.42 if self.what == "card" else 0.22)
            lx, ly = x + (obj_w - lab_w) / 2, y + obj_h * 0.12
            Color(1, 1, 1, 1)
            Rectangle(pos=(lx, ly), size=(lab_w, lab_h))
            Color(0, 0, 0, 1)
            pattern = (2, 1, 1, 3, 1, 2, 2, 1, 3, 1, 1, 2, 1, 1, 2, 3, 1, 1, 2, 1)
            unit = (lab_w - 8) / (sum(pattern) + len(pattern))
            bx = lx + 4
            for i, wbar in enumerate(pattern):
                if i % 2 == 0:
                    Rectangle(pos=(bx, ly + 3), size=(wbar * unit, lab_h - 6))
                bx += (wbar + 1) * unit
            # Motion lines behind the moving object while it travels.
            if 0.05 < self.phase < 0.95:
                Color(*theme.muted)
                for k in (0.3, 0.5, 0.7):
                    Line(points=[x + obj_w + 8, y + obj_h * k, x + obj_w + 8 + h * 0.12,
                                 y + obj_h * k], width=1)
