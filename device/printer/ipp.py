"""The real printer: IPP/1.1 over HTTP with pyipp (Print-Job, Get-Printer/Job-Attributes).

pyipp's ``IPP.execute`` serialises a top-level ``"data"`` key as the document after the
attributes, so Print-Job with a PDF needs no hand-written IPP encoding. One aiohttp session is
opened per call and closed at once: the kiosk prints rarely and must not keep sockets to a
printer that may be switched off overnight.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from device.printer.base import IPP_STATES, PrinterState
from device.printer.errors import PrinterError, PrinterUnavailable, PrintJobFailed

if TYPE_CHECKING:  # pyipp is imported on the first request
    from pyipp.enums import IppOperation

JOB_STATES = {3: "pending", 4: "held", 5: "processing", 6: "stopped", 7: "canceled",
              8: "aborted", 9: "completed"}
_STATE_ATTRIBUTES = ["printer-state", "printer-state-reasons", "printer-is-accepting-jobs",
                     "printer-name", "printer-uuid", "printer-info", "printer-make-and-model",
                     "printer-location"]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


class IppPrinter:
    """A printer at an ``ipp://`` or ``ipps://`` URI."""

    def __init__(self, uri: str, *, timeout: float = 10.0, user: str = "ibc-kiosk") -> None:
        if not uri.startswith(("ipp://", "ipps://")):
            raise PrinterError(f"not an IPP URI: {uri!r} (expected ipp://host:port/path)")
        self.uri = uri
        self.timeout = timeout
        self.user = user

    def __repr__(self) -> str:
        return f"IppPrinter({self.uri!r})"

    async def _execute(self, operation: IppOperation, message: dict[str, Any]) -> dict[str, Any]:
        from pyipp import IPP
        from pyipp.exceptions import IPPConnectionError, IPPError, IPPParseError

        message.setdefault("operation-attributes-tag", {})
        message["operation-attributes-tag"]["requesting-user-name"] = self.user
        try:
            async with IPP(self.uri, request_timeout=self.timeout) as ipp:  # type: ignore[arg-type]
                return await ipp.execute(operation, message)
        except IPPConnectionError as exc:
            cause = exc.__cause__ or exc
            raise PrinterUnavailable(f"printer {self.uri} does not answer: {cause}") from exc
        except IPPParseError as exc:
            raise PrinterError(f"printer {self.uri} sent a reply that is not IPP") from exc
        except IPPError as exc:
            details = exc.args[1] if len(exc.args) > 1 else {}
            status = details.get("status-code") if isinstance(details, dict) else None
            raise PrintJobFailed(f"printer {self.uri} refused the request: {exc.args[0]} "
                                 f"(status {status})", status) from exc
        except OSError as exc:
            raise PrinterUnavailable(f"printer {self.uri} does not answer: {exc}") from exc

    async def state(self) -> PrinterState:
        """Get-Printer-Attributes -> PrinterState."""
        from pyipp.enums import IppOperation

        reply = await self._execute(IppOperation.GET_PRINTER_ATTRIBUTES, {
            "operation-attributes-tag": {"requested-attributes": _STATE_ATTRIBUTES}})
        attrs: dict[str, Any] = next(iter(reply.get("printers") or []), {})
        raw_state = attrs.get("printer-state", 5)
        state = IPP_STATES.get(int(raw_state), "stopped") if str(raw_state).isdigit() \
            else str(raw_state)
        uuid = str(attrs.get("printer-uuid", "")).removeprefix("urn:uuid:")
        return PrinterState(
            available=True, state=state,
            reasons=tuple(r for r in _as_list(attrs.get("printer-state-reasons")) if r),
            name=str(attrs.get("printer-name", "")), uuid=uuid,
            accepting_jobs=bool(attrs.get("printer-is-accepting-jobs", True)),
            info={k: str(attrs[k]) for k in ("printer-info", "printer-make-and-model",
                                             "printer-location") if attrs.get(k)})

    async def print_pdf(self, data: bytes, job_name: str = "ibc") -> int:
        """Print-Job with document-format application/pdf; returns the job id."""
        from pyipp.enums import IppOperation

        if not data.startswith(b"%PDF"):
            raise PrintJobFailed("the document is not a PDF")
        reply = await self._execute(IppOperation.PRINT_JOB, {
            "operation-attributes-tag": {"job-name": job_name[:255],
                                         "document-format": "application/pdf"},
            "data": data})
        job: dict[str, Any] = next(iter(reply.get("jobs") or []), {})
        if "job-id" not in job:
            raise PrintJobFailed(f"printer {self.uri} accepted the job but sent no job-id")
        return int(job["job-id"])

    async def job_state(self, job_id: int) -> str:
        """Get-Job-Attributes -> one of JOB_STATES' values."""
        from pyipp.enums import IppOperation

        reply = await self._execute(IppOperation.GET_JOB_ATTRIBUTES, {
            "operation-attributes-tag": {"job-id": int(job_id),
                                         "requested-attributes": ["job-state"]}})
        job: dict[str, Any] = next(iter(reply.get("jobs") or []), {})
        raw = job.get("job-state")
        return JOB_STATES.get(int(raw), str(raw)) if raw is not None else "unknown"
