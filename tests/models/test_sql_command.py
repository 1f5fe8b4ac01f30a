"""``klenty-wh sql``: read-only queries run and print; writes are rejected with exit 2 and change nothing."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from klenty_wh.errors import UsageError
from klenty_wh.query import run_query
from klenty_wh.query.guard import check_read_only, tokenize
from klenty_wh.warehouse import open_warehouse
from tests.conftest import PG_URL, _drop_pg_schema, require_postgres
from tests.helpers import run_cli, rows, tables


def track_count(url: str, schema: str) -> int:
    return rows(url, f'SELECT count(*) AS n FROM "{schema}".tracks')[0]["n"]


WRITES = [
    "DELETE FROM {schema}.tracks",
    "delete from {schema}.tracks;",
    "DROP TABLE {schema}.tracks",
    "UPDATE {schema}.tracks SET event = 'x'",
    "INSERT INTO {schema}.tracks (id) VALUES ('x')",
    "CREATE TABLE {schema}.copied AS SELECT * FROM {schema}.tracks",
    "ALTER TABLE {schema}.tracks ADD COLUMN extra TEXT",
    "TRUNCATE {schema}.tracks",
    "COPY {schema}.tracks TO '{tmp}/out.csv'",
    "COPY (SELECT 1) TO '{tmp}/out.csv'",
    "ATTACH '{tmp}/other.duckdb' AS other",
    "SELECT 1; DELETE FROM {schema}.tracks",
    "SELECT 1 /* ; */ ; DROP TABLE {schema}.tracks",
    "SELECT ';' AS x; DELETE FROM {schema}.tracks",
    "WITH gone AS (DELETE FROM {schema}.tracks RETURNING *) SELECT * FROM gone",
    "SELECT * INTO {schema}.copied FROM {schema}.tracks",
    "EXPLAIN ANALYZE DELETE FROM {schema}.tracks",
    "SET search_path TO {schema}",
    "BEGIN; DELETE FROM {schema}.tracks; COMMIT",
]


@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def shared_target(request, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """Yield (url, schema) with sample data, shared by the tests of this module on each engine.

    Sharing is safe because every test that uses it checks that nothing changed.
    """
    folder = tmp_path_factory.mktemp("shared")
    if request.param == "postgresql":
        require_postgres()
        url, schema = PG_URL, f"kwh_test_{uuid.uuid4().hex[:10]}"
    else:
        url, schema = f"duckdb:///{folder / 'warehouse.duckdb'}", "klenty_prod"
    assert run_cli("sample", "--events", "200", "--out", str(folder / "s.ndjson")).code == 0
    assert run_cli("load", str(folder / "s.ndjson"), "--url", url, "--schema", schema).code == 0
    yield url, schema
    if request.param == "postgresql":
        _drop_pg_schema(schema)


@pytest.mark.parametrize("statement", WRITES)
def test_writes_rejected_on_both_engines(shared_target, tmp_path: Path, statement: str):
    url, schema = shared_target
    before = track_count(url, schema)

    result = run_cli("sql", statement.format(schema=schema, tmp=tmp_path), "--url", url)

    assert result.code == 2, result.err
    assert "Error:" in result.err
    assert result.out == ""
    assert track_count(url, schema) == before
    assert "copied" not in tables(url, schema)
    assert not (tmp_path / "out.csv").exists()
    assert not (tmp_path / "other.duckdb").exists()


def test_delete_tracks_rejected_exactly(tmp_path: Path):
    url = f"duckdb:///{tmp_path / 'klenty.duckdb'}"
    run_cli("sample", "--events", "300", "--out", str(tmp_path / "s.ndjson"))
    assert run_cli("load", str(tmp_path / "s.ndjson"), "--url", url).code == 0
    before = track_count(url, "klenty_prod")

    result = run_cli("sql", "DELETE FROM klenty_prod.tracks", "--url", url)

    assert result.code == 2
    assert "read-only" in result.err
    assert track_count(url, "klenty_prod") == before
    assert before > 0


def test_engine_rejects_write_past_guard(shared_target, tmp_path: Path, monkeypatch):
    """With the text guard switched off, the read-only connection still rejects the write."""
    url, schema = shared_target
    before = track_count(url, schema)
    monkeypatch.setattr("klenty_wh.query.run.check_read_only", lambda sql: sql)
    monkeypatch.setattr("klenty_wh.query.run._check_duckdb_statement", lambda sql: None)

    warehouse = open_warehouse(url, read_only=True)
    try:
        with pytest.raises(UsageError, match="rejected the query as a write"):
            run_query(warehouse, f'DELETE FROM "{schema}".tracks')
        with pytest.raises(UsageError, match="rejected the query as a write"):
            run_query(warehouse, f'CREATE TABLE "{schema}".copied AS SELECT 1 AS x')
        if warehouse.dialect == "duckdb":
            with pytest.raises(UsageError, match="rejected the query as a write"):
                run_query(warehouse, f"COPY (SELECT 1) TO '{tmp_path}/out.csv'")
    finally:
        warehouse.dispose()

    assert track_count(url, schema) == before
    assert "copied" not in tables(url, schema)
    assert not (tmp_path / "out.csv").exists()


@pytest.fixture
def loaded_duckdb(tmp_path: Path) -> str:
    url = f"duckdb:///{tmp_path / 'klenty.duckdb'}"
    run_cli("sample", "--events", "400", "--out", str(tmp_path / "s.ndjson"))
    assert run_cli("load", str(tmp_path / "s.ndjson"), "--url", url).code == 0
    return url


def test_csv_output_masks_email_addresses(loaded_duckdb: str):
    query = ("SELECT user_id, email_id, received_at FROM klenty_prod.email_sent "
             "WHERE user_id IS NOT NULL ORDER BY received_at LIMIT 3")
    masked = run_cli("sql", query, "--url", loaded_duckdb, "--format", "csv")
    shown = run_cli("sql", query, "--url", loaded_duckdb, "--format", "csv", "--show-values")

    assert masked.code == 0, masked.err
    assert shown.code == 0, shown.err
    expected = rows(loaded_duckdb, query)
    masked_records = list(csv.DictReader(io.StringIO(masked.out)))
    shown_records = list(csv.DictReader(io.StringIO(shown.out)))
    assert [r["user_id"] for r in shown_records] == [r["user_id"] for r in expected]
    assert [r["user_id"] for r in masked_records] == [
        r["user_id"][0] + "***@" + r["user_id"].split("@")[1] for r in expected]
    assert [r["email_id"] for r in masked_records] == [r["email_id"] for r in expected]
    assert "3 rows" in masked.err


def test_json_output_is_parseable(loaded_duckdb: str):
    result = run_cli("sql", "SELECT count(*) AS n, max(received_at) AS newest, 1.5 AS ratio, NULL AS nothing "
                     "FROM klenty_prod.tracks", "--url", loaded_duckdb, "--format", "json")

    assert result.code == 0, result.err
    [record] = json.loads(result.out)
    assert record["n"] == track_count(loaded_duckdb, "klenty_prod")
    assert record["newest"].startswith("2024-")
    assert record["ratio"] == 1.5
    assert record["nothing"] is None


def test_table_output_and_max_rows(loaded_duckdb: str):
    query = "SELECT id, event FROM klenty_prod.tracks ORDER BY id"
    ids = [row["id"] for row in rows(loaded_duckdb, query)]
    result = run_cli("sql", query, "--url", loaded_duckdb, "--format", "table", "--max-rows", "5")

    assert result.code == 0, result.err
    assert "event" in result.out
    assert all(identifier in result.out for identifier in ids[:5])
    assert ids[5] not in result.out
    assert "first 5 rows" in result.err


def test_query_from_stdin(loaded_duckdb: str):
    result = run_cli("sql", "-", "--url", loaded_duckdb, "--format", "csv",
                     stdin=b"SELECT 'a;b' AS text, 1 AS \"delete\" -- DROP TABLE x\n;")

    assert result.code == 0, result.err
    assert result.out.splitlines() == ["text,delete", "a;b,1"]


@pytest.mark.parametrize("query, message", [
    ("SELECT 1 +", "not valid"),
    ("SELEC 1", "starting with SELEC"),
    ("SELECT * FROM klenty_prod.no_such_table", "failed"),
    ("", "empty"),
    ("SELECT 'unterminated", "unterminated"),
])
def test_bad_queries_exit_2(loaded_duckdb: str, query: str, message: str):
    result = run_cli("sql", query, "--url", loaded_duckdb)

    assert result.code == 2
    assert message in result.err


def test_missing_duckdb_file_exit_3(tmp_path: Path):
    result = run_cli("sql", "SELECT 1", "--url", f"duckdb:///{tmp_path / 'absent.duckdb'}")

    assert result.code == 3
    assert not (tmp_path / "absent.duckdb").exists()


def test_percent_and_colon_in_literals(shared_target):
    url, schema = shared_target

    result = run_cli("sql", f"SELECT count(*) AS n, '100%' AS percent, ':name' AS colon FROM {schema}.tracks",
                     "--url", url, "--format", "json")

    assert result.code == 0, result.err
    [record] = json.loads(result.out)
    assert record == {"n": track_count(url, schema), "percent": "100%", "colon": ":name"}


def test_tokenizer_skips_strings_and_comments():
    sql = ("SELECT E'it\\'s; DROP', $tag$ ; DELETE $tag$, \"update\" /* outer /* inner ; */ DROP */ "
           "-- INSERT\nFROM t;")
    words = [token.text for token in tokenize(sql)]

    assert words == ["SELECT", "FROM", "T", ";"]
    assert check_read_only(sql).endswith("FROM t")


@pytest.mark.parametrize("sql", ["SELECT 'open", 'SELECT "open', "SELECT /* open", "SELECT $x$ open"])
def test_unterminated_text_rejected(sql: str):
    with pytest.raises(UsageError, match="unterminated"):
        check_read_only(sql)
