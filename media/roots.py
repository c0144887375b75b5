"""Which files belong to the media library: those whose real path lies inside a media folder.

A symbolic link inside a media folder may point anywhere (`passwd.mp4 -> /etc/passwd`, a folder
link to a teacher's home). The scan (media/scan.py) and the download (server/media_api.py) both
resolve the path with `os.path.realpath` and accept it only inside the real path of one of the
configured folders; the download checks again at every request, because a link can be made or
changed after the scan.
"""

from __future__ import annotations

import os
from collections.abc import Iterable


def real_roots(roots: Iterable[str | os.PathLike[str]]) -> list[str]:
    """The real (symlink-free, absolute) path of each media folder."""
    return [os.path.realpath(os.fspath(r)) for r in roots]


def is_inside(real: str, roots: list[str]) -> bool:
    """True when the real path `real` is one of `roots` (real paths) or lies below one."""
    for root in roots:
        if real == root or real.startswith(root if root.endswith(os.sep) else root + os.sep):
            return True
    return False


def resolve_inside(path: str | os.PathLike[str], roots: list[str]) -> str | None:
    """The real path of `path` when it lies inside one of `roots` (real paths), else None."""
    real = os.path.realpath(os.fspath(path))
    return real if is_inside(real, roots) else None
