"""Faults during a load: concurrent loads, dropped connections, read-only and full targets."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from klenty_wh.plan import load_plan
from klenty_wh.sample.generate import write_sample
from tests.conftest import CASES, PG_URL
from tests.helpers import load, rows, run_cli

PASSWORD = "S3cret-Pass-42"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("faults") / "sample.ndjson.gz"
    write_sample(load_plan(), 60_000, 5, path)
    return path


def cli(*args: str, url: str | None = None) -> subprocess.Popen:
    env = dict(os.environ)
    if url:
        env["KLENTY_WH_URL"] = url
    return subprocess.Popen([sys.executable, "-m", "klenty_wh", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def track_count(url: str, schema: str = "klenty_prod") -> int:
    return rows(url, f'SELECT count(*) AS n FROM "{schema}".tracks')[0]["n"]


def test_concurrent_loads_wait_and_never_interleave(tmp_path, sample):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    first, second = cli("load", str(sample), url=url), cli("load", str(sample), url=url)
    outputs = [process.communicate(timeout=120) for process in (first, second)]
    assert first.returncode == 0, outputs
    assert second.returncode == 0, outputs
    assert any("waiting up to" in err for _, err in outputs)
    reference = tmp_path / "reference.duckdb"
    load(f"duckdb:///{reference}", [sample])
    assert track_count(url) == track_count(f"duckdb:///{reference}")
    assert sum("Nothing changed" in out for out, _ in outputs) == 1


def test_locked_file_fails_clearly_without_waiting(tmp_path):
    database = tmp_path / "w.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(database)!r}); "
                               "print('ready', flush=True); time.sleep(20)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = run_cli("load", str(CASES / "C01.ndjson"), "--url", f"duckdb:///{database}", "--lock-timeout", "0")
        assert result.code == 3
        assert "Another process has the file open" in result.err
        assert result.err.count("\n") == 1
    finally:
        holder.kill()
        holder.wait()


def test_dropped_postgres_connection_rolls_back_and_hides_password(pg_schema, sample):
    url = PG_URL.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@")
    assert url != PG_URL, "the test needs a PG URL of the form postgresql://postgres@host/db"
    load(url, [CASES / "C01.ndjson"], pg_schema)
    before = track_count(PG_URL, pg_schema)
    # Autocommit: inside a transaction, pg_stat_activity would show one frozen snapshot.
    monitor = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    process = cli("load", str(sample), "--schema", pg_schema, url=url)
    terminated = False
    deadline = time.monotonic() + 60
    with monitor.connect() as connection:
        while process.poll() is None and time.monotonic() < deadline and not terminated:
            # The write phase: a transaction whose statements name the target schema.
            found = connection.execute(sa.text(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'klenty-wh' "
                "AND xact_start IS NOT NULL AND query LIKE :schema AND pid <> pg_backend_pid()"),
                {"schema": f"%{pg_schema}%"}).fetchall()
            for (pid,) in found:
                connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                terminated = True
            time.sleep(0.02)
    out, err = process.communicate(timeout=60)
    monitor.dispose()
    assert terminated, "the load finished before its transaction could be interrupted"
    assert process.returncode == 3, err
    assert "127.0.0.1" in err
    assert "rolled back" in err
    assert PASSWORD not in out + err
    assert track_count(PG_URL, pg_schema) == before


def test_read_only_postgres_role_gives_clear_error(pg_schema):
    engine = sa.create_engine(PG_URL)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kwh_reader') THEN "
            "CREATE ROLE kwh_reader LOGIN; END IF; END $$"))
        connection.execute(sa.text("ALTER ROLE kwh_reader SET default_transaction_read_only = on"))
    engine.dispose()
    url = PG_URL.replace("postgresql://postgres@", "postgresql://kwh_reader@")
    result = run_cli("load", str(CASES / "C01.ndjson"), "--schema", pg_schema, "--url", url)
    assert result.code == 3
    assert "read-only transaction" in result.err
    assert "nothing was written" in result.err


def test_read_only_duckdb_gives_clear_error(tmp_path):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    load(url, [CASES / "C01.ndjson"])
    result = run_cli("load", str(CASES / "C14.ndjson.gz"), "--url", url + "?access_mode=read_only")
    assert result.code == 3
    assert "read-only" in result.err.lower()
    assert track_count(url) == 2


@pytest.fixture
def small_filesystem(tmp_path):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8); the full-disk test was not run")
    target = tmp_path / "small"
    target.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(target)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()}); the full-disk test was not run")
    yield target
    subprocess.run(["umount", str(target)], check=False)


def test_full_disk_gives_clear_error_and_keeps_data(small_filesystem, sample):
    url = f"duckdb:///{small_filesystem / 'w.duckdb'}"
    load(url, [CASES / "C01.ndjson"])
    result = run_cli("load", str(sample), "--url", url)
    assert result.code == 3
    assert "space" in result.err.lower()
    assert "Traceback" not in result.err
    assert track_count(url) == 2


def test_concurrent_postgres_loads_never_duplicate_rows(pg_schema, sample):
    load(PG_URL, [CASES / "C01.ndjson"], pg_schema)
    first = cli("load", str(sample), "--schema", pg_schema, url=PG_URL)
    second = cli("load", str(sample), "--schema", pg_schema, url=PG_URL)
    outputs = [process.communicate(timeout=180) for process in (first, second)]
    assert first.returncode == 0, outputs
    assert second.returncode == 0, outputs
    for table in ("tracks", "email_sent", "email_opened"):
        found = rows(PG_URL, f'SELECT count(*) AS n, count(DISTINCT id) AS ids FROM "{pg_schema}"."{table}"')[0]
        assert found["n"] == found["ids"], table
    assert sum("Nothing changed" in out for out, _ in outputs) == 1
