"""DDL text for each supported warehouse, compiled by its SQLAlchemy dialect."""

from __future__ import annotations

from sqlalchemy.schema import CreateSchema, CreateTable

from klenty_wh.plan.model import Plan
from klenty_wh.plan.names import validate_schema_name
from klenty_wh.tables.build import build_metadata
from klenty_wh.tables.dialects import DIALECT_PROFILES, get_dialect


def compile_ddl(plan: Plan, schema: str, dialect: str) -> str:
    """Return the statements that create ``schema`` and its documented tables on ``dialect``.

    Each statement ends with ``;`` and a blank line. No connection is needed.

    Raises:
        UsageError: unknown dialect, missing dialect package, or invalid schema name.
    """
    sa_dialect = get_dialect(dialect)
    validate_schema_name(schema, dialect)
    profile = DIALECT_PROFILES.get(dialect, "default")
    metadata = build_metadata(plan, schema, profile)
    statements = [str(CreateSchema(schema, if_not_exists=True).compile(dialect=sa_dialect)).strip()]
    for table in metadata.tables.values():
        statements.append(str(CreateTable(table, if_not_exists=True).compile(dialect=sa_dialect)).strip())
    return "".join(f"{statement};\n\n" for statement in statements)
