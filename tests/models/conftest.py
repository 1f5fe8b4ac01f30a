"""Fixtures of the model tests: the hand-made outreach fixture and loaded sample data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from klenty_wh.models import create_models
from klenty_wh.plan import load_plan
from klenty_wh.sample.generate import write_sample
from klenty_wh.warehouse import open_warehouse
from tests.conftest import FIXTURES
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


@pytest.fixture
def outreach_target(warehouse_target) -> Iterator[tuple[str, str]]:
    """Yield (url, schema) with the hand-made fixture loaded and the models created, per engine."""
    url, schema = warehouse_target
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
