"""The `BarcodeSource` protocol shared by the camera, the USB keyboard-wedge scanner and the fake.

A source delivers each accepted code once to the callback given to `start`, on the source's own
thread (camera) or on the caller's thread (HID, fake injections). The UI bridges to its thread
(`@mainthread` / `call_soon_threadsafe`); sources never touch the UI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from device.scanner.codes import Barcode

CodeCallback = Callable[[Barcode], None]


@runtime_checkable
class BarcodeSource(Protocol):
    """Something that produces accepted barcodes: a camera, a USB scanner, a fake."""

    name: str

    @property
    def available(self) -> bool:
        """True while the source is running and healthy."""
        ...

    @property
    def last_error(self) -> Exception | None:
        """The last failure (a `ScannerError`), or None."""
        ...

    def start(self, callback: CodeCallback) -> None:
        """Begin delivering accepted codes to `callback`."""
        ...

    def stop(self) -> None:
        """Stop delivering; joins any thread the source started. Safe to call twice."""
        ...
