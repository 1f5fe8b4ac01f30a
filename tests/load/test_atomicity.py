"""A load is one transaction: killing it leaves the warehouse as it was, and a rerun succeeds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from klenty_wh.plan import load_plan
from klenty_wh.sample.generate import write_sample
from tests.conftest import CASES
from tests.helpers import load, rows

TABLES = ["tracks", "email_sent", "email_opened", "link_clicked", "email_replied", "email_bounced",
          "email_unsubscribed"]
KILLS = 20


def counts(url: str, schema: str) -> dict[str, int]:
    return {table: rows(url, f'SELECT count(*) AS n FROM "{schema}"."{table}"')[0]["n"] for table in TABLES}


@pytest.fixture(scope="module")
def big_sample(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("kill") / "sample.ndjson.gz"
    write_sample(load_plan(), 80_000, 3, path)
    return path


def run_load(url: str, schema: str, path: Path, kill_after: float | None) -> tuple[float, int]:
    """Run `klenty-wh load` in its own process; kill it after ``kill_after`` seconds when given."""
    env = dict(os.environ, KLENTY_WH_URL=url)
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "klenty_wh", "load", str(path), "--schema", schema],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    if kill_after is not None:
        try:
            process.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
    code = process.wait(timeout=120)
    return time.monotonic() - started, code


def reset(url: str, schema: str) -> None:
    """Return the warehouse to its state before the big load: only the C01 calls."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for table in TABLES:
            connection.execute(sa.text(f'DELETE FROM "{schema}"."{table}" WHERE id NOT LIKE \'c01-%\''))
    engine.dispose()


def test_twenty_killed_loads_leave_warehouse_whole(warehouse_target, big_sample, tmp_path):
    url, schema = warehouse_target
    load(url, [CASES / "C01.ndjson"], schema)
    before = counts(url, schema)

    reference_url = f"duckdb:///{tmp_path / 'reference.duckdb'}"
    load(reference_url, [CASES / "C01.ndjson"])
    duration, code = run_load(reference_url, "klenty_prod", big_sample, None)
    assert code == 0
    complete = counts(reference_url, "klenty_prod")

    outcomes = {"unchanged": 0, "complete": 0}
    for run in range(KILLS):
        # Kill points spread over the whole load, from start-up to commit.
        run_load(url, schema, big_sample, duration * (run + 0.5) / KILLS)
        after = counts(url, schema)
        assert after in (before, complete), f"partial load after kill {run + 1}: {after}"
        if after == before:
            outcomes["unchanged"] += 1
            continue
        outcomes["complete"] += 1
        reset(url, schema)
        assert counts(url, schema) == before
    print(f"{KILLS} killed loads: {outcomes}")
    assert outcomes["unchanged"] >= KILLS // 2

    rerun = load(url, [big_sample], schema)
    assert counts(url, schema) == complete
    assert rerun.read == 80_000
