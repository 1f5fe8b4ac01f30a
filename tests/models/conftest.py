"""Fixtures of the model tests: the hand-made outreach fixture and loaded sample data.

The shared PostgreSQL fixtures drop only the Segment schema, so every fixture here that can
create models on PostgreSQL also drops the companion ``<schema>_models`` schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from klenty_wh.models import create_models, models_schema_name
from klenty_wh.plan import load_plan
from klenty_wh.sample.generate import write_sample
from klenty_wh.warehouse import open_warehouse
from tests.conftest import FIXTURES, PG_URL
from tests.helpers import load

OUTREACH_FIXTURE = FIXTURES / "models" / "outreach.ndjson"
SAMPLE_EVENTS = 6000
SAMPLE_SEED = 7


def build_models(url: str, schema: str) -> None:
    """Create the model views of ``schema`` through the library API."""
    warehouse = open_warehouse(url)
    try:
        create_models(warehouse, load_plan(), schema)
    finally:
        warehouse.dispose()


def drop_models_schema(url: str, schema: str) -> None:
    """Drop ``<schema>_models`` and its views when ``url`` is the PostgreSQL test server."""
    if url != PG_URL:
        return
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{models_schema_name(schema)}" CASCADE'))
    finally:
        engine.dispose()


@pytest.fixture
def models_target(warehouse_target) -> Iterator[tuple[str, str]]:
    """Yield (url, schema) like ``warehouse_target``, dropping the models schema afterwards."""
    url, schema = warehouse_target
    yield url, schema
    drop_models_schema(url, schema)


@pytest.fixture
def outreach_target(models_target) -> Iterator[tuple[str, str]]:
    """Yield (url, schema) with the hand-made fixture loaded and the models created, per engine."""
    url, schema = models_target
    report = load(url, [OUTREACH_FIXTURE], schema)
    assert report.rejected == 0
    build_models(url, schema)
    yield url, schema


@pytest.fixture(scope="session")
def sample_file(tmp_path_factory) -> Path:
    """Return a sample export of 6,000 calls (seed 7), written once per test session."""
    path = tmp_path_factory.mktemp("sample") / "sample.ndjson.gz"
    write_sample(load_plan(), SAMPLE_EVENTS, SAMPLE_SEED, path)
    return path


@pytest.fixture(scope="session")
def sample_duckdb(tmp_path_factory, sample_file: Path) -> str:
    """Return the URL of a DuckDB file with the sample loaded into klenty_prod and the models created."""
    url = f"duckdb:///{tmp_path_factory.mktemp('sample-db') / 'klenty.duckdb'}"
    load(url, [sample_file], "klenty_prod")
    build_models(url, "klenty_prod")
    return url
