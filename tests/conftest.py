"""Shared fixtures: ../shared/testdata location, temporary databases on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("IBC_SHARED", ROOT.parent / "shared")) / "testdata"


@pytest.fixture(scope="session")
def shared_testdata() -> Path:
    """../shared/testdata; skips with a reason in a user's clone, where it does not exist."""
    if not SHARED.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{SHARED} is missing: CI must have ../shared/testdata beside the project")
        pytest.skip(f"{SHARED} not present (only the project's developers and CI have ../shared)")
    return SHARED


@pytest.fixture(autouse=True)
def _no_leaked_threads():
    """Fail a test that leaves a non-daemon thread running (python-zeroconf's conftest idea)."""
    before = set(threading.enumerate())
    yield
    leaked = [
        t for t in threading.enumerate()
        if t not in before and t.is_alive() and not t.daemon
    ]
    for t in leaked:
        t.join(timeout=2)
    leaked = [t for t in leaked if t.is_alive()]
    assert not leaked, f"test leaked threads: {leaked}"


# --- databases -------------------------------------------------------------------------------
# Tests that take the `db` fixture run twice: on a fresh SQLite file and on a fresh database of
# the real PostgreSQL server named by IBC_TEST_PG_URL (started by .ci/run). Without that variable
# the PostgreSQL half skips with a reason, except under CI where it fails.

PG_URL = os.environ.get("IBC_TEST_PG_URL", "")
_pg_counter = iter(range(1, 1_000_000))


def _pg_admin():
    from sqlalchemy import create_engine

    return create_engine(PG_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_template():
    """A migrated template database on the test PostgreSQL server; each test copies it."""
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("IBC_TEST_PG_URL is not set: .ci/run must start PostgreSQL")
        pytest.skip("IBC_TEST_PG_URL not set (run .ci/pg.sh start DIR PORT, or .ci/run)")
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from library.storage.database import Database

    name = f"ibc_tpl_{os.getpid()}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(make_url(PG_URL).set(database=name))
    db.upgrade()
    db.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_url(request):
    """URL of a fresh, migrated PostgreSQL database for one test."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    template = request.getfixturevalue("pg_template")
    name = f"ibc_t_{os.getpid()}_{next(_pg_counter)}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """A fresh database URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ibc.sqlite3'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def db(db_url):
    """An open, migrated Database on each backend."""
    from library.storage.database import open_database

    database = open_database(db_url)
    yield database
    database.dispose()


def pytest_sessionfinish(session, exitstatus):
    """Under CI nothing may skip silently: a skipped test (missing tool, package or data) fails the run."""
    if not os.environ.get("CI") or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        for rep in skipped:
            reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
            reporter.write_line(f"CI: skipped test is an error: {rep.nodeid}: {reason}", red=True)
        session.exitstatus = 1
