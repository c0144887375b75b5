"""Which files belong in the media library and what kind each one is (by extension)."""

from __future__ import annotations

from pathlib import PurePath

VIDEO = "video"
AUDIO = "audio"
IMAGE = "image"
PDF = "pdf"
PRESENTATION = "presentation"

_EXT = {
    VIDEO: "mp4 m4v mkv avi mov webm mpg mpeg wmv flv ogv 3gp ts vob",
    AUDIO: "mp3 ogg oga opus wav flac m4a aac wma",
    IMAGE: "jpg jpeg png gif bmp webp tif tiff",
    PDF: "pdf",
    PRESENTATION: "ppt pptx pps ppsx odp key",
}
EXTENSIONS: dict[str, str] = {f".{e}": kind for kind, exts in _EXT.items() for e in exts.split()}

PLAYABLE = frozenset({VIDEO, AUDIO, IMAGE})
KIND_RU = {VIDEO: "видео", AUDIO: "аудио", IMAGE: "изображение", PDF: "PDF",
           PRESENTATION: "презентация"}


def kind_of(path: str | PurePath) -> str | None:
    """The media kind of a file name, or None when the library ignores it."""
    return EXTENSIONS.get(PurePath(path).suffix.lower())
