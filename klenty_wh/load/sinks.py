"""Where loaded rows go: the DuckDB file itself, or PostgreSQL through COPY.

A sink runs the load's writes in one transaction. Staging always happens in DuckDB: for a
DuckDB warehouse the staging tables are temporary tables of the same connection; for
PostgreSQL they live in a private in-memory DuckDB and the rows travel by ``COPY``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from klenty_wh.load.sql import ident, literal, qualified
from klenty_wh.warehouse.introspect import ColumnInfo

logger = logging.getLogger(__name__)

_SCHEMAS_SQL = ("SELECT schema_name FROM information_schema.schemata "
                "WHERE catalog_name = current_database()")
_COLUMNS_SQL = (
    "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
    "JOIN information_schema.tables t ON t.table_schema = c.table_schema "
    " AND t.table_name = c.table_name AND t.table_catalog = c.table_catalog "
    "WHERE c.table_schema = {schema} AND c.table_catalog = current_database() "
    "  AND t.table_type = 'BASE TABLE' ORDER BY c.table_name, c.ordinal_position"
)


class Sink:
    """The target of a load. Subclasses implement the engine-specific steps."""

    dialect_name: str

    def __init__(self, staging) -> None:
        self.staging = staging
        """The DuckDB connection with the staging tables."""

    def begin(self) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError

    def lock_schema(self, schema: str) -> None:
        """Keep other loads out of ``schema`` until this one commits (DuckDB's file lock does that)."""

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Run a query on the warehouse and return its rows."""
        raise NotImplementedError

    def execute(self, sql: str) -> None:
        """Run one statement on the warehouse."""
        raise NotImplementedError

    def schema_columns(self, schema: str) -> dict[str, list[ColumnInfo]] | None:
        """Return the tables of ``schema`` with their columns, or None when it does not exist."""
        if schema not in {name for (name,) in self.query(_SCHEMAS_SQL)}:
            return None
        tables: dict[str, list[ColumnInfo]] = {}
        for table, column, data_type in self.query(_COLUMNS_SQL.format(schema=literal(schema))):
            tables.setdefault(table, []).append(ColumnInfo(column, data_type))
        return tables

    def fetch_existing_ids(self, schema: str, table: str, staged_ids_sql: str, into: str) -> None:
        """Insert into staging table ``into`` (one ``id`` column) the staged ids the table already has."""
        raise NotImplementedError

    def delete_ids(self, schema: str, table: str, ids_sql: str) -> int:
        """Delete the rows whose id the staging query ``ids_sql`` returns; return how many."""
        raise NotImplementedError

    def insert(self, schema: str, table: str, columns: list[str], select_sql: str) -> int:
        """Insert the rows of the staging query ``select_sql``; return how many."""
        raise NotImplementedError


class DuckDBSink(Sink):
    """Loads into the DuckDB file whose connection also has the staging tables."""

    dialect_name = "duckdb"

    def begin(self) -> None:
        self.staging.execute("BEGIN TRANSACTION")

    def commit(self) -> None:
        self.staging.execute("COMMIT")

    def rollback(self) -> None:
        try:
            self.staging.execute("ROLLBACK")
        except Exception:  # no transaction is open any more
            logger.debug("rollback after failure found no open transaction")

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self.staging.execute(sql, params).fetchall()

    def execute(self, sql: str) -> None:
        self.staging.execute(sql)

    def fetch_existing_ids(self, schema: str, table: str, staged_ids_sql: str, into: str) -> None:
        self.staging.execute(
            f"INSERT INTO {into} SELECT id FROM {qualified(schema, table)} "
            f"WHERE id IN ({staged_ids_sql})"
        )

    def delete_ids(self, schema: str, table: str, ids_sql: str) -> int:
        return self.staging.execute(
            f"DELETE FROM {qualified(schema, table)} WHERE id IN ({ids_sql})"
        ).fetchone()[0]

    def insert(self, schema: str, table: str, columns: list[str], select_sql: str) -> int:
        names = ", ".join(ident(column) for column in columns)
        return self.staging.execute(
            f"INSERT INTO {qualified(schema, table)} ({names}) {select_sql}"
        ).fetchone()[0]


class PostgresSink(Sink):
    """Loads into PostgreSQL with COPY, inside one PostgreSQL transaction."""

    dialect_name = "postgresql"

    def __init__(self, staging, connection, spool_dir: Path) -> None:
        super().__init__(staging)
        self.connection = connection
        """A psycopg2 connection (autocommit off, so every statement joins one transaction)."""
        self.spool_dir = spool_dir
        self._files = 0

    def begin(self) -> None:
        self.connection.autocommit = False

    def lock_schema(self, schema: str) -> None:
        """Serialise loads into ``schema``: a second load waits until the first commits.

        Without it, two loads could both find an id missing and both insert it. The lock is
        a transaction-level advisory lock, released at commit or rollback.
        """
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"klenty-wh load {schema}",))

    def commit(self) -> None:
        self.connection.commit()

    def rollback(self) -> None:
        try:
            self.connection.rollback()
        except Exception:  # the connection is gone; the server rolls back on its own
            logger.debug("rollback failed because the connection is closed")

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params or None)
            return cursor.fetchall()

    def execute(self, sql: str) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(sql)

    def _export(self, select_sql: str) -> Path:
        self._files += 1
        path = self.spool_dir / f"copy-{self._files}.csv"
        self.staging.execute(f"COPY ({select_sql}) TO {literal(str(path))} (FORMAT CSV, HEADER false)")
        return path

    def _copy_in(self, target: str, columns: list[str], path: Path) -> int:
        names = ", ".join(ident(column) for column in columns)
        with self.connection.cursor() as cursor, path.open("r", encoding="utf-8") as handle:
            cursor.copy_expert(f"COPY {target} ({names}) FROM STDIN WITH (FORMAT csv)", handle)
            count = cursor.rowcount
        path.unlink(missing_ok=True)
        return count

    def fetch_existing_ids(self, schema: str, table: str, staged_ids_sql: str, into: str) -> None:
        self.execute("CREATE TEMP TABLE IF NOT EXISTS kwh_ids (id TEXT) ON COMMIT DROP")
        self.execute("TRUNCATE kwh_ids")
        self._copy_in("kwh_ids", ["id"], self._export(staged_ids_sql))
        rows = self.query(f"SELECT DISTINCT t.id FROM {qualified(schema, table)} t JOIN kwh_ids k ON t.id = k.id")
        if rows:
            self.staging.executemany(f"INSERT INTO {into} VALUES (?)", rows)

    def delete_ids(self, schema: str, table: str, ids_sql: str) -> int:
        self.execute("CREATE TEMP TABLE IF NOT EXISTS kwh_ids (id TEXT) ON COMMIT DROP")
        self.execute("TRUNCATE kwh_ids")
        self._copy_in("kwh_ids", ["id"], self._export(ids_sql))
        with self.connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {qualified(schema, table)} WHERE id IN (SELECT id FROM kwh_ids)")
            return cursor.rowcount

    def insert(self, schema: str, table: str, columns: list[str], select_sql: str) -> int:
        return self._copy_in(qualified(schema, table), columns, self._export(select_sql))
