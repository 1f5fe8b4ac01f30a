"""Create the models as views in ``<schema>_models``, or compile them into one query.

The views live in a companion schema so that the Segment schema keeps exactly the tables
and columns Segment's loader would write. A run drops and recreates every view in one
transaction, so re-running replaces them and a failed run leaves the old ones in place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from klenty_wh.errors import UsageError, WarehouseError
from klenty_wh.load.sql import ident, qualified
from klenty_wh.models.catalog import ModelView, model_views, view_by_name
from klenty_wh.models.outreach import Outreach, outreach_from_plan
from klenty_wh.plan.model import Plan
from klenty_wh.plan.names import schema_name_problem, validate_schema_name
from klenty_wh.warehouse.connection import Warehouse, driver_message
from klenty_wh.warehouse.introspect import list_schemas, table_columns

logger = logging.getLogger(__name__)

MODELS_SUFFIX = "_models"


def models_schema_name(schema: str) -> str:
    """Return the companion schema of ``schema``: ``klenty_prod`` -> ``klenty_prod_models``."""
    return schema + MODELS_SUFFIX


@dataclass
class ModelsResult:
    """Outcome of :func:`create_models`: the schemas and the views it created or replaced."""

    schema: str
    models_schema: str
    views: list[str] = field(default_factory=list)
    created_schema: bool = False


def model_statements(plan: Plan, schema: str) -> list[str]:
    """Return the DDL that (re)creates every model of ``plan`` for the Segment schema ``schema``.

    Views are dropped in reverse dependency order, then created in dependency order.
    """
    views = model_views(plan, outreach_from_plan(plan))
    target = models_schema_name(schema)
    statements = [f"CREATE SCHEMA IF NOT EXISTS {ident(target)}"]
    statements += [f"DROP VIEW IF EXISTS {qualified(target, view.name)}" for view in reversed(views)]
    for view in views:
        body = view.select(lambda name: qualified(schema, name), lambda name: qualified(target, name))
        statements.append(f"CREATE VIEW {qualified(target, view.name)} AS\n{body}")
    return statements


def standalone_query(plan: Plan, schema: str, name: str) -> str:
    """Return one SELECT that computes model ``name`` straight from the Segment tables.

    The models it reads become common table expressions, so the query needs no views and
    runs on a read-only connection.

    Raises:
        UsageError: no model is called ``name``.
    """
    views = model_views(plan, outreach_from_plan(plan))
    try:
        wanted = view_by_name(views, name)
    except KeyError:
        names = ", ".join(view.name for view in views)
        raise UsageError(f"unknown model {name!r}: choose one of {names}.") from None
    needed = _dependencies(views, wanted)
    ctes = [
        f"{ident(view.name)} AS (\n{view.select(lambda t: qualified(schema, t), ident)}\n)"
        for view in views if view.name in needed
    ]
    final = f"SELECT * FROM {ident(wanted.name)}"
    return f"WITH {', '.join(ctes)}\n{final}" if ctes else final


def create_models(warehouse: Warehouse, plan: Plan, schema: str) -> ModelsResult:
    """Create or replace every model view in ``<schema>_models``.

    Raises:
        PlanError: the plan lacks an event or property the models need.
        UsageError: ``schema`` or its companion name is not a valid schema name.
        WarehouseError: the Segment schema or one of its documented tables or columns is
            missing, or the warehouse refused a statement; nothing was changed.
    """
    validate_schema_name(schema, warehouse.dialect)
    target = models_schema_name(schema)
    if problem := schema_name_problem(target, warehouse.dialect):
        raise UsageError(f"invalid schema name {target!r}: {problem}. Pass --schema with a shorter name.")
    outreach = outreach_from_plan(plan)
    statements = model_statements(plan, schema)
    result = ModelsResult(schema=schema, models_schema=target)
    try:
        with warehouse.engine.begin() as connection:
            schemas = list_schemas(connection)
            check_source_tables(connection, schemas, schema, outreach)
            result.created_schema = target not in schemas
            for statement in statements:
                logger.debug("%s", statement)
                connection.execute(sa.text(statement))
    except DBAPIError as exc:
        raise WarehouseError(
            f"creating the models in {target!r} on {warehouse.display} failed: {driver_message(exc)}. "
            f"Nothing was changed. A view of {target} that other objects depend on must be dropped "
            f"by hand before it can be replaced."
        ) from exc
    result.views = [view.name for view in model_views(plan, outreach)]
    return result


def check_source_tables(connection: sa.Connection, schemas: list[str], schema: str,
                         outreach: Outreach) -> None:
    """Check that ``schema`` has every table and column the models read.

    Raises:
        WarehouseError: the schema, a table or a column is missing; the message names them.
    """
    if schema not in schemas:
        found = ", ".join(schemas) or "none"
        raise WarehouseError(
            f"schema {schema!r} does not exist (schemas found: {found}). Run `klenty-wh init "
            f"--schema {schema}` and `klenty-wh load` first, or pass the right --schema."
        )
    existing = {table: {column.name for column in columns}
                for table, columns in table_columns(connection, schema).items()}
    missing = []
    for table, columns in outreach.table_columns.items():
        if table not in existing:
            missing.append(f"table {schema}.{table}")
            continue
        missing += [f"column {schema}.{table}.{column}" for column in sorted(columns - existing[table])]
    if missing:
        raise WarehouseError(
            f"the models read documented tables and columns that {schema!r} lacks: {', '.join(missing)}. "
            f"Run `klenty-wh init --schema {schema}` to add them."
        )


def _dependencies(views: tuple[ModelView, ...], wanted: ModelView) -> set[str]:
    needed = {wanted.name}
    pending = list(wanted.depends_on)
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending += view_by_name(views, name).depends_on
    return needed
