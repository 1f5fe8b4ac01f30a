"""``klenty-wh models``: create the analyst views in the companion schema ``<schema>_models``."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from klenty_wh.cli.console import note, print_raw, print_result
from klenty_wh.cli.options import (
    NicknameOption,
    PlanOption,
    SchemaOption,
    TextOrJsonOption,
    UrlOption,
    require_choice,
    resolve_schema,
)

EPILOG = (
    "Example: klenty-wh models --schema klenty_prod --url duckdb:///klenty.duckdb\n\n"
    "The views go to <schema>_models (klenty_prod_models), never into the Segment schema. "
    "They are generated from the tracking plan and run unchanged on DuckDB and PostgreSQL: "
    "email_events (every event), emails (one row per email), funnel, sender_rates, "
    "subject_rates, and daily_/weekly_ rates overall, per sender and per subject. Each run "
    "drops and recreates them in one transaction. docs/analyst.md defines every column; "
    "--dry-run prints the SQL without connecting."
)


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("models", epilog=EPILOG)(models_command)


def models_command(
    url: UrlOption = None,
    schema: SchemaOption = None,
    source_nickname: NicknameOption = None,
    plan_path: PlanOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the SQL statements instead of "
                                          "running them.")] = False,
    output_format: TextOrJsonOption = "text",
) -> None:
    """Create or replace the analyst views (per-email facts, funnel and rates) of a schema."""
    from klenty_wh.models import create_models, model_statements
    from klenty_wh.plan import load_plan
    from klenty_wh.warehouse import open_warehouse

    require_choice("--format", output_format, ("text", "json"))
    plan = load_plan(plan_path)
    schema_name = resolve_schema(schema, source_nickname, plan.source.default_schema)
    if dry_run:
        print_raw("".join(f"{statement};\n\n" for statement in model_statements(plan, schema_name)))
        return

    warehouse = open_warehouse(url)
    try:
        result = create_models(warehouse, plan, schema_name)
    finally:
        warehouse.dispose()

    if output_format == "json":
        print_raw(json.dumps({
            "schema": result.schema,
            "models_schema": result.models_schema,
            "warehouse": warehouse.display,
            "created_schema": result.created_schema,
            "views": result.views,
        }, indent=2))
        return
    if result.created_schema:
        print_result(f"Created schema {result.models_schema}.")
    print_result(f"Created or replaced {len(result.views)} views in {result.models_schema}: "
                 f"{', '.join(result.views)}.")
    note(f"warehouse: {warehouse.display}")
