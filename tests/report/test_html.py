"""``klenty-wh report``: one self-contained HTML page with the funnel, rates, senders and checks."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from tests.helpers import rows, run_cli

A, B = "alex.rivera@example.com", "bea.okafor@example.com"
_IMAGE = re.compile(r'<img class="chart" id="([a-z-]+)" alt="[^"]*" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)">')


def chart_svgs(page: str) -> dict[str, str]:
    return {element_id: base64.b64decode(data).decode("utf-8") for element_id, data in _IMAGE.findall(page)}


def external_references(text: str) -> list[str]:
    """Return every attribute or CSS reference that would make a browser fetch something."""
    patterns = (r'(?:src|href|action|poster|data)\s*=\s*"(?!data:|#)[^"]*"', r"url\(\s*['\"]?(?!data:|#)",
                r"@import", r"<script", r"<link", r"<iframe", r"<object", r"<embed")
    return [match.group(0) for pattern in patterns for match in re.finditer(pattern, text, re.IGNORECASE)]


def test_report_sections_and_numbers(outreach_duckdb: str, tmp_path: Path):
    out = tmp_path / "site" / "report.html"
    result = run_cli("report", "--url", outreach_duckdb, "--out", str(out))

    assert result.code == 0, result.err
    assert "10 sent emails from 2 senders" in result.out
    page = out.read_text(encoding="utf-8")
    for section in ("funnel", "rates", "senders", "subjects", "definitions"):
        assert f'<section id="{section}">' in page, section
    assert '<section id="checks">' not in page
    assert "emails sent 2024-03-04 to 2024-03-13 (UTC)" in page
    assert "<b>44.4%</b><span>open rate</span>" in page
    assert "<b>10.0%</b><span>bounce rate</span>" in page
    assert "opened / delivered." in page
    # Senders are masked by default; A has the higher reply rate (1 of 4 delivered against
    # 0 of 5), so A ranks first.
    assert A not in page and B not in page
    assert page.index("a***@example.com") < page.index("b***@example.com")


def test_report_shows_senders_with_show_values(outreach_duckdb: str, tmp_path: Path):
    out = tmp_path / "report.html"
    assert run_cli("report", "--url", outreach_duckdb, "--out", str(out), "--show-values").code == 0
    page = out.read_text(encoding="utf-8")
    assert page.index(A) < page.index(B)


def test_report_is_self_contained(outreach_duckdb: str, tmp_path: Path):
    out = tmp_path / "report.html"
    assert run_cli("report", "--url", outreach_duckdb, "--out", str(out)).code == 0
    page = out.read_text(encoding="utf-8")
    svgs = chart_svgs(page)

    assert sorted(svgs) == ["funnel-chart", "rates-chart", "volume-chart"]
    assert external_references(page) == []
    for element_id, svg in svgs.items():
        assert "<svg" in svg, element_id
        assert external_references(svg) == [], element_id
        assert "<text" not in svg, f"{element_id}: text must be drawn as paths, not fonts"


def test_report_is_deterministic_apart_from_time(outreach_duckdb: str, tmp_path: Path):
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    assert run_cli("report", "--url", outreach_duckdb, "--out", str(first)).code == 0
    assert run_cli("report", "--url", outreach_duckdb, "--out", str(second)).code == 0

    assert chart_svgs(first.read_text()) == chart_svgs(second.read_text())


def test_report_leaves_warehouse_unchanged(outreach_duckdb: str, tmp_path: Path):
    schemas = "SELECT schema_name FROM information_schema.schemata ORDER BY 1"
    before = rows(outreach_duckdb, schemas)

    assert run_cli("report", "--url", outreach_duckdb, "--out", str(tmp_path / "r.html")).code == 0

    assert rows(outreach_duckdb, schemas) == before


def test_check_results_masked(outreach_duckdb: str, tmp_path: Path):
    bad_ids = tmp_path / "bad-ids.ndjson"
    record = json.loads((Path(__file__).parents[1] / "fixtures/models/outreach.ndjson").read_text().splitlines()[1])
    lines = []
    for number, user_id in enumerate(("maya.fernandes", "Maya Fernandes <maya.fernandes@example.com>")):
        lines.append(json.dumps(dict(record, messageId=f"bad-id-{number}", userId=user_id)))
    bad_ids.write_text("\n".join(lines) + "\n")
    assert run_cli("load", str(bad_ids), "--url", outreach_duckdb).code == 0
    checks = run_cli("check", "--url", outreach_duckdb, "--format", "json", "--show-values")
    assert checks.code == 1
    assert "maya.fernandes" in checks.out
    checks_file = tmp_path / "checks.json"
    checks_file.write_text(checks.out)

    out = tmp_path / "report.html"
    result = run_cli("report", "--url", outreach_duckdb, "--out", str(out), "--checks", str(checks_file))

    assert result.code == 0, result.err
    assert "and the check results" in result.out
    page = out.read_text(encoding="utf-8")
    assert '<section id="checks">' in page
    assert "FAILED:" in page
    assert "maya.fernandes" not in page
    assert "m***" in page
    assert "M***@example.com" in page


def test_check_results_all_passed(tmp_path: Path):
    # The hand-made fixture fails the userId share check on purpose, so use clean sample data.
    url = f"duckdb:///{tmp_path / 'sample.duckdb'}"
    assert run_cli("sample", "--events", "500", "--out", str(tmp_path / "s.ndjson")).code == 0
    assert run_cli("load", str(tmp_path / "s.ndjson"), "--url", url).code == 0
    checks = run_cli("check", "--url", url, "--format", "json")
    assert checks.code == 0, checks.err
    checks_file = tmp_path / "checks.json"
    checks_file.write_text(checks.out)

    out = tmp_path / "report.html"
    assert run_cli("report", "--url", url, "--out", str(out), "--checks", str(checks_file)).code == 0

    page = out.read_text(encoding="utf-8")
    assert "PASSED:" in page
    assert "Every check passed." in page


@pytest.mark.parametrize("content, message", [
    ("not json", "cannot read --checks"),
    ('{"success": true}', "is not `klenty-wh check --format json` output"),
    (None, "not found"),
])
def test_bad_checks_file_exit_2(outreach_duckdb: str, tmp_path: Path, content: str | None, message: str):
    checks_file = tmp_path / "checks.json"
    if content is not None:
        checks_file.write_text(content)

    result = run_cli("report", "--url", outreach_duckdb, "--out", str(tmp_path / "r.html"),
                     "--checks", str(checks_file))

    assert result.code == 2
    assert message in result.err
    assert not (tmp_path / "r.html").exists()


def test_report_on_empty_schema(tmp_path: Path):
    url = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    assert run_cli("init", "--url", url).code == 0
    out = tmp_path / "report.html"

    result = run_cli("report", "--url", url, "--out", str(out))

    assert result.code == 0, result.err
    page = out.read_text(encoding="utf-8")
    assert "no sent emails yet" in page
    assert "<b>n/a</b><span>open rate</span>" in page
    assert sorted(chart_svgs(page)) == ["funnel-chart", "rates-chart", "volume-chart"]


def test_report_on_missing_schema_exit_3(outreach_duckdb: str, tmp_path: Path):
    result = run_cli("report", "--url", outreach_duckdb, "--schema", "klenty_staging",
                     "--out", str(tmp_path / "r.html"))

    assert result.code == 3
    assert "klenty_staging" in result.err
    assert "klenty_prod" in result.err


def test_report_on_both_engines(warehouse_target, tmp_path: Path):
    url, schema = warehouse_target
    assert run_cli("load", str(Path(__file__).parents[1] / "fixtures/models/outreach.ndjson"),
                   "--url", url, "--schema", schema).code == 0
    out = tmp_path / "report.html"

    result = run_cli("report", "--url", url, "--schema", schema, "--out", str(out))

    assert result.code == 0, result.err
    page = out.read_text(encoding="utf-8")
    assert "<b>44.4%</b><span>open rate</span>" in page
    assert "<b>9</b><span>delivered</span>" in page
    assert sorted(chart_svgs(page)) == ["funnel-chart", "rates-chart", "volume-chart"]
