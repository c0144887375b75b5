"""The one exception tree of the barcode scanner layer.

    ScannerError                 base of everything raised by device.scanner
    ├── CameraUnavailable        the camera / video file / URL cannot be opened or stopped delivering
    ├── DecoderUnavailable       neither zxing-cpp nor pyzbar (with libzbar0) can be imported
    └── ImageUnreadable          a file given to scan-image is missing or not an image

OpenCV and decoder errors are mapped here at the boundary with ``raise ... from``. Each error
carries a Russian ``message`` suitable for showing to a pupil or a librarian.
"""

from __future__ import annotations

from library.errors import IbcError


class ScannerError(IbcError):
    """Base of all scanner errors; ``str()`` is the Russian user-facing message."""

    code = "scanner"


class CameraUnavailable(ScannerError):
    """The camera (device index, video file or URL) cannot be opened or was lost."""

    def __init__(self, source: str, reason: str = ""):
        self.source = source
        self.reason = reason
        text = f"Камера недоступна ({source})"
        super().__init__(f"{text}: {reason}" if reason else text)


class DecoderUnavailable(ScannerError):
    """No barcode decoder library is installed."""

    def __init__(self, detail: str = ""):
        text = (
            "Не найден ни один декодер штрихкодов: установите zxing-cpp или pyzbar "
            "(с пакетом libzbar0)"
        )
        super().__init__(f"{text} ({detail})" if detail else text)


class ImageUnreadable(ScannerError):
    """A file cannot be read as an image."""

    def __init__(self, path: str, reason: str = "не удалось прочитать изображение"):
        self.path = path
        super().__init__(f"{path}: {reason}")
