"""Fixtures of the MARC tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # marc_fixtures.py


@pytest.fixture
def marc_dir(shared_testdata) -> Path:
    """../shared/testdata/marc."""
    return shared_testdata / "marc"
