"""Fixtures for the ИРБИС64 tests: a small catalogue and readers made in code, an emulator on a
free loopback port, our client connected to it. Tests of the real ИРБИС files under
../shared/testdata skip with a reason where ../shared is missing (tests/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # irbis_fixtures.py

from irbis_fixtures import HOST, PASSWORD, USER, make_emulator  # noqa: E402

from ils.irbis import IrbisClient  # noqa: E402


@pytest.fixture
def emulator():
    emu = make_emulator()
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def client(emulator):
    with IrbisClient(HOST, emulator.port, USER, PASSWORD, workstation="C", timeout=5) as c:
        yield c
