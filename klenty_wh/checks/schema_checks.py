"""Checks that single-table suites cannot express: the schema's shape and cross-table facts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from klenty_wh.checks.results import CheckResult, Status
from klenty_wh.load.sql import ident, literal, qualified
from klenty_wh.plan.model import Freshness, Plan
from klenty_wh.warehouse.introspect import ColumnInfo

# klenty-wh's own loader columns: not documented by the plan, never drift.
_LOADER_COLUMNS = {"uuid_ts", "uuid", "loaded_at"}


def shape_checks(plan: Plan, schema: str, tables: dict[str, list[ColumnInfo]]) -> list[CheckResult]:
    """Check that every documented table and column exists; report others as drift."""
    results = []
    for table in plan.table_names:
        event = plan.event_for_table(table)
        if table not in tables:
            results.append(CheckResult(
                table=table, expectation="table_exists", severity="error", status=Status.FAILED, engine="schema",
                description=f"table {schema}.{table} exists",
                message=(f"table {schema}.{table} does not exist: Segment creates it when the first "
                         f"{event.name if event else 'track'} call arrives, or run `klenty-wh init`."),
            ))
            continue
        present = {column.name for column in tables[table]}
        for column in plan.columns_for(event):
            if column.name in present or column.name in _LOADER_COLUMNS:
                continue
            source = (column.raw_path or column.name).removeprefix("properties.")
            results.append(CheckResult(
                table=table, column=column.name, expectation="column_exists", severity="error",
                status=Status.FAILED, engine="schema", description=f"column {table}.{column.name} exists",
                message=(f"Segment never received a non-null value for `{source}`, so there is no "
                         f"`{column.name}` column in {schema}.{table}"),
            ))
        documented = {column.name for column in plan.columns_for(event)} | _LOADER_COLUMNS
        for column in sorted(present - documented):
            results.append(CheckResult(
                table=table, column=column, expectation="column_in_plan", severity="warning",
                status=Status.FAILED, engine="schema", description=f"column {table}.{column} is in the tracking plan",
                message=f"drift: column {schema}.{table}.{column} is not in the tracking plan",
            ))
    for table in sorted(set(tables) - set(plan.table_names)):
        results.append(CheckResult(
            table=table, expectation="table_in_plan", severity="warning", status=Status.FAILED, engine="schema",
            description=f"table {table} is in the tracking plan",
            message=f"drift: table {schema}.{table} contains an event that is not in the tracking plan",
        ))
    return results


def cross_table_checks(run_query: Callable[[str], list[tuple]], plan: Plan, schema: str,
                       tables: dict[str, list[ColumnInfo]]) -> list[CheckResult]:
    """Check that each event row has its tracks row and that per-event counts agree."""
    if "tracks" not in tables:
        return []
    results = []
    tracks = qualified(schema, "tracks")
    for table in [name for name in tables if name != "tracks"]:
        columns = {column.name for column in tables[table]}
        if not {"id", "event"} <= columns:
            continue
        target = qualified(schema, table)
        orphans_where = (f"NOT EXISTS (SELECT 1 FROM {tracks} t WHERE t.{ident('id')} = e.{ident('id')} "
                         f"AND t.{ident('event')} = e.{ident('event')})")
        total, orphans, tracked = run_query(
            f"SELECT count(*), count(*) FILTER (WHERE {orphans_where}), "
            f"(SELECT count(*) FROM {tracks} WHERE {ident('event')} = {literal(table)}) FROM {target} e"
        )[0]
        sql = f"SELECT e.* FROM {target} e WHERE {orphans_where}"
        orphan_result = CheckResult(
            table=table, column="id", expectation="rows_have_tracks_row", severity="error",
            status=Status.PASSED if orphans == 0 else Status.FAILED, engine="schema",
            description=f"every {table} row has a tracks row with the same id and event",
            element_count=total, unexpected_count=orphans, failing_rows_sql=sql,
            unexpected_percent=orphans / total * 100 if total else None,
        )
        if orphans:
            orphan_result.sample_ids = [str(value) for (value,) in run_query(
                f"SELECT e.{ident('id')} FROM {target} e WHERE {orphans_where} ORDER BY 1 LIMIT 5")]
        results.append(orphan_result)
        results.append(CheckResult(
            table=table, expectation="event_counts_match_tracks", severity="error",
            status=Status.PASSED if total == tracked else Status.FAILED, engine="schema",
            description=f"{table} has as many rows as tracks rows with event = {table}",
            observed_value={"table_rows": total, "tracks_rows": tracked}, element_count=total,
            unexpected_count=abs(total - tracked),
            failing_rows_sql=(f"SELECT coalesce(e.id, t.id) AS id, e.id IS NULL AS missing_in_{table}, "
                              f"t.id IS NULL AS missing_in_tracks FROM {target} e FULL OUTER JOIN "
                              f"(SELECT id FROM {tracks} WHERE event = {literal(table)}) t ON e.id = t.id "
                              "WHERE e.id IS NULL OR t.id IS NULL"),
        ))
    return results


def format_duration(span: timedelta) -> str:
    """Return ``span`` in its two largest units, e.g. "955 d 3 h", "1 d", "4 h 30 min", "12 s"."""
    seconds = int(span.total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)} s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}")
    return " ".join(parts[:2]) or "0 s"


def freshness_checks(run_query: Callable[[str], list[tuple]], plan: Plan, schema: str,
                     tables: dict[str, list[ColumnInfo]], max_age: timedelta, now: datetime) -> list[CheckResult]:
    """Check that each event's newest ``received_at`` is within ``max_age`` of ``now`` (UTC).

    Events marked ``freshness: rare`` in the plan only warn: a quiet day without
    unsubscribes is not a broken pipeline.
    """
    results = []
    for event in plan.events:
        if event.table not in tables:
            continue
        newest = run_query(f"SELECT max({ident('received_at')}) FROM {qualified(schema, event.table)}")[0][0]
        rare = event.freshness is Freshness.RARE
        age = now - newest if newest is not None else None
        stale = age is None or age > max_age
        message = None
        if stale:
            message = "no rows yet" if newest is None else f"newest row is {format_duration(age)} old"
            if rare:
                message += " (rare event: warning only)"
        results.append(CheckResult(
            table=event.table, column="received_at", expectation="fresh_within_max_age",
            severity="warning" if rare else "error", status=Status.FAILED if stale else Status.PASSED,
            engine="schema", description=f"newest {event.table} row was received within {format_duration(max_age)}",
            observed_value=newest.isoformat(sep=" ") if newest is not None else None,
            message=message,
        ))
    return results
