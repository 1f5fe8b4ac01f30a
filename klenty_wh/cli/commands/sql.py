"""``klenty-wh sql``: run one read-only query and print the result."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from klenty_wh.cli.console import consoles, note, print_raw, warn
from klenty_wh.cli.options import UrlOption, require_choice

EPILOG = (
    'Example: klenty-wh sql "SELECT sender, sent, reply_rate FROM klenty_prod_models.sender_rates '
    'ORDER BY reply_rate DESC" --format csv\n\n'
    "Pass - as the query to read it from standard input. Only one read-only statement runs: "
    "statements that write (INSERT, UPDATE, DELETE, DROP, CREATE, ALTER, COPY, ATTACH, ...) or "
    "several statements are rejected with exit code 2 and nothing changes. DuckDB files are "
    "opened read-only with file access off; on PostgreSQL the query runs in a READ ONLY "
    "transaction. Email addresses in the values are masked as m***@example.com unless "
    "--show-values."
)
_DEFAULT_TABLE_ROWS = 1000


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("sql", epilog=EPILOG)(sql_command)


def sql_command(
    query: Annotated[str, typer.Argument(help="One SELECT (or WITH, VALUES, SHOW, DESCRIBE, EXPLAIN) "
                                        "statement, or - to read it from standard input.")],
    url: UrlOption = None,
    output_format: Annotated[Optional[str], typer.Option(
        "--format", help="table, csv or json. Default: table on a terminal, csv when the output "
                         "is piped or redirected.")] = None,
    max_rows: Annotated[Optional[int], typer.Option(
        "--max-rows", help=f"Print at most this many rows. Default: {_DEFAULT_TABLE_ROWS} for "
                           "table, every row for csv and json.")] = None,
    show_values: Annotated[bool, typer.Option("--show-values", help="Print email addresses unmasked.")] = False,
) -> None:
    """Run one read-only SQL query on the warehouse and print the rows."""
    from klenty_wh.errors import UsageError
    from klenty_wh.query import run_query
    from klenty_wh.query.render import FORMATS, to_csv, to_json, to_table
    from klenty_wh.warehouse import open_warehouse

    chosen = output_format or ("table" if sys.stdout.isatty() else "csv")
    require_choice("--format", chosen, FORMATS)
    if max_rows is not None and max_rows < 1:
        raise UsageError(f"--max-rows must be at least 1, found {max_rows}.")
    limit = max_rows
    if limit is None and chosen == "table":
        limit = _DEFAULT_TABLE_ROWS
    text = sys.stdin.read() if query == "-" else query

    warehouse = open_warehouse(url, read_only=True)
    try:
        result = run_query(warehouse, text, max_rows=limit)
    finally:
        warehouse.dispose()

    if not result.columns:
        note("The statement returned no result set.")
        return
    if not show_values:
        from klenty_wh.redact import mask_emails_in_text

        result.rows = [tuple(mask_emails_in_text(value) if isinstance(value, str) else value for value in row)
                       for row in result.rows]
    if chosen == "csv":
        print_raw(to_csv(result))
    elif chosen == "json":
        print_raw(to_json(result))
    else:
        consoles.out.print(to_table(result))
    row_count = f"{len(result.rows):,} row{'' if len(result.rows) == 1 else 's'}"
    if result.truncated:
        warn(f"printed the first {row_count}; the query returned more. Pass --max-rows or add LIMIT.")
    else:
        note(row_count)
