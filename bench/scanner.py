"""Benchmark of the barcode scanner on one core: decode time per 1280x720 frame, frames/s, latency.

Frames: every real photo of ../shared/testdata/barcodes pasted (scaled to fit) at a random place
inside the centre guide box of a noisy 720p background, plus as many empty noisy frames.
Methods: the live pipeline (`FrameDecoder`), the same with the previous live policy (no stripes
step, the fixed 45° rotation), the thorough still-image path (`decode_frame`), plain pyzbar and
plain zxing-cpp on the full frame. Latency: generated MJPG videos where a code
appears at a known frame; latency = frames until accepted x 40 ms + the mean decode time.

Run:  PYTHONPATH=. .venv/bin/python bench/scanner.py [--shared ../shared/testdata] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FORMATS = {"Code 128": "CODE128", "Code 39": "CODE39", "EAN-13": "EAN13",
           "EAN-13 (+5-digit add-on)": "EAN13", "QR Code": "QR"}


def compose_frames(shared: Path, seed: int = 1):
    """(frame, expected value or None) pairs: photos on 720p backgrounds, and empty frames."""
    import cv2
    import numpy as np

    from device.scanner import synth
    from device.scanner.decode import roi_rect

    rng = np.random.default_rng(seed)
    folder = shared / "barcodes"
    with open(folder / "INDEX.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rx, ry, rw, rh = roi_rect((720, 1280), (0.75, 0.8))
    frames = []
    for i, row in enumerate(rows):
        photo = cv2.imread(str(folder / row["path"]), cv2.IMREAD_COLOR)
        h, w = photo.shape[:2]
        scale = min(1.0, (rw - 20) / w, (rh - 20) / h)
        if scale < 1.0:
            photo = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            h, w = photo.shape[:2]
        frame = synth.background(seed=i)
        x = rx + int(rng.integers(0, rw - w + 1))
        y = ry + int(rng.integers(0, rh - h + 1))
        noise = rng.normal(0, 4, photo.shape)
        frame[y:y + h, x:x + w] = np.clip(photo + noise, 0, 255).astype(np.uint8)
        expected = (folder / row["expected_value_file"]).read_text(encoding="utf-8")
        frames.append((frame, expected.replace("\r\n", "\n"), FORMATS[row["format"]]))
    # Empty frames come in a run, as in a real video between two books.
    frames += [(synth.background(seed=1000 + i), None, None) for i in range(len(rows))]
    return frames


def methods():
    """name -> callable(frame) returning a list of decoded values."""
    import cv2
    import zxingcpp
    from pyzbar import pyzbar

    from device.scanner.decode import FrameDecoder, decode_frame, read_zxing

    live = FrameDecoder()
    previous = FrameDecoder(rotate=False, fixed_angles=(45,))  # the live policy before stripes

    def run_live(frame):
        # A fresh strategy rotation per photo would flatter nothing: keep one decoder, as live.
        return [c.value for c in live.decode(frame)]

    return {
        "pipeline (live, ROI)": run_live,
        "pipeline (live, previous policy)": lambda f: [c.value for c in previous.decode(f)],
        "pipeline (scan-image)": lambda f: [c.value for c in decode_frame(f)],
        "pyzbar (full frame)": lambda f: [d.data.decode("utf-8", "replace") for d in
                                          pyzbar.decode(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY))],
        "zxing-cpp (full frame)": lambda f: [r.text for r in zxingcpp.read_barcodes(f)],
        "zxing-cpp (full frame, library formats)": lambda f: [c.value for c in read_zxing(f)],
    }


def bench_decode(frames, repeat: int):
    rows = []
    for name, fn in methods().items():
        times_code, times_empty, found = [], [], 0
        for _ in range(repeat):
            found = 0
            for frame, expected, _fmt in frames:
                t = time.perf_counter()
                values = fn(frame)
                dt = time.perf_counter() - t
                if expected is None:
                    times_empty.append(dt)
                else:
                    times_code.append(dt)
                    found += expected in {v.replace("\r\n", "\n") for v in values}
        all_t = times_code + times_empty
        mean = statistics.fmean(all_t)
        rows.append((name, mean * 1000, statistics.fmean(times_code) * 1000,
                     statistics.fmean(times_empty) * 1000,
                     sorted(all_t)[int(0.95 * (len(all_t) - 1))] * 1000, 1 / mean, found,
                     sum(e is not None for _, e, _ in frames)))
    return rows


def bench_latency():
    """(case, accepted frame - appearance frame, latency ms) for generated videos."""
    import cv2

    from device.scanner import synth
    from device.scanner.camera import iter_video

    cases = [("EAN-13 0°", synth.ean13_image("9785170910656", 3), 0),
             ("EAN-13 30°", synth.ean13_image("9785170910656", 3), 30),
             ("EAN-13 45°", synth.ean13_image("9785170910656", 3), 45),
             ("QR 20°", synth.qr_image("IBC:R:0001234", 6), 20)]
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, img, angle in cases:
            path = os.path.join(tmp, "v.avi")
            writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (1280, 720))
            appear = 10
            for i in range(30):
                frame = synth.background(seed=i)
                if i >= appear:
                    frame = synth.place(frame, img, center=(620 + 3 * i, 370), angle=angle,
                                        seed=i)
                writer.write(frame)
            writer.release()
            decode_times, accepted_at = [], None
            for res in _timed(iter_video(path), decode_times):
                if res.accepted and accepted_at is None:
                    accepted_at = res.frame_index
            mean_decode = statistics.fmean(decode_times) * 1000
            if accepted_at is None:
                out.append((name, None, None, mean_decode))
            else:
                frames = accepted_at - appear
                out.append((name, frames, frames * 40 + mean_decode, mean_decode))
    return out


def _timed(iterator, times):
    while True:
        t = time.perf_counter()
        try:
            item = next(iterator)
        except StopIteration:
            return
        times.append(time.perf_counter() - t)
        yield item


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "testdata")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    import cv2

    cv2.setNumThreads(1)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    frames = compose_frames(args.shared)
    print(f"{len(frames)} frames 1280x720 ({len(frames) // 2} with a photo, "
          f"{len(frames) // 2} empty), x{args.repeat}, one core, OpenCV {cv2.__version__}")
    rows = bench_decode(frames, args.repeat)
    print("| method | mean ms/frame | with code | empty | p95 | frames/s | photos read |")
    print("|---|---|---|---|---|---|---|")
    for name, mean, code, empty, p95, fps, found, total in rows:
        print(f"| {name} | {mean:.1f} | {code:.1f} | {empty:.1f} | {p95:.1f} | {fps:.0f} "
              f"| {found}/{total} |")
    base = {r[0]: r[1] for r in rows}
    live = base["pipeline (live, ROI)"]
    print(f"\nratios: pyzbar/live = {base['pyzbar (full frame)'] / live:.2f}, "
          f"zxing/live = {base['zxing-cpp (full frame)'] / live:.2f}, "
          f"scan-image/live = {base['pipeline (scan-image)'] / live:.2f}")
    print("\n| video case | frames after appearance | latency ms | mean decode ms/frame |")
    print("|---|---|---|---|")
    for name, frames_n, latency, dec in bench_latency():
        if frames_n is None:
            print(f"| {name} | not accepted | — | {dec:.1f} |")
        else:
            print(f"| {name} | {frames_n} | {latency:.0f} | {dec:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
