"""An in-memory printer for unit tests and demos: records jobs, can run out of paper or go offline."""

from __future__ import annotations

from dataclasses import dataclass

from device.printer.base import PrinterState
from device.printer.errors import PrinterUnavailable, PrintJobFailed


@dataclass
class FakeJob:
    """One job the fake printer received."""

    id: int
    name: str
    data: bytes
    state: str = "completed"


class FakePrinter:
    """Behaves like an IPP printer: jobs sent while it is stopped wait as "pending"."""

    def __init__(self, name: str = "Fake Printer", uuid: str = "00000000-0000-0000-0000-000000000001"):
        self.name = name
        self.uuid = uuid
        self.jobs: list[FakeJob] = []
        self.online = True
        self.reasons: list[str] = []

    # --- simulation controls -----------------------------------------------------------------
    def paper_out(self) -> None:
        """Simulate an empty tray (media-empty-error): the printer stops, jobs wait."""
        self.reasons = ["media-empty-error"]

    def jam(self) -> None:
        """Simulate a paper jam."""
        self.reasons = ["media-jam-error"]

    def go_offline(self) -> None:
        """Simulate a switched-off or unplugged printer."""
        self.online = False

    def fix(self) -> None:
        """Clear every fault; pending jobs print."""
        self.online = True
        self.reasons = []
        for job in self.jobs:
            if job.state == "pending":
                job.state = "completed"

    # --- Printer protocol --------------------------------------------------------------------
    async def state(self) -> PrinterState:
        """Current simulated state."""
        if not self.online:
            raise PrinterUnavailable(f"fake printer {self.name!r} is offline")
        stopped = any(r.endswith("-error") for r in self.reasons)
        return PrinterState(available=True, state="stopped" if stopped else "idle",
                            reasons=tuple(self.reasons) or ("none",), name=self.name,
                            uuid=self.uuid)

    async def print_pdf(self, data: bytes, job_name: str = "ibc") -> int:
        """Record the job; pending while the printer is stopped."""
        if not self.online:
            raise PrinterUnavailable(f"fake printer {self.name!r} is offline")
        if not data.startswith(b"%PDF"):
            raise PrintJobFailed("the document is not a PDF")
        stopped = any(r.endswith("-error") for r in self.reasons)
        job = FakeJob(len(self.jobs) + 1, job_name, bytes(data),
                      "pending" if stopped else "completed")
        self.jobs.append(job)
        return job.id

    async def job_state(self, job_id: int) -> str:
        """State of a recorded job."""
        if not self.online:
            raise PrinterUnavailable(f"fake printer {self.name!r} is offline")
        for job in self.jobs:
            if job.id == job_id:
                return job.state
        raise PrintJobFailed(f"no job {job_id}", status=0x0406)
