"""The one exception tree of the IPP printer layer.

    PrinterError                base of everything raised by device.printer
    ├── PrinterUnavailable      the printer does not answer, refuses connections or is stopped
    ├── PrinterNotFound         no printer configured and none found by DNS-SD (or not by that name)
    └── PrintJobFailed          the printer answered but refused or lost the job (has .status)

pyipp/aiohttp/OS errors are mapped to these at the boundary (ipp.py, discovery.py) with
``raise ... from``; messages are technical English, front ends turn them into Russian text.
"""

from __future__ import annotations

from library.errors import IbcError


class PrinterError(IbcError):
    """Base of all printer errors."""

    code = "printer"


class PrinterUnavailable(PrinterError):
    """The printer cannot be reached or is not accepting jobs."""


class PrinterNotFound(PrinterError):
    """No printer is configured and discovery found none (or none with the wanted name)."""


class PrintJobFailed(PrinterError):
    """The printer answered but did not accept or finish the job."""

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)
