"""``klenty-wh ddl``: print the DDL of the documented tables for a warehouse."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from klenty_wh.cli.console import note, print_raw
from klenty_wh.cli.options import NicknameOption, PlanOption, SchemaOption, resolve_schema

EPILOG = (
    "Example: klenty-wh ddl --schema klenty_prod --dialect snowflake\n\n"
    "Dialects: duckdb, postgresql, snowflake, bigquery, redshift. Snowflake, BigQuery and "
    "Redshift need the matching extra (pip install -e '.[warehouses]' in a clone). With redshift, "
    "VARCHAR(512), the uuid column and the _ prefix for reserved words and leading digits apply; "
    "with bigquery, the loaded_at column."
)


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("ddl", epilog=EPILOG)(ddl_command)


def ddl_command(
    dialect: Annotated[str, typer.Option("--dialect", help="Target warehouse: duckdb, postgresql, "
                                         "snowflake, bigquery or redshift.")] = "duckdb",
    schema: SchemaOption = None,
    source_nickname: NicknameOption = None,
    plan_path: PlanOption = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", dir_okay=False,
                                                    help="Write the DDL to this file instead of stdout.")] = None,
) -> None:
    """Print CREATE SCHEMA and CREATE TABLE statements; no connection is needed."""
    from klenty_wh.plan import load_plan
    from klenty_wh.tables.ddl import compile_ddl

    plan = load_plan(plan_path)
    schema_name = resolve_schema(schema, source_nickname, plan.source.default_schema)
    text = compile_ddl(plan, schema_name, dialect)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        note(f"wrote {dialect} DDL for schema {schema_name} to {output}")
    else:
        print_raw(text)
