"""Run one read-only query and return its rows.

Read-only is enforced three times: :func:`klenty_wh.query.guard.check_read_only` rejects the
text, DuckDB files are opened read-only with external access (files, ATTACH, INSTALL) turned
off, and on PostgreSQL the query runs in a READ ONLY transaction that is rolled back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from klenty_wh.errors import UsageError, WarehouseError
from klenty_wh.query.guard import check_read_only
from klenty_wh.warehouse.connection import Warehouse, driver_message

logger = logging.getLogger(__name__)

DUCKDB_READ_TYPES = ("SELECT", "EXPLAIN")
"""DuckDB statement types (``duckdb.StatementType``) that only read."""

# Markers of an engine rejecting a write: PostgreSQL SQLSTATE class 25 (read-only or
# invalid transaction state), DuckDB's read-only and permission errors.
_READ_ONLY_SQLSTATE_CLASS = "25"
_DUCKDB_READ_ONLY_MARKERS = ("read-only mode", "Permission Error", "disabled by configuration")


@dataclass
class QueryResult:
    """Columns and rows of a query; ``truncated`` when more rows existed than were fetched."""

    columns: list[str]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    truncated: bool = False


def run_query(warehouse: Warehouse, sql: str, max_rows: int | None = None) -> QueryResult:
    """Run ``sql`` read-only on ``warehouse`` and return at most ``max_rows`` rows (None: all).

    Raises:
        UsageError: the text is not one read-only query, the engine rejected it as a write,
            or the engine reported an error in the query (syntax, unknown table or column).
        WarehouseError: the warehouse failed for another reason.
    """
    text = check_read_only(sql)
    if warehouse.dialect == "duckdb":
        _check_duckdb_statement(text)
    try:
        with warehouse.engine.connect() as connection:
            # The DB-API cursor runs the text as given: SQLAlchemy's execute would treat
            # ":name" as a bind parameter, and psycopg2 treats "%" as one whenever
            # parameters are passed, even empty ones.
            cursor = connection.connection.cursor()
            try:
                _make_read_only(warehouse.dialect, cursor)
                logger.debug("running read-only query: %s", text)
                cursor.execute(text)
                return _fetch(cursor, max_rows)
            finally:
                cursor.close()
                connection.rollback()
    except UsageError:
        raise
    except Exception as exc:
        raise _query_error(warehouse, exc) from exc


def _check_duckdb_statement(text: str) -> None:
    """Parse ``text`` with DuckDB's own parser: exactly one statement of a read type."""
    import duckdb

    try:
        statements = duckdb.extract_statements(text)
    except duckdb.Error as exc:
        raise UsageError(f"the query is not valid DuckDB SQL: {driver_message(exc)}.") from None
    if len(statements) != 1:
        raise UsageError(f"the query contains {len(statements)} statements; klenty-wh sql runs exactly one.")
    kind = statements[0].type.name
    if kind not in DUCKDB_READ_TYPES:
        raise UsageError(f"DuckDB parses the query as a {kind} statement; klenty-wh sql runs only "
                         f"read-only queries ({', '.join(DUCKDB_READ_TYPES)}).")


def _make_read_only(dialect: str, cursor: Any) -> None:
    if dialect == "postgresql":
        cursor.execute("SET TRANSACTION READ ONLY")
    elif dialect == "duckdb":
        # Once off, external access cannot be turned on again on this connection.
        cursor.execute("SET enable_external_access = false")


def _fetch(cursor: Any, max_rows: int | None) -> QueryResult:
    if cursor.description is None:
        return QueryResult(columns=[])
    columns = [str(column[0]) for column in cursor.description]
    if max_rows is None:
        return QueryResult(columns=columns, rows=[tuple(row) for row in cursor.fetchall()])
    rows = [tuple(row) for row in cursor.fetchmany(max_rows + 1)]
    return QueryResult(columns=columns, rows=rows[:max_rows], truncated=len(rows) > max_rows)


def _query_error(warehouse: Warehouse, exc: Exception) -> Exception:
    original = getattr(exc, "orig", None) or exc
    reason = driver_message(exc)
    sqlstate = getattr(original, "pgcode", None) or ""
    if sqlstate.startswith(_READ_ONLY_SQLSTATE_CLASS) or any(m in str(original) for m in _DUCKDB_READ_ONLY_MARKERS):
        return UsageError(f"the warehouse rejected the query as a write: {reason}. klenty-wh sql runs "
                          f"only read-only queries; nothing was changed.")
    if _is_query_mistake(original):
        return UsageError(f"the query failed on {warehouse.display}: {reason}.")
    return WarehouseError(f"the query could not run on {warehouse.display}: {reason}.")


def _is_query_mistake(original: BaseException) -> bool:
    """Return whether the driver blames the query text (syntax, names, types, values)."""
    names = {cls.__name__ for cls in type(original).__mro__}
    return bool(names & {"ProgrammingError", "DataError"})
