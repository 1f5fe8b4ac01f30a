"""What a warehouse schema holds, read from ``information_schema``.

``information_schema`` reads the same on DuckDB and PostgreSQL, so these queries avoid
SQLAlchemy reflection, which duckdb-engine supports only in part.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from klenty_wh.plan.model import LogicalType

# information_schema.columns.data_type spellings, DuckDB and PostgreSQL, upper-cased.
_LOGICAL_TYPES: dict[str, LogicalType] = {
    "VARCHAR": LogicalType.TEXT,
    "TEXT": LogicalType.TEXT,
    "CHARACTER VARYING": LogicalType.TEXT,
    "BIGINT": LogicalType.INTEGER,
    "INTEGER": LogicalType.INTEGER,
    "HUGEINT": LogicalType.INTEGER,
    "DOUBLE": LogicalType.FLOAT,
    "DOUBLE PRECISION": LogicalType.FLOAT,
    "FLOAT": LogicalType.FLOAT,
    "REAL": LogicalType.FLOAT,
    "BOOLEAN": LogicalType.BOOLEAN,
    "TIMESTAMP": LogicalType.TIMESTAMP,
    "TIMESTAMP WITHOUT TIME ZONE": LogicalType.TIMESTAMP,
    "TIMESTAMP WITH TIME ZONE": LogicalType.TIMESTAMP,
}


@dataclass(frozen=True)
class ColumnInfo:
    """A column as the warehouse reports it."""

    name: str
    data_type: str
    """The warehouse's own type name, as ``information_schema`` spells it."""

    @property
    def logical_type(self) -> LogicalType | None:
        """Return the Segment type this column stores, or None for other types."""
        return _LOGICAL_TYPES.get(self.data_type.upper())


def list_schemas(connection: sa.Connection) -> list[str]:
    """Return the schemas of the current database, without system schemas."""
    rows = connection.execute(sa.text(
        "SELECT schema_name FROM information_schema.schemata "
        "WHERE catalog_name = current_database() ORDER BY schema_name"
    ))
    hidden = {"information_schema", "pg_catalog", "pg_toast"}
    return [name for (name,) in rows if name not in hidden and not name.startswith("pg_temp")]


def schema_exists(connection: sa.Connection, schema: str) -> bool:
    """Return whether ``schema`` exists in the current database."""
    return schema in list_schemas(connection)


def table_columns(connection: sa.Connection, schema: str) -> dict[str, list[ColumnInfo]]:
    """Return each base table of ``schema`` with its columns in ordinal order."""
    rows = connection.execute(
        sa.text(
            "SELECT c.table_name, c.column_name, c.data_type "
            "FROM information_schema.columns c "
            "JOIN information_schema.tables t "
            "  ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
            " AND t.table_catalog = c.table_catalog "
            "WHERE c.table_schema = :schema AND c.table_catalog = current_database() "
            "  AND t.table_type = 'BASE TABLE' "
            "ORDER BY c.table_name, c.ordinal_position"
        ),
        {"schema": schema},
    )
    tables: dict[str, list[ColumnInfo]] = {}
    for table, column, data_type in rows:
        tables.setdefault(table, []).append(ColumnInfo(name=column, data_type=data_type))
    return tables
