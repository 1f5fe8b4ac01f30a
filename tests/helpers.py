"""Helpers for tests: run the CLI, load fixtures, read tables back."""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from klenty_wh.cli.app import main
from klenty_wh.load import LoadOptions, LoadReport, load_files
from klenty_wh.plan import load_plan
from klenty_wh.warehouse import open_warehouse


@dataclass
class CliResult:
    """Exit code and captured output of one CLI run."""

    code: int
    out: str
    err: str


def run_cli(*args: str, stdin: bytes | None = None) -> CliResult:
    """Run ``klenty-wh`` in-process and return its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    code = 0
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdin = old_stdin
    return CliResult(code, out.getvalue(), err.getvalue())


def load(url: str, paths: list[Path | str], schema: str = "klenty_prod", **options: Any) -> LoadReport:
    """Load files through the library API and return the report."""
    warehouse = open_warehouse(url)
    try:
        return load_files(warehouse, load_plan(), [str(p) for p in paths], LoadOptions(schema=schema, **options))
    finally:
        warehouse.dispose()


def rows(url: str, sql: str) -> list[dict[str, Any]]:
    """Run ``sql`` and return the rows as dicts."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            result = connection.execute(sa.text(sql))
            return [dict(row._mapping) for row in result]
    finally:
        engine.dispose()


def columns(url: str, schema: str, table: str) -> list[str]:
    """Return the columns of a table in ordinal order."""
    found = rows(url, f"SELECT column_name FROM information_schema.columns WHERE table_schema = '{schema}' "
                      f"AND table_name = '{table}' ORDER BY ordinal_position")
    return [row["column_name"] for row in found]


def tables(url: str, schema: str) -> set[str]:
    """Return the base tables of a schema."""
    found = rows(url, f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}' "
                      "AND table_type = 'BASE TABLE'")
    return {row["table_name"] for row in found}


def utc(text: str) -> datetime:
    """Parse an ISO-8601 UTC timestamp into the naive UTC datetime the warehouse stores."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.astimezone(timezone.utc).replace(tzinfo=None)
