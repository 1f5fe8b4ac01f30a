"""``run_checks``: prove that a warehouse schema contains what the Klenty source documents.

Steps:

1. Read the schema's tables and columns. A missing schema is an error that names the
   schemas that exist.
2. Check the shape: documented tables and columns exist, and others are drift warnings.
3. Run each suite file on its table: expectation types with a compiled form in one query
   per table (``--engine sql``, the default ``auto``), the rest through Great
   Expectations (all of them with ``--engine gx``). Expectations on missing columns are
   skipped, since step 2 already reports the missing column.
4. Check facts across tables: every event row has its ``tracks`` row, counts agree.
5. With ``max_age``, check that each event's newest row is recent.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from klenty_wh.checks.compiled import compiles, count_duplicated_values, evaluate_table, referenced_columns
from klenty_wh.checks.results import CheckReport, CheckResult, Status, severity_from_gx
from klenty_wh.checks.schema_checks import cross_table_checks, freshness_checks, shape_checks
from klenty_wh.checks.suites import load_suites
from klenty_wh.errors import UsageError, WarehouseError
from klenty_wh.plan.model import Plan
from klenty_wh.redact import mask_email, mask_emails_in_text
from klenty_wh.resources import default_suites_dir
from klenty_wh.warehouse.connection import Warehouse, driver_message
from klenty_wh.warehouse.introspect import list_schemas, table_columns

logger = logging.getLogger(__name__)

ENGINES = ("auto", "sql", "gx")


@dataclass(frozen=True)
class CheckOptions:
    """How to check.

    Attributes:
        schema: the Segment schema to check.
        suites_dir: folder of GX suite files; default: the suites shipped with klenty-wh.
        engine: ``auto`` (compiled SQL where possible, GX for the rest), ``sql`` or ``gx``.
        max_age: adds a freshness check on each event's newest ``received_at``.
        show_values: keep sample values as they are instead of masking email addresses.
    """

    schema: str
    suites_dir: Path | None = None
    engine: str = "auto"
    max_age: timedelta | None = None
    show_values: bool = False


def run_checks(warehouse: Warehouse, plan: Plan, options: CheckOptions) -> CheckReport:
    """Run every check on ``options.schema`` and return the report.

    Raises:
        UsageError: invalid schema name, unknown engine, or unreadable suites.
        WarehouseError: the schema does not exist, or the warehouse fails a query.
    """
    from klenty_wh.plan.names import validate_schema_name

    validate_schema_name(options.schema, warehouse.dialect)
    if options.engine not in ENGINES:
        raise UsageError(f"unknown --engine {options.engine!r}: choose {', '.join(ENGINES)}.")
    started = time.monotonic()
    suites = load_suites(options.suites_dir or default_suites_dir())
    report = CheckReport(schema=options.schema, warehouse=warehouse.display, engine=options.engine,
                         show_values=options.show_values)
    try:
        with warehouse.engine.connect() as connection:
            run_query = _query_runner(connection)
            tables = _tables(connection, warehouse, options.schema)
            report.results += shape_checks(plan, options.schema, tables)
            gx_session = None
            for table, suite in suites.items():
                results, gx_session = _run_suite(run_query, warehouse, options, table, suite, tables, gx_session)
                report.results += results
            report.results += cross_table_checks(run_query, plan, options.schema, tables)
            if options.max_age is not None:
                now = datetime.now(timezone.utc).replace(tzinfo=None)
                report.results += freshness_checks(run_query, plan, options.schema, tables, options.max_age, now)
    except sa.exc.DBAPIError as exc:
        raise WarehouseError(f"check of {options.schema} on {warehouse.display} failed: "
                             f"{driver_message(exc)}.") from exc
    if not options.show_values:
        _mask_samples(plan, report.results)
    order = {table: position for position, table in enumerate(plan.table_names)}
    report.results.sort(key=lambda result: (order.get(result.table, len(order)), result.table))
    report.gx_session = gx_session
    report.seconds = time.monotonic() - started
    return report


def _query_runner(connection: sa.Connection):
    def run_query(sql: str) -> list[tuple]:
        logger.debug("check query: %s", sql)
        return [tuple(row) for row in connection.execute(sa.text(sql)).fetchall()]

    return run_query


def _tables(connection: sa.Connection, warehouse: Warehouse, schema: str):
    schemas = list_schemas(connection)
    if schema not in schemas:
        listed = ", ".join(schemas) or "none"
        raise WarehouseError(
            f"schema {schema!r} does not exist in {warehouse.display}. Schemas there: {listed}. "
            f"Pass one of them with --schema, or load data first."
        )
    return table_columns(connection, schema)


def _run_suite(run_query, warehouse: Warehouse, options: CheckOptions, table: str, suite: dict[str, Any],
               tables: dict, gx_session):
    expectations = suite.get("expectations") or []
    results: list[CheckResult | None] = [None] * len(expectations)
    if table not in tables:
        message = f"table {options.schema}.{table} does not exist"
        return [_skipped(table, expectation, message) for expectation in expectations], gx_session
    present = {column.name for column in tables[table]}
    compiled, by_gx = [], []
    for index, expectation in enumerate(expectations):
        missing = [name for name in referenced_columns(expectation) if name not in present]
        if missing:
            results[index] = _skipped(table, expectation, f"column {missing[0]} does not exist in "
                                                           f"{options.schema}.{table}")
        elif options.engine != "gx" and compiles(expectation, warehouse.dialect):
            compiled.append(index)
        elif options.engine == "sql":
            results[index] = _skipped(table, expectation, "this expectation type has no compiled form; "
                                                           "run with --engine auto or gx")
        else:
            by_gx.append(index)
    if compiled:
        evaluated = evaluate_table(run_query, warehouse.dialect, options.schema, table,
                                   [expectations[index] for index in compiled])
        for index, result in zip(compiled, evaluated):
            results[index] = result
    if by_gx:
        if gx_session is None:
            from klenty_wh.checks.gx_engine import GxSession

            gx_session = GxSession(warehouse.url.render_as_string(hide_password=False), read_only=True)
        evaluated = gx_session.validate(options.schema, table, suite.get("name") or f"klenty.{table}",
                                        [expectations[index] for index in by_gx])
        for index, result in zip(by_gx, evaluated):
            _add_failing_sql(result, warehouse.dialect, options.schema, table, expectations[index])
            if result.expectation == "expect_column_values_to_be_unique" and result.column:
                result.observed_value = {"duplicated_values": count_duplicated_values(
                    run_query, options.schema, table, result.column)}
            results[index] = result
    return [result for result in results if result is not None], gx_session


def _add_failing_sql(result: CheckResult, dialect: str, schema: str, table: str, expectation: dict) -> None:
    from klenty_wh.checks.compiled import _compile_one, failing_rows_sql

    item = _compile_one(expectation, dialect)
    if item is not None:
        result.failing_rows_sql = failing_rows_sql(item, schema, table)


def _skipped(table: str, expectation: dict[str, Any], message: str) -> CheckResult:
    kwargs = expectation.get("kwargs") or {}
    return CheckResult(table=table, expectation=expectation.get("type", "?"), column=kwargs.get("column"),
                       severity=severity_from_gx(expectation.get("severity")), status=Status.SKIPPED,
                       description=expectation.get("description") or "", kwargs=kwargs, message=message,
                       engine="skipped")


def _mask_samples(plan: Plan, results: list[CheckResult]) -> None:
    email_columns = {column.name for column in plan.standard_columns if column.format == "email"}
    email_columns |= {prop.column for prop in plan.properties if prop.format == "email"}
    for result in results:
        masked = []
        for value in result.sample_values:
            if isinstance(value, str):
                value = mask_email(value) if result.column in email_columns else mask_emails_in_text(value)
            masked.append(value)
        result.sample_values = masked
