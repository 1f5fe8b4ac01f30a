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


def counts(url: str, schema: str) -> dict[str, int]:
    return {table: rows(url, f'SELECT count(*) AS n FROM "{schema}"."{table}"')[0]["n"] for table in TABLES}


@pytest.fixture(scope="module")
def big_sample(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("kill") / "sample.ndjson.gz"
    write_sample(load_plan(), 150_000, 3, path)
    return path


def start_load(url: str, schema: str, path: Path) -> subprocess.Popen:
    env = dict(os.environ, KLENTY_WH_URL=url)
    return subprocess.Popen([sys.executable, "-m", "klenty_wh", "load", str(path), "--schema", schema],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def test_killed_loads_leave_warehouse_unchanged(warehouse_target, big_sample, tmp_path):
    url, schema = warehouse_target
    load(url, [CASES / "C01.ndjson"], schema)
    before = counts(url, schema)

    reference_url = f"duckdb:///{tmp_path / 'reference.duckdb'}"
    load(reference_url, [CASES / "C01.ndjson"])
    load(reference_url, [big_sample])
    complete = counts(reference_url, "klenty_prod")

    outcomes = []
    for delay in (0.4, 0.8, 1.2, 1.6, 2.0, 2.4):
        process = start_load(url, schema, big_sample)
        time.sleep(delay)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        after = counts(url, schema)
        assert after in (before, complete), f"partial load after kill at {delay} s: {after}"
        outcomes.append("unchanged" if after == before else "complete")
        if after == complete:
            break
    assert "unchanged" in outcomes

    rerun = load(url, [big_sample], schema)
    assert counts(url, schema) == complete
    assert rerun.read == 150_000
