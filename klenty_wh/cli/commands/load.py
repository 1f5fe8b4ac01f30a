"""``klenty-wh load``: load Segment exports into the warehouse."""

from __future__ import annotations

import time
from typing import Annotated, Optional

import typer

from klenty_wh.cli.console import consoles, note, print_raw, warn
from klenty_wh.cli.options import (
    LockTimeoutOption,
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
    "Example: klenty-wh load segment-logs/ --schema klenty_prod\n\n"
    "Reads newline-delimited JSON (plain or gzip, detected by content; every member of a "
    "multi-member gzip), folders (recursively, such as the S3 layout "
    "segment-logs/<source-id>/<day-ms>/*.gz), HTTP API batch bodies, JSON arrays, CSV and "
    "Parquet exports of warehouse tables, and - for stdin.\n\n"
    "Every record read ends as loaded, duplicate (its id was already loaded: first write wins, "
    "or last with --dedupe keep-last), skipped (identify, page, screen, group and alias calls) "
    "or rejected (kept with file, line and reason in klenty_wh.rejected_records). The load is "
    "one transaction; loading the same files again changes nothing.\n\n"
    "Segment behaviours that are not documented follow klenty-wh's decisions, shown in the "
    "report: calls without receivedAt (raw API payloads) get the load time as received_at; "
    "unreadable timestamps become NULL, and timestamp falls back to the other times; records "
    "without messageId get an id from file name, line and content."
)


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("load", epilog=EPILOG)(load_command)


def load_command(
    paths: Annotated[list[str], typer.Argument(help="Files, folders or - (stdin) to load.", show_default=False)],
    url: UrlOption = None,
    schema: SchemaOption = None,
    source_nickname: NicknameOption = None,
    plan_path: PlanOption = None,
    profile: ProfileOption = "default",
    dedupe: Annotated[str, typer.Option("--dedupe", help="keep-first: an id already loaded wins "
                                        "(Segment on PostgreSQL, Snowflake); keep-last: the newest "
                                        "copy replaces it (Segment on Redshift).")] = "keep-first",
    varchar_limit: Annotated[Optional[int], typer.Option("--varchar-limit", help="Cut text values to this "
                                                         "many characters (the redshift profile uses 512).")] = None,
    table: Annotated[Optional[str], typer.Option("--table", help="Target table of CSV or Parquet exports "
                                                 "without an event column. Default: the file name.")] = None,
    memory_limit: Annotated[str, typer.Option("--memory-limit", help="DuckDB memory limit while staging, "
                                              "e.g. 1GB; larger loads spill to a temporary folder.")] = "1GB",
    lock_timeout: LockTimeoutOption = 60.0,
    output_format: TextOrJsonOption = "text",
    details: Annotated[bool, typer.Option("--details", help="List every column-level adjustment and the time of each step.")] = False,
) -> None:
    """Load Segment exports into the Klenty tables, as Segment's warehouse loader would."""
    from klenty_wh.load import LoadOptions, load_files
    from klenty_wh.plan import load_plan
    from klenty_wh.plan.names import validate_schema_name
    from klenty_wh.warehouse import open_warehouse, resolve_url

    require_choice("--format", output_format, ("text", "json"))
    plan = load_plan(plan_path)
    schema_name = resolve_schema(schema, source_nickname, plan.source.default_schema)
    parsed = resolve_url(url)
    validate_schema_name(schema_name, parsed.get_backend_name())
    options = LoadOptions(schema=schema_name, profile=profile, dedupe=dedupe, varchar_limit=varchar_limit,
                          table=table, memory_limit=memory_limit)
    warehouse = open_warehouse(parsed, lock_timeout=lock_timeout, on_wait=note)
    try:
        with _Progress() as progress:
            report = load_files(warehouse, plan, paths, options, progress=progress.update)
    finally:
        warehouse.dispose()
    if output_format == "json":
        from klenty_wh.load.run import report_to_json

        print_raw(report_to_json(report))
        return
    _print_report(report, details)


class _Progress:
    """A progress bar on stderr that appears only when a load takes more than a second."""

    _DELAY_SECONDS = 1.0

    def __init__(self) -> None:
        self._started = time.monotonic()
        self._progress = None
        self._task = None

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, step: str, done: int, total: int) -> None:
        if self._progress is None:
            if time.monotonic() - self._started < self._DELAY_SECONDS or not consoles.err.is_terminal:
                return
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                                      console=consoles.err, transient=True)
            self._progress.start()
            self._task = self._progress.add_task(step, total=total)
        self._progress.update(self._task, description=step, completed=done, total=total)


def _print_report(report, details: bool) -> None:
    from rich.table import Table

    from klenty_wh.load.report import ADJUSTMENT_LABELS

    out = consoles.out
    files = Table(title=f"Load into {report.schema} ({report.warehouse})", title_justify="left")
    for column in ("file", "read", "loaded", "duplicates", "skipped", "rejected"):
        files.add_column(column, justify="left" if column == "file" else "right")
    for entry in report.files:
        files.add_row(entry.file, *(f"{n:,}" for n in (entry.read, entry.loaded, entry.duplicates,
                                                      entry.skipped, entry.rejected)))
    if len(report.files) > 1:
        files.add_row("total", *(f"{n:,}" for n in (report.read, report.loaded, report.duplicates,
                                                   report.skipped, report.rejected)), style="bold")
    out.print(files)

    tables = Table(title="Rows written per table", title_justify="left")
    tables.add_column("table")
    tables.add_column("new rows", justify="right")
    for name, count in report.loaded_by_table.items():
        replaced = report.replaced_by_table.get(name)
        tables.add_row(name, f"{count:,}" + (f" ({replaced:,} replaced)" if replaced else ""))
    if report.loaded_by_table:
        out.print(tables)

    out.print(f"read {report.read:,} = loaded {report.loaded:,} + duplicates {report.duplicates:,} "
              f"+ skipped {report.skipped:,} + rejected {report.rejected:,}", markup=False)
    for call_type, count in sorted(report.skipped_by_type.items()):
        out.print(f"  skipped {count:,} {call_type} calls", markup=False)
    for reason, count in report.rejected_by_reason.most_common():
        out.print(f"  rejected {count:,}: {reason}", markup=False)
    if report.rejected:
        out.print(f"  rejected records are kept in klenty_wh.rejected_records (load_id {report.load_id})",
                  markup=False)
    for key, count in report.adjustments.items():
        out.print(f"  {count:,} {ADJUSTMENT_LABELS.get(key, key)}", markup=False)
    for item in report.drift:
        warn(f"drift: {item}")
    if details:
        for line in report.details:
            out.print(f"  {line}", markup=False)
    elif report.details:
        note(f"{len(report.details)} column-level notes; run with --details or --format json to see them.")
    if not report.changed:
        out.print("Nothing changed: every record was already loaded.", markup=False)
    note(f"load {report.load_id} took {report.seconds:.1f} s")
    if details:
        for step, seconds in report.step_seconds.items():
            note(f"  {seconds:6.2f} s  {step}")
