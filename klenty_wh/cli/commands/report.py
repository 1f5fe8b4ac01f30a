"""``klenty-wh report``: write the outreach report as one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from klenty_wh.cli.console import note, print_result
from klenty_wh.cli.options import NicknameOption, PlanOption, SchemaOption, UrlOption, resolve_schema

EPILOG = (
    "Example: klenty-wh check --format json > checks.json; "
    "klenty-wh report --schema klenty_prod --out report.html --checks checks.json\n\n"
    "The page shows the outreach funnel, open, click, reply, bounce and unsubscribe rates by "
    "week of sending, emails sent per day, a sender league table, the top subject lines and, "
    "with --checks, the latest check results. Email addresses (senders, and any in subject lines "
    "or check results) are masked as m***@example.com unless --show-values. It has no scripts "
    "and fetches nothing: charts are inline SVG images, so the file opens offline and can be "
    "mailed as it is. The warehouse is opened read-only; `klenty-wh models` need not have run."
)


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("report", epilog=EPILOG)(report_command)


def report_command(
    out: Annotated[Path, typer.Option("--out", "-o", dir_okay=False,
                                      help="HTML file to write; missing folders are created.")] = Path("report.html"),
    checks: Annotated[Optional[Path], typer.Option(
        "--checks", dir_okay=False, help="Output of `klenty-wh check --format json` to include "
                                         "as the latest check results.")] = None,
    url: UrlOption = None,
    schema: SchemaOption = None,
    source_nickname: NicknameOption = None,
    plan_path: PlanOption = None,
    show_values: Annotated[bool, typer.Option("--show-values", help="Show sender email addresses "
                                              "unmasked.")] = False,
) -> None:
    """Write an HTML report of the outreach funnel, rates over time and senders."""
    from klenty_wh.plan import load_plan
    from klenty_wh.report.html import write_report
    from klenty_wh.warehouse import open_warehouse

    plan = load_plan(plan_path)
    schema_name = resolve_schema(schema, source_nickname, plan.source.default_schema)
    warehouse = open_warehouse(url, read_only=True)
    try:
        result = write_report(warehouse, plan, schema_name, out, checks, show_values=show_values)
    finally:
        warehouse.dispose()

    extra = " and the check results" if result.checks_included else ""
    print_result(f"Wrote {result.path}: {result.sent:,} sent emails from {result.senders:,} senders{extra}.")
    note(f"warehouse: {warehouse.display}")
