"""Where a film is shown: the display's outputs and the film window on the projector's one.

Why our own window (docs/MEDIA.md, «Как фильм попадает на проектор»): libvlc's own window is
640×360 in a corner unless a window manager makes it full screen, and where it lands with two
outputs is up to that window manager. So the station opens one borderless, override-redirect X
window exactly over the projector's output (RandR 1.5 monitors: the same list `xrandr
--listmonitors` prints) and hands it to libvlc (``set_xwindow``), which draws the film into it
with its X11 output. That works the same with no window manager (a bare Xorg or Xvfb), with
matchbox in the X fallback session and inside cage through Xwayland.

Which output (``[media] display``): ``auto`` takes the output that is not the touch panel when
there are two or more (the panel is the primary one, else the one at the origin), the whole
screen when there is one (a mirrored projector); an output name (``HDMI-1``) takes that one;
``all`` the whole screen; a number N the N-th output from the left.

python-xlib is not thread-safe: one thread owns the connection; ``show``/``hide``/``close``
queue commands to it. A tap on the film (a ButtonPress) calls ``on_tap`` from that thread.
"""

from __future__ import annotations

import logging
import os
import queue
import select
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from media.errors import ScreenUnavailable

if TYPE_CHECKING:
    from Xlib.display import Display

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Output:
    """One output (monitor) of the display, in root-window coordinates."""

    name: str
    x: int
    y: int
    width: int
    height: int
    primary: bool = False

    def describe(self) -> str:
        """``HDMI-1 1920×1080+1280+0`` for logs and ``ibc doctor``."""
        return f"{self.name} {self.width}×{self.height}+{self.x}+{self.y}"


def display_name() -> str | None:
    """The X display to use (``$DISPLAY``), or None when there is none."""
    return os.environ.get("DISPLAY") or None


def _open_display(name: str | None) -> Display:
    from Xlib import display as xdisplay
    from Xlib import error as xerror

    if not name:
        raise ScreenUnavailable(template=ScreenUnavailable.NO_DISPLAY)
    try:
        return xdisplay.Display(name)
    except (xerror.DisplayError, OSError) as exc:
        raise ScreenUnavailable(template=ScreenUnavailable.NO_ACCESS, display=name,
                                error=exc) from exc


def _outputs(dpy: Display) -> list[Output]:
    screen = dpy.screen()
    root = screen.root
    whole = Output("screen", 0, 0, screen.width_in_pixels, screen.height_in_pixels, True)
    if not dpy.has_extension("RANDR"):
        return [whole]
    try:
        reply = root.xrandr_get_monitors(is_active=True)
    except Exception as exc:  # noqa: BLE001  (RandR older than 1.5: one output, the whole screen)
        log.info("no RandR monitors (%r): the film uses the whole screen", exc)
        return [whole]
    out = [Output(dpy.get_atom_name(m.name) or f"monitor-{i}", m.x, m.y,
                  m.width_in_pixels, m.height_in_pixels, bool(m.primary))
           for i, m in enumerate(reply.monitors)]
    return sorted(out, key=lambda o: (o.x, o.y)) or [whole]


def list_outputs(name: str | None = None) -> list[Output]:
    """The outputs of display ``name`` (default ``$DISPLAY``), left to right."""
    dpy = _open_display(name if name is not None else display_name())
    try:
        return _outputs(dpy)
    finally:
        dpy.close()


def choose_output(outputs: list[Output], wanted: str, screen: Output | None = None) -> Output:
    """The output a film goes to for ``[media] display`` = ``wanted`` (see the module doc)."""
    if not outputs:
        raise ScreenUnavailable(template=ScreenUnavailable.NO_OUTPUTS)
    wanted = (wanted or "auto").strip()
    if wanted.lower() == "all":
        if screen is not None:
            return screen
        x0, y0 = min(o.x for o in outputs), min(o.y for o in outputs)
        x1 = max(o.x + o.width for o in outputs)
        y1 = max(o.y + o.height for o in outputs)
        return Output("all", x0, y0, x1 - x0, y1 - y0)
    if wanted.lower() == "auto":
        if len(outputs) == 1:
            return outputs[0]
        panel = next((o for o in outputs if o.primary), None) \
            or min(outputs, key=lambda o: (o.x, o.y))
        return next(o for o in outputs if o is not panel)
    if wanted.isdigit():
        index = int(wanted)
        if index >= len(outputs):
            raise ScreenUnavailable(template=ScreenUnavailable.NO_OUTPUT_NUMBER, index=index,
                                    count=len(outputs), names=", ".join(o.name for o in outputs))
        return outputs[index]
    for o in outputs:
        if o.name.lower() == wanted.lower():
            return o
    raise ScreenUnavailable(template=ScreenUnavailable.NO_OUTPUT_NAMED, name=wanted,
                            names=", ".join(o.name for o in outputs))


class FilmWindow:
    """A black, borderless window over one output that libvlc draws the film into.

    Created hidden; ``show`` maps and raises it, ``hide`` unmaps it (the film goes on, unseen),
    ``close`` destroys it. ``covers_panel`` tells whether it hides the touch panel (one output),
    in which case a tap on it should bring the teacher's controls back.
    """

    def __init__(self, wanted: str = "auto", *, display: str | None = None,
                 on_tap: Callable[[], None] | None = None) -> None:
        self.on_tap = on_tap
        self._dpy = _open_display(display if display is not None else display_name())
        try:
            from Xlib import X

            screen = self._dpy.screen()
            outputs = _outputs(self._dpy)
            whole = Output("all", 0, 0, screen.width_in_pixels, screen.height_in_pixels)
            self.output = choose_output(outputs, wanted, whole)
            self.covers_panel = len(outputs) == 1 or self.output.name == "all"
            o = self.output
            pixmap = screen.root.create_pixmap(1, 1, 1)
            blank = pixmap.create_cursor(pixmap, (0, 0, 0), (0, 0, 0), 0, 0)
            self._win = screen.root.create_window(
                o.x, o.y, o.width, o.height, 0, screen.root_depth, X.InputOutput,
                X.CopyFromParent, background_pixel=screen.black_pixel,
                override_redirect=True, cursor=blank,
                event_mask=X.ButtonPressMask | X.KeyPressMask | X.StructureNotifyMask)
            pixmap.free()
            self._win.set_wm_name("ibc-kiosk film")
            self._win.set_wm_class("ibc-film", "ibc-kiosk")
            net_state = self._dpy.intern_atom("_NET_WM_STATE")
            fullscreen = self._dpy.intern_atom("_NET_WM_STATE_FULLSCREEN")
            self._win.change_property(net_state, self._dpy.intern_atom("ATOM"), 32, [fullscreen])
            self._dpy.sync()
            self.xid: int = self._win.id
        except Exception:
            self._dpy.close()
            raise
        self.visible = False
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._wake_r, self._wake_w = os.pipe()
        self._wake_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="film-window", daemon=True)
        self._thread.start()

    # --- commands (any thread) ----------------------------------------------------------------
    def show(self) -> None:
        """Map and raise the window over its output."""
        self.visible = True
        self._post("show")

    def hide(self) -> None:
        """Unmap it: the output shows what is beneath (the kiosk, or black)."""
        self.visible = False
        self._post("hide")

    def close(self) -> None:
        """Destroy the window and close the display connection; waits for the thread."""
        if not self._thread.is_alive():
            return
        self._post("close")
        self._thread.join(5)

    def _post(self, command: str) -> None:
        with self._wake_lock:
            if self._wake_w < 0:  # the window thread has ended: nothing listens any more
                return
            self._commands.put(command)
            os.write(self._wake_w, b"x")

    # --- the window thread ----------------------------------------------------------------------
    def _run(self) -> None:
        from Xlib import X

        fd = self._dpy.fileno()
        try:
            while True:
                while not self._commands.empty():
                    command = self._commands.get()
                    if command == "close":
                        self._win.destroy()
                        self._dpy.sync()
                        return
                    if command == "show":
                        self._win.map()
                        self._win.configure(stack_mode=X.Above)
                    elif command == "hide":
                        self._win.unmap()
                    self._dpy.sync()
                while self._dpy.pending_events():
                    event = self._dpy.next_event()
                    if event.type in (X.ButtonPress, X.KeyPress) and self.on_tap is not None:
                        try:
                            self.on_tap()
                        except Exception:  # noqa: BLE001  (a listener bug must not kill the window)
                            log.exception("film window tap handler failed")
                readable, _, _ = select.select([fd, self._wake_r], [], [], 1.0)
                if self._wake_r in readable:
                    os.read(self._wake_r, 4096)
        except Exception:  # noqa: BLE001  (the X server went away: nothing more to show)
            log.exception("film window closed by an X error")
        finally:
            try:
                self._dpy.close()
            except Exception as exc:  # noqa: BLE001  (closing a connection that is gone already)
                log.debug("film window: closing the X connection: %r", exc)
            with self._wake_lock:  # never write to a descriptor number reused elsewhere
                os.close(self._wake_r)
                os.close(self._wake_w)
                self._wake_r = self._wake_w = -1
