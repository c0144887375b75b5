"""The shipped fake printer and the pure state/reason helpers."""

from __future__ import annotations

import asyncio

import pytest

from device.printer import Printer, PrinterNotFound, PrinterUnavailable, make_printer
from device.printer.base import PrinterState, reason_text
from device.printer.fake import FakePrinter

PDF = b"%PDF-1.4\n%%EOF\n"


def test_fake_records_jobs_and_is_a_printer():
    printer = make_printer(backend="fake")
    assert isinstance(printer, Printer)
    job = asyncio.run(printer.print_pdf(PDF, "чек"))
    assert printer.jobs[0].name == "чек" and asyncio.run(printer.job_state(job)) == "completed"


def test_paper_out_stops_and_explains_in_russian():
    printer = FakePrinter()
    printer.paper_out()
    state = asyncio.run(printer.state())
    assert state.state == "stopped" and not state.ready
    assert "закончилась бумага" in state.describe()
    job = asyncio.run(printer.print_pdf(PDF))
    assert asyncio.run(printer.job_state(job)) == "pending"
    printer.fix()
    assert asyncio.run(printer.job_state(job)) == "completed"


def test_offline_fake_is_unavailable():
    printer = FakePrinter()
    printer.go_offline()
    with pytest.raises(PrinterUnavailable):
        asyncio.run(printer.state())


def test_reason_texts_and_no_uri():
    assert "Замятие" in reason_text("media-jam-error")
    assert PrinterState(True, "idle", ("none",)).describe() == "Принтер готов"
    with pytest.raises(PrinterNotFound):
        make_printer(backend="ipp")
