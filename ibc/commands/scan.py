"""`ibc scan-image FILE...` and `ibc scan-video FILE`: decode barcodes from files.

scan-image runs the thorough still-image path (both decoders, variants when nothing is found);
scan-video runs the live camera pipeline (region of interest, consecutive-frame confirmation,
repeat suppression) over a video file frame by frame. OpenCV and the decoders are imported
inside `run` only. Exit status: 0 some code found, 1 none found, 2 an error (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cv2.typing import MatLike

    from device.scanner.codes import Format
    from ibc.commands import Subparsers
    from ibc.context import Context


def register(sub: Subparsers) -> None:
    """Add the `scan-image` and `scan-video` subcommands."""
    p = sub.add_parser("scan-image", help="decode barcodes in image files (thorough)")
    p.add_argument("files", nargs="+", metavar="FILE", help="image files (PNG, JPEG, ...)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--formats", metavar="LIST",
                   help="comma-separated formats, e.g. ean13,code128,qr (default: library set)")
    p.add_argument("--code39-check", action="store_true",
                   help="require and strip a Code 39 mod-43 check character")
    p.set_defaults(run=run, scan_mode="image")

    v = sub.add_parser("scan-video", help="run the live camera pipeline over a video file")
    v.add_argument("file", metavar="FILE", help="video file (AVI, MP4, ...)")
    v.add_argument("--json", action="store_true", help="machine-readable output")
    v.add_argument("--confirm", type=int, metavar="N",
                   help="equal reads on consecutive frames needed (default: settings)")
    v.add_argument("--formats", metavar="LIST", help="comma-separated formats")
    v.set_defaults(run=run, scan_mode="video")


def _fail(message: str) -> int:
    print(f"ibc: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Dispatch to the image or video scan; returns the exit status."""
    from device.scanner.codes import parse_formats
    from device.scanner.errors import ScannerError

    try:
        formats = parse_formats(args.formats) if args.formats else None
        if args.scan_mode == "video":
            return _scan_video(args, ctx, formats)
        return _scan_images(args, formats)
    except ValueError as exc:
        return _fail(str(exc))
    except ScannerError as exc:
        return _fail(str(exc))


def _read_image(path: str) -> MatLike:
    import os

    import cv2

    from device.scanner.errors import ImageUnreadable

    if not os.path.exists(path):
        raise ImageUnreadable(path, "файл не найден")
    if os.path.isdir(path):
        raise ImageUnreadable(path, "это каталог, а не изображение")
    try:
        image = cv2.imread(path, cv2.IMREAD_COLOR)
    except cv2.error as exc:
        raise ImageUnreadable(path, "не удалось прочитать изображение") from exc
    if image is None:
        raise ImageUnreadable(path, "не изображение или формат не поддерживается")
    return image


def _scan_images(args: argparse.Namespace, formats: tuple[Format, ...] | None) -> int:
    from device.scanner.decode import decode_frame
    from device.scanner.errors import ImageUnreadable

    report = []
    errors = found = 0
    for path in args.files:
        try:
            image = _read_image(path)
        except ImageUnreadable as exc:
            errors += 1
            print(f"ibc: {exc}", file=sys.stderr)
            report.append({"file": path, "error": str(exc), "codes": []})
            continue
        codes = decode_frame(image, formats, code39_check=args.code39_check, source=path)
        found += bool(codes)
        report.append({"file": path, "codes": [c.to_dict() for c in codes]})
        if not args.json:
            if not codes:
                print(f"{path}: штрихкод не найден")
            for c in codes:
                extra = f" (ISBN, доп. код {c.addon})" if c.addon else " (ISBN)" if c.is_isbn else ""
                value = c.value.replace("\r\n", "\n").replace("\n", "\\n")
                print(f"{path}: {c.format.value} {value}{extra}")
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    if errors:
        return 2
    return 0 if found else 1


def _scan_video(args: argparse.Namespace, ctx: Context, formats: tuple[Format, ...] | None) -> int:
    import os

    # FFmpeg prints its own lines for broken files; our one-line error says it (read at open).
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    from device.scanner.camera import iter_video

    settings = ctx.settings.scanner
    confirm = args.confirm if args.confirm is not None else settings.confirm_frames
    if confirm < 1:
        return _fail("--confirm должно быть не меньше 1")
    if not os.path.isfile(args.file):
        return _fail(f"{args.file}: видеофайл не найден")
    accepted = []
    frames = 0
    for result in iter_video(args.file, confirm, settings.repeat_suppress_s, formats):
        frames += 1
        for code in result.accepted:
            accepted.append({"format": code.format.value, "value": code.value,
                             "frame": result.frame_index, "time": round(result.t, 3)})
            if not args.json:
                print(f"кадр {result.frame_index} ({result.t:.2f} с): "
                      f"{code.format.value} {code.value}")
    if frames == 0:
        return _fail(f"{args.file}: в файле нет кадров видео")
    if args.json:
        print(json.dumps({"file": args.file, "frames": frames, "accepted": accepted},
                         ensure_ascii=False))
    elif not accepted:
        print(f"{args.file}: штрихкод не найден ({frames} кадров)")
    return 0 if accepted else 1
