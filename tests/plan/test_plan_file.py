"""The tracking plan file: validation, and every output derived from it."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import yaml

from klenty_wh.checks.suites import build_suites, stale_suites
from klenty_wh.errors import PlanError
from klenty_wh.plan import load_plan
from klenty_wh.plan.render import plan_to_markdown
from klenty_wh.resources import default_plan_path, default_suites_dir
from klenty_wh.sample.generate import write_sample
from klenty_wh.tables.ddl import compile_ddl
from tests.helpers import run_cli

REPO = Path(__file__).resolve().parents[2]


def write_plan(tmp_path: Path, change) -> Path:
    """Copy the shipped plan with ``change`` applied to its parsed YAML."""
    data = yaml.safe_load(default_plan_path().read_text())
    change(data)
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_shipped_plan_is_valid():
    plan = load_plan()
    assert [event.table for event in plan.events] == [
        "email_sent", "email_opened", "link_clicked", "email_replied", "email_bounced", "email_unsubscribed"]
    clicked = plan.event_for_table("link_clicked")
    assert [prop.column for prop, _ in clicked.properties_in(plan)] == ["email_id", "from_id", "email_subject", "link"]
    sent = plan.event_for_table("email_sent")
    assert [prop.column for prop, _ in sent.properties_in(plan)] == ["email_id", "from_id", "email_subject"]


@pytest.mark.parametrize("change, message", [
    (lambda d: d["events"][2].update(table="linkclicked"), "events[2].table: 'linkclicked' is not the go-snakecase slug"),
    (lambda d: d["properties"][1].update(column="fromid"), "properties[1].column: 'fromid' is not the go-snakecase"),
    (lambda d: d["properties"][0].update(type="varchar"), "properties[0].type: expected one of text"),
    (lambda d: d["events"][0]["properties"].update(email_id="mandatory"), "expected one of required, optional"),
    (lambda d: d["thresholds"].update(user_id_min_share=1.5), "thresholds.user_id_min_share: expected a number"),
    (lambda d: d["properties"][3].update(format="uri"), "'uri' is not defined under `formats`"),
    (lambda d: d.pop("events"), "events: expected a non-empty list"),
])
def test_invalid_plan_lists_the_problem(tmp_path, change, message):
    path = write_plan(tmp_path, change)
    with pytest.raises(PlanError) as raised:
        load_plan(path)
    assert message in raised.value.message
    assert str(path) in raised.value.message


def test_invalid_plan_exits_2_with_one_line(tmp_path):
    path = write_plan(tmp_path, lambda d: d["events"][2].update(table="linkclicked"))
    result = run_cli("plan", "--plan", str(path))
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert "Traceback" not in result.err


def test_plan_that_is_not_yaml_exits_2(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("events: [\n  - name: x\n")
    result = run_cli("plan", "--plan", str(path))
    assert result.code == 2
    assert "not valid YAML at line" in result.err


def add_sequence_property(data: dict) -> None:
    data["properties"].append({"key": "sequenceName", "column": "sequence_name", "type": "text",
                               "non_empty": True, "description": "Name of the Klenty sequence."})
    data["events"][0]["properties"]["sequenceName"] = "required"
    data["thresholds"]["user_id_min_share"] = 0.8


def test_plan_change_changes_every_derived_output(tmp_path):
    original = load_plan()
    changed = load_plan(write_plan(tmp_path, add_sequence_property))

    for dialect in ("duckdb", "postgresql"):
        before, after = compile_ddl(original, "klenty_prod", dialect), compile_ddl(changed, "klenty_prod", dialect)
        assert "sequence_name" not in before
        assert "sequence_name VARCHAR" in after

    suite = build_suites(changed)["email_sent"]
    columns = [e["kwargs"].get("column") for e in suite["expectations"]]
    assert "sequence_name" in columns
    assert "sequence_name" not in [e["kwargs"].get("column") for e in build_suites(original)["email_sent"]["expectations"]]
    mostly = [e["kwargs"]["mostly"] for e in suite["expectations"] if e["kwargs"].get("column") == "user_id"
              and "mostly" in e["kwargs"]]
    assert mostly == [0.8]

    out = tmp_path / "sample.ndjson.gz"
    write_sample(changed, 200, 1, out)
    sent = [json.loads(line) for line in gzip.open(out, "rt") if '"Email Sent"' in line]
    assert sent and all("sequenceName" in record["properties"] for record in sent)

    assert "`sequence_name`" in plan_to_markdown(changed)
    assert "`sequence_name`" not in plan_to_markdown(original)


def test_committed_suites_match_the_plan():
    assert stale_suites(load_plan(), default_suites_dir()) == []


def test_committed_plan_docs_match_the_plan():
    committed = (REPO / "docs" / "tracking-plan.md").read_text(encoding="utf-8")
    assert committed == plan_to_markdown(load_plan())
