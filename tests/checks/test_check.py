"""`klenty-wh check` on clean and on planted data, on DuckDB and PostgreSQL."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import sqlalchemy as sa

from klenty_wh.plan import load_plan
from klenty_wh.sample.generate import write_sample
from tests.conftest import CASES
from tests.helpers import load, run_cli

EMAIL = re.compile(r"[A-Za-z0-9._%+-]{2,}@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("check") / "sample.ndjson.gz"
    write_sample(load_plan(), 20_000, 7, path)
    return path


@pytest.fixture
def loaded(warehouse_target, sample_file):
    url, schema = warehouse_target
    load(url, [sample_file], schema)
    return url, schema


def plant_defects(url: str, schema: str) -> None:
    """Plant 5 NULL from_id, 3 non-URL links, 2 duplicated ids and 1 event row without tracks row."""
    engine = sa.create_engine(url)
    q = f'"{schema}"'
    with engine.begin() as c:
        c.execute(sa.text(f"UPDATE {q}.email_sent SET from_id = NULL WHERE id IN "
                          f"(SELECT id FROM {q}.email_sent ORDER BY id LIMIT 5)"))
        c.execute(sa.text(f"UPDATE {q}.link_clicked SET link = 'not a url' WHERE id IN "
                          f"(SELECT id FROM {q}.link_clicked ORDER BY id LIMIT 3)"))
        c.execute(sa.text(f"INSERT INTO {q}.email_opened SELECT * FROM "
                          f"(SELECT * FROM {q}.email_opened ORDER BY id LIMIT 2) AS d"))
        c.execute(sa.text(f"UPDATE {q}.email_replied SET id = 'orphan-1' WHERE id = "
                          f"(SELECT min(id) FROM {q}.email_replied)"))
    engine.dispose()


def check_json(url: str, schema: str, *extra: str) -> tuple[int, dict]:
    result = run_cli("check", "--schema", schema, "--url", url, "--format", "json", *extra)
    return result.code, json.loads(result.out)


def failed(report: dict, severity: str = "error") -> dict[tuple, dict]:
    return {(r["table"], r["column"], r["expectation"]): r for r in report["results"]
            if r["status"] != "passed" and r["severity"] == severity and r["status"] != "skipped"}


def test_clean_sample_passes(loaded):
    url, schema = loaded
    code, report = check_json(url, schema)
    assert code == 0, failed(report)
    assert report["success"] is True
    assert report["counts"]["failed"] == 0
    assert report["counts"]["checks"] > 100
    text = run_cli("check", "--schema", schema, "--url", url)
    checks = report["counts"]["checks"]
    assert re.search(rf"^PASSED: all {checks} checks passed on 7 tables of {schema} in [0-9.]+ s", text.out, re.M)


def test_planted_defects_are_reported_exactly(loaded, tmp_path):
    url, schema = loaded
    plant_defects(url, schema)
    code, report = check_json(url, schema)
    assert code == 1
    assert report["success"] is False
    found = failed(report)
    assert found[("email_sent", "from_id", "expect_column_values_to_not_be_null")]["unexpected_count"] == 5
    assert found[("link_clicked", "link", "expect_column_values_to_match_portable_regex")]["unexpected_count"] == 3
    unique = found[("email_opened", "id", "expect_column_values_to_be_unique")]
    assert unique["observed_value"] == {"duplicated_values": 2}
    assert unique["unexpected_count"] == 4  # GX counts every row of a duplicated value
    orphan = found[("email_replied", "id", "rows_have_tracks_row")]
    assert orphan["unexpected_count"] == 1
    assert orphan["sample_ids"] == ["orphan-1"]
    assert set(found) == {
        ("email_sent", "from_id", "expect_column_values_to_not_be_null"),
        ("link_clicked", "link", "expect_column_values_to_match_portable_regex"),
        ("email_opened", "id", "expect_column_values_to_be_unique"),
        ("email_opened", None, "event_counts_match_tracks"),
        ("email_replied", "id", "rows_have_tracks_row"),
    }
    for result in found.values():
        assert result["failing_rows_sql"]
    # The failing-rows query runs on the engine in use and returns the planted rows.
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        sql = found[("email_sent", "from_id", "expect_column_values_to_not_be_null")]["failing_rows_sql"]
        assert len(connection.execute(sa.text(sql)).fetchall()) == 5
    engine.dispose()


def test_planted_defects_in_junit(loaded, tmp_path):
    url, schema = loaded
    plant_defects(url, schema)
    out = tmp_path / "check.xml"
    result = run_cli("check", "--schema", schema, "--url", url, "--output", str(out))
    assert result.code == 1
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    failures = [(case.get("classname"), case.find("failure").get("type")) for case in root.iter("testcase")
                if case.find("failure") is not None]
    assert len(failures) == 5
    assert (f"{schema}.email_sent", "expect_column_values_to_not_be_null") in failures
    assert int(root.get("failures")) == 5


def test_outputs_mask_email_addresses(loaded, tmp_path):
    url, schema = loaded
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(f'UPDATE "{schema}".email_sent SET from_id = \'planted.person@example.com x\' '
                                   f'WHERE id IN (SELECT id FROM "{schema}".email_sent ORDER BY id LIMIT 2)'))
    engine.dispose()
    outputs = {}
    for fmt in ("text", "json", "junit"):
        outputs[fmt] = run_cli("check", "--schema", schema, "--url", url, "--format", fmt).out
    docs = tmp_path / "docs"
    run_cli("check", "--schema", schema, "--url", url, "--data-docs", str(docs))
    outputs["data docs"] = "\n".join(p.read_text(errors="replace") for p in docs.rglob("*.html"))
    for name, text in outputs.items():
        assert "planted.person@example.com" not in text, name
        assert not EMAIL.search(text), (name, EMAIL.search(text))
    assert "p***@example.com" in outputs["json"]
    shown = run_cli("check", "--schema", schema, "--url", url, "--format", "json", "--show-values").out
    assert "planted.person@example.com" in shown


def test_missing_column_is_reported_not_crashed(loaded):
    url, schema = loaded
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(f'ALTER TABLE "{schema}".email_sent DROP COLUMN from_id'))
    engine.dispose()
    code, report = check_json(url, schema)
    assert code == 1
    messages = [r["message"] for r in report["results"] if r["expectation"] == "column_exists"]
    assert messages == [f"Segment never received a non-null value for `fromId`, so there is no `from_id` "
                        f"column in {schema}.email_sent"]
    skipped = [r for r in report["results"] if r["status"] == "skipped"]
    assert {r["column"] for r in skipped} == {"from_id"}


def test_missing_schema_exits_3_and_lists_schemas(loaded):
    url, schema = loaded
    result = run_cli("check", "--schema", "missing_schema", "--url", url)
    assert result.code == 3
    assert "schema 'missing_schema' does not exist" in result.err
    assert schema in result.err


def test_max_age_stale_and_rare_events(loaded):
    url, schema = loaded
    code, report = check_json(url, schema, "--max-age", "24h")
    assert code == 1
    fresh = {r["table"]: r for r in report["results"] if r["expectation"] == "fresh_within_max_age"}
    assert fresh["email_sent"]["severity"] == "error"
    assert fresh["email_sent"]["status"] == "failed"
    assert fresh["email_sent"]["description"] == "newest email_sent row was received within 1 d"
    assert re.fullmatch(r"newest row is \d+ d( \d+ (h|min))? old", fresh["email_sent"]["message"])
    assert fresh["email_unsubscribed"]["severity"] == "warning"
    code, report = check_json(url, schema, "--max-age", "5000w")
    assert code == 0


def test_bad_max_age_is_a_usage_error(duckdb_url):
    result = run_cli("check", "--url", duckdb_url, "--max-age", "soon")
    assert result.code == 2
    assert "invalid --max-age 'soon'" in result.err


def test_data_docs_site_is_written(loaded, tmp_path):
    url, schema = loaded
    docs = tmp_path / "data-docs"
    result = run_cli("check", "--schema", schema, "--url", url, "--data-docs", str(docs))
    assert result.code == 0, result.err
    assert (docs / "index.html").is_file()
    pages = list((docs / "validations").rglob("*.html"))
    assert len(pages) == 7


@pytest.mark.parametrize("case, table, expected_ids", [
    ("C05", "link_clicked", {"c05-0002", "c05-0003", "c05-0004"}),
    ("C05", "email_sent", {"c05-0006", "c05-0007"}),
])
def test_field_case_failures_name_the_rows(duckdb_url, case, table, expected_ids):
    load(duckdb_url, [CASES / f"{case}.ndjson"])
    code, report = check_json(duckdb_url, "klenty_prod")
    assert code == 1
    ids = set()
    for result in failed(report).values():
        if result["table"] == table:
            ids.update(result["sample_ids"])
    assert ids == expected_ids


@pytest.mark.parametrize("case", ["C01", "C02", "C03", "C04", "C07", "C09", "C13", "C14", "C15"])
def test_field_cases_pass_error_checks(duckdb_url, case):
    path = next(p for p in CASES.glob(f"{case}.*") if not p.name.endswith(".expected.json"))
    load(duckdb_url, [path])
    code, report = check_json(duckdb_url, "klenty_prod")
    assert code == 0, failed(report)
