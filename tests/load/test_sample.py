"""`klenty-wh sample` writes exactly the calls its summary counts, for any size and defect share."""

from __future__ import annotations

import gzip
import json

import pytest

from klenty_wh.plan import load_plan
from klenty_wh.sample.generate import write_sample
from tests.helpers import load


@pytest.mark.parametrize("events, seed, defects", [(20_000, 7, 0.02), (997, 3, 0.1), (5_000, 11, 0.0)])
def test_summary_counts_match_file(tmp_path, events, seed, defects):
    path = tmp_path / "sample.ndjson.gz"
    summary = write_sample(load_plan(), events, seed, path, defects=defects)
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    malformed = 0
    anonymous = 0
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            malformed += 1
            continue
        anonymous += "anonymousId" in record
    assert len(lines) == events
    assert summary.events == events
    assert sum(summary.by_event.values()) + summary.duplicates == events
    assert summary.defects.get("malformed_line", 0) == malformed
    # A retried copy repeats its original, so the file may hold a few more anonymous calls;
    # a malformed line hides whether it was one.
    assert summary.anonymous - malformed <= anonymous <= summary.anonymous + summary.duplicates


def test_planted_defects_match_load_report(tmp_path):
    path = tmp_path / "sample.ndjson.gz"
    summary = write_sample(load_plan(), 2_000, 5, path, defects=0.05)
    report = load(f"duckdb:///{tmp_path / 'w.duckdb'}", [path], "klenty_prod")
    assert report.read == summary.events
    assert report.rejected == summary.defects["malformed_line"]
    assert report.duplicates == summary.duplicates
