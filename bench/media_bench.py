"""Media benchmark: scan rate over 10,000 generated small files and play command → Playing.

Run: .venv/bin/python bench/media_bench.py [--files 10000] [--db URL]
The tree mixes PNG images, PDFs and a few short MP3s (~2 %, probed with ffprobe); a rescan
after changing 1 % of the files measures the incremental path (target < 2 s). Play latency is
measured with libvlc and dummy outputs (target ≤ 300 ms).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _png(w: int, h: int, seed: int) -> bytes:
    raw = b"".join(b"\0" + bytes([(seed + x + y) % 256 for x in range(w)]) for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def generate(root: Path, n: int, mp3: Path) -> list[Path]:
    """n files in subject/class folders: PNG, PDF and ~2 % MP3."""
    files = []
    subjects = ["История", "Биология", "Литература", "Физика", "Музыка"]
    for i in range(n):
        folder = root / subjects[i % 5] / f"{5 + i % 5}-{6 + i % 5} класс" / f"тема_{i % 40}"
        folder.mkdir(parents=True, exist_ok=True)
        if i % 50 == 0:
            path = folder / f"запись_{i}.mp3"
            shutil.copy(mp3, path)
        elif i % 3 == 0:
            path = folder / f"документ_{i}.pdf"
            path.write_bytes(b"%PDF-1.4\n% " + str(i).encode() + b"\n%%EOF\n")
        else:
            path = folder / f"рисунок_{i}.png"
            path.write_bytes(_png(16, 12, i))
        files.append(path)
    return files


def bench_scan(n: int, url: str | None, tmp: Path) -> dict:
    """First scan, unchanged rescan, and a rescan with 1 % of files changed."""
    from library.storage.database import open_database
    from media.scan import scan

    mp3 = tmp / "tone.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                    "sine=duration=1", str(mp3)], check=True)
    root = tmp / "lib"
    t = time.perf_counter()
    files = generate(root, n, mp3)
    gen_s = time.perf_counter() - t
    db = open_database(url or f"sqlite:///{tmp / 'bench.sqlite3'}")
    data = tmp / "data"
    try:
        first = scan(db, [root], data_dir=data)
        same = scan(db, [root], data_dir=data)
        for p in files[7::100]:  # 1 %: a natural mix (mostly images and PDFs)
            with open(p, "ab") as fh:
                fh.write(b"\0")
        changed = scan(db, [root], data_dir=data)
    finally:
        db.dispose()
    return {"files": n, "generate_s": gen_s, "first_s": first.elapsed_s,
            "first_rate": n / first.elapsed_s, "probed_first": first.probed,
            "rescan_same_s": same.elapsed_s, "rescan_1pct_s": changed.elapsed_s,
            "probed_rescan": changed.probed, "updated": changed.updated}


def bench_play(tmp: Path, runs: int = 10) -> dict:
    """Time from play() to the Playing state, libvlc with dummy outputs."""
    from media.player import PlayerState, PlayItem, make_player

    video = tmp / "v.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc=duration=3:size=640x360:rate=25", "-f", "lavfi", "-i",
                    "sine=duration=3", "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", "-shortest", str(video)], check=True)
    t0 = time.perf_counter()
    player = make_player("vlc", headless=True)
    create_ms = (time.perf_counter() - t0) * 1000
    times = []
    try:
        for _ in range(runs):
            player.load([PlayItem(str(video))])
            t = time.perf_counter()
            player.play()
            while player.state is not PlayerState.PLAYING:
                if time.perf_counter() - t > 5:
                    raise RuntimeError("VLC did not start")
                time.sleep(0.001)
            times.append((time.perf_counter() - t) * 1000)
            player.stop()
    finally:
        player.close()
    times.sort()
    return {"instance_ms": create_ms, "median_ms": statistics.median(times),
            "max_ms": times[-1], "runs": runs}


def main() -> int:
    """Run both benchmarks and print the figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ibc-media-bench-") as d:
        tmp = Path(d)
        s = bench_scan(args.files, args.db, tmp)
        print(f"generated {s['files']} files in {s['generate_s']:.1f} s")
        print(f"first scan: {s['first_s']:.2f} s ({s['first_rate']:.0f} files/s, "
              f"{s['probed_first']} probed)")
        print(f"rescan, nothing changed: {s['rescan_same_s']:.2f} s")
        print(f"rescan, 1 % changed: {s['rescan_1pct_s']:.2f} s "
              f"({s['probed_rescan']} probed, {s['updated']} updated)")
        p = bench_play(tmp)
        print(f"play → Playing: median {p['median_ms']:.0f} ms, max {p['max_ms']:.0f} ms "
              f"over {p['runs']} runs (libvlc instance {p['instance_ms']:.0f} ms, once)")
    print(f"cpus: {os.cpu_count()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
