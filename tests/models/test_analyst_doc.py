"""docs/analyst.md runs: its SQL queries, its klenty-wh commands and its Python snippet.

Every ```sql block runs read-only on sample data loaded into DuckDB, with the models
created, and must return at least one row. The generated reference must equal what the
plan and the models give now.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from klenty_wh.models.reference import replace_reference
from klenty_wh.plan import load_plan
from klenty_wh.query import run_query
from klenty_wh.warehouse import open_warehouse
from tests.helpers import run_cli

GUIDE = Path(__file__).parents[2] / "docs" / "analyst.md"
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_HEADING = re.compile(r"^#+ (.+)$", re.MULTILINE)


def blocks(language: str) -> list[tuple[str, str]]:
    """Return (nearest heading above, code) of each fenced block in ``language``."""
    text = GUIDE.read_text(encoding="utf-8")
    found = []
    for match in _BLOCK.finditer(text):
        if match.group(1) != language:
            continue
        headings = _HEADING.findall(text, 0, match.start())
        found.append((headings[-1] if headings else "top", match.group(2)))
    return found


SQL_BLOCKS = blocks("sql")


def test_guide_has_a_dozen_queries():
    assert len(SQL_BLOCKS) >= 12


@pytest.mark.parametrize("query", [code for _, code in SQL_BLOCKS], ids=[title for title, _ in SQL_BLOCKS])
def test_guide_query_runs(sample_duckdb: str, query: str):
    warehouse = open_warehouse(sample_duckdb, read_only=True)
    try:
        result = run_query(warehouse, query)
    finally:
        warehouse.dispose()

    assert result.columns
    assert len(result.rows) >= 1


def test_guide_reference_is_current():
    text = GUIDE.read_text(encoding="utf-8")

    assert replace_reference(text, load_plan()) == text, (
        "docs/analyst.md is out of date: run `python -m klenty_wh.models.reference docs/analyst.md`"
    )


def test_guide_commands_run(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    commands = [line for _, code in blocks("bash") for line in code.splitlines()
                if line.startswith("klenty-wh ")]
    assert len(commands) >= 5

    for command in commands:
        words = shlex.split(command)[1:]
        target = None
        if ">" in words:
            target = Path(words[words.index(">") + 1])
            words = words[: words.index(">")]
        result = run_cli(*words)
        assert result.code == 0, f"{command}: {result.err}"
        if target is not None:
            target.write_text(result.out)

    assert Path("report.html").is_file()
    assert Path("weekly.csv").read_text().startswith("sent_week,")


def test_guide_python_snippet_runs(sample_duckdb: str, monkeypatch):
    [(_, code)] = blocks("python")
    monkeypatch.chdir(Path(sample_duckdb.removeprefix("duckdb:///")).parent)
    namespace: dict = {}

    exec(compile(code, str(GUIDE), "exec"), namespace)

    assert len(namespace["weekly"]) >= 1
    assert "open_rate" in namespace["weekly"].columns
