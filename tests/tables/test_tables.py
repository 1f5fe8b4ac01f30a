"""The tables `init` creates and the DDL `ddl` prints."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from klenty_wh.plan import load_plan
from klenty_wh.tables.ddl import compile_ddl
from tests.conftest import FIXTURES
from tests.helpers import columns, rows, run_cli, tables

STANDARD = ["id", "user_id", "anonymous_id", "event", "event_text", "received_at", "sent_at", "timestamp",
            "original_timestamp", "uuid_ts", "context_library_name", "context_library_version",
            "context_integration_name", "context_integration_version"]
EVENT_TABLES = ["email_sent", "email_opened", "link_clicked", "email_replied", "email_bounced", "email_unsubscribed"]
TIMESTAMP_COLUMNS = {"received_at", "sent_at", "timestamp", "original_timestamp", "uuid_ts"}


@pytest.mark.parametrize("dialect", ["duckdb", "postgresql", "snowflake", "bigquery", "redshift"])
def test_ddl_matches_expected_file(dialect):
    expected = (FIXTURES / "ddl" / f"{dialect}.sql").read_text()
    assert compile_ddl(load_plan(), "klenty_prod", dialect) == expected


@pytest.mark.parametrize("dialect", ["duckdb", "postgresql", "snowflake", "bigquery", "redshift"])
def test_ddl_command_prints_each_dialect(dialect):
    result = run_cli("ddl", "--schema", "klenty_prod", "--dialect", dialect)
    assert result.code == 0, result.err
    assert result.out == (FIXTURES / "ddl" / f"{dialect}.sql").read_text()


def test_ddl_redshift_applies_prefix_rule():
    text = compile_ddl(load_plan(), "klenty_prod", "redshift")
    assert "VARCHAR(512)" in text
    assert '"timestamp" TIMESTAMP' in text
    assert "uuid BIGINT" in text


def test_ddl_unknown_dialect_exits_2():
    result = run_cli("ddl", "--dialect", "oracle")
    assert result.code == 2
    assert "unknown dialect 'oracle'" in result.err and "duckdb, postgresql" in result.err


def test_init_creates_documented_tables(warehouse_target):
    url, schema = warehouse_target
    result = run_cli("init", "--schema", schema, "--url", url)
    assert result.code == 0, result.err
    assert tables(url, schema) == {"tracks", *EVENT_TABLES}
    assert columns(url, schema, "tracks") == STANDARD
    for table in EVENT_TABLES:
        expected = STANDARD + ["email_id", "from_id", "email_subject"] + (["link"] if table == "link_clicked" else [])
        assert columns(url, schema, table) == expected
    types = rows(url, "SELECT column_name, data_type FROM information_schema.columns "
                      f"WHERE table_schema = '{schema}' AND table_name = 'email_sent'")
    for row in types:
        is_timestamp = row["data_type"].upper().startswith("TIMESTAMP")
        assert is_timestamp == (row["column_name"] in TIMESTAMP_COLUMNS), row


def test_second_init_changes_nothing(warehouse_target):
    url, schema = warehouse_target
    assert run_cli("init", "--schema", schema, "--url", url).code == 0
    again = run_cli("init", "--schema", schema, "--url", url)
    assert again.code == 0
    assert "Nothing changed" in again.out


def test_init_adds_dropped_column_and_keeps_rows(warehouse_target):
    url, schema = warehouse_target
    assert run_cli("init", "--schema", schema, "--url", url).code == 0
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(f'INSERT INTO "{schema}".email_sent (id, from_id) VALUES (\'m-1\', \'a@example.com\')'))
        connection.execute(sa.text(f'ALTER TABLE "{schema}".email_sent DROP COLUMN from_id'))
    engine.dispose()
    result = run_cli("init", "--schema", schema, "--url", url, "--format", "json")
    assert result.code == 0, result.err
    assert '"column": "from_id"' in result.out
    assert "from_id" in columns(url, schema, "email_sent")
    assert rows(url, f'SELECT id, from_id FROM "{schema}".email_sent') == [{"id": "m-1", "from_id": None}]


def test_init_accepts_source_nickname(duckdb_url):
    result = run_cli("init", "--source-nickname", "Klenty Prod", "--url", duckdb_url)
    assert result.code == 0, result.err
    assert "klenty_prod" in result.out


def test_init_rejects_bad_schema_name_with_one_line(duckdb_url):
    result = run_cli("init", "--schema", "klenty prod; drop", "--url", duckdb_url)
    assert result.code == 2
    assert result.err.startswith("Error: invalid schema name 'klenty prod; drop'")
    assert result.err.count("\n") == 1
    assert "Traceback" not in result.err


def test_init_unreachable_postgres_hides_password():
    result = run_cli("init", "--url", "postgresql://bob:s3cret-pw@127.0.0.1:1/test")
    assert result.code == 3
    assert "s3cret-pw" not in result.out + result.err
    assert "postgresql://bob:***@127.0.0.1:1/test" in result.err


def test_init_unreachable_postgres_hides_password_with_debug():
    result = run_cli("init", "--debug", "--url", "postgresql://bob:s3cret-pw@127.0.0.1:1/test")
    assert result.code == 3
    assert "Traceback" in result.err
    assert "s3cret-pw" not in result.out + result.err
