"""Loading Segment exports: formats, idempotency, both engines, reports."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from klenty_wh.plan import load_plan
from klenty_wh.sample.generate import write_sample
from tests.conftest import CASES
from tests.helpers import columns, load, rows, run_cli, tables

EVENT_TABLES = ["email_sent", "email_opened", "link_clicked", "email_replied", "email_bounced", "email_unsubscribed"]


@pytest.fixture(scope="module")
def sample_100k(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "sample.ndjson.gz"
    write_sample(load_plan(), 100_000, 7, path)
    return path


@pytest.fixture(scope="module")
def sample_20k(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "sample20k.ndjson.gz"
    write_sample(load_plan(), 20_000, 11, path)
    return path


def distinct_ids_per_table(path: Path) -> dict[str, set[str]]:
    ids: dict[str, set[str]] = defaultdict(set)
    with gzip.open(path, "rt") as handle:
        for line in handle:
            record = json.loads(line)
            ids[record["event"].lower().replace(" ", "_")].add(record["messageId"])
    return ids


def assert_balanced(report) -> None:
    for entry in report.files:
        assert entry.read == entry.loaded + entry.duplicates + entry.skipped + entry.rejected, entry


def test_sample_loads_one_row_per_distinct_message_id(duckdb_url, sample_100k):
    ids = distinct_ids_per_table(sample_100k)
    assert run_cli("init", "--url", duckdb_url).code == 0
    first = run_cli("load", str(sample_100k), "--url", duckdb_url, "--format", "json")
    assert first.code == 0, first.err
    report = json.loads(first.out)
    assert report["read"] == 100_000
    assert report["read"] == report["loaded_records"] + report["duplicates"] + report["skipped"] + report["rejected"]
    for table, expected in ids.items():
        assert rows(duckdb_url, f"SELECT count(*) AS n FROM klenty_prod.{table}")[0]["n"] == len(expected), table
    assert rows(duckdb_url, "SELECT count(*) AS n FROM klenty_prod.tracks")[0]["n"] == sum(map(len, ids.values()))

    second = run_cli("load", str(sample_100k), "--url", duckdb_url)
    assert second.code == 0
    assert "Nothing changed" in second.out
    for table, expected in ids.items():
        assert rows(duckdb_url, f"SELECT count(*) AS n FROM klenty_prod.{table}")[0]["n"] == len(expected), table


def test_json_report_has_documented_keys(duckdb_url):
    result = run_cli("load", str(CASES / "C15.ndjson"), "--url", duckdb_url, "--format", "json")
    report = json.loads(result.out)
    assert {"read", "loaded", "duplicates", "skipped", "rejected", "warnings"} <= set(report)
    assert report["loaded"] == {"tracks": 5, "email_sent": 1, "email_opened": 1, "link_clicked": 1,
                                "email_replied": 1, "email_unsubscribed": 1}
    assert report["rejected"] == 3
    assert report["read"] == 8


def test_json_report_times_each_step(duckdb_url):
    report = json.loads(run_cli("load", str(CASES / "C15.ndjson"), "--url", duckdb_url, "--format", "json").out)
    steps = report["step_seconds"]
    assert list(steps)[0] == f"reading {CASES / 'C15.ndjson'}"
    assert list(steps)[-1] == "committing"
    assert "writing email_sent" in steps
    assert all(seconds >= 0 for seconds in steps.values())
    assert sum(steps.values()) <= report["seconds"] + 0.01


def test_duckdb_and_postgres_hold_the_same_rows(tmp_path, pg_schema, sample_20k):
    from tests.conftest import PG_URL

    duck_url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    files = [sample_20k, CASES / "C03.ndjson", CASES / "C04.ndjson", CASES / "C07.ndjson", CASES / "C13.json"]
    duck_report = load(duck_url, files)
    pg_report = load(PG_URL, files, schema=pg_schema)
    assert duck_report.to_dict()["loaded"] == pg_report.to_dict()["loaded"]
    assert tables(duck_url, "klenty_prod") == tables(PG_URL, pg_schema)
    for table in tables(duck_url, "klenty_prod"):
        names = columns(duck_url, "klenty_prod", table)
        assert names == columns(PG_URL, pg_schema, table), table
        # received_at and uuid_ts are load times, and differ between the two loads.
        kept = [name for name in names if name not in ("uuid_ts",)]
        select = ", ".join(f'"{name}"' for name in kept)
        query = f'SELECT {select} FROM "{{schema}}"."{table}" ORDER BY id'
        duck_rows = rows(duck_url, query.format(schema="klenty_prod"))
        pg_rows = rows(PG_URL, query.format(schema=pg_schema))
        assert len(duck_rows) == len(pg_rows), table
        for duck_row, pg_row in zip(duck_rows, pg_rows):
            if duck_row["id"].startswith("c13-"):
                duck_row.pop("received_at"), pg_row.pop("received_at")
                duck_row.pop("timestamp"), pg_row.pop("timestamp")
            assert duck_row == pg_row, table


def test_s3_layout_folder_loads_recursively(tmp_path, duckdb_url):
    summary = write_sample(load_plan(), 3_000, 5, tmp_path / "export", layout="s3")
    files = list((tmp_path / "export").rglob("*.gz"))
    assert len(files) == summary.files > 10
    assert all(path.parts[-4] == "segment-logs" and path.parts[-2].isdigit() for path in files)
    report = load(duckdb_url, [tmp_path / "export"])
    assert report.read == 3_000
    assert len(report.files) == len(files)
    assert_balanced(report)


def test_stdin_loads(duckdb_url):
    data = (CASES / "C01.ndjson").read_bytes()
    result = run_cli("load", "-", "--url", duckdb_url, "--format", "json", stdin=data)
    assert result.code == 0, result.err
    assert json.loads(result.out)["loaded"]["tracks"] == 2


def test_batch_body_on_one_line_and_json_array(tmp_path, duckdb_url):
    batch = json.loads((CASES / "C13.json").read_text())
    line_file = tmp_path / "batch.ndjson"
    line_file.write_text(json.dumps(batch) + "\n")
    array_file = tmp_path / "calls.json"
    calls = [json.loads(line) for line in (CASES / "C01.ndjson").read_text().splitlines()]
    array_file.write_text(json.dumps(calls, indent=2))
    report = load(duckdb_url, [line_file, array_file])
    assert report.loaded == 5
    assert report.skipped_by_type == {"identify": 1, "page": 1}
    assert_balanced(report)
    assert "write_key" not in columns(duckdb_url, "klenty_prod", "tracks")


def test_csv_and_parquet_exports_round_trip(tmp_path, duckdb_url, sample_20k):
    load(duckdb_url, [sample_20k])
    source = duckdb.connect(duckdb_url.removeprefix("duckdb:///"))
    exported = []
    for table in EVENT_TABLES:
        path = tmp_path / (f"{table}.csv" if table.startswith("email") else f"{table}.parquet")
        fmt = "CSV, HEADER true" if path.suffix == ".csv" else "PARQUET"
        source.execute(f"COPY klenty_prod.{table} TO '{path}' (FORMAT {fmt})")
        exported.append(path)
    source.close()
    copy_url = f"duckdb:///{tmp_path / 'copy.duckdb'}"
    report = load(copy_url, exported)
    assert_balanced(report)
    assert report.rejected == 0
    for table in ["tracks", *EVENT_TABLES]:
        query = f"SELECT id, user_id, event, event_text, received_at, \"timestamp\" FROM klenty_prod.{table} ORDER BY id"
        assert rows(copy_url, query) == rows(duckdb_url, query), table
    query = "SELECT id, from_id, email_subject, link FROM klenty_prod.link_clicked ORDER BY id"
    assert rows(copy_url, query) == rows(duckdb_url, query)


def test_csv_keeps_empty_string_and_null_apart(tmp_path, duckdb_url):
    path = tmp_path / "email_sent.csv"
    path.write_text('id,user_id,event,event_text,received_at,email_subject,from_id\n'
                    'a,u@example.org,email_sent,Email Sent,2024-03-05 09:00:00,"",x@example.com\n'
                    'b,u@example.org,email_sent,Email Sent,2024-03-05 09:01:00,,x@example.com\n'
                    'c,u@example.org,email_sent,Email Sent,2024-03-05 09:02:00,"Line one\nline two",x@example.com\n')
    report = load(duckdb_url, [path])
    assert report.loaded == 3
    got = {row["id"]: row["email_subject"] for row in rows(duckdb_url, "SELECT id, email_subject FROM klenty_prod.email_sent")}
    assert got == {"a": "", "b": None, "c": "Line one\nline two"}


def test_event_outside_plan_is_drift(tmp_path, duckdb_url):
    record = json.loads((CASES / "C01.ndjson").read_text().splitlines()[0])
    record.update(event="Meeting Booked", messageId="drift-1", properties={"meetingAt": "2024-03-06T10:00:00Z",
                                                                          "durationMinutes": 30})
    path = tmp_path / "drift.ndjson"
    path.write_text(json.dumps(record) + "\n")
    report = load(duckdb_url, [path])
    assert "meeting_booked" in tables(duckdb_url, "klenty_prod")
    assert any("new table meeting_booked" in item for item in report.drift)
    types = {row["column_name"]: row["data_type"] for row in rows(
        duckdb_url, "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = 'klenty_prod' AND table_name = 'meeting_booked'")}
    assert types["meeting_at"].startswith("TIMESTAMP")
    assert types["duration_minutes"] == "BIGINT"


def test_rejected_records_stay_outside_segment_schema(duckdb_url):
    report = load(duckdb_url, [CASES / "C15.ndjson"])
    assert report.rejected == 3
    assert "rejected_records" not in tables(duckdb_url, "klenty_prod")
    assert len(rows(duckdb_url, "SELECT * FROM klenty_wh.rejected_records")) == 3
    again = load(duckdb_url, [CASES / "C15.ndjson"])
    assert again.rejects_stored == 0
    assert len(rows(duckdb_url, "SELECT * FROM klenty_wh.rejected_records")) == 3


def test_missing_input_is_an_error(duckdb_url):
    result = run_cli("load", "no-such-file.ndjson", "--url", duckdb_url)
    assert result.code == 3
    assert "input not found: no-such-file.ndjson" in result.err
