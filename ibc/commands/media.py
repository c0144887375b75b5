"""`ibc media scan DIR… | list | play ID`: the media library from the command line.

`scan` indexes folders (progress bar on stderr when it is a terminal; `--json` report;
`--school SIGLA`: the items found are that school's, else new ones are shared by the city);
`list` shows what a role may see (`--school`: what that school's terminals list); `play`
plays one item through VLC on this station, with
`--projector` switching the projector on first. VLC is imported only by `play`.
`remote` drives the school server's media station over the API (a terminal token and a
teacher's or staff card), for technicians checking a station.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from ibc.commands import Subparsers
    from ibc.context import Context


def register(sub: Subparsers) -> None:
    """Add the `media` subcommand (argparse only, nothing heavy imported)."""
    p = sub.add_parser("media", help="медиатека: сканирование, список, воспроизведение")
    msub = p.add_subparsers(dest="media_action", metavar="ACTION", required=True)
    s = msub.add_parser("scan", help="проиндексировать папки с медиафайлами")
    s.add_argument("dirs", nargs="*", metavar="DIR", help="папки (по умолчанию [media] roots)")
    s.add_argument("--json", action="store_true", help="отчёт в JSON")
    s.add_argument("--no-thumbnails", action="store_true", help="не делать миниатюры")
    s.add_argument("--school", metavar="SIGLA",
                   help="материалы этих папок — школы SIGLA (без него новые — общие для города)")
    ls = msub.add_parser("list", help="список материалов")
    ls.add_argument("--role", choices=("pupil", "teacher", "staff"), default="teacher")
    ls.add_argument("--school", metavar="SIGLA",
                    help="только то, что видят терминалы школы: её материалы и общие")
    ls.add_argument("--json", action="store_true", help="вывод в JSON")
    pl = msub.add_parser("play", help="воспроизвести материал на этой станции")
    pl.add_argument("id", type=int, help="номер материала (из `ibc media list`)")
    pl.add_argument("--projector", action="store_true", help="включить проектор и вход")
    pl.add_argument("--headless", action="store_true", help="без изображения и звука (проверка)")
    _register_remote(msub)
    p.set_defaults(run=run)


def _register_remote(msub: Subparsers) -> None:
    """`ibc media remote ACTION`: the server's media station, as a teacher at a terminal."""
    r = msub.add_parser("remote", help="пульт медиастанции сервера (для техника)")
    r.add_argument("--url", help="адрес сервера (по умолчанию [server] url или 127.0.0.1:port)")
    r.add_argument("--token", help="токен терминала (или переменная IBC_TERMINAL_TOKEN)")
    r.add_argument("--card", help="билет учителя или сотрудника (или IBC_REMOTE_CARD)")
    r.add_argument("--pin", help="ПИН-код билета, если нужен")
    r.add_argument("--json", action="store_true", help="состояние в JSON")
    rsub = r.add_subparsers(dest="remote_action", metavar="ACTION", required=True)
    rsub.add_parser("status", help="что играет, позиция, проектор")
    rp = rsub.add_parser("play", help="воспроизвести материал")
    rp.add_argument("id", type=int, help="номер материала")
    rp.add_argument("--projector", action="store_true", help="включить проектор и вход")
    for name, text in (("pause", "пауза"), ("resume", "продолжить"), ("stop", "остановить")):
        rsub.add_parser(name, help=text)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Dispatch one media action; returns the exit code."""
    return {"scan": _scan, "list": _list, "play": _play,
            "remote": _remote}[args.media_action](args, ctx)


def _data_dir(ctx: Context) -> str | Path:
    from library.storage.database import default_data_dir

    return ctx.settings.data_dir or default_data_dir()


def _scan(args: argparse.Namespace, ctx: Context) -> int:
    from media.scan import scan

    dirs = args.dirs or list(ctx.settings.media.roots)
    if not dirs:
        print("ibc media scan: укажите папки или [media] roots в настройках", file=sys.stderr)
        return 2
    school = _school(args, ctx)
    if school == "":
        return 1
    bar = _ProgressBar() if sys.stderr.isatty() else None
    report = scan(ctx.db, dirs, data_dir=_data_dir(ctx), progress=bar,
                  thumbnails=not args.no_thumbnails, media_roots=ctx.settings.media.roots,
                  school=school)
    _warn_unserved(dirs, ctx.settings.media.roots, report.warnings)
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
        for k in report.skipped:
            print(f"  пропущен: {k['path']}: {k['reason']}")
        for w in report.warnings:
            print(f"  внимание: {w}")
    return 0


def _warn_unserved(dirs: list[str], configured: list[str], warnings: list[str]) -> None:
    """The server serves files only from `[media] roots`: say so for a folder outside them."""
    from media.roots import is_inside, real_roots

    allowed = real_roots(configured)
    for d in dirs:
        real = os.path.realpath(d)
        if os.path.isdir(real) and not is_inside(real, allowed):
            warnings.append(f"{d}: папки нет в [media] roots — сервер не будет отдавать "
                            f"её файлы терминалам")


def _school(args: argparse.Namespace, ctx: Context) -> str | None:
    """The school of `--school` as stored (None: not given; "" after saying it does not exist)."""
    from library.i18n import translator
    from library.schools import SchoolError, ensure_default, require_school

    if args.school is None:
        return None
    home = ctx.settings.school
    try:
        with ctx.db.transaction() as s:
            ensure_default(s, home.sigla, home.name)
            return require_school(s, args.school).sigla
    except SchoolError as exc:
        print(f"ibc media: {exc.message(translator(ctx.settings.ui.language))}", file=sys.stderr)
        return ""


def _list(args: argparse.Namespace, ctx: Context) -> int:
    from media.access import media_dict, visible_media

    school = _school(args, ctx)
    if school == "":
        return 1
    with ctx.db.session() as s:
        items = [media_dict(i) for i in visible_media(s, args.role, school=school)]
    if args.json:
        print(json.dumps(items, ensure_ascii=False, indent=1))
        return 0
    for m in items:
        dur = f"{m['duration_s']:.0f} с" if m["duration_s"] else ""
        cls = f"{m['class_from']}–{m['class_to']} кл." if m["class_from"] is not None else ""
        print(f"{m['id']:>6}  {m['kind']:<12} {m['title'][:50]:<50} {m['subject'] or '':<15} "
              f"{cls:<9} {dur:>6}  {m['access']}  {m['school'] or 'общий'}")
    print(f"Всего: {len(items)}")
    return 0


def _play(args: argparse.Namespace, ctx: Context) -> int:
    from media.errors import MediaError
    from media.player import PlayerState
    from media.station import MediaStation

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


def _remote(args: argparse.Namespace, ctx: Context) -> int:
    import os

    from kiosk.terminal.api import ApiClient, ClientError

    cfg = ctx.settings.server
    scheme = "https" if cfg.tls == "on" else "http"
    url = args.url or cfg.url or f"{scheme}://127.0.0.1:{cfg.port}"
    server_cert = None
    if url.startswith("https://"):  # this machine's server: trust its own certificate
        from server import tls

        found = tls.load(ctx.settings, _data_dir(ctx))
        server_cert = found.pem if found is not None else None
    token = args.token or os.environ.get("IBC_TERMINAL_TOKEN", "")
    card = args.card or os.environ.get("IBC_REMOTE_CARD", "")
    if not token or not card:
        print("ibc media remote: нужны токен терминала (--token) и билет учителя (--card)",
              file=sys.stderr)
        return 2
    with ApiClient(url, token, timeout=15, server_cert=server_cert) as client:
        try:
            client.open_session(card, args.pin)
            try:
                act = args.remote_action
                if act == "status":
                    state = client.media_station()
                elif act == "play":
                    state = client.media_play(args.id, projector=args.projector)
                else:
                    state = client.media_control(act)
            finally:
                client.end_session()
        except ClientError as exc:
            print(f"ibc media remote: {getattr(exc, 'message', '') or exc}", file=sys.stderr)
            return 1
    if args.json:
        print(json.dumps(state, ensure_ascii=False, indent=1))
    else:
        _print_station(state)
    return 0


def _print_station(st: dict) -> None:
    """The station's state in a few Russian lines."""
    if not st["enabled"]:
        print("Медиастанция на сервере не включена ([media] station)")
        return
    names = {"idle": "ничего не играет", "opening": "открывается", "playing": "играет",
             "paused": "пауза", "stopped": "остановлено", "ended": "закончилось",
             "error": "ошибка"}
    what = f"«{st['title']}» ({st['media_id']})" if st["title"] else ""
    dur = f" из {st['duration_s']:.0f}" if st["duration_s"] else ""
    print(f"{names.get(st['state'], st['state'])} {what} {st['position_s']:.0f} с{dur}, "
          f"громкость {st['volume']}".replace("  ", " "))
    pr = st["projector"]
    if pr["configured"]:
        print(f"проектор: {pr['state']}, питание {pr['power'] or '?'}, вход {pr['input'] or '?'}")
        if pr["last_error"]:
            print(f"  ошибка проектора: {pr['last_error']}")
    if st["last_error"]:
        print(f"ошибка плеера: {st['last_error']}")


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
