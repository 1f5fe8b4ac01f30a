"""Great Expectations on DuckDB and PostgreSQL: the pieces klenty-wh adds to GX 1.x.

Importing this module imports Great Expectations (about 3 s), so only the code paths
that run GX import it.

Two gaps of GX 1.x are filled here, without changing any installed file:

* **Results lost on DuckDB.** ``SqlAlchemyExecutionEngine.execute_query`` returns the
  result of a query after leaving the ``with engine.connect()`` block. Closing the
  connection rolls back its transaction, and duckdb-engine runs every cursor on the one
  DuckDB connection, so the rollback discards the pending result: every metric comes back
  empty ("list index out of range") and every expectation errors. GX issues #10738 and
  #11579 (seen with GX 1.24.1, duckdb-engine 0.17, DuckDB 1.5 and 2.0).
  :class:`BufferedSqlAlchemyExecutionEngine` reads the whole result while the connection
  is open. Remove it once GX reads results inside the connection block (or ships a DuckDB
  execution engine) and the tests pass on the plain ``SqlAlchemyExecutionEngine``.
* **Regex refused on DuckDB.** GX's regex and LIKE expectations raise "Regex is not
  supported for dialect duckdb". :class:`ExpectColumnValuesToMatchPortableRegex` is the
  regex expectation with a metric that uses DuckDB's ``regexp_matches`` and GX's own
  expression on every other dialect.
"""

from __future__ import annotations

import logging
from typing import Literal, Type

import great_expectations as gx
import sqlalchemy as sa
from great_expectations.datasource.fluent import SQLDatasource
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from great_expectations.expectations.core.expect_column_values_to_match_regex import (
    ExpectColumnValuesToMatchRegex,
)
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)
from great_expectations.expectations.metrics.util import get_dialect_regex_expression

logger = logging.getLogger(__name__)


class BufferedSqlAlchemyExecutionEngine(SqlAlchemyExecutionEngine):
    """GX's SQL execution engine, reading each query result before the connection closes."""

    def execute_query(self, query):  # noqa: D102 - documented on the parent class
        with self.get_connection() as connection:
            # freeze() reads every row now; calling the frozen result replays them.
            return connection.execute(query).freeze()()


class KlentySqlDatasource(SQLDatasource):
    """A GX SQL data source that runs on :class:`BufferedSqlAlchemyExecutionEngine`."""

    type: Literal["klenty_sql"] = "klenty_sql"  # type: ignore[assignment]

    @property
    def execution_engine_type(self) -> Type[SqlAlchemyExecutionEngine]:
        """Return the buffered execution engine."""
        return BufferedSqlAlchemyExecutionEngine


def _dialect_name(dialect) -> str:
    return str(getattr(getattr(dialect, "dialect", dialect), "name", dialect)).lower()


class ColumnValuesMatchPortableRegex(ColumnMapMetricProvider):
    """Metric: each value matches a regular expression, on DuckDB as on other SQL engines."""

    condition_metric_name = "column_values.match_portable_regex"
    condition_value_keys = ("regex",)

    @column_condition_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, column, regex, _dialect, **kwargs):
        if _dialect_name(_dialect) == "duckdb":
            return sa.func.regexp_matches(column, regex)
        expression = get_dialect_regex_expression(column, regex, _dialect)
        if expression is None:
            raise NotImplementedError(f"regular expressions are not supported for dialect {_dialect_name(_dialect)}")
        return expression


class ExpectColumnValuesToMatchPortableRegex(ExpectColumnValuesToMatchRegex):
    """Expect each non-null value to match ``regex``; works on DuckDB, unlike the GX original.

    Write patterns that mean the same in RE2 (DuckDB) and POSIX regular expressions
    (PostgreSQL): anchors, bracket expressions, ``+ * ? | ()`` and ``\\s``/``\\S``.
    """

    map_metric = "column_values.match_portable_regex"


def new_context():
    """Return an ephemeral GX data context (nothing is written to disk)."""
    return gx.get_context(mode="ephemeral")


def add_datasource(context, name: str, url: str, engine_kwargs: dict | None = None):
    """Add the klenty-wh SQL data source for ``url`` (a SQLAlchemy URL with its password).

    ``engine_kwargs`` go to SQLAlchemy's ``create_engine``.
    """
    return context.data_sources.add_klenty_sql(name=name, connection_string=url, kwargs=engine_kwargs or {})
