"""``klenty-wh check``: run the expectation suites and built-in checks on a schema."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Optional

import typer

from klenty_wh.cli.console import consoles, note, print_raw
from klenty_wh.cli.options import (
    LockTimeoutOption,
    NicknameOption,
    PlanOption,
    SchemaOption,
    UrlOption,
    require_choice,
    resolve_schema,
)
from klenty_wh.exit_codes import ExitCode

EPILOG = (
    "Example: klenty-wh check --schema klenty_prod --output check-report.xml\n\n"
    "Exit codes: 0 every error-severity check passed; 1 at least one failed; 2 usage or "
    "configuration error; 3 the check could not run (unreachable warehouse, missing schema: "
    "the message lists the schemas that exist).\n\n"
    "Results go to stdout; --output also writes them to a file, in the format its extension "
    "gives (.json, .xml for JUnit, .txt). Sample values of email columns are masked "
    "(m***@example.com) unless --show-values. Each failure carries a SQL query that returns "
    "the failing rows on the engine in use.\n\n"
    "--engine auto (default) evaluates the common expectation types in one SQL query per "
    "table and runs every other type through Great Expectations; --engine gx runs everything "
    "through Great Expectations (slower, the reference); --engine sql skips types without a "
    "compiled form."
)
_FORMATS = ("text", "json", "junit")
_EXTENSIONS = {".json": "json", ".xml": "junit", ".txt": "text", ".log": "text"}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("check", epilog=EPILOG)(check_command)


def parse_duration(text: str) -> timedelta:
    """Parse ``30m``, ``24h``, ``7d`` (s, m, h, d, w) into a timedelta.

    Raises:
        UsageError: the text is not a number followed by one of those units.
    """
    from klenty_wh.errors import UsageError

    match = _DURATION.match(text)
    if not match:
        raise UsageError(f"invalid --max-age {text!r}: use a number and a unit, such as 30m, 24h or 7d.")
    amount, unit = int(match.group(1)), match.group(2)
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
    return timedelta(seconds=amount * seconds)


def _output_format(output: Path | None, requested: str | None) -> tuple[str, str | None]:
    """Return (stdout format, file format) from --format and --output."""
    from klenty_wh.errors import UsageError

    if requested is not None:
        require_choice("--format", requested, _FORMATS)
    if output is None:
        return requested or "text", None
    inferred = _EXTENSIONS.get(output.suffix.lower())
    if requested is None and inferred is None:
        raise UsageError(f"cannot tell the format of --output {output} from its extension; "
                         f"use .json, .xml or .txt, or pass --format.")
    return "text", requested or inferred


def check_command(
    url: UrlOption = None,
    schema: SchemaOption = None,
    source_nickname: NicknameOption = None,
    plan_path: PlanOption = None,
    suites: Annotated[Optional[Path], typer.Option("--suites", file_okay=False, help="Folder of Great "
                                                   "Expectations suite files. Default: the suites shipped "
                                                   "with klenty-wh (checks/).")] = None,
    engine: Annotated[str, typer.Option("--engine", help="auto, sql or gx (see below).")] = "auto",
    output_format: Annotated[Optional[str], typer.Option("--format", help="text, json or junit. Default: text, "
                                                         "or the --output file's extension.")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", dir_okay=False,
                                                    help="Also write the results to this file.")] = None,
    data_docs: Annotated[Optional[Path], typer.Option("--data-docs", file_okay=False,
                                                      help="Write Great Expectations Data Docs (static "
                                                      "HTML) into this folder.")] = None,
    max_age: Annotated[Optional[str], typer.Option("--max-age", help="Fail events whose newest received_at "
                                                   "is older than this, e.g. 24h; events marked rare in "
                                                   "the plan only warn. Off by default.")] = None,
    show_values: Annotated[bool, typer.Option("--show-values", help="Show sample values unmasked "
                                              "(they may contain email addresses).")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List passing checks too.")] = False,
    lock_timeout: LockTimeoutOption = 60.0,
) -> None:
    """Check that a schema contains what the Klenty source documents; exit 1 on failures."""
    from klenty_wh.checks import CheckOptions, run_checks
    from klenty_wh.plan import load_plan
    from klenty_wh.report.json_report import report_to_json
    from klenty_wh.report.junit import report_to_junit
    from klenty_wh.report.text import print_report
    from klenty_wh.warehouse import open_warehouse

    stdout_format, file_format = _output_format(output, output_format)
    age = parse_duration(max_age) if max_age else None
    plan = load_plan(plan_path)
    schema_name = resolve_schema(schema, source_nickname, plan.source.default_schema)
    options = CheckOptions(schema=schema_name, suites_dir=suites, engine=engine, max_age=age,
                           show_values=show_values)
    warehouse = open_warehouse(url, read_only=True, lock_timeout=lock_timeout, on_wait=note)
    try:
        report = run_checks(warehouse, plan, options)
    finally:
        warehouse.dispose()

    renderers = {"json": report_to_json, "junit": report_to_junit}
    if stdout_format == "text":
        print_report(report, consoles.out, verbose=verbose)
    else:
        print_raw(renderers[stdout_format](report))
    if output is not None:
        if file_format == "text":
            from io import StringIO

            from rich.console import Console

            buffer = StringIO()
            print_report(report, Console(file=buffer, width=120, color_system=None), verbose=verbose)
            text = buffer.getvalue()
        else:
            text = renderers[file_format](report)
        _write(output, text)
        note(f"wrote {file_format} results to {output}")
    if data_docs is not None:
        from klenty_wh.checks.suites import load_suites
        from klenty_wh.report.data_docs import write_data_docs
        from klenty_wh.resources import default_suites_dir

        index = write_data_docs(report, list(load_suites(suites or default_suites_dir())), data_docs)
        note(f"wrote Data Docs to {index}")
    if not report.success:
        raise typer.Exit(int(ExitCode.CHECKS_FAILED))


def _write(path: Path, text: str) -> None:
    from klenty_wh.errors import UsageError
    from klenty_wh.redact import redact

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(redact(text), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write --output {path}: {exc.strerror or exc}.") from None
