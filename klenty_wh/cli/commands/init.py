"""``klenty-wh init``: create the Segment schema and its tables."""

from __future__ import annotations

import json

import typer

from klenty_wh.cli.console import note, print_raw, print_result, warn
from klenty_wh.cli.options import (
    NicknameOption,
    PlanOption,
    ProfileOption,
    SchemaOption,
    TextOrJsonOption,
    UrlOption,
    require_choice,
    resolve_schema,
)

EPILOG = (
    "Example: klenty-wh init --schema klenty_prod --url duckdb:///klenty.duckdb\n\n"
    "A second run changes nothing. On an existing schema, init adds the documented "
    "columns that are missing and never touches rows."
)


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("init", epilog=EPILOG)(init_command)


def init_command(
    url: UrlOption = None,
    schema: SchemaOption = None,
    source_nickname: NicknameOption = None,
    plan_path: PlanOption = None,
    profile: ProfileOption = "default",
    output_format: TextOrJsonOption = "text",
) -> None:
    """Create the schema, `tracks` and one table per event, with the documented columns."""
    from klenty_wh.plan import load_plan
    from klenty_wh.tables.init import init_schema
    from klenty_wh.warehouse import open_warehouse

    require_choice("--format", output_format, ("text", "json"))
    plan = load_plan(plan_path)
    schema_name = resolve_schema(schema, source_nickname, plan.source.default_schema)
    warehouse = open_warehouse(url)
    try:
        result = init_schema(warehouse, plan, schema_name, profile)
    finally:
        warehouse.dispose()

    for mismatch in result.type_mismatches:
        warn(f"column {schema_name}.{mismatch.table}.{mismatch.column} is {mismatch.found}, the plan "
             f"says {mismatch.expected}; init leaves existing columns as they are.")
    if output_format == "json":
        print_raw(json.dumps({
            "schema": result.schema,
            "warehouse": warehouse.display,
            "changed": result.changed,
            "created_schema": result.created_schema,
            "created_tables": result.created_tables,
            "added_columns": [{"table": t, "column": c, "type": ty} for t, c, ty in result.added_columns],
            "type_mismatches": [vars(m) for m in result.type_mismatches],
        }, indent=2))
        return
    _print_text(result, warehouse.display)
    note(f"warehouse: {warehouse.display}")


def _print_text(result, display: str) -> None:
    if not result.changed:
        print_result(f"Nothing changed: schema {result.schema} already has every documented table and column.")
        return
    if result.created_schema:
        print_result(f"Created schema {result.schema}.")
    for table in result.created_tables:
        print_result(f"Created table {result.schema}.{table}.")
    for table, column, column_type in result.added_columns:
        print_result(f"Added column {result.schema}.{table}.{column} ({column_type}).")
