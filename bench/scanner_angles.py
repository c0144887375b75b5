"""Benchmark: 1-D codes at any angle, tilted, blurred, dim — the live path against plain decoders.

Generated 1280x720 frames (device/scanner/synth.py `held`): each code held at 0-175° in 5°
steps for three consecutive frames, under five conditions (plain; tilted 40° alternately left
and right; Gaussian blur sigma 1.5; 4 pixels of motion across the bars; a third of the light
with more sensor noise). Codes: an ISBN EAN-13 (3-pixel modules, 351 px), the demo's reader
card 2000000183 as Code 128 (3 px), the demo's copy barcode 2100000000012 as Code 128 (2.5 px),
and the card as a QR code.

Per held code: "live accepted" = the live pipeline (FrameDecoder + two-frame confirmation)
accepted it within the three frames; every other column reads the first frame alone: the
live decoder, the previous live policy (zxing-cpp on the region, its 45° rotation, pyzbar every
third empty frame), zxing-cpp with try_rotate on the full frame and on the region, pyzbar on
the full frame, and the thorough still-image path (`decode_frame`, ``ibc scan-image``).
Timing: one core, ``cv2.setNumThreads(1)``; the live decoder's time is over every frame of the
sweep plus a run of empty noisy frames and of frames of printed text with no code.

Run:  PYTHONPATH=. .venv/bin/python bench/scanner_angles.py [--step 5] [--methods all]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ISBN, CARD, COPY = "9785170910656", "2000000183", "2100000000012"
CONDITIONS = ("plain", "tilt", "blur", "motion", "dim")


def codes():
    """name -> (grayscale picture, expected value)."""
    from device.scanner import synth

    return {
        "EAN-13": (synth.ean13_image(ISBN, 3), ISBN),
        "Code 128 card": (synth.code128_image(CARD, 3), CARD),
        "Code 128 copy": (synth.code128_image(COPY, 2.5), COPY),
        "QR card": (synth.qr_image(CARD, 6), CARD),
    }


def single_frame_methods():
    """name -> callable(frame) -> list of values, for the first frame of each held code."""

    from device.scanner.decode import FrameDecoder, decode_frame, read_zbar, read_zxing, roi_rect

    def roi(frame):
        x, y, w, h = roi_rect(frame.shape, (0.75, 0.8))
        return frame[y:y + h, x:x + w]

    return {
        "live decoder": lambda f: [c.value for c in FrameDecoder().decode(f)],
        "previous live policy": lambda f: [c.value for c in FrameDecoder(
            rotate=False, fixed_angles=(45,)).decode(f)],
        # plain zxing-cpp, restricted to the library's formats (all formats find junk in noise)
        "zxing-cpp full frame (try_rotate)": lambda f: [c.value for c in read_zxing(f)],
        "zxing-cpp region (try_rotate)": lambda f: [c.value for c in read_zxing(roi(f))],
        "pyzbar full frame": lambda f: [c.value for c in read_zbar(f)],
        "thorough still path (decode_frame)": lambda f: [c.value for c in decode_frame(f)],
    }


def bucket(angle: int) -> str:
    lo = angle // 15 * 15
    return f"{lo}-{lo + 15}"


def run(step: int, methods: set[str] | None):
    from device.scanner import synth
    from device.scanner.decode import FrameDecoder
    from device.scanner.pipeline import LivePipeline

    single = {k: v for k, v in single_frame_methods().items() if methods is None or k in methods}
    # (method, condition, code, bucket) -> [read, total]; wrong values per method
    hits: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    wrong: dict[str, int] = defaultdict(int)
    times: dict[str, list[float]] = defaultdict(list)
    for cond in CONDITIONS:
        for name, (img, expected) in codes().items():
            for n, angle in enumerate(range(0, 180, step)):
                frames = synth.held(img, angle, cond, frames=3, seed=n)
                pipeline = LivePipeline(FrameDecoder())
                accepted = []
                for i, frame in enumerate(frames):
                    t = time.perf_counter()
                    result = pipeline.process(frame, i, i / 25)
                    times["live"].append(time.perf_counter() - t)
                    accepted += [c.value for c in result.accepted]
                    wrong["live accepted"] += sum(c.value != expected for c in result.accepted)
                key = ("live accepted", cond, name, bucket(angle))
                hits[key][0] += expected in accepted
                hits[key][1] += 1
                for method, fn in single.items():
                    t = time.perf_counter()
                    values = fn(frames[0])
                    times[method].append(time.perf_counter() - t)
                    key = (method, cond, name, bucket(angle))
                    hits[key][0] += expected in values
                    hits[key][1] += 1
                    wrong[method] += sum(v != expected for v in values)
        print(f"  {cond} done", file=sys.stderr, flush=True)
    return hits, wrong, times


def empty_times(n: int = 60) -> list[float]:
    """The live decoder (one instance, as in a video) on empty noisy frames and text frames."""
    import cv2

    from device.scanner import synth
    from device.scanner.decode import FrameDecoder

    frames = [synth.background(seed=500 + i) for i in range(n)]
    for i in range(n):
        text = synth.background(seed=700 + i)
        for k, line in enumerate(("War and Peace  Leo Tolstoy", "Eugene Onegin  1833",
                                  "ISBN 978-5-17-091065-6")):
            cv2.putText(text, line, (200 + 10 * (i % 7), 220 + 130 * k),
                        cv2.FONT_HERSHEY_SIMPLEX, 1.6, (40, 40, 40), 3)
        frames.append(text)
    dec = FrameDecoder()
    out = []
    for frame in frames:
        t = time.perf_counter()
        dec.decode(frame)
        out.append(time.perf_counter() - t)
    return out


def table(hits, wrong, method_names, rows, row_key, header) -> None:
    print(f"| {header} | " + " | ".join(method_names) + " |")
    print("|---" * (len(method_names) + 1) + "|")
    for row in rows:
        cells = []
        for m in method_names:
            read = total = 0
            for (method, cond, code, b), (r, t) in hits.items():
                if method == m and row_key(cond, code, b) == row:
                    read, total = read + r, total + t
            cells.append(f"{100 * read / total:.0f}%" if total else "—")
        print(f"| {row} | " + " | ".join(cells) + " |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=int, default=5, help="degrees between angles")
    parser.add_argument("--methods", default="all",
                        help="comma-separated single-frame methods, 'live' for none, or 'all'")
    args = parser.parse_args(argv)
    import cv2

    cv2.setNumThreads(1)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    methods = None if args.methods == "all" else set(args.methods.split(",")) - {"live"}
    hits, wrong, times = run(args.step, methods)
    names = ["live accepted"] + [m for m in single_frame_methods()
                                 if methods is None or m in methods]
    n_angles = len(range(0, 180, args.step))
    print(f"{n_angles} angles x {len(CONDITIONS)} conditions x {len(codes())} codes, "
          f"3 frames each; one core, OpenCV {cv2.__version__}\n")
    print("Read rate per angle bucket, 1-D codes (EAN-13 and both Code 128), plain condition:\n")
    buckets = [f"{lo}-{lo + 15}" for lo in range(0, 180, 15)]
    table({k: v for k, v in hits.items() if k[2] != "QR card" and k[1] == "plain"}, wrong,
          names, buckets, lambda c, code, b: b, "angles °")
    print("\nRead rate per condition (all angles), 1-D codes:\n")
    table({k: v for k, v in hits.items() if k[2] != "QR card"}, wrong, names,
          list(CONDITIONS), lambda c, code, b: c, "condition")
    print("\nRead rate per code (all angles and conditions):\n")
    table(hits, wrong, names, list(codes()), lambda c, code, b: code, "code")
    print("\nWrong values (single-frame reads; 'live accepted': accepted codes):\n")
    print("| " + " | ".join(names) + " |\n" + "|---" * len(names) + "|")
    print("| " + " | ".join(str(wrong[m]) for m in names) + " |")
    empty = empty_times()
    sweep = times["live"]
    everything = sweep + empty
    print("\nLive decoder time per 1280x720 frame (one core):\n")
    print("| frames | mean ms | p95 ms | frames/s |\n|---|---|---|---|")
    for label, ts in (("sweep (a code in view)", sweep), ("empty and printed text", empty),
                      ("all", everything)):
        mean = statistics.fmean(ts)
        p95 = sorted(ts)[int(0.95 * (len(ts) - 1))]
        print(f"| {label} | {mean * 1000:.1f} | {p95 * 1000:.1f} | {1 / mean:.0f} |")
    print("\nSingle-frame methods, mean ms per frame:\n")
    print("| method | mean ms |\n|---|---|")
    for m in names[1:]:
        print(f"| {m} | {statistics.fmean(times[m]) * 1000:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
