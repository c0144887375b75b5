"""Benchmark of the kiosk app (offscreen SDL, the demo library on SQLite):

* cold start: `ibc kiosk --demo` from process start to the first frame drawn after the app has
  started (interactive), demo library already loaded once;
* key tap → updated results: one on-screen key press on the search screen, then the search and
  the redraw, until the next frame is on screen (the deliberate 300 ms typing pause of the search
  screen is not counted: it is a design choice, not work);
* camera preview frames/s while decoding: a generated 1280×720 30 fps MJPG video with EAN-13
  codes fed through `device.scanner.camera.CameraSource` (realtime pacing, every frame decoded,
  every frame offered to the preview) into the checkout screen's preview;
* resident memory during N minutes of scripted use (search, checkout, return, loans, media,
  service mode, idle end), sampled every 10 s.

Run:  .venv/bin/python bench/kiosk_bench.py [--minutes 5] [--parts start,tap,camera,memory]
Each part runs in its own process (Kivy allows one window per process); prints JSON lines.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
QUERIES = ["сказки", "носов", "война", "космос", "пушкин", "динозавры", "математика", "толстой"]


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def write_config(work: Path) -> Path:
    """A settings file with a data dir in ``work`` (the demo SQLite lives there)."""
    cfg = work / "ibc.toml"
    cfg.write_text(f'data_dir = "{work / "data"}"\n\n[database]\n'
                   f'url = "sqlite:///{work / "data" / "ibc.sqlite3"}"\n\n[scanner]\ncamera = ""\n',
                   encoding="utf-8")
    return cfg


def child_env(work: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IBC_")}
    env.update(SDL_VIDEODRIVER="offscreen", SDL_AUDIODRIVER="dummy", KIVY_NO_ARGS="1",
               KIVY_NO_CONSOLELOG="1", KIVY_NO_FILELOG="1", IBC_CONFIG=str(write_config(work)),
               PYTHONPATH=str(ROOT))
    return env


def run_child(part: str, work: Path, *extra: str, timeout: float = 900) -> dict:
    """Run one part in a fresh process; returns its JSON line."""
    t0 = time.time()
    proc = subprocess.run([sys.executable, __file__, "--child", part, "--work", str(work), *extra],
                          capture_output=True, text=True, timeout=timeout, env=child_env(work),
                          check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{part} failed: {proc.stderr[-3000:]}")
    out = json.loads(lines[-1])
    out["_spawned_at"] = t0
    return out


# --- children ------------------------------------------------------------------------------------
def child_start(_args) -> dict:
    """`ibc kiosk --demo --windowed`, stopped at the first frame after on_start."""
    from kivy.core.window import Window  # noqa: F401 - patched below, imported by the command anyway

    import kiosk.app

    original = kiosk.app.KioskApp.on_start
    out: dict = {}

    def on_start(self) -> None:
        original(self)
        out["started"] = time.time()

        def flip(*_a) -> None:
            from kivy.core.window import Window as W

            if "first_frame" not in out:
                out["first_frame"] = time.time()
                W.unbind(on_flip=flip)
                self._allow_exit = True
                from kivy.clock import Clock

                Clock.schedule_once(lambda _dt: self.stop(), 0)

        from kivy.core.window import Window as W

        W.bind(on_flip=flip)

    kiosk.app.KioskApp.on_start = on_start
    from ibc.cli import main

    main(["kiosk", "--demo", "--windowed"])
    out["rss_mb"] = rss_mb()
    return out


def _local_app(work: Path, **option_overrides):
    """A headless KioskApp over the demo SQLite of ``work`` (local back ends)."""
    from config.settings import load_settings
    from kiosk.fakes import FakeMedia, fake_service_info
    from kiosk.local import LocalCatalogue, LocalVisits
    from kiosk.options import KioskOptions
    from kiosk.runner import configure
    from library.circulation.service import CirculationService
    from library.storage.database import open_database

    settings = load_settings()
    db = open_database(settings.database.url)
    options = KioskOptions(size=(1280, 800), sounds=False, cache_dir=work / "cache",
                           service_pin="1234", **option_overrides)
    configure(options, kivy_home=work / "kivy", headless=True)
    from kiosk.app import KioskApp
    from kiosk.fakes import FakePrinter

    circulation = CirculationService.from_settings(db, settings.circulation)
    app = KioskApp(LocalCatalogue(db), circulation, FakePrinter(), options,
                   visits=LocalVisits(db, "ИБЦ", "bench"), terminal="bench", media=FakeMedia(),
                   service_info=fake_service_info())
    return app, db


def _next_frame(callback) -> None:
    from kivy.core.window import Window

    def flip(*_a) -> None:
        Window.unbind(on_flip=flip)
        callback(time.perf_counter())

    Window.bind(on_flip=flip)


def child_tap(args) -> dict:
    """Key tap → search → redraw, for each letter of several words."""
    from kivy.clock import Clock

    app, _db = _local_app(Path(args.work))
    samples: list[float] = []
    sync: list[float] = []
    plan = [q[: i + 1] for q in QUERIES for i in range(len(q))]
    state = {"i": 0}

    def step(_dt: float) -> None:
        if state["i"] >= len(plan):
            app._allow_exit = True
            app.stop()
            return
        text = plan[state["i"]]
        screen = app.screen("search")
        if app.current != "search":
            app.go("search")
        if len(text) == 1:
            app.search.reset()
        t0 = time.perf_counter()
        screen.key(text[-1])  # the tap
        screen.search_now()  # what the typing pause would run 300 ms later
        t_sync = time.perf_counter()

        def done(t1: float) -> None:
            samples.append((t1 - t0) * 1000)
            sync.append((t_sync - t0) * 1000)
            state["i"] += 1
            Clock.schedule_once(step, 0.05)

        _next_frame(done)

    Clock.schedule_once(step, 1.0)
    app.run()
    samples.sort()
    return {"taps": len(samples), "median_ms": round(statistics.median(samples), 1),
            "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 1),
            "max_ms": round(samples[-1], 1),
            "search_and_widgets_median_ms": round(statistics.median(sync), 1)}


def make_video(path: Path, seconds: float, fps: int = 30) -> Path:
    """A 1280×720 MJPG video: a noisy background with an EAN-13 code coming and going."""
    import cv2

    from device.scanner import synth

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (1280, 720))
    bg = synth.background(seed=3)
    def ean(stem: str) -> str:
        total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(stem))
        return stem + str((10 - total % 10) % 10)

    codes = [synth.ean13_image(ean(v)) for v in ("978517090000", "460000000000", "978538907435")]
    for i in range(int(seconds * fps)):
        k = (i // fps) % 4
        frame = bg if k == 3 else synth.place(bg, codes[k], center=(640 + (i % 20), 360), seed=i)
        writer.write(frame)
    writer.release()
    return path


class _PlainFeeder:
    """A CameraSource look-alike that only reads the video (30 fps) and offers every frame."""

    def __init__(self, path: str):
        self.path, self.on_preview, self.frames_read = path, None, 0
        import threading

        self._stop = threading.Event()

    def start(self, _callback) -> None:
        import threading

        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import cv2

        cap = cv2.VideoCapture(self.path)
        t0 = time.monotonic()
        while not self._stop.is_set():
            ok, frame = cap.read()
            if not ok:
                break
            self.frames_read += 1
            delay = t0 + self.frames_read / 30 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if self.on_preview is not None:
                self.on_preview(frame, None)
        cap.release()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def child_camera(args) -> dict:
    """CameraSource over a generated video into the checkout screen's preview."""
    from kivy.clock import Clock

    from device.scanner.camera import CameraSource

    seconds = float(args.seconds)
    video = make_video(Path(args.work) / "preview.avi", seconds + 3)
    source = CameraSource(str(video), realtime=True, preview_every=1, confirm_frames=2)
    app, _db = _local_app(Path(args.work))
    if args.no_decode:  # the UI's own ceiling: the same frames, read and shown, never decoded
        source = _PlainFeeder(str(video))
    app.scanner_source = source
    out: dict = {}

    def begin(_dt: float) -> None:
        app.go("loans")  # a preview screen where codes are only asked for, not lent
        out["t0"], out["shown0"], out["read0"] = time.perf_counter(), app.preview.shown, source.frames_read
        Clock.schedule_once(end, seconds)

    def end(_dt: float) -> None:
        dt = time.perf_counter() - out["t0"]
        out["preview_fps"] = round((app.preview.shown - out["shown0"]) / dt, 1)
        out["decoded_fps"] = round((source.frames_read - out["read0"]) / dt, 1)
        out["dropped"] = app.preview.dropped
        out["seconds"] = round(dt, 1)
        app._allow_exit = True
        app.stop()

    Clock.schedule_once(begin, 1.5)
    app.run()
    return {k: v for k, v in out.items() if not k.endswith("0")}


def child_memory(args) -> dict:
    """Scripted use for ``--minutes``; RSS every 10 s."""
    from kivy.clock import Clock
    from sqlalchemy import select

    from kiosk.gallery import press_keys, type_scan
    from library.storage.models import Copy, Reader, Record

    app, db = _local_app(Path(args.work), idle_timeout_s=30)
    with db.session() as s:
        cards = list(s.scalars(select(Reader.card_number).where(Reader.pin_hash.is_(None),
                                                                 Reader.class_name.like("9%"))
                               .limit(20)))
        barcodes = list(s.scalars(select(Copy.barcode).join(Record).where(
            Copy.status == "available", Record.age_rating == "0+").limit(40)))
    seconds = float(args.minutes) * 60
    samples: list[tuple[float, float]] = []
    counts = {"rounds": 0}
    t_start = time.monotonic()

    def sample(_dt: float) -> None:
        samples.append((round(time.monotonic() - t_start, 1), round(rss_mb(), 1)))

    def round_(_dt: float) -> None:
        if time.monotonic() - t_start >= seconds:
            sample(0)
            app._allow_exit = True
            app.stop()
            return
        n = counts["rounds"]
        card, barcode = cards[n % len(cards)], barcodes[n % len(barcodes)]
        app.end_session()
        app.go("search")
        press_keys(app, QUERIES[n % len(QUERIES)][:4])
        app.screen("search").search_now()
        if app.search.page and app.search.page.hits:
            app.open_record(app.search.page.hits[0].id)
        app.end_session()
        app.go("checkout")
        type_scan(app, card)
        type_scan(app, barcode)
        app.screen("checkout").finish()
        app.screen("checkout").print_receipt()
        app.end_session("finished")
        app.go("loans")
        type_scan(app, card)
        app.end_session()
        app.go("checkin")
        type_scan(app, barcode)
        app.end_session()
        app.media.open("Мария П.")
        app.go("media")
        app.screen("media").play(False)
        app.end_session()
        app.go("service")
        for k in "1234":
            app.screen("service").press(k)
        app.screen("service").press("ok")
        app.screen("service").show("figures")
        app.end_session()
        counts["rounds"] += 1
        Clock.schedule_once(round_, 0.2)

    Clock.schedule_interval(sample, 10.0)
    Clock.schedule_once(sample, 1.0)
    Clock.schedule_once(round_, 1.5)
    app.run()
    after_warmup = [m for t, m in samples if t >= 60] or [m for _, m in samples]
    return {"minutes": float(args.minutes), "rounds": counts["rounds"],
            "rss_first_mb": samples[0][1], "rss_at_1min_mb": after_warmup[0],
            "rss_last_mb": samples[-1][1], "rss_max_mb": max(m for _, m in samples),
            "samples": samples}


CHILDREN = {"start": child_start, "tap": child_tap, "camera": child_camera, "memory": child_memory}


def prepare(work: Path) -> None:
    """Load the demo library once (as `ibc demo` does) into work/data/ibc.sqlite3."""
    subprocess.run([sys.executable, "-m", "ibc", "demo"], env=child_env(work), check=True,
                   capture_output=True, timeout=600)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--parts", default="start,tap,camera,memory")
    parser.add_argument("--minutes", type=float, default=5.0, help="memory run length")
    parser.add_argument("--seconds", type=float, default=20.0, help="camera run length")
    parser.add_argument("--starts", type=int, default=5, help="cold starts to time")
    parser.add_argument("--no-decode", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", default="")
    parser.add_argument("--work", default="")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child](args), ensure_ascii=False))
        return 0
    with tempfile.TemporaryDirectory(prefix="ibc-kiosk-bench-") as tmp:
        work = Path(tmp)
        prepare(work)
        parts = args.parts.split(",")
        if "start" in parts:
            times = []
            for _ in range(args.starts):
                out = run_child("start", work)
                times.append(out["first_frame"] - out["_spawned_at"])
            print(json.dumps({"part": "cold start to first frame", "runs": len(times),
                              "median_s": round(statistics.median(times), 2),
                              "max_s": round(max(times), 2), "rss_mb": round(out["rss_mb"], 1)}))
        if "tap" in parts:
            print(json.dumps({"part": "key tap to results", **run_child("tap", work)}))
        if "camera" in parts:
            print(json.dumps({"part": "camera preview", **run_child(
                "camera", work, "--seconds", str(args.seconds))}))
            print(json.dumps({"part": "preview without decoding (UI ceiling)", **run_child(
                "camera", work, "--seconds", str(args.seconds), "--no-decode")}))
        if "memory" in parts:
            out = run_child("memory", work, "--minutes", str(args.minutes),
                            timeout=args.minutes * 60 + 300)
            print(json.dumps({"part": "memory", **out}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
