"""Barcode scanning: camera (OpenCV + zxing-cpp/pyzbar), USB keyboard-wedge scanner, and a fake.

Only the pure value types are imported here; the decoders, OpenCV and threads load with the
modules that need them (`device.scanner.decode`, `.camera`), so importing this package is cheap.
"""

from device.scanner.base import BarcodeSource
from device.scanner.codes import DEFAULT_FORMATS, Barcode, Format, validate
from device.scanner.errors import (
    CameraUnavailable,
    DecoderUnavailable,
    ImageUnreadable,
    ScannerError,
)

__all__ = [
    "Barcode", "BarcodeSource", "CameraUnavailable", "DEFAULT_FORMATS", "DecoderUnavailable",
    "Format", "ImageUnreadable", "ScannerError", "validate",
]
