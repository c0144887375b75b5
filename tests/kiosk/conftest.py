"""Kiosk test fixtures: Russian by default, a fixed date, fresh fakes."""

from __future__ import annotations

import datetime as dt

import pytest

TODAY = dt.date(2025, 3, 5)


@pytest.fixture(autouse=True)
def _russian():
    """Every kiosk test starts in Russian and leaves Russian behind."""
    from kiosk import i18n

    i18n.set_language("ru")
    yield
    i18n.set_language("ru")


@pytest.fixture
def fakes():
    """(catalogue, circulation, printer) over one fresh fake library dated TODAY."""
    from kiosk.fakes import fake_services

    return fake_services(TODAY)


@pytest.fixture
def bridged():
    """What the kiosk bridge does with a presenter's job (`receipt_job`, `projector_job`): await
    it off the UI thread, then hand the result, or the error, to ``done``; False: no job."""
    import asyncio

    def run(job, done):
        if job is None:
            return False
        try:
            result = asyncio.run(job())
        except Exception as exc:  # noqa: BLE001 - handed to done, as the bridge does
            return done(None, exc)
        return done(result, None)

    return run
