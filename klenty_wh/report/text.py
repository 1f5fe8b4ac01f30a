"""Check results for the terminal: a table per warehouse table, the failures, a verdict."""

from __future__ import annotations

from collections import defaultdict

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from klenty_wh.checks.results import CheckReport, CheckResult, Status

_STATUS_STYLE = {"passed": "green", "failed": "red", "error": "red", "skipped": "dim"}


def observed_text(result: CheckResult) -> str:
    """Return a short description of what a check observed."""
    if result.status is Status.SKIPPED:
        return "not run"
    if result.status is Status.ERROR:
        return "could not run"
    if isinstance(result.observed_value, dict) and "duplicated_values" in result.observed_value:
        return (f"{result.observed_value['duplicated_values']:,} duplicated values in "
                f"{result.unexpected_count or 0:,} of {result.element_count or 0:,} rows")
    if result.unexpected_count is not None and result.element_count is not None:
        percent = f" ({result.unexpected_percent:.2f}%)" if result.unexpected_percent else ""
        return f"{result.unexpected_count:,} unexpected of {result.element_count:,} rows{percent}"
    if result.observed_value is not None:
        return str(result.observed_value)
    if result.message:
        return result.message
    return "ok" if result.success else "failed"


def _status_label(result: CheckResult) -> str:
    if result.status is Status.FAILED and not result.fails_run:
        return "[yellow]warning[/yellow]"
    style = _STATUS_STYLE[result.status.value]
    return f"[{style}]{result.status.value}[/{style}]"


def print_report(report: CheckReport, console: Console, verbose: bool = False) -> None:
    """Print the report: a table per warehouse table, then the findings, then a verdict line."""
    by_table: dict[str, list[CheckResult]] = defaultdict(list)
    for result in report.results:
        by_table[result.table].append(result)
    for table, results in by_table.items():
        shown = results if verbose else [r for r in results if r.status is not Status.PASSED]
        passed = sum(1 for r in results if r.status is Status.PASSED)
        if not shown:
            console.print(f"[green]{escape(report.schema)}.{escape(table)}[/green]: all {passed} checks passed",
                          highlight=False)
            continue
        grid = Table(title=f"{report.schema}.{table}: {passed} of {len(results)} checks passed",
                     title_justify="left", show_lines=False)
        grid.add_column("check")
        grid.add_column("column")
        grid.add_column("severity")
        grid.add_column("status")
        grid.add_column("observed")
        grid.add_column("unexpected", justify="right")
        for result in shown:
            grid.add_row(escape(result.description or result.expectation), escape(result.column or ""),
                         result.severity, _status_label(result), escape(observed_text(result)),
                         "" if result.unexpected_count is None else f"{result.unexpected_count:,}")
        console.print(grid)
    _print_findings(report, console)
    _print_verdict(report, console)


def _print_findings(report: CheckReport, console: Console) -> None:
    findings = [r for r in report.results if r.status in (Status.FAILED, Status.ERROR)]
    if not findings:
        return
    console.print("Findings:", highlight=False)
    for number, result in enumerate(findings, start=1):
        where = f"{report.schema}.{result.table}" + (f".{result.column}" if result.column else "")
        console.print(f"{number}. [{'red' if result.fails_run else 'yellow'}]{result.severity}[/] "
                      f"{escape(where)}: {escape(result.description or result.expectation)}", highlight=False)
        console.print(f"   {escape(result.message or observed_text(result))}", highlight=False)
        if result.sample_values:
            values = ", ".join(repr(value) for value in result.sample_values)
            console.print(f"   sample values: {escape(values)}", highlight=False)
        if result.sample_ids:
            console.print(f"   sample ids: {escape(', '.join(result.sample_ids))}", highlight=False)
        if result.failing_rows_sql:
            console.print(f"   failing rows: {escape(result.failing_rows_sql)}", highlight=False, soft_wrap=True)


def verdict(report: CheckReport) -> str:
    """Return the one-line verdict of a check run."""
    counts = report.counts()
    tables = len({result.table for result in report.results})
    where = f"on {tables} tables of {report.schema} in {report.seconds:.1f} s"
    extra = []
    if counts["warnings"]:
        extra.append(f"{counts['warnings']} warnings")
    if counts["skipped"]:
        extra.append(f"{counts['skipped']} skipped")
    tail = f" ({', '.join(extra)})" if extra else ""
    if report.success:
        passed = "all" if counts["passed"] == counts["checks"] else f"{counts['passed']} of"
        return f"PASSED: {passed} {counts['checks']} checks passed {where}{tail}"
    failing = sum(1 for result in report.results if result.fails_run)
    return f"FAILED: {failing} error-severity checks failed; {counts['checks']} checks {where}{tail}"


def _print_verdict(report: CheckReport, console: Console) -> None:
    style = "bold green" if report.success else "bold red"
    console.print(f"[{style}]{escape(verdict(report))}[/{style}]", highlight=False)
    if not report.show_values and any(result.sample_values for result in report.results):
        console.print("[dim]Email addresses in sample values are masked; pass --show-values to see them.[/dim]",
                      highlight=False)
