"""Shared fixtures: real DuckDB files in tmp_path and the real PostgreSQL server.

PostgreSQL tests use the server at ``KLENTY_WH_TEST_PG_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``). Outside CI they are skipped, with the reason
printed, when that server does not respond. In CI (``CI=true``) they fail instead, so a
green CI run always includes them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

FIXTURES = Path(__file__).parent / "fixtures"
CASES = FIXTURES / "cases"
PG_URL = os.environ.get("KLENTY_WH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

_pg_problem: str | None = None
_pg_checked = False


def _postgres_problem() -> str | None:
    global _pg_checked, _pg_problem
    if not _pg_checked:
        _pg_checked = True
        try:
            engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            engine.dispose()
        except Exception as exc:  # any failure means the server is not usable
            _pg_problem = f"PostgreSQL at {PG_URL} is not reachable: {str(exc).splitlines()[0]}"
    return _pg_problem


def require_postgres() -> None:
    """Skip (outside CI) or fail (in CI) when the test PostgreSQL server does not respond."""
    problem = _postgres_problem()
    if problem is None:
        return
    if IN_CI:
        pytest.fail(f"{problem}; CI must run the PostgreSQL tests (.ci/run starts the server).")
    pytest.skip(f"{problem}; start it with pg_ctlcluster or set KLENTY_WH_TEST_PG_URL.")


def _drop_pg_schema(schema: str) -> None:
    engine = sa.create_engine(PG_URL)
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}_models" CASCADE'))
        connection.execute(sa.text(
            "DO $$ BEGIN IF to_regclass('klenty_wh.rejected_records') IS NOT NULL THEN "
            f"DELETE FROM klenty_wh.rejected_records WHERE target_schema = '{schema}'; END IF; END $$"
        ))
    engine.dispose()


@pytest.fixture
def duckdb_url(tmp_path: Path) -> str:
    """Return the URL of a new DuckDB file."""
    return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """Return a schema name of its own on the test PostgreSQL server, dropped afterwards."""
    require_postgres()
    schema = f"kwh_test_{uuid.uuid4().hex[:10]}"
    yield schema
    _drop_pg_schema(schema)


@pytest.fixture(params=["duckdb", "postgresql"])
def warehouse_target(request, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Yield (url, schema) on each engine: a new DuckDB file, or a new PostgreSQL schema."""
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path / 'warehouse.duckdb'}", "klenty_prod"
        return
    require_postgres()
    schema = f"kwh_test_{uuid.uuid4().hex[:10]}"
    yield PG_URL, schema
    _drop_pg_schema(schema)
