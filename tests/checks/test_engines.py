"""Great Expectations is the reference: the compiled engine must agree with it exactly."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from klenty_wh.checks import CheckOptions, Status, run_checks
from klenty_wh.plan import load_plan
from klenty_wh.sample.generate import write_sample
from klenty_wh.warehouse import open_warehouse
from tests.checks.test_check import plant_defects
from tests.helpers import load


@pytest.fixture
def planted(warehouse_target, tmp_path):
    url, schema = warehouse_target
    path = tmp_path / "sample.ndjson.gz"
    write_sample(load_plan(), 5_000, 9, path, defects=0.05)
    load(url, [path], schema)
    plant_defects(url, schema)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        q = f'"{schema}"'
        connection.execute(sa.text(f"UPDATE {q}.email_opened SET event_text = 'email opened', user_id = NULL "
                                   f"WHERE id IN (SELECT id FROM {q}.email_opened ORDER BY id LIMIT 7)"))
        connection.execute(sa.text(f"UPDATE {q}.tracks SET \"timestamp\" = received_at + INTERVAL '1 day' "
                                   f"WHERE id IN (SELECT id FROM {q}.tracks ORDER BY id LIMIT 4)"))
    engine.dispose()
    return url, schema


def run(url: str, schema: str, engine: str):
    warehouse = open_warehouse(url, read_only=True)
    try:
        return run_checks(warehouse, load_plan(), CheckOptions(schema=schema, engine=engine))
    finally:
        warehouse.dispose()


def test_compiled_engine_matches_great_expectations(planted):
    url, schema = planted
    compiled = [r for r in run(url, schema, "sql").results if r.engine == "sql"]
    reference = [r for r in run(url, schema, "gx").results if r.engine == "gx"]
    assert len(compiled) == len(reference) > 80
    assert all(r.status is not Status.ERROR for r in reference), [r.message for r in reference if r.message]
    failures = 0
    for ours, theirs in zip(compiled, reference):
        key = (ours.table, ours.expectation, ours.column, ours.description)
        assert key == (theirs.table, theirs.expectation, theirs.column, theirs.description)
        assert ours.status == theirs.status, key
        assert ours.unexpected_count == theirs.unexpected_count, key
        if ours.expectation != "unexpected_rows_expectation":
            assert ours.element_count == theirs.element_count, key
            assert ours.unexpected_percent == pytest.approx(theirs.unexpected_percent), key
        else:
            assert ours.observed_value == theirs.observed_value, key
        failures += ours.status is Status.FAILED
    assert failures >= 8


def test_great_expectations_returns_real_results_on_duckdb(tmp_path):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    path = tmp_path / "sample.ndjson.gz"
    write_sample(load_plan(), 2_000, 4, path)
    load(url, [path])
    results = [r for r in run(url, "klenty_prod", "gx").results if r.engine == "gx"]
    assert results and all(r.status is Status.PASSED for r in results), [
        (r.table, r.expectation, r.message) for r in results if r.status is not Status.PASSED]
    assert all(r.element_count or r.expectation == "unexpected_rows_expectation" for r in results)
