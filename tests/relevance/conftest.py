"""Module-scoped catalogues for the relevance suite, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # judged.py, relevance_data.py

from relevance_data import TEST1, demo_titles, insert_titles, marc_titles  # noqa: E402


def _fill(db, shared) -> None:
    titles = demo_titles()
    with db.transaction() as s:
        insert_titles(s, titles, "demo")
        insert_titles(s, marc_titles(shared / TEST1), "nlr", series=3)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def catalogue_db(request, tmp_path_factory, shared_testdata):
    """A database holding the demo catalogue plus the 81 NLR records, indexed."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from library.storage.database import open_database

    admin = name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('rel') / 'ibc.sqlite3'}"
    else:
        template = request.getfixturevalue("pg_template")
        base = os.environ["IBC_TEST_PG_URL"]
        name = f"ibc_rel_{os.getpid()}_{request.module.__name__.rsplit('.', 1)[-1]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
    db = open_database(url)
    _fill(db, shared_testdata)
    yield db
    db.dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
