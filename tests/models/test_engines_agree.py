"""The models give the same rows on DuckDB and PostgreSQL for the same sample data."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from klenty_wh.models import model_views
from klenty_wh.models.outreach import outreach_from_plan
from klenty_wh.plan import load_plan
from tests.conftest import PG_URL
from tests.helpers import load, rows
from tests.models.conftest import build_models, drop_models_schema

MODEL_NAMES = [view.name for view in model_views(load_plan(), outreach_from_plan(load_plan()))]
LOAD_TIME_COLUMNS = {"uuid_ts"}
"""Columns set by each load, so they differ between two loads of the same data."""


def comparable(value):
    """Return ``value`` in a form both drivers agree on: floats rounded to 9 digits, naive datetimes."""
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 9)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return value


def sorted_rows(url: str, schema: str, name: str) -> tuple[list[str], list[tuple]]:
    found = rows(url, f'SELECT * FROM "{schema}_models"."{name}"')
    columns = [column for column in found[0] if column not in LOAD_TIME_COLUMNS] if found else []
    values = [tuple(comparable(row[column]) for column in columns) for row in found]
    return columns, sorted(values, key=lambda row: [(item is None, str(item)) for item in row])


@pytest.fixture
def pg_sample(pg_schema: str, sample_file: Path) -> Iterator[str]:
    load(PG_URL, [sample_file], pg_schema)
    build_models(PG_URL, pg_schema)
    yield pg_schema
    drop_models_schema(PG_URL, pg_schema)


@pytest.mark.postgres
def test_every_model_agrees_across_engines(sample_duckdb: str, pg_sample: str):
    for name in MODEL_NAMES:
        duck_columns, duck_rows = sorted_rows(sample_duckdb, "klenty_prod", name)
        pg_columns, pg_rows = sorted_rows(PG_URL, pg_sample, name)

        assert duck_columns == pg_columns, name
        assert len(duck_rows) == len(pg_rows), name
        assert len(duck_rows) >= 1, name
        assert duck_rows == pg_rows, name


@pytest.mark.postgres
def test_sample_funnel_is_plausible(sample_duckdb: str, pg_sample: str):
    [funnel] = rows(PG_URL, f'SELECT * FROM "{pg_sample}_models".funnel')

    assert funnel["sent"] > 2000
    assert funnel["delivered"] == funnel["sent"] - funnel["bounced"]
    assert 0.3 < funnel["open_rate"] < 0.7
    assert funnel["reply_rate"] < funnel["open_rate"]
    assert funnel["click_rate"] < funnel["open_rate"]
