"""Reading technical metadata of media files: ffprobe for audio/video, header checks for the rest.

Images, PDF and presentations take a fast path (a few header bytes read in Python, no
subprocess), because a school library holds thousands of them and ffprobe costs ~30 ms a file.
Every failure becomes ``ProbeResult.error`` (a Russian reason), never an exception.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

from media.kinds import AUDIO, IMAGE, KIND_RU, PDF, PRESENTATION, VIDEO

EDGE = 64 * 1024
FFPROBE = os.environ.get("IBC_FFPROBE", "ffprobe")
FFMPEG = os.environ.get("IBC_FFMPEG", "ffmpeg")
TIMEOUT_S = 60.0


@dataclass
class ProbeResult:
    """What a probe learnt; ``error`` set means the file is broken."""

    duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    codecs: str | None = None
    title: str | None = None
    error: str | None = None


def fingerprint(path: str | os.PathLike[str], size: int) -> str:
    """SHA-1 of the size and the first and last 64 KiB: recognises a moved file cheaply."""
    h = hashlib.sha1(str(size).encode())
    with open(path, "rb") as fh:
        h.update(fh.read(EDGE))
        if size > 2 * EDGE:
            fh.seek(size - EDGE)
            h.update(fh.read(EDGE))
        elif size > EDGE:
            h.update(fh.read())
    return h.hexdigest()


def probe(path: str | os.PathLike[str], kind: str) -> ProbeResult:
    """Probe one file of the given kind; never raises."""
    try:
        if kind in (VIDEO, AUDIO):
            return _ffprobe(Path(path), kind)
        with open(path, "rb") as fh:
            head = fh.read(4096)
        if kind == IMAGE:
            dims = image_size(head)
            if dims is None:
                return _ffprobe(Path(path), kind)
            return ProbeResult(width=dims[0], height=dims[1], codecs=dims[2])
        if kind == PDF:
            if b"%PDF-" not in head[:1024]:
                return ProbeResult(error="не PDF: нет заголовка %PDF-")
            return ProbeResult(codecs="pdf")
        if kind == PRESENTATION:
            if head.startswith(b"PK\x03\x04"):
                return ProbeResult(codecs="zip")
            if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
                return ProbeResult(codecs="ole")
            return ProbeResult(error="не презентация: неизвестный формат файла")
        return ProbeResult(error=f"неизвестный вид файла {kind!r}")
    except OSError as exc:
        return ProbeResult(error=f"файл не читается: {exc.strerror or exc}")


def image_size(head: bytes) -> tuple[int, int, str] | None:
    """(width, height, format) from the first bytes of PNG, GIF, BMP or JPEG; else None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
        w, h = struct.unpack(">II", head[16:24])
        return w, h, "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        w, h = struct.unpack("<HH", head[6:10])
        return w, h, "gif"
    if head.startswith(b"BM") and len(head) >= 26:
        w, h = struct.unpack("<ii", head[18:26])
        return w, abs(h), "bmp"
    if head.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(head):
            if head[i] != 0xFF:
                return None
            marker = head[i + 1]
            seg = struct.unpack(">H", head[i + 2:i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD,
                          0xCE, 0xCF):
                h, w = struct.unpack(">HH", head[i + 5:i + 9])
                return w, h, "jpeg"
            i += 2 + seg
    return None


def _ffprobe(path: Path, kind: str) -> ProbeResult:
    cmd = [FFPROBE, "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
           str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_S, check=False)
    except FileNotFoundError:
        return ProbeResult(error="ffprobe не установлен (пакет ffmpeg)")
    except subprocess.TimeoutExpired:
        return ProbeResult(error=f"ffprobe не ответил за {TIMEOUT_S:g} с")
    reason = proc.stderr.decode("utf-8", "replace").replace(f"{path}: ", "").strip().splitlines()
    what = KIND_RU.get(kind, kind)
    if proc.returncode != 0:
        return ProbeResult(error=f"не читается как {what}: {reason[-1] if reason else 'ffprobe'}")
    try:
        data = json.loads(proc.stdout or b"{}")
    except ValueError:
        return ProbeResult(error="ffprobe выдал непонятный ответ")
    streams = data.get("streams") or []
    fmt = data.get("format") or {}
    video = [s for s in streams if s.get("codec_type") == "video"
             and not (s.get("disposition") or {}).get("attached_pic")]
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    if kind == VIDEO and not video or kind == AUDIO and not audio or not (video or audio):
        return ProbeResult(error=f"не читается как {what}: нет нужной дорожки")
    res = ProbeResult()
    try:
        res.duration_s = round(float(fmt["duration"]), 3) if fmt.get("duration") else None
    except ValueError:
        pass
    if video:
        res.width, res.height = video[0].get("width"), video[0].get("height")
    names = [s.get("codec_name") for s in video[:1] + audio[:1] if s.get("codec_name")]
    res.codecs = ",".join(names) or None
    tags = {k.lower(): v for k, v in (fmt.get("tags") or {}).items()}
    res.title = (tags.get("title") or "").strip() or None
    if kind in (VIDEO, AUDIO) and not res.duration_s:
        return ProbeResult(error=f"не читается как {what}: неизвестна длительность")
    return res


def make_thumbnail(path: str | os.PathLike[str], kind: str, out_dir: Path, digest: str,
                   duration_s: float | None = None) -> str | None:
    """One frame as a 320-pixel-wide PNG under ``out_dir``; images are their own thumbnail."""
    if kind == IMAGE:
        return str(path)
    if kind != VIDEO:
        return None
    out = out_dir / f"{digest}.png"
    if out.exists():
        return str(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    at = min(1.0, (duration_s or 0) / 10)
    cmd = [FFMPEG, "-nostdin", "-v", "error", "-y", "-ss", f"{at:.2f}", "-i", str(path),
           "-frames:v", "1", "-vf", "scale=320:-2", str(out)]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return str(out) if proc.returncode == 0 and out.exists() else None
