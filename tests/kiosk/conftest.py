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
