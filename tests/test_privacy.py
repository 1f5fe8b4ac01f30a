"""No output of any command, in any format, shows a password or (unasked) an email address."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import CASES, PG_URL
from tests.helpers import run_cli

PASSWORD = "Pl4nted-Secret-77"
EMAIL = "planted.person@example.com"


def planted_file(tmp_path: Path) -> Path:
    records = [json.loads(line) for line in (CASES / "C01.ndjson").read_text().splitlines()]
    for index, record in enumerate(records):
        record["userId"] = EMAIL
        record["properties"]["fromId"] = f"{EMAIL} (Sales)"  # not email-shaped, so check samples it
        record["properties"]["email_subject"] = f"Note for {EMAIL}"
        record["messageId"] = f"planted-{index}"
    broken = json.dumps(records[0])[:-30]  # a rejected line that quotes the address
    path = tmp_path / "planted.ndjson"
    path.write_text("\n".join([json.dumps(r) for r in records] + [broken]) + "\n")
    return path


@pytest.fixture
def secret_url(pg_schema):
    return PG_URL.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@"), pg_schema


def test_no_output_leaks_password_or_email(secret_url, tmp_path):
    url, schema = secret_url
    data = planted_file(tmp_path)
    outputs: dict[str, str] = {}

    def capture(name: str, *args: str) -> None:
        result = run_cli(*args)
        outputs[name] = result.out + "\n" + result.err

    base = ("--schema", schema, "--url", url)
    capture("init", "init", *base)
    capture("init json", "init", *base, "--format", "json")
    capture("load", "load", str(data), *base, "--details")
    capture("load json", "load", str(data), *base, "--format", "json")
    capture("load debug", "load", str(data), *base, "--debug")
    for fmt in ("text", "json", "junit"):
        capture(f"check {fmt}", "check", *base, "--format", fmt, "--verbose")
    files = {name: tmp_path / name for name in ("check.json", "check.xml", "check.txt")}
    for path in files.values():
        capture(f"check output {path.suffix}", "check", *base, "--output", str(path))
    capture("check data docs", "check", *base, "--data-docs", str(tmp_path / "docs"))
    capture("check debug", "check", "--schema", "no_such_schema", "--url", url, "--debug")
    capture("models", "models", *base)
    for fmt in ("table", "csv", "json"):
        capture(f"sql {fmt}", "sql", f'SELECT user_id, from_id, email_subject FROM "{schema}".email_sent',
                "--url", url, "--format", fmt)
    capture("report", "report", *base, "--out", str(tmp_path / "report.html"), "--checks", str(files["check.json"]))
    bad = url.replace("127.0.0.1:5432", "127.0.0.1:1")
    for command in ("init", "load", "check", "models", "report"):
        extra = [str(data)] if command == "load" else []
        capture(f"{command} unreachable", command, *extra, "--url", bad, "--debug")
    capture("sql unreachable", "sql", "SELECT 1", "--url", bad, "--debug")

    written = {path.name: path.read_text() for path in files.values()}
    written["report.html"] = (tmp_path / "report.html").read_text()
    written["data docs"] = "\n".join(p.read_text(errors="replace") for p in (tmp_path / "docs").rglob("*.html"))
    everything = {**outputs, **written}
    assert len(everything) == 29  # 24 command runs and 5 written files
    for name, text in everything.items():
        assert PASSWORD not in text, name
        assert EMAIL not in text, name
        assert not re.search(r"planted\.person@", text), name

    shown = run_cli("check", *base, "--format", "json", "--show-values", "--verbose").out
    assert EMAIL in shown
    assert EMAIL in run_cli("sql", f'SELECT user_id FROM "{schema}".email_sent', "--url", url, "--show-values").out
