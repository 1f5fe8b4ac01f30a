"""``klenty-wh models``: where the views go, re-runs, and the errors a user can meet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from klenty_wh.models import model_views
from klenty_wh.models.outreach import outreach_from_plan
from klenty_wh.plan import load_plan
from klenty_wh.resources import default_plan_path
from tests.conftest import PG_URL
from tests.helpers import columns, rows, run_cli
from tests.models.conftest import OUTREACH_FIXTURE, drop_models_schema

VIEWS = model_views(load_plan(), outreach_from_plan(load_plan()))


def execute(url: str, statement: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(statement))
    finally:
        engine.dispose()


def relations(url: str, schema: str) -> dict[str, str]:
    found = rows(url, f"SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = '{schema}'")
    return {row["table_name"]: row["table_type"] for row in found}


def test_views_in_companion_schema(models_target):
    url, schema = models_target
    assert run_cli("load", str(OUTREACH_FIXTURE), "--url", url, "--schema", schema).code == 0
    segment_before = relations(url, schema)

    result = run_cli("models", "--url", url, "--schema", schema)

    assert result.code == 0, result.err
    assert f"Created schema {schema}_models." in result.out
    assert relations(url, schema) == segment_before
    assert set(segment_before.values()) == {"BASE TABLE"}
    created = relations(url, f"{schema}_models")
    assert sorted(created) == sorted(view.name for view in VIEWS)
    assert set(created.values()) == {"VIEW"}
    for view in VIEWS:
        assert columns(url, f"{schema}_models", view.name) == [name for name, _ in view.columns], view.name


def test_rerun_replaces_views(models_target):
    url, schema = models_target
    assert run_cli("load", str(OUTREACH_FIXTURE), "--url", url, "--schema", schema).code == 0
    assert run_cli("models", "--url", url, "--schema", schema).code == 0
    execute(url, f'DROP VIEW "{schema}_models".funnel')
    execute(url, f'CREATE VIEW "{schema}_models".funnel AS SELECT 1 AS stale')

    result = run_cli("models", "--url", url, "--schema", schema, "--format", "json")

    assert result.code == 0, result.err
    assert '"created_schema": false' in result.out
    [funnel] = rows(url, f'SELECT * FROM "{schema}_models".funnel')
    assert funnel["sent"] == 10


def test_missing_schema_exit_3(tmp_path: Path):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    assert run_cli("init", "--url", url).code == 0

    result = run_cli("models", "--url", url, "--schema", "klenty_staging")

    assert result.code == 3
    assert "klenty_staging" in result.err
    assert "klenty_prod" in result.err
    assert "klenty_staging_models" not in {row["schema_name"] for row in rows(
        url, "SELECT schema_name FROM information_schema.schemata")}


def test_missing_column_exit_3_then_init_fixes(tmp_path: Path):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    assert run_cli("init", "--url", url).code == 0
    execute(url, "ALTER TABLE klenty_prod.email_sent DROP COLUMN email_subject")

    result = run_cli("models", "--url", url)

    assert result.code == 3
    assert "klenty_prod.email_sent.email_subject" in result.err
    assert "klenty-wh init" in result.err
    assert run_cli("init", "--url", url).code == 0
    assert run_cli("models", "--url", url).code == 0


def test_plan_without_reply_event_exit_2(tmp_path: Path):
    plan = yaml.safe_load(default_plan_path().read_text())
    plan["events"] = [event for event in plan["events"] if event["name"] != "Email Replied"]
    plan_path = tmp_path / "plan.yaml"
    plan_path.write_text(yaml.safe_dump(plan))

    result = run_cli("models", "--plan", str(plan_path), "--dry-run")

    assert result.code == 2
    assert "Email Replied" in result.err


def test_dry_run_needs_no_warehouse(tmp_path: Path):
    result = run_cli("models", "--dry-run", "--url", f"duckdb:///{tmp_path / 'absent' / 'w.duckdb'}")

    assert result.code == 0, result.err
    assert result.out.count("CREATE VIEW") == len(VIEWS)
    assert 'CREATE VIEW "klenty_prod_models"."emails" AS' in result.out
    assert not (tmp_path / "absent").exists()


def test_schema_name_too_long_exit_2(tmp_path: Path):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"

    result = run_cli("models", "--url", url, "--schema", "k" * 60)

    assert result.code == 2
    assert "_models" in result.err


@pytest.fixture
def pg_models_schema(pg_schema: str) -> Iterator[str]:
    yield pg_schema
    drop_models_schema(PG_URL, pg_schema)


@pytest.mark.postgres
def test_dependent_view_blocks_replacement(pg_models_schema: str):
    pg_schema = pg_models_schema
    assert run_cli("load", str(OUTREACH_FIXTURE), "--url", PG_URL, "--schema", pg_schema).code == 0
    assert run_cli("models", "--url", PG_URL, "--schema", pg_schema).code == 0
    execute(PG_URL, f'CREATE VIEW "{pg_schema}_models".my_view AS SELECT sent FROM "{pg_schema}_models".funnel')

    result = run_cli("models", "--url", PG_URL, "--schema", pg_schema)

    assert result.code == 3
    assert "Nothing was changed" in result.err
    assert rows(PG_URL, f'SELECT sent FROM "{pg_schema}_models".my_view') == [{"sent": 10}]
