"""SQLAlchemy dialects that ``klenty-wh ddl`` compiles for, without a connection."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Dialect

from klenty_wh.errors import UsageError


def _duckdb() -> Dialect:
    from duckdb_engine import Dialect as DuckDBDialect

    return DuckDBDialect()


def _postgresql() -> Dialect:
    from sqlalchemy.dialects import postgresql

    return postgresql.dialect()


def _snowflake() -> Dialect:
    from snowflake.sqlalchemy.snowdialect import SnowflakeDialect

    return SnowflakeDialect()


def _bigquery() -> Dialect:
    from sqlalchemy_bigquery import BigQueryDialect

    return BigQueryDialect()


def _redshift() -> Dialect:
    from sqlalchemy_redshift.dialect import RedshiftDialect_psycopg2

    return RedshiftDialect_psycopg2()


# Dialect name -> (factory, pip extra that provides it, or None when always installed).
_DIALECTS: dict[str, tuple[Callable[[], Dialect], str | None]] = {
    "duckdb": (_duckdb, None),
    "postgresql": (_postgresql, None),
    "snowflake": (_snowflake, "snowflake"),
    "bigquery": (_bigquery, "bigquery"),
    "redshift": (_redshift, "redshift"),
}

DIALECT_NAMES = tuple(_DIALECTS)

# The loader profile each dialect's DDL follows: Redshift and BigQuery get the columns and
# naming rules their Segment loaders apply.
DIALECT_PROFILES = {"redshift": "redshift", "bigquery": "bigquery"}


def get_dialect(name: str) -> Dialect:
    """Return a SQLAlchemy dialect object for ``name``.

    Raises:
        UsageError: the name is unknown, or the package that provides it is not installed.
    """
    if name not in _DIALECTS:
        raise UsageError(
            f"unknown dialect {name!r}: choose one of {', '.join(DIALECT_NAMES)}."
        )
    factory, extra = _DIALECTS[name]
    try:
        return factory()
    except ImportError as exc:
        raise UsageError(
            f"DDL for {name} needs the {extra} extra, which is not installed (the module {exc.name} "
            f"is missing): run pip install -e '.[{extra}]' in a clone of klenty-wh, or "
            f"pip install 'klenty-wh[{extra}]' for an installed package."
        ) from None
