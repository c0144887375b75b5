"""Success and error sounds: short WAVs generated with the stdlib at first run, then cached."""

from __future__ import annotations

import logging
import math
import struct
import wave
from pathlib import Path
from typing import Protocol

log = logging.getLogger("ibc.kiosk")

RATE = 22050
# (frequency Hz, duration s) pairs: a rising two-note chime and a low double buzz.
TUNES = {
    "success": ((880, 0.12), (1320, 0.18)),
    "error": ((220, 0.18), (0, 0.06), (196, 0.28)),
    "info": ((660, 0.14),),  # heard, nothing went wrong: a book kept until the card comes
}


class _Sound(Protocol):
    """What is used of a kivy.core.audio.Sound."""

    def stop(self) -> None: ...
    def play(self) -> None: ...


def write_wav(path: Path, notes: tuple[tuple[int, float], ...], volume: float = 0.5) -> None:
    """Write a mono 16-bit WAV of sine notes with short fades (no clicks)."""
    frames = bytearray()
    for freq, seconds in notes:
        n = int(RATE * seconds)
        fade = max(1, int(RATE * 0.01))
        for i in range(n):
            env = min(1.0, i / fade, (n - i) / fade)
            value = volume * env * math.sin(2 * math.pi * freq * i / RATE) if freq else 0.0
            frames += struct.pack("<h", int(value * 32767))
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))


def ensure_sounds(cache_dir: Path) -> dict[str, Path]:
    """The WAV files, generated when missing."""
    paths = {}
    for name, notes in TUNES.items():
        path = cache_dir / f"{name}.wav"
        if not path.exists():
            write_wav(path, notes)
        paths[name] = path
    return paths


class SoundPlayer:
    """Plays the named sounds through Kivy's SoundLoader; silent when disabled or failing."""

    def __init__(self, cache_dir: Path, enabled: bool = True):
        self.enabled = enabled
        self.cache_dir = cache_dir
        self.played: list[str] = []
        self._sounds: dict[str, _Sound | None] = {}  # None: SoundLoader found no back end

    def play(self, name: str) -> None:
        """Play one sound (never raises: a missing sound card must not stop a checkout)."""
        self.played.append(name)
        if not self.enabled:
            return
        try:
            if not self._sounds:
                from kivy.core.audio import SoundLoader

                for key, path in ensure_sounds(self.cache_dir).items():
                    self._sounds[key] = SoundLoader.load(str(path))
            sound = self._sounds.get(name)
            if sound is not None:
                sound.stop()
                sound.play()
        except Exception:  # noqa: BLE001 - audio back ends raise anything; log and go on
            log.warning("cannot play sound %s", name, exc_info=True)
            self.enabled = False
