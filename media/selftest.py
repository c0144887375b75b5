"""`ibc doctor`'s playback check: open a real video and audio output and say which.

Loading libvlc proves nothing (a missing video output module still loads it and plays sound over
a black screen). So the check makes a 3-second test pattern with a tone (ffmpeg), plays it
through the same ``VlcPlayer`` a teacher uses, on the configured output, until VLC has chosen
its video and audio outputs and the pattern is on the screen (read back from the X server), and
reports the modules, the output and any failure in VLC's own words turned into ours.
"""

from __future__ import annotations

import glob
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from media.screen import Output

VOUT_PLUGINS = ("libxcb_x11_plugin.so", "libxcb_xv_plugin.so", "libgl_plugin.so")
PLUGIN_DIRS = ("/usr/lib/*/vlc/plugins/video_output", "/usr/lib/vlc/plugins/video_output",
               "/usr/local/lib/vlc/plugins/video_output")


@dataclass
class PlaybackReport:
    """What the check saw; ``status`` is OK, WARN or FAIL."""

    status: str
    detail: str
    hint: str = ""
    vout: str | None = None
    aout: str | None = None
    output: str | None = None
    problems: list[str] = field(default_factory=list)


def video_plugins() -> list[str]:
    """The X11 video output modules VLC has on this machine (empty: a film is a black screen)."""
    found = []
    for pattern in PLUGIN_DIRS:
        for directory in glob.glob(pattern):
            found += [p.removeprefix("lib").removesuffix("_plugin.so") for p in VOUT_PLUGINS
                      if Path(directory, p).exists()]
    return sorted(set(found))


def _pattern(path: Path) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
                    "-i", "testsrc2=size=640x360:rate=25", "-f", "lavfi",
                    "-i", "sine=frequency=440:sample_rate=48000", "-t", "3", "-c:v", "libx264",
                    "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)],
                   check=True, capture_output=True, timeout=30)


def _lit_centre(display: str | None, output: Output) -> bool:
    """True when the middle of the output shows something other than black."""
    from Xlib import X
    from Xlib import display as xdisplay

    dpy = xdisplay.Display(display)
    try:
        w, h = 64, 64
        x, y = output.x + output.width // 2 - w // 2, output.y + output.height // 2 - h // 2
        image = dpy.screen().root.get_image(x, y, w, h, X.ZPixmap, 0xFFFFFFFF)
        data = image.data if isinstance(image.data, bytes) else bytes(image.data)
        return sum(1 for b in data if b > 40) > len(data) // 8
    finally:
        dpy.close()


def check_playback(display_setting: str = "auto", audio_output: str = "",
                   timeout: float = 8.0) -> PlaybackReport:
    """Play a test pattern on the real outputs; never raises."""
    try:
        import vlc  # noqa: F401
    except (ImportError, OSError) as exc:
        return PlaybackReport("FAIL", f"libvlc не загружается: {exc}",
                              "установите пакеты libvlc5 vlc-plugin-base "
                              "vlc-plugin-video-output (./install.sh)")
    plugins = video_plugins()
    if not plugins:
        return PlaybackReport("FAIL", "у VLC нет модулей вывода видео: фильм будет чёрным "
                                      "экраном со звуком",
                              "установите пакет vlc-plugin-video-output (./install.sh)")
    from media.errors import ScreenUnavailable
    from media.screen import display_name, list_outputs

    display = display_name()
    try:
        outputs = list_outputs(display)
    except ScreenUnavailable as exc:
        return PlaybackReport("WARN", f"модули вывода видео есть ({', '.join(plugins)}); "
                                      f"экран не проверен: {exc}",
                              "запустите на компьютере с проектором из его сеанса "
                              "(например DISPLAY=:0 ibc doctor)")
    if shutil.which("ffmpeg") is None:
        return PlaybackReport("FAIL", "нет ffmpeg: миниатюры и проверка видео невозможны",
                              "установите пакет ffmpeg (./install.sh)")
    from media.errors import PlayerUnavailable
    from media.player import PlayerState, PlayItem
    from media.vlc_player import VlcPlayer

    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ibc-doctor-") as tmp:
        clip = Path(tmp) / "pattern.mp4"
        try:
            _pattern(clip)
        except (subprocess.SubprocessError, OSError) as exc:
            return PlaybackReport("FAIL", f"ffmpeg не сделал тестовый ролик: {exc}",
                                  "переустановите пакет ffmpeg")
        try:
            player = VlcPlayer(lambda ev: problems.append(ev.message or "")
                               if ev.kind == "error" else None,
                               display=display_setting, audio_output=audio_output)
        except PlayerUnavailable as exc:
            return PlaybackReport("FAIL", str(exc), "проверьте [media] audio_output")
        shown = False
        try:
            player.load([PlayItem(str(clip), "проверка")])
            player.play()
            deadline = time.monotonic() + max(2.0, timeout - 1.0)
            while time.monotonic() < deadline and not problems:
                screen = player.screen_status()
                if player.state is PlayerState.PLAYING and player.log.vout and screen \
                        and player.log.aout:
                    window = player._window  # noqa: SLF001  (the output it covers)
                    if window is not None and _lit_centre(display, window.output):
                        shown = True
                        break
                time.sleep(0.1)
            vout, aout = player.log.vout, player.log.aout
            where = player.screen_status()
        finally:
            player.close()
    output = where["output"] if where else ", ".join(o.describe() for o in outputs)
    report = PlaybackReport("OK", "", vout=vout, aout=aout, output=output, problems=problems)
    if problems:
        report.status, report.detail = "FAIL", "; ".join(dict.fromkeys(problems))
        report.hint = "см. журнал: journalctl -u ibc-kiosk -u ibc-server | grep vlc"
    elif not shown:
        report.status = "FAIL"
        report.detail = (f"тестовая картинка не появилась на {output} за {timeout:g} с "
                         f"(вывод видео: {vout or 'не выбран'}, звук: {aout or 'не выбран'})")
        report.hint = "проверьте, что проектор подключён и [media] display указывает его выход"
    else:
        report.detail = f"видео: {vout} на {output}, картинка на экране; звук: {aout}"
    return report
