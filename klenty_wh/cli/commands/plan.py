"""``klenty-wh plan``: validate the tracking plan and show or export it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from klenty_wh.cli.console import consoles, note, print_raw
from klenty_wh.cli.options import PlanOption, require_choice

EPILOG = (
    "Example: klenty-wh plan --format markdown --output docs/tracking-plan.md\n\n"
    "Exits 2 with every problem listed when the plan file is invalid."
)


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("plan", epilog=EPILOG)(plan_command)


def plan_command(
    plan_path: PlanOption = None,
    output_format: Annotated[str, typer.Option("--format", help="text, markdown or json.")] = "text",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", dir_okay=False,
                                                    help="Write to this file instead of stdout.")] = None,
) -> None:
    """Validate the tracking plan and print its events, tables and columns."""
    from klenty_wh.plan import load_plan
    from klenty_wh.plan.render import plan_to_dict, plan_to_markdown

    require_choice("--format", output_format, ("text", "markdown", "json"))
    plan = load_plan(plan_path)
    if output_format == "text" and output is None:
        _print_summary(plan)
        return
    text = (plan_to_markdown(plan) if output_format == "markdown"
            else json.dumps(plan_to_dict(plan), indent=2) + "\n")
    if output is not None:
        output.write_text(text, encoding="utf-8")
        note(f"wrote the {output_format} plan to {output}")
    else:
        print_raw(text)


def _print_summary(plan) -> None:
    from rich.table import Table

    table = Table(title=f"{plan.source.name} tracking plan ({plan.path})", title_justify="left")
    table.add_column("event")
    table.add_column("table")
    for prop in plan.properties:
        table.add_column(prop.column)
    for event in plan.events:
        table.add_row(event.name, event.table,
                      *(event.presence[prop.key].value.replace("not_applicable", "-") for prop in plan.properties))
    consoles.out.print(table)
    consoles.out.print(f"Plan is valid: {len(plan.events)} events, {len(plan.properties)} properties, "
                       f"{len(plan.standard_columns)} standard columns.", markup=False)
