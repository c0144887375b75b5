"""Fixtures of the report tests: the scripted term (scripted_term.py) on each backend."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # scripted_term.py

from scripted_term import Term, script_term  # noqa: E402


@pytest.fixture
def term(db, tmp_path) -> Term:
    """The scripted term on each backend."""
    return script_term(db, tmp_path)


@pytest.fixture(scope="module")
def sqlite_term(tmp_path_factory):
    """The scripted term once on SQLite, for the renderer tests."""
    from library.storage.database import open_database

    tmp = tmp_path_factory.mktemp("term")
    db = open_database(f"sqlite:///{tmp / 'ibc.sqlite3'}")
    yield script_term(db, tmp)
    db.dispose()
