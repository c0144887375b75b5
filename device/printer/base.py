"""The Printer interface and its value types (state, reasons with Russian text for librarians)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

# IPP printer-state enum (RFC 8011 5.4.11).
IPP_STATES = {3: "idle", 4: "processing", 5: "stopped"}

# printer-state-reasons keywords (RFC 8011 5.4.12, PWG 5100.9) -> what the librarian should do.
REASONS_RU = {
    "media-empty": "В принтере закончилась бумага: положите бумагу в лоток",
    "media-needed": "В принтере закончилась бумага: положите бумагу в лоток",
    "media-low": "Бумага заканчивается",
    "media-jam": "Замятие бумаги: откройте крышку и извлеките застрявший лист",
    "offline": "Принтер не в сети: проверьте питание и сетевой кабель",
    "door-open": "Открыта крышка принтера: закройте её",
    "cover-open": "Открыта крышка принтера: закройте её",
    "toner-empty": "Закончился тонер: замените картридж",
    "toner-low": "Тонер заканчивается",
    "marker-supply-empty": "Закончился тонер или чернила: замените картридж",
    "marker-supply-low": "Тонер или чернила заканчиваются",
    "paused": "Принтер приостановлен: возобновите печать на панели принтера",
    "shutdown": "Принтер выключается",
    "spool-area-full": "Очередь печати переполнена: подождите или отмените задания",
    "other": "Неисправность принтера: посмотрите сообщение на его панели",
}
_SEVERITY_SUFFIXES = ("-error", "-warning", "-report")


def reason_keyword(reason: str) -> str:
    """Strip the -error/-warning/-report suffix: "media-empty-error" -> "media-empty"."""
    for suffix in _SEVERITY_SUFFIXES:
        if reason.endswith(suffix):
            return reason[: -len(suffix)]
    return reason


def reason_text(reason: str) -> str:
    """Russian text for one printer-state-reasons keyword (the keyword itself if unknown)."""
    return REASONS_RU.get(reason_keyword(reason), f"Состояние принтера: {reason}")


@dataclass(frozen=True)
class PrinterState:
    """A snapshot of the printer: reachable or not, idle/processing/stopped, reasons."""

    available: bool
    state: str = "stopped"
    reasons: tuple[str, ...] = ()
    name: str = ""
    uuid: str = ""
    accepting_jobs: bool = True
    info: dict[str, str] = field(default_factory=dict)

    @property
    def messages(self) -> list[str]:
        """Russian texts for the reasons that need attention ("none" is left out)."""
        out: list[str] = []
        for reason in self.reasons:
            if reason == "none" or reason.endswith("-report"):
                continue
            text = reason_text(reason)
            if text not in out:
                out.append(text)
        return out

    @property
    def ready(self) -> bool:
        """True when a job sent now would print."""
        return self.available and self.accepting_jobs and self.state != "stopped"

    def describe(self) -> str:
        """One Russian line for the librarian."""
        if not self.available:
            return "Принтер недоступен"
        head = {"idle": "Принтер готов", "processing": "Принтер печатает",
                "stopped": "Принтер остановлен"}.get(self.state, f"Принтер: {self.state}")
        messages = self.messages
        return f"{head}: {'; '.join(messages)}" if messages else head

    def to_dict(self) -> dict:
        """JSON-friendly form."""
        return {"available": self.available, "state": self.state, "reasons": list(self.reasons),
                "messages": self.messages, "name": self.name, "uuid": self.uuid,
                "accepting_jobs": self.accepting_jobs, "ready": self.ready}


@runtime_checkable
class Printer(Protocol):
    """What the rest of ibc-kiosk may ask of a printer (IPP backend or fake)."""

    async def print_pdf(self, data: bytes, job_name: str = "ibc") -> int:
        """Send a PDF; returns the printer's job id."""
        ...

    async def state(self) -> PrinterState:
        """Query the printer's current state (raises PrinterUnavailable when unreachable)."""
        ...

    async def job_state(self, job_id: int) -> str:
        """pending/held/processing/stopped/canceled/aborted/completed for one job."""
        ...
