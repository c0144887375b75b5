"""The command line's output, escaped: nothing the `ibc` command prints can drive the
librarian's terminal (`library.text.printable`). ``main`` wraps ``sys.stdout`` and ``sys.stderr``
once; binary output (``ibc export`` writes MARC to ``sys.stdout.buffer``) passes untouched."""

from __future__ import annotations

import io
from typing import Any, TextIO, cast

from library.text import printable


class EscapingWriter(io.TextIOBase):
    """A text stream that escapes control characters on their way to ``inner``."""

    def __init__(self, inner: TextIO) -> None:
        super().__init__()
        self.inner = inner

    def write(self, text: str) -> int:
        """Write ``text`` with its control characters escaped; returns len(text)."""
        self.inner.write(printable(text))
        return len(text)

    def flush(self) -> None:
        """Flush the inner stream."""
        self.inner.flush()

    def writable(self) -> bool:
        """Always."""
        return True

    def isatty(self) -> bool:
        """As the inner stream."""
        return self.inner.isatty()

    def fileno(self) -> int:
        """As the inner stream."""
        return self.inner.fileno()

    @property
    def buffer(self) -> Any:
        """The inner binary buffer (raw bytes are the caller's business: MARC export)."""
        return self.inner.buffer

    @property
    def encoding(self) -> str:  # type: ignore[override]  # typeshed: a plain attribute
        """As the inner stream."""
        return getattr(self.inner, "encoding", "utf-8")


def escape_output(stream: TextIO) -> TextIO:
    """``stream`` wrapped (once) so that control characters are escaped."""
    if isinstance(stream, EscapingWriter):
        return stream
    return cast(TextIO, EscapingWriter(stream))
