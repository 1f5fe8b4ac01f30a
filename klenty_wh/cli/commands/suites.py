"""``klenty-wh suites``: write the expectation suites the tracking plan implies."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from klenty_wh.cli.console import print_result
from klenty_wh.cli.options import PlanOption
from klenty_wh.exit_codes import ExitCode

EPILOG = (
    "Example: klenty-wh suites --output checks/\n\n"
    "Writes one Great Expectations 1.x suite file per table (tracks and each event). With "
    "--check, writes nothing and exits 1 when the files differ from what the plan gives."
)


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("suites", epilog=EPILOG)(suites_command)


def suites_command(
    output: Annotated[Optional[Path], typer.Option("--output", "-o", file_okay=False,
                                                    help="Folder to write the suites to. Default: the "
                                                    "checks/ folder klenty-wh uses.")] = None,
    plan_path: PlanOption = None,
    check_only: Annotated[bool, typer.Option("--check", help="Only report whether the suite files "
                                             "match the plan.")] = False,
) -> None:
    """Write one expectation suite per table, derived from the tracking plan."""
    from klenty_wh.checks.suites import stale_suites, write_suites
    from klenty_wh.plan import load_plan
    from klenty_wh.resources import default_suites_dir

    plan = load_plan(plan_path)
    directory = output or default_suites_dir()
    if check_only:
        stale = stale_suites(plan, directory)
        if stale:
            print_result(f"Suites in {directory} differ from the plan for: {', '.join(stale)}. "
                         f"Run `klenty-wh suites --output {directory}` to regenerate them.")
            raise typer.Exit(int(ExitCode.CHECKS_FAILED))
        print_result(f"Suites in {directory} match the plan.")
        return
    for path in write_suites(plan, directory):
        print_result(f"Wrote {path}")
