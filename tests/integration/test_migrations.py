"""The migrations and the models describe the same schema, and the migrations run both ways."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import ForeignKeyConstraint, UniqueConstraint, inspect

from awards import models  # noqa: F401  (every table on Base.metadata)
from awards.db import Base, make_engine
from awards.migrate import downgrade, upgrade


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_migrations_match_models_after_upgrade(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)

    assert diff == []


def test_downgrade_to_base_then_upgrade_restores_every_table(database_url, engine):
    expected = set(Base.metadata.tables)
    try:
        downgrade(database_url, "base")
        engine.dispose()
        after_downgrade = set(inspect(engine).get_table_names()) - {"alembic_version"}

        upgrade(database_url, "head")
        engine.dispose()
        after_upgrade = set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        # On PostgreSQL the database is shared by the whole run: leave it migrated.
        engine.dispose()
        upgrade(database_url, "head")

    assert after_downgrade == set()
    assert after_upgrade == expected


def _indexed_prefixes(table) -> set[tuple[str, ...]]:
    column_lists = [[c.name for c in table.primary_key.columns]]
    column_lists += [[c.name for c in index.columns] for index in table.indexes]
    column_lists += [
        [c.name for c in constraint.columns]
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
    ]
    prefixes = set()
    for names in column_lists:
        for length in range(1, len(names) + 1):
            prefixes.add(tuple(names[:length]))
    return prefixes


def test_every_foreign_key_is_indexed():
    # Deleting or filtering by the parent row must not scan the child table (PostgreSQL does
    # not index foreign keys by itself).
    missing = []
    for table in Base.metadata.sorted_tables:
        prefixes = _indexed_prefixes(table)
        for fk in table.constraints:
            if isinstance(fk, ForeignKeyConstraint):
                columns = tuple(c.name for c in fk.columns)
                if columns not in prefixes:
                    missing.append(f"{table.name}.{','.join(columns)}")

    assert missing == []
