"""Alembic environment: uses the engine handed over in config.attributes when present."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alembic import context
from sqlalchemy import create_engine

from library.storage.models import Base

if TYPE_CHECKING:
    from alembic.runtime.environment import NameFilterType
    from sqlalchemy.sql.schema import SchemaItem

config = context.config
target_metadata = Base.metadata


def include_object(obj: SchemaItem, name: str | None, type_: NameFilterType, reflected: bool,
                   compare_to: SchemaItem | None) -> bool:
    """Keep autogenerate away from the search index (Core tables on their own MetaData, FTS5
    virtual and shadow tables, and their indexes): names starting with ``search_``."""
    if type_ == "table" and name and name.startswith("search_"):
        return False
    table = getattr(obj, "table", None)
    if type_ in ("index", "unique_constraint", "column", "foreign_key_constraint") and \
            table is not None and table.name.startswith("search_"):
        return False
    return True


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:  # the `alembic` command line: the URL from alembic.ini
        url = config.get_main_option("sqlalchemy.url")
        if not url:
            raise RuntimeError("alembic: no sqlalchemy.url in the configuration")
        engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
