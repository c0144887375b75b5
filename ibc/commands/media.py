"""`ibc media scan DIR… | list | play ID`: the media library from the command line.

`scan` indexes folders (progress bar on stderr when it is a terminal; `--json` report);
`list` shows what a role may see; `play` plays one item through VLC on this station, with
`--projector` switching the projector on first. VLC is imported only by `play`.
"""

from __future__ import annotations

import json
import sys
import time


def register(sub) -> None:  # noqa: ANN001
    """Add the `media` subcommand (argparse only, nothing heavy imported)."""
    p = sub.add_parser("media", help="медиатека: сканирование, список, воспроизведение")
    msub = p.add_subparsers(dest="media_action", metavar="ACTION", required=True)
    s = msub.add_parser("scan", help="проиндексировать папки с медиафайлами")
    s.add_argument("dirs", nargs="*", metavar="DIR", help="папки (по умолчанию [media] roots)")
    s.add_argument("--json", action="store_true", help="отчёт в JSON")
    s.add_argument("--no-thumbnails", action="store_true", help="не делать миниатюры")
    ls = msub.add_parser("list", help="список материалов")
    ls.add_argument("--role", choices=("pupil", "teacher"), default="teacher")
    ls.add_argument("--json", action="store_true", help="вывод в JSON")
    pl = msub.add_parser("play", help="воспроизвести материал на этой станции")
    pl.add_argument("id", type=int, help="номер материала (из `ibc media list`)")
    pl.add_argument("--projector", action="store_true", help="включить проектор и вход")
    pl.add_argument("--headless", action="store_true", help="без изображения и звука (проверка)")
    p.set_defaults(run=run)


def run(args, ctx) -> int:  # noqa: ANN001
    """Dispatch one media action; returns the exit code."""
    return {"scan": _scan, "list": _list, "play": _play}[args.media_action](args, ctx)


def _data_dir(ctx):  # noqa: ANN001, ANN202
    from library.storage.database import default_data_dir

    return ctx.settings.data_dir or default_data_dir()


def _scan(args, ctx) -> int:  # noqa: ANN001
    from media.scan import scan

    dirs = args.dirs or list(ctx.settings.media.roots)
    if not dirs:
        print("ibc media scan: укажите папки или [media] roots в настройках", file=sys.stderr)
        return 2
    bar = _ProgressBar() if sys.stderr.isatty() else None
    report = scan(ctx.db, dirs, data_dir=_data_dir(ctx), progress=bar,
                  thumbnails=not args.no_thumbnails)
    if bar:
        bar.done()
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    else:
        print(f"Файлов: {report.files}; новых {report.added}, изменённых {report.updated}, "
              f"перемещённых {report.moved}, без изменений {report.unchanged}, "
              f"пропавших {report.missing}; {report.elapsed_s:.1f} с")
        for b in report.broken:
            print(f"  повреждён: {b['path']}: {b['error']}")
        for w in report.warnings:
            print(f"  внимание: {w}")
    return 0


def _list(args, ctx) -> int:  # noqa: ANN001
    from media.access import media_dict, visible_media

    with ctx.db.session() as s:
        items = [media_dict(i) for i in visible_media(s, args.role)]
    if args.json:
        print(json.dumps(items, ensure_ascii=False, indent=1))
        return 0
    for m in items:
        dur = f"{m['duration_s']:.0f} с" if m["duration_s"] else ""
        cls = f"{m['class_from']}–{m['class_to']} кл." if m["class_from"] is not None else ""
        print(f"{m['id']:>6}  {m['kind']:<12} {m['title'][:50]:<50} {m['subject'] or '':<15} "
              f"{cls:<9} {dur:>6}  {m['access']}")
    print(f"Всего: {len(items)}")
    return 0


def _play(args, ctx) -> int:  # noqa: ANN001
    from media.player import PlayerState
    from media.station import MediaError, MediaStation

    def on_event(ev: dict) -> None:
        if ev.get("kind") == "error" or ev.get("source") == "projector":
            print(f"{ev['source']}: {ev.get('state') or ''} {ev.get('message') or ''}".strip(),
                  file=sys.stderr)

    station = MediaStation.from_settings(ctx.settings, ctx.db, headless=args.headless,
                                         on_event=on_event)
    try:
        station.play(args.id, projector=args.projector)
        while station.player.state not in (PlayerState.ENDED, PlayerState.ERROR,
                                           PlayerState.STOPPED) or station.player.index < 0:
            time.sleep(0.2)
        return 1 if station.player.state is PlayerState.ERROR else 0
    except MediaError as exc:
        print(f"ibc media: {exc}", file=sys.stderr)
        return 1
    finally:
        station.close()


class _ProgressBar:
    """A one-line progress bar on stderr."""

    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last < 0.1 and done != total:
            return
        self._last = now
        names = {"walk": "поиск файлов", "probe": "анализ", "save": "запись"}
        if total:
            filled = int(30 * done / total)
            text = f"\r{names.get(phase, phase):<13} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}"
        else:
            text = f"\r{names.get(phase, phase):<13} {done}"
        sys.stderr.write(text.ljust(70))
        sys.stderr.flush()

    def done(self) -> None:
        """Clear the bar."""
        sys.stderr.write("\r" + " " * 70 + "\r")
        sys.stderr.flush()
