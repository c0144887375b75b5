"""libvlc's own log, caught: which outputs VLC chose, and its failures in plain Russian.

libvlc prints nothing useful to a teacher: when the video output module is missing it goes on
playing sound over a black screen and says so only in its log ("video output creation
failed"). ``VlcLog`` installs a log callback on an instance (``libvlc_log_set``), formats each
message with the C library's ``vsnprintf`` (libvlc hands over a printf format and a va_list),
remembers the video and audio output modules VLC reports ("using vout display module
"xcb_x11""), keeps the last messages for ``ibc doctor``, sends VLC's errors to our log, and
turns the failures a teacher can see or hear into one `PlaybackProblem` for ``on_problem``
(an English msgid with params: Russian in ``str()``, any language through ``message(tr)``).

The callback runs on libvlc's threads: it only formats, appends to a bounded deque and calls
``on_problem``, which must only queue work (VlcPlayer hands it to its event worker).
"""

from __future__ import annotations

import collections
import ctypes
import logging
import re
import threading
from collections.abc import Callable

import vlc

from media.errors import PlaybackProblem

log = logging.getLogger("ibc.vlc")

DEBUG, NOTICE, WARNING, ERROR = 0, 2, 3, 4
_BUF = 1024

# (pattern in the message, what failed, the plain words: a PlaybackProblem msgid whose
# {codec} is the pattern's group). The first match wins.
PROBLEMS: list[tuple[re.Pattern, str, str]] = [
    (re.compile(r"video output creation failed|failed to create video output"
                r"|no vout display modules? match", re.I), "video", PlaybackProblem.NO_VIDEO_OUTPUT),
    (re.compile(r"failed to create audio output|no audio output modules? match"
                r"|audio output failed|failed to open audio output", re.I), "audio",
     PlaybackProblem.NO_AUDIO_OUTPUT),
    (re.compile(r"Codec `[^']*' \((.*)\) is not supported", re.I), "codec", PlaybackProblem.CODEC),
    (re.compile(r"no suitable decoder module", re.I), "codec", PlaybackProblem.NO_DECODER),
]
# Errors VLC logs on every healthy play here (probing outputs it then does without): not logged.
BENIGN = re.compile(r"cannot connect to session bus|Failed to create video converter"
                    r"|Xlib is required for VDPAU|no available XVideo adaptor"
                    r"|vaapi.*(failed|not supported)|VA-API.*failed", re.I)
_USING = re.compile(r'using (vout display|audio output) module "([^"]+)"')

_libc = ctypes.CDLL(None)
_vsnprintf = _libc.vsnprintf
_vsnprintf.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_void_p]
_vsnprintf.restype = ctypes.c_int
_get_context = vlc.dll.libvlc_log_get_context
_get_context.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p),
                         ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_uint)]
_get_context.restype = None

ProblemCallback = Callable[[PlaybackProblem], None]


def explain(text: str) -> PlaybackProblem | None:
    """The problem (``kind``: video, audio, codec) a VLC message means, when a user notices it."""
    for pattern, kind, template in PROBLEMS:
        m = pattern.search(text)
        if m:
            return PlaybackProblem(template, kind, **({"codec": m.group(1)} if m.groups() else {}))
    return None


class VlcLog:
    """The log of one libvlc instance (keep a reference as long as the instance lives)."""

    def __init__(self, instance: vlc.Instance, on_problem: ProblemCallback | None = None,
                 keep: int = 300) -> None:
        self.on_problem = on_problem
        self.messages: collections.deque[tuple[int, str, str]] = collections.deque(maxlen=keep)
        self.vout: str | None = None
        self.aout: str | None = None
        self._lock = threading.Lock()
        self._reported: set[str] = set()
        self._logged: set[str] = set()
        self._callback = vlc.CallbackDecorators.LogCb(self._on_message)  # kept: C holds it
        instance.log_set(self._callback, None)

    def new_media(self) -> None:
        """A new item starts: report its failures again, forget the video output (the audio
        output lives as long as the media player: libvlc opens it once)."""
        with self._lock:
            self._reported.clear()
            self._logged.clear()
            self.vout = None

    def _on_message(self, _data: int | None, level: int, ctx: ctypes._Pointer[vlc.Log],
                    fmt: bytes | None, args: int | None) -> None:
        try:
            buf = ctypes.create_string_buffer(_BUF)
            _vsnprintf(buf, _BUF, fmt, args)
            text = buf.value.decode("utf-8", "replace")
            module = ctypes.c_char_p()
            _get_context(ctx, ctypes.byref(module), None, None)
            name = (module.value or b"vlc").decode("ascii", "replace")
            self._handle(level, name, text)
        except Exception:  # noqa: BLE001  (never let an exception into libvlc's thread)
            pass

    def _handle(self, level: int, module: str, text: str) -> None:
        used = _USING.search(text)
        problem = explain(text) if level >= WARNING else None
        with self._lock:
            self.messages.append((level, module, text))
            if used:
                if used.group(1) == "vout display":
                    self.vout = used.group(2)
                else:
                    self.aout = used.group(2)
            if problem is not None:
                if problem.kind in self._reported:  # one sentence per kind and item
                    problem = None
                else:
                    self._reported.add(problem.kind)
            line = f"{module}: {text}"
            fresh = (level >= ERROR and line not in self._logged and len(self._logged) < 100
                     and not BENIGN.search(text))
            if fresh:
                self._logged.add(line)
        if fresh:  # VLC retries a failing output many times a second: each line once per item
            log.warning("vlc %s", line)
        if problem is not None and self.on_problem is not None:
            self.on_problem(problem)

    def errors(self) -> list[str]:
        """VLC's error lines kept so far (``module: text``)."""
        with self._lock:
            return [f"{m}: {t}" for lvl, m, t in self.messages if lvl >= ERROR]

    def close(self, instance: vlc.Instance) -> None:
        """Detach from the instance (before it is released)."""
        instance.log_unset()
