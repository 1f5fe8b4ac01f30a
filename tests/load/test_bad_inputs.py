"""Every input of the bad-input corpus gives its expected outcome (tests/fixtures/bad_inputs)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, PG_URL, require_postgres
from tests.helpers import load, rows

CORPUS = FIXTURES / "bad_inputs"
CASES = sorted(path.name.removesuffix(".expected.json") for path in CORPUS.glob("*.expected.json"))


@pytest.fixture(scope="module")
def large_inputs(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("large-inputs")
    subprocess.run([sys.executable, str(CORPUS / "make.py"), str(target), "--large"], check=True)
    return target


def params():
    for name in CASES:
        expected = json.loads((CORPUS / f"{name}.expected.json").read_text())
        for engine in expected["engines"]:
            yield pytest.param(name, engine, id=f"{name}-{engine}")


@pytest.mark.parametrize("name, engine", params())
def test_bad_input_outcome(name, engine, tmp_path, large_inputs):
    expected = json.loads((CORPUS / f"{name}.expected.json").read_text())
    path = CORPUS / name if (CORPUS / name).exists() else large_inputs / name
    if engine == "duckdb":
        url, schema = f"duckdb:///{tmp_path / 'w.duckdb'}", "klenty_prod"
    else:
        require_postgres()
        url, schema = PG_URL, f"kwh_bad_{abs(hash(name)) % 10**8}"
    try:
        report = load(url, [path], schema)
        check_report(expected, report)
        check_rejects(expected, url, schema)
        check_values(expected, url, schema)
        check_widths(expected, url, schema)
    finally:
        if engine == "postgresql":
            from tests.conftest import _drop_pg_schema

            _drop_pg_schema(schema)


def check_report(expected: dict, report) -> None:
    for entry in report.files:
        assert entry.balanced, entry
    for key in ("read", "loaded", "duplicates", "skipped", "rejected"):
        if key in expected:
            assert getattr(report, key) == expected[key], key
    if "loaded_min" in expected:
        assert expected["loaded_min"] <= report.loaded <= expected["loaded_max"]
        assert report.read == report.loaded + report.rejected
    for key, count in expected.get("adjustments", {}).items():
        assert report.adjustments[key] == count, (key, dict(report.adjustments))


def check_rejects(expected: dict, url: str, schema: str) -> None:
    if "reasons" not in expected:
        return
    stored = rows(url, "SELECT line, item, reason, byte_offset FROM klenty_wh.rejected_records "
                       f"WHERE target_schema = '{schema}' ORDER BY line NULLS FIRST, item")
    assert len(stored) == len(expected["reasons"])
    # Sorted, because a CSV reader numbers malformed rows by file line and the others by row.
    for row, reason in zip(sorted(stored, key=lambda r: r["reason"]), sorted(expected["reasons"])):
        assert row["reason"].startswith(reason), (row, reason)


def check_widths(expected: dict, url: str, schema: str) -> None:
    for table, width in expected.get("columns_max", {}).items():
        found = rows(url, "SELECT count(*) AS n FROM information_schema.columns "
                          f"WHERE table_schema = '{schema}' AND table_name = '{table}'")
        assert found[0]["n"] == width, table


def check_values(expected: dict, url: str, schema: str) -> None:
    for table, by_id in expected.get("values", {}).items():
        found = {row["id"]: row for row in rows(url, f'SELECT * FROM "{schema}"."{table}"')}
        for record_id, columns in by_id.items():
            for column, value in columns.items():
                got = found[record_id][column]
                if isinstance(got, datetime):
                    got = got.isoformat(sep=" ", timespec="microseconds" if got.microsecond else "seconds")
                assert got == value, (record_id, column)


def test_wide_events_postgres_fail_cleanly(large_inputs):
    """A thousand numeric properties per row exceed PostgreSQL's 8 KB row: the load fails cleanly."""
    from klenty_wh.errors import WarehouseError

    require_postgres()
    schema = "kwh_bad_wide"
    try:
        with pytest.raises(WarehouseError) as failure:
            load(PG_URL, [large_inputs / "wide-properties.ndjson"], schema)
        message = str(failure.value)
        assert "row is too big" in message
        assert "nothing was written" in message
        assert "load them into DuckDB" in message
        tables = rows(PG_URL, "SELECT count(*) AS n FROM information_schema.tables "
                              f"WHERE table_schema = '{schema}'")
        assert tables[0]["n"] == 0
    finally:
        from tests.conftest import _drop_pg_schema

        _drop_pg_schema(schema)
