"""Video benchmark: how a 1080p film reaches the projector (issue 14).

Run: .venv/bin/python bench/video_bench.py [--seconds 60] [--path A|B|both] [--json]

(A) libvlc's own X11 video output (``xcb_x11``) draws into a screen-sized override-redirect X
    window created here with python-xlib and handed over with ``MediaPlayer.set_xwindow``.
(B) libvlc video callbacks (RV32 into our buffers) → ``Texture.blit_buffer`` (bgra) → a Kivy
    window (SDL2 on X11, the GL of the kiosk: Mesa llvmpipe here) drawing the texture full screen.

The film (1920x1080, 30 fps H.264 + a 440 Hz AAC tone, 65 s) is generated once with ffmpeg and
cached in $TMPDIR/ibc-video-bench. An own Xvfb (``-br``: black root) is started on a free display
and killed at the end; no sound card, so audio goes to VLC's ``afile`` output writing raw samples
to /dev/null (the audio is decoded, converted and "played", without an audio clock).

Each path runs in its own child process (so CPU time and peak RSS are that path's only):
- frames: libvlc ``Media.get_stats`` displayed_pictures / lost_pictures (and decoded);
  path B also counts frames uploaded to the texture and frames drawn (a buffer swap carrying a
  new frame: what the viewer sees) and the delay from VLC's display callback to that swap (the
  extra lag of the picture behind VLC's clock, i.e. behind the sound);
- CPU: user + system time of the child over the play window, in % of one core; the X server's
  CPU (Xvfb, from /proc) over the same window is reported separately;
- peak RSS of the child (ru_maxrss);
- first frame: from play() to the first non-black pixels in a central 160x90 region of the X
  screen, polled by this (parent) process with python-xlib every ~5 ms; for B also from play()
  to the first Kivy buffer swap carrying a frame.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

W, H, FPS = 1920, 1080, 30
FILM_S = 65
AUDIO_ARGS = ["--aout=afile", "--audiofile-file=/dev/null", "--no-audiofile-wav"]
VLC_ARGS = ["--quiet", "--no-video-title-show", "--no-xlib", "--no-osd", "--no-snapshot-preview"]
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- film and X server

def film_path() -> Path:
    """The cached test film, generated on first use."""
    cache = Path(tempfile.gettempdir()) / "ibc-video-bench"
    cache.mkdir(exist_ok=True)
    out = cache / f"testsrc2-{W}x{H}-{FPS}-{FILM_S}s.mp4"
    if not out.exists():
        tmp = out.with_suffix(".part.mp4")
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y",
                        "-f", "lavfi", "-i", f"testsrc2=size={W}x{H}:rate={FPS}",
                        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                        "-t", str(FILM_S), "-c:v", "libx264", "-preset", "veryfast",
                        "-pix_fmt", "yuv420p", "-c:a", "aac", str(tmp)], check=True)
        tmp.rename(out)
    return out


def free_display() -> int:
    for n in range(90, 200):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    raise RuntimeError("no free X display number")


def start_xvfb(screen: str) -> tuple[subprocess.Popen, str]:
    n = free_display()
    proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", f"{screen}x24", "-nolisten", "tcp",
                             "-br", "-noreset"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    from Xlib import display as xdisplay
    deadline = time.monotonic() + 10
    while True:
        try:
            xdisplay.Display(f":{n}").close()
            return proc, f":{n}"
        except Exception:  # noqa: BLE001 - not up yet
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Xvfb did not start") from None
            time.sleep(0.05)


def proc_cpu_s(pid: int) -> float:
    """utime + stime of a process in seconds (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class ScreenWatch(threading.Thread):
    """Polls a central region of the X screen; records when it first turns non-black."""

    def __init__(self, disp: str) -> None:
        super().__init__(daemon=True)
        from Xlib import X
        from Xlib import display as xdisplay
        self._d = xdisplay.Display(disp)
        self._root = self._d.screen().root
        geo = self._root.get_geometry()
        self._box = (geo.width // 2 - 80, geo.height // 2 - 45, 160, 90)
        self._fmt = X.ZPixmap
        self.first_t: float | None = None
        self._halt = threading.Event()

    def lit(self) -> bool:
        x, y, w, h = self._box
        img = self._root.get_image(x, y, w, h, self._fmt, 0xFFFFFFFF)
        data = img.data
        return max(data) > 64 if isinstance(data, bytes | bytearray) else max(bytes(data)) > 64

    def run(self) -> None:
        while not self._halt.is_set() and self.first_t is None:
            if self.lit():
                self.first_t = time.monotonic()
                break
            time.sleep(0.005)

    def stop(self) -> None:
        self._halt.set()
        self.join(2)
        self._d.close()


# --------------------------------------------------------------------------- children

def stats_dict(media) -> dict:
    import vlc
    st = vlc.MediaStats()
    media.get_stats(st)
    return {k: getattr(st, k) for k in ("decoded_video", "displayed_pictures", "lost_pictures",
                                        "decoded_audio", "played_abuffers", "lost_abuffers")}


class Meter:
    """CPU time of this process over the play window, Xvfb's too."""

    def __init__(self, xvfb_pid: int) -> None:
        self.xvfb_pid = xvfb_pid

    def start(self) -> None:
        t = os.times()
        self.t0, self.cpu0 = time.monotonic(), t.user + t.system
        self.x0 = proc_cpu_s(self.xvfb_pid)

    def stop(self) -> dict:
        t = os.times()
        wall = time.monotonic() - self.t0
        return {"wall_s": wall,
                "cpu_pct": 100 * (t.user + t.system - self.cpu0) / wall,
                "xvfb_cpu_pct": 100 * (proc_cpu_s(self.xvfb_pid) - self.x0) / wall,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _product_classes():
    """media.screen.FilmWindow and media.vlc_player.VlcPlayer, or None if not there (yet)."""
    try:
        from media.screen import FilmWindow
        from media.vlc_player import VlcPlayer
    except ImportError:
        return None
    return FilmWindow, VlcPlayer


def child_a(film: str, seconds: float, xvfb_pid: int, own_window: bool = False) -> dict:
    """Path A: libvlc xcb_x11 into an override-redirect window over the whole screen.

    With the product's classes: media.vlc_player.VlcPlayer as the station makes it (it opens
    media.screen.FilmWindow over the output, ``display=auto``; VLC chooses its video output:
    xcb_x11 on Xvfb, which has no XVideo) with audio to afile; otherwise (or with --own-window)
    a minimal python-xlib window and a bare libvlc player with ``--vout=xcb_x11``.
    """
    classes = None if own_window else _product_classes()
    vout_args = ["--vout=xcb_x11"]
    if classes is not None:
        from media.player import PlayItem
        film_window_cls, player_cls = classes
        window = None
        vout = "?"
        if hasattr(player_cls, "show_screen"):
            # The product's own path: VlcPlayer opens media.screen.FilmWindow on play() and
            # lets VLC choose the video output (with --no-xlib: XVideo, else xcb_x11).
            player = player_cls(headless=False, fullscreen=True, display="auto",
                                audio_output="afile", extra_args=AUDIO_ARGS[1:])
            how = "media.vlc_player.VlcPlayer (its own media.screen.FilmWindow, display=auto)"
        else:  # an older VlcPlayer: the window made here and handed over with set_xwindow
            window = film_window_cls("all")
            window.show()
            player = player_cls(headless=False, fullscreen=False, audio_output="afile",
                                extra_args=vout_args + AUDIO_ARGS[1:])
            player._mp.set_xwindow(window.xid)
            how = "media.screen.FilmWindow + media.vlc_player.VlcPlayer (set_xwindow here)"
            time.sleep(0.3)  # the window thread has mapped the window
        player.load([PlayItem(film)])
        meter = Meter(xvfb_pid)
        meter.start()
        t_play = time.monotonic()
        player.play()
        time.sleep(seconds)
        stats = stats_dict(player._media)
        res = meter.stop()
        vlc_log = getattr(player, "log", None)
        if vlc_log is not None:
            vout = f"{getattr(vlc_log, 'vout', '?')}, aout {getattr(vlc_log, 'aout', '?')}"
        player.close()
        if window is not None:
            window.close()
        return {"path": "A", "t_play": t_play, "window_how": how, "vlc_outputs": vout,
                **stats, **res}

    import vlc
    from Xlib import X
    from Xlib import display as xdisplay
    d = xdisplay.Display()
    scr = d.screen()
    w, h = scr.width_in_pixels, scr.height_in_pixels
    win = scr.root.create_window(0, 0, w, h, 0, scr.root_depth, X.InputOutput, X.CopyFromParent,
                                 background_pixel=scr.black_pixel, override_redirect=True)
    win.map()
    d.sync()
    inst = vlc.Instance(VLC_ARGS + vout_args + AUDIO_ARGS)
    mp = inst.media_player_new()
    mp.set_xwindow(win.id)
    media = inst.media_new_path(film)
    mp.set_media(media)
    meter = Meter(xvfb_pid)
    meter.start()
    t_play = time.monotonic()
    mp.play()
    time.sleep(seconds)
    stats = stats_dict(media)
    res = meter.stop()
    mp.stop()
    mp.release()
    inst.release()
    win.destroy()
    d.close()
    return {"path": "A", "t_play": t_play, "window_how": "own python-xlib window, bare libvlc",
            **stats, **res}


def child_b(film: str, seconds: float, xvfb_pid: int) -> dict:
    """Path B: libvlc callbacks → Kivy texture drawn full screen."""
    kivy_home = Path(tempfile.mkdtemp(prefix="ibc-video-bench-kivy-"))
    os.environ.update(KIVY_NO_ARGS="1", KIVY_NO_FILELOG="1", KIVY_NO_CONSOLELOG="1",
                      KIVY_HOME=str(kivy_home), SDL_AUDIODRIVER="dummy")
    os.environ.pop("SDL_VIDEODRIVER", None)
    from kivy.config import Config
    # As kiosk/runner.py does for a full-screen kiosk.
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("graphics", "width", str(W))
    Config.set("graphics", "height", str(H))
    Config.set("graphics", "fullscreen", "auto")
    Config.set("graphics", "borderless", "1")
    Config.set("graphics", "show_cursor", "0")
    import vlc
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.graphics import Color, Rectangle
    from kivy.graphics.opengl import GL_RENDERER, glGetString
    from kivy.graphics.texture import Texture
    from kivy.uix.widget import Widget

    size = W * H * 4
    bufs = [(ctypes.c_ubyte * size)() for _ in range(3)]
    addrs = [ctypes.addressof(b) for b in bufs]
    lk = threading.Lock()
    st = {"ready": None, "ready_t": 0.0, "reading": None, "writing": set(), "vlc_display": 0,
          "overwritten": 0, "uploaded": 0, "drawn": 0, "first_draw_t": None, "max_locked": 0}
    pending: list[float] = []  # VLC display times of the frames uploaded since the last swap
    lags: list[float] = []
    upload_s: list[float] = []  # blit_buffer (glTexSubImage2D of 8 MB) per frame
    swap_s: list[float] = []  # buffer swap per drawn frame (llvmpipe renders during it)

    @vlc.CallbackDecorators.VideoLockCb
    def lock_cb(opaque, planes):
        with lk:
            busy = st["writing"] | {st["ready"], st["reading"]}
            i = next(j for j in range(3) if j not in busy)
            st["writing"].add(i)
            st["max_locked"] = max(st["max_locked"], len(st["writing"]))
        planes[0] = addrs[i]
        return i + 1

    @vlc.CallbackDecorators.VideoUnlockCb
    def unlock_cb(opaque, picture, planes):
        pass

    @vlc.CallbackDecorators.VideoDisplayCb
    def display_cb(opaque, picture):
        i = (picture or 1) - 1
        with lk:
            st["writing"].discard(i)
            if st["ready"] is not None:
                st["overwritten"] += 1  # VLC showed a frame the UI never took
            st["ready"], st["ready_t"] = i, time.monotonic()
            st["vlc_display"] += 1

    inst = vlc.Instance(VLC_ARGS + AUDIO_ARGS)
    mp = inst.media_player_new()
    mp.video_set_callbacks(lock_cb, unlock_cb, display_cb, None)
    mp.video_set_format("RV32", W, H, W * 4)
    media = inst.media_new_path(film)
    mp.set_media(media)
    meter = Meter(xvfb_pid)
    out: dict = {}

    class Film(Widget):
        def __init__(self, **kw) -> None:
            super().__init__(**kw)
            self.tex = Texture.create(size=(W, H), colorfmt="bgra")
            self.tex.flip_vertical()
            with self.canvas:
                Color(1, 1, 1, 1)
                self.rect = Rectangle(texture=self.tex, pos=(0, 0), size=Window.size)
            Window.bind(size=lambda _w, s: setattr(self.rect, "size", s))

        def pump(self, _dt: float) -> None:
            with lk:
                i, t = st["ready"], st["ready_t"]
                if i is None:
                    return
                st["ready"], st["reading"] = None, i
            t0 = time.perf_counter()
            self.tex.blit_buffer(bufs[i], colorfmt="bgra", bufferfmt="ubyte")
            upload_s.append(time.perf_counter() - t0)
            with lk:
                st["reading"] = None
            st["uploaded"] += 1
            pending.append(t)
            self.canvas.ask_update()

    orig_flip = Window.flip

    def flip() -> None:
        t0 = time.monotonic()
        orig_flip()
        now = time.monotonic()
        swap_s.append(now - t0)
        if pending:
            st["drawn"] += 1
            if st["first_draw_t"] is None:
                st["first_draw_t"] = t0, now
            lags.append(now - pending[-1])
            pending.clear()

    Window.flip = flip

    class Bench(App):
        def build(self) -> Widget:
            self.film = Film()
            return self.film

        def on_start(self) -> None:
            Clock.schedule_interval(self.film.pump, 0)
            Clock.schedule_once(self.play, 0.5)  # the window is up and drawn (black) first

        def play(self, _dt: float) -> None:
            out["renderer"] = glGetString(GL_RENDERER).decode()
            out["window"] = list(Window.size)
            meter.start()
            out["t_play"] = time.monotonic()
            mp.play()
            Clock.schedule_once(self.finish, seconds)

        def finish(self, _dt: float) -> None:
            out.update(stats_dict(media))
            out.update(meter.stop())
            self.stop()

    Bench().run()
    mp.stop()
    mp.release()
    inst.release()
    shutil.rmtree(kivy_home, ignore_errors=True)
    lags.sort()
    t_play = out["t_play"]
    return {"path": "B", **out,
            "first_draw_start_s": st["first_draw_t"][0] - t_play if st["first_draw_t"] else None,
            "first_draw_s": st["first_draw_t"][1] - t_play if st["first_draw_t"] else None,
            "upload_ms_mean": 1000 * sum(upload_s) / len(upload_s) if upload_s else None,
            "swap_ms_mean": 1000 * sum(swap_s) / len(swap_s) if swap_s else None,
            "swaps": len(swap_s),
            "vlc_display_calls": st["vlc_display"], "uploaded": st["uploaded"],
            "drawn": st["drawn"], "not_taken": st["overwritten"], "max_locked": st["max_locked"],
            "lag_median_ms": 1000 * lags[len(lags) // 2] if lags else None,
            "lag_p95_ms": 1000 * lags[int(len(lags) * 0.95)] if lags else None}


# --------------------------------------------------------------------------- parent

def run_path(path: str, film: Path, seconds: float, disp: str, xvfb: subprocess.Popen,
             own_window: bool = False) -> dict:
    env = dict(os.environ, DISPLAY=disp)
    env.pop("SDL_VIDEODRIVER", None)
    watch = ScreenWatch(disp)
    if watch.lit():
        raise RuntimeError("the screen is not black before the run")
    watch.start()
    load0 = Path("/proc/loadavg").read_text().split()[:3]
    proc = subprocess.run([sys.executable, __file__, "--child", path, "--film", str(film),
                           "--seconds", str(seconds), "--xvfb-pid", str(xvfb.pid)]
                          + (["--own-window"] if own_window else []),
                          env=env, capture_output=True, text=True, timeout=seconds + 120)
    load1 = Path("/proc/loadavg").read_text().split()[:3]
    watch.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"path {path} failed:\n{proc.stderr[-3000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["first_screen_s"] = watch.first_t - res["t_play"] if watch.first_t else None
    res["load_before"], res["load_after"] = " ".join(load0), " ".join(load1)
    return res


def fmt(v, spec: str = ".1f") -> str:
    return "—" if v is None else format(v, spec)


def table(results: list[dict]) -> str:
    rows = [
        ("frames displayed by libvlc", lambda r: fmt(r["displayed_pictures"], "d")),
        ("frames lost by libvlc", lambda r: fmt(r["lost_pictures"], "d")),
        ("frames uploaded to the texture", lambda r: fmt(r.get("uploaded"), "d")),
        ("frames drawn (seen)", lambda r: fmt(r.get("drawn", r["displayed_pictures"]), "d")),
        ("shown frames/s", lambda r: fmt(r.get("drawn", r["displayed_pictures"]) / r["wall_s"])),
        ("process CPU, % of one core", lambda r: fmt(r["cpu_pct"], ".0f")),
        ("Xvfb CPU, % of one core", lambda r: fmt(r["xvfb_cpu_pct"], ".0f")),
        ("peak RSS, MB", lambda r: fmt(r["peak_rss_mb"], ".0f")),
        ("play() → first frame on screen, s", lambda r: fmt(r["first_screen_s"], ".2f")),
        ("play() → first Kivy swap with a frame (start–end), s", lambda r: (
            f"{fmt(r['first_draw_start_s'], '.2f')}–{fmt(r['first_draw_s'], '.2f')}"
            if r.get("first_draw_s") is not None else "—")),
        ("texture upload / buffer swap, mean ms", lambda r: (
            f"{fmt(r['upload_ms_mean'], '.1f')} / {fmt(r['swap_ms_mean'], '.1f')}"
            if r.get("upload_ms_mean") is not None else "—")),
        ("VLC display → swap lag median/p95, ms", lambda r: (
            f"{fmt(r['lag_median_ms'], '.0f')} / {fmt(r['lag_p95_ms'], '.0f')}"
            if r.get("lag_median_ms") is not None else "—")),
        ("audio buffers played / lost", lambda r: f"{r['played_abuffers']} / {r['lost_abuffers']}"),
        ("load average before → after", lambda r: f"{r['load_before']} → {r['load_after']}"),
    ]
    names = {"A": "A: xcb_x11 into an X window", "B": "B: callbacks → Kivy texture"}
    head = "| measure | " + " | ".join(names[r["path"]] for r in results) + " |"
    lines = [head, "|---" * (len(results) + 1) + "|"]
    for label, f in rows:
        lines.append(f"| {label} | " + " | ".join(f(r) for r in results) + " |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--path", choices=["A", "B", "both"], default="both")
    ap.add_argument("--json", action="store_true", help="also print the results as JSON")
    ap.add_argument("--screen", default=f"{W}x{H}", help="Xvfb screen size (default 1920x1080)")
    ap.add_argument("--own-window", action="store_true",
                    help="path A through a minimal own window, not media.screen/VlcPlayer")
    ap.add_argument("--child", choices=["A", "B"], help=argparse.SUPPRESS)
    ap.add_argument("--film", help="play this file instead of the generated test film")
    ap.add_argument("--xvfb-pid", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        if args.child == "A":
            res = child_a(args.film, args.seconds, args.xvfb_pid, args.own_window)
        else:
            res = child_b(args.film, args.seconds, args.xvfb_pid)
        print(json.dumps(res))
        return 0
    if args.seconds > FILM_S - 3 and not args.film:
        ap.error(f"--seconds at most {FILM_S - 3}")
    film = Path(args.film).resolve() if args.film else film_path()
    xvfb, disp = start_xvfb(args.screen)
    results = []
    try:
        for p in (["A", "B"] if args.path == "both" else [args.path]):
            results.append(run_path(p, film, args.seconds, disp, xvfb, args.own_window))
            time.sleep(1)
    finally:
        xvfb.terminate()
        xvfb.wait(10)
    print(f"film: {film.name}; {args.seconds:.0f} s per path; screen {args.screen}; "
          f"Xvfb {disp}; cpus {os.cpu_count()}; audio: afile → /dev/null")
    for r in results:
        if r["path"] == "A":
            print(f"path A: {r['window_how']}; VLC outputs: {r.get('vlc_outputs', 'xcb_x11')}")
        else:
            print(f"path B: Kivy window {r['window'][0]}x{r['window'][1]}, GL {r['renderer']}")
    print(table(results))
    if args.json:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
