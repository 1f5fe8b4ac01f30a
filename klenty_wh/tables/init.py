"""Create the Segment schema of a Klenty source, or complete an existing one."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateSchema, CreateTable

from klenty_wh.errors import WarehouseError
from klenty_wh.plan.model import Plan
from klenty_wh.plan.names import validate_schema_name
from klenty_wh.tables.build import build_metadata, check_profile
from klenty_wh.warehouse.connection import Warehouse, driver_message
from klenty_wh.warehouse.introspect import schema_exists, table_columns

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TypeMismatch:
    """A documented column that exists with another type than the plan's."""

    table: str
    column: str
    expected: str
    found: str


@dataclass
class InitResult:
    """Changes ``init`` made in the warehouse."""

    schema: str
    created_schema: bool = False
    created_tables: list[str] = field(default_factory=list)
    added_columns: list[tuple[str, str, str]] = field(default_factory=list)
    """(table, column, SQL type) of each documented column added to an existing table."""
    type_mismatches: list[TypeMismatch] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Return whether the run created or altered anything."""
        return bool(self.created_schema or self.created_tables or self.added_columns)


def add_column_statement(dialect: Dialect, table: sa.Table, column: sa.Column) -> str:
    """Return ``ALTER TABLE ... ADD COLUMN ...`` for ``column``, with quoted identifiers."""
    preparer = dialect.identifier_preparer
    column_type = column.type.compile(dialect=dialect)
    return (f"ALTER TABLE {preparer.format_table(table)} "
            f"ADD COLUMN {preparer.format_column(column)} {column_type}")


def init_statements(plan: Plan, schema: str, profile: str, dialect: Dialect,
                    existing: dict[str, list] | None) -> tuple[list[str], InitResult]:
    """Return the DDL that creates or completes ``schema``, and what it will change.

    ``existing`` contains the tables of the schema with their columns (from
    :func:`klenty_wh.warehouse.introspect.table_columns`), or None when the schema is absent.
    """
    metadata = build_metadata(plan, schema, profile)
    result = InitResult(schema=schema)
    statements: list[str] = []
    if existing is None:
        statements.append(str(CreateSchema(schema).compile(dialect=dialect)))
        result.created_schema = True
        existing = {}
    for table in metadata.tables.values():
        columns = existing.get(table.name)
        if columns is None:
            statements.append(str(CreateTable(table).compile(dialect=dialect)).strip())
            result.created_tables.append(table.name)
            continue
        found = {column.name: column for column in columns}
        for column in table.columns:
            info = found.get(column.name)
            if info is None:
                statements.append(add_column_statement(dialect, table, column))
                result.added_columns.append((table.name, column.name, column.type.compile(dialect=dialect)))
            elif info.logical_type is not column.info["logical_type"]:
                result.type_mismatches.append(TypeMismatch(
                    table=table.name, column=column.name,
                    expected=column.info["logical_type"].value, found=info.data_type))
    return statements, result


def init_schema(warehouse: Warehouse, plan: Plan, schema: str, profile: str = "default") -> InitResult:
    """Create ``schema``, ``tracks`` and the event tables, or add the documented columns they lack.

    Existing rows and columns are never touched, so a second run changes nothing. All
    changes happen in one transaction.

    Raises:
        UsageError: invalid schema name or profile.
        WarehouseError: the warehouse refused a statement (for example, permission denied).
    """
    validate_schema_name(schema, warehouse.dialect)
    check_profile(profile)
    try:
        with warehouse.engine.begin() as connection:
            existing = table_columns(connection, schema) if schema_exists(connection, schema) else None
            statements, result = init_statements(plan, schema, profile, warehouse.engine.dialect, existing)
            for statement in statements:
                connection.execute(sa.text(statement))
                logger.info("%s", statement.splitlines()[0])
    except DBAPIError as exc:
        raise WarehouseError(
            f"init of schema {schema!r} on {warehouse.display} failed: {driver_message(exc)}. "
            f"Nothing was changed; check the account's permissions on the warehouse."
        ) from exc
    return result
