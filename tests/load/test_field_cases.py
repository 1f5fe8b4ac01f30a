"""Cases from the field (tests/fixtures/cases): each input loads with the expected outcome.

Every test runs on DuckDB and on PostgreSQL. Where a case allows several behaviours, the one
tested is klenty-wh's documented decision (drop vs ``_`` prefix for reserved property
names, first write wins, ids from file and line, and so on).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.conftest import CASES
from tests.helpers import columns, load, rows, tables, utc


def expected(case: str) -> dict:
    return json.loads((CASES / f"{case}.expected.json").read_text())


def by_id(url: str, schema: str, table: str) -> dict[str, dict]:
    return {row["id"]: row for row in rows(url, f'SELECT * FROM "{schema}"."{table}"')}


def all_columns(url: str, schema: str) -> set[str]:
    return {column for table in tables(url, schema) for column in columns(url, schema, table)}


def test_c01_reserved_property_names(warehouse_target):
    url, schema = warehouse_target
    spec = expected("C01")["hard_requirements"]
    report = load(url, [CASES / "C01.ndjson"], schema)

    assert report.read == 2
    assert report.loaded == 2
    sent = by_id(url, schema, "email_sent")
    assert len(sent) == spec["email_sent"]["row_count"]
    assert set(spec["email_sent"]["columns_present"]) <= set(columns(url, schema, "email_sent"))
    want = spec["email_sent"]["rows"][0]
    got = sent[want["id"]]
    for key in ("event", "event_text", "user_id", "email_id", "from_id", "email_subject"):
        assert got[key] == want[key], key
    assert got["received_at"] == utc(want["received_at"])
    assert got["timestamp"] == utc(want["timestamp"])

    clicked = by_id(url, schema, "link_clicked")
    want = spec["link_clicked"]["rows"][0]
    got = clicked[want["id"]]
    for key in ("event", "event_text", "user_id", "link", "from_id"):
        assert got[key] == want[key], key
    assert got["sent_at"] == utc(want["sent_at"])
    assert got["original_timestamp"] == utc(want["original_timestamp"])
    assert got.get("anonymous_id") is None

    assert len(rows(url, f'SELECT id FROM "{schema}".tracks')) == spec["tracks"]["row_count"]
    reserved = ("id", "event", "event_text", "user_id", "anonymous_id", "received_at", "sent_at",
                "timestamp", "original_timestamp")
    forbidden = {str(value) for value in spec["colliding_values_must_not_appear_in_reserved_columns"]}
    for table in ("tracks", "email_sent", "link_clicked"):
        for row in rows(url, f'SELECT * FROM "{schema}"."{table}"'):
            for column in reserved:
                value = row.get(column)
                assert value is None or str(value) not in forbidden, (table, column, value)
                if hasattr(value, "year"):
                    assert value.year == 2024, (table, column, value)
    present = all_columns(url, schema)
    assert not present & set(spec["never_create"])
    assert not present & set(expected("C01")["columns_absent_soft"])
    # Decision: `id`, `uuid_ts` properties are kept with a `_` prefix; the others are dropped.
    assert sent["c01-0001"]["_id"] == 987654
    assert clicked["c01-0002"]["_uuid_ts"] == "x"
    assert report.adjustments["dropped_reserved_properties"] == 9


def test_c02_event_names_map_to_slugs(warehouse_target):
    url, schema = warehouse_target
    spec = expected("C02")
    report = load(url, [CASES / "C02.ndjson"], schema)

    clicked = rows(url, f'SELECT event, event_text FROM "{schema}".link_clicked')
    assert len(clicked) == spec["tables"]["link_clicked"]["row_count"]
    assert {row["event"] for row in clicked} == {"link_clicked"}
    assert sorted(row["event_text"] for row in clicked) == sorted(spec["tables"]["link_clicked"]["event_text_values"])
    for table in ("email_opened", "email_replied", "email_bounced"):
        want = spec["tables"][table]["rows"][0]
        got = by_id(url, schema, table)
        assert len(got) == spec["tables"][table]["row_count"]
        assert got[want["id"]]["event"] == want["event"]
        assert got[want["id"]]["event_text"] == want["event_text"]
    track_count = len(rows(url, f'SELECT id FROM "{schema}".tracks'))
    assert spec["tables"]["tracks"]["row_count_min"] <= track_count <= spec["tables"]["tracks"]["row_count_max"]
    assert not tables(url, schema) & set(spec["tables_that_must_not_exist"])
    # Decision: the emoji-only event name is rejected, kept with its reason, not in tracks.
    assert track_count == 7
    assert report.rejected == 1
    reject = rows(url, f"SELECT line, reason, raw FROM klenty_wh.rejected_records WHERE target_schema = '{schema}'")
    assert [r["line"] for r in reject] == [8]
    assert "no ASCII letter or digit" in reject[0]["reason"]
    assert '"messageId":"c02-0008"' in reject[0]["raw"]


def test_c03_keys_snake_case_like_go_snakecase(warehouse_target):
    url, schema = warehouse_target
    spec = expected("C03")["tables"]
    report = load(url, [CASES / "C03.ndjson"], schema)

    for table, table_spec in spec.items():
        present = columns(url, schema, table)
        assert set(table_spec["columns_present"]) <= set(present), table
        assert not set(table_spec.get("columns_absent", [])) & set(present), table
        for name in table_spec.get("exactly_one_column_named", []):
            assert present.count(name) == 1
        got = by_id(url, schema, table)
        for want in table_spec["rows"]:
            for key, value in want.items():
                assert got[want["id"]][key] == value, (table, key)
        assert all(row["from_id"] == "alex.rivera@example.com" for row in got.values())
    replied = by_id(url, schema, "email_replied")["c03-0004"]
    assert replied["reply_sentiment"] in spec["email_replied"]["conflict"]["candidates"]
    # Decision: the key that comes first in the record wins; the conflict is counted.
    assert replied["reply_sentiment"] == "positive"
    assert report.adjustments["key_conflicts"] == 1
    assert by_id(url, schema, "link_clicked")["c03-0002"]["opened_at_utc"] == utc("2024-03-07T07:45:00Z")


def test_c04_nested_objects_and_arrays(warehouse_target):
    url, schema = warehouse_target
    spec = expected("C04")["tables"]["email_sent"]
    load(url, [CASES / "C04.ndjson"], schema)

    present = columns(url, schema, "email_sent")
    assert set(spec["columns_present"]) <= set(present)
    assert not set(spec["columns_absent"]) & set(present)
    got = by_id(url, schema, "email_sent")
    assert len(got) == spec["row_count"]
    for want in spec["rows"]:
        row = got[want["id"]]
        for key, value in want.items():
            if key.endswith("__json"):
                assert json.loads(row[key[: -len("__json")]]) == value, key
            else:
                assert row[key] == value, key
    assert got["c04-0001"]["labels"] == "[]"
    assert got["c04-0001"]["cc"] == '["ana.costa@example.com","raj.patel@example.com"]'


def test_c05_null_and_missing_values(warehouse_target):
    url, schema = warehouse_target
    spec = expected("C05")["tables"]
    report = load(url, [CASES / "C05.ndjson"], schema)

    for table in ("link_clicked", "email_opened", "email_sent"):
        got = by_id(url, schema, table)
        assert len(got) == spec[table]["row_count"]
        for key, mapping in spec[table].items():
            if key.endswith("_by_id"):
                column = key[: -len("_by_id")]
                for record_id, value in mapping.items():
                    assert got[record_id][column] == value, (table, record_id, column)
    assert not set(spec["email_sent"]["columns_absent"]) & set(columns(url, schema, "email_sent"))
    assert report.adjustments["null_only_keys"] == 2


def test_c07_timestamp_formats(warehouse_target):
    url, schema = warehouse_target
    spec = expected("C07")
    report = load(url, [CASES / "C07.ndjson"], schema)

    got = by_id(url, schema, "email_opened")
    assert len(got) == spec["tables"]["email_opened"]["row_count"]
    for record_id, value in spec["tables"]["email_opened"]["timestamp_utc_by_id"].items():
        assert got[record_id]["timestamp"] == utc(value), record_id
    assert all(row["timestamp"] is not None for row in got.values())
    # The impossible date falls back to received_at, with counted warnings.
    assert got["c07-0008"]["original_timestamp"] is None
    assert report.adjustments["timestamp_fallback"] == 1
    assert report.adjustments["original_timestamp_null"] == 1
    # The other offsets are normalised to UTC in original_timestamp too.
    assert got["c07-0005"]["original_timestamp"] == utc("2024-03-05T03:45:00Z")


@pytest.mark.parametrize("dedupe, survivor", [("keep-first", "survivor_postgres_snowflake_mode"),
                                              ("keep-last", "survivor_redshift_mode")])
def test_c09_duplicates_and_missing_ids(warehouse_target, dedupe, survivor):
    url, schema = warehouse_target
    spec = expected("C09")["tables"]
    report = load(url, [CASES / "C09.ndjson"], schema, dedupe=dedupe)

    sent = by_id(url, schema, "email_sent")
    assert len(sent) == spec["email_sent"]["row_count"]
    want = spec["email_sent"][survivor]
    assert sent[want["id"]]["email_subject"] == want["email_subject"]
    assert sent[want["id"]]["received_at"] == utc(want["received_at"])
    opened = by_id(url, schema, "email_opened")
    assert len(opened) == spec["email_opened"]["row_count"]
    assert set(spec["email_opened"]["ids_include"]) <= set(opened)
    generated = [record_id for record_id in opened if record_id.startswith("kwh-")]
    assert len(generated) == spec["email_opened"]["rows_without_source_messageId"]
    assert len(rows(url, f'SELECT id FROM "{schema}".tracks')) == spec["tracks"]["row_count"]
    assert report.duplicates == 2
    assert report.adjustments["generated_ids"] == 5
    assert report.adjustments["message_id_case"] == 1


def test_c09_reload_adds_nothing(warehouse_target):
    url, schema = warehouse_target
    first = load(url, [CASES / "C09.ndjson"], schema)
    second = load(url, [CASES / "C09.ndjson"], schema)

    assert first.changed
    assert not second.changed
    assert second.loaded == 0
    assert second.read == 9
    assert second.duplicates == 9
    assert len(rows(url, f'SELECT id FROM "{schema}".email_opened')) == 6


def test_c13_batch_body(warehouse_target):
    url, schema = warehouse_target
    spec = expected("C13")
    report = load(url, [CASES / "C13.json"], schema)

    assert sorted(r["id"] for r in rows(url, f'SELECT id FROM "{schema}".tracks')) == spec["tables"]["tracks"]["ids"]
    sent = by_id(url, schema, "email_sent")["c13-0002"]
    want = spec["tables"]["email_sent"]["rows"][0]
    for key in ("context_library_name", "context_library_version", "context_source_name"):
        assert sent[key] == want[key], key
    assert sent["sent_at"] == utc(want["sent_at"])
    assert sent["original_timestamp"] == utc(want["original_timestamp"])
    assert sent["received_at"] - sent["timestamp"] == timedelta(seconds=8100)
    opened = by_id(url, schema, "email_opened")["c13-0003"]
    assert opened["context_ip"] == "203.0.113.9"
    assert opened["context_library_name"] == "klenty-segment"
    assert opened["original_timestamp"] == utc("2024-03-19T11:20:00.000Z")
    assert opened["received_at"] - opened["timestamp"] == timedelta(seconds=600)
    clicked = by_id(url, schema, "link_clicked")["c13-0005"]
    assert clicked["context_library_version"] == "1.4.1"
    assert clicked["received_at"] - clicked["timestamp"] == timedelta(seconds=360)
    assert not all_columns(url, schema) & set(spec["columns_that_must_not_exist_anywhere"])
    assert report.skipped_by_type == {"identify": spec["identify_rows"], "page": spec["page_rows"]}
    assert report.adjustments["received_at_assigned"] == 3


def test_c14_multi_member_gzip(warehouse_target):
    url, schema = warehouse_target
    spec = expected("C14")
    report = load(url, [CASES / "C14.ndjson.gz"], schema)

    assert report.read == spec["input_facts"]["lines_total"]
    assert sorted(r["id"] for r in rows(url, f'SELECT id FROM "{schema}".tracks')) == spec["tables"]["tracks"]["ids"]
    for table in ("email_sent", "email_opened", "link_clicked"):
        assert len(rows(url, f'SELECT id FROM "{schema}"."{table}"')) == spec["tables"][table]["row_count"]
    assert not set(spec["tables"]["link_clicked_columns_absent"]) & set(columns(url, schema, "link_clicked"))
    assert dict(report.skipped_by_type) == spec["skipped_non_track"]


def test_c15_bom_crlf_and_broken_lines(warehouse_target):
    url, schema = warehouse_target
    spec = expected("C15")
    report = load(url, [CASES / "C15.ndjson"], schema)

    assert sorted(r["id"] for r in rows(url, f'SELECT id FROM "{schema}".tracks')) == spec["tables"]["tracks"]["ids"]
    assert by_id(url, schema, "link_clicked")["c15-0003"]["link"] == "https://example.com/offer"
    rejected = rows(url, "SELECT line, reason FROM klenty_wh.rejected_records "
                         f"WHERE target_schema = '{schema}' ORDER BY line")
    assert [str(r["line"]) for r in rejected] == list(spec["errors_reported_for_physical_lines"])
    assert rejected[0]["reason"].startswith("malformed JSON")
    assert rejected[1]["reason"] == "not a JSON object: found an array"
    assert rejected[2]["reason"] == "not a JSON object: found null"
    assert report.read == 8
    assert report.loaded == 5
    assert report.rejected == 3
    for table in tables(url, schema):
        for row in rows(url, f'SELECT * FROM "{schema}"."{table}"'):
            for value in row.values():
                if isinstance(value, str):
                    assert "\ufeff" not in value
                    assert not value.endswith("\r")
