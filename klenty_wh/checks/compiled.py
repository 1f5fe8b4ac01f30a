"""Evaluate common expectation types in one SQL query per table.

Great Expectations runs about one query per metric. For the expectation types below,
klenty-wh computes the same counts with one aggregate query per table, plus one GROUP BY
for each uniqueness check, and follows GX's definitions exactly:

* ``element_count`` is the table's row count. Map expectations ignore NULLs, so their
  ``unexpected_percent`` is relative to the non-null rows, and they pass vacuously when
  the table or the non-null rows are empty.
* ``expect_column_values_to_not_be_null`` counts NULLs against all rows.
* ``mostly`` is the share of rows that must pass.
* ``unexpected_rows_expectation`` passes when its query returns no row. Only queries of
  the form ``SELECT * FROM {batch} WHERE <condition>`` are compiled.

Types without a compiled form run through GX (see :mod:`klenty_wh.checks.gx_engine`);
a differential test checks that both engines agree on these types.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from klenty_wh.checks.results import CheckResult, Status, severity_from_gx
from klenty_wh.load.sql import ident, literal, qualified

_BATCH_QUERY = re.compile(r"^\s*select\s+\*\s+from\s+\{batch\}\s+where\s+(?P<condition>.+?)\s*;?\s*$",
                          re.IGNORECASE | re.DOTALL)
SAMPLE_LIMIT = 5


@dataclass
class _Compiled:
    """One expectation turned into SQL pieces over the table."""

    expectation: dict[str, Any]
    column: str | None
    unexpected: str
    """Condition that marks a row unexpected (already excludes NULLs for map expectations)."""
    kind: str
    """``map``, ``not_null``, ``unique`` or ``rows``."""


def _regex_condition(dialect: str, column: str, pattern: str) -> str:
    if dialect == "duckdb":
        return f"regexp_matches({column}, {literal(pattern)})"
    return f"{column} ~ {literal(pattern)}"


def _compile_one(expectation: dict[str, Any], dialect: str) -> _Compiled | None:
    """Return the compiled form of ``expectation``, or None when only GX can evaluate it."""
    kind = expectation.get("type")
    kwargs = expectation.get("kwargs") or {}
    if kwargs.get("row_condition"):
        return None
    column_name = kwargs.get("column")
    column = ident(column_name) if isinstance(column_name, str) else None

    if kind == "expect_column_values_to_not_be_null" and column:
        return _Compiled(expectation, column_name, f"{column} IS NULL", "not_null")
    if kind == "expect_column_values_to_be_unique" and column:
        return _Compiled(expectation, column_name, "", "unique")
    if kind == "expect_column_values_to_be_in_set" and column and isinstance(kwargs.get("value_set"), list):
        values = kwargs["value_set"]
        if not all(isinstance(value, str) for value in values) or not values:
            return None
        listed = ", ".join(literal(value) for value in values)
        return _Compiled(expectation, column_name, f"{column} IS NOT NULL AND {column} NOT IN ({listed})", "map")

    if kind == "expect_column_value_lengths_to_be_between" and column:
        bounds = []
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        if isinstance(low, int) and not isinstance(low, bool):
            bounds.append(f"length({column}) {'>' if kwargs.get('strict_min') else '>='} {low}")
        if isinstance(high, int) and not isinstance(high, bool):
            bounds.append(f"length({column}) {'<' if kwargs.get('strict_max') else '<='} {high}")
        if not bounds:
            return None
        return _Compiled(expectation, column_name, f"{column} IS NOT NULL AND NOT ({' AND '.join(bounds)})", "map")

    if kind in ("expect_column_values_to_match_portable_regex",) and column and isinstance(kwargs.get("regex"), str):
        return _Compiled(expectation, column_name,
                         f"{column} IS NOT NULL AND NOT ({_regex_condition(dialect, column, kwargs['regex'])})", "map")

    if kind == "unexpected_rows_expectation" and isinstance(kwargs.get("unexpected_rows_query"), str):
        match = _BATCH_QUERY.match(kwargs["unexpected_rows_query"])
        if match and "{batch}" not in match.group("condition"):
            return _Compiled(expectation, None, f"({match.group('condition')})", "rows")
    return None


def compiles(expectation: dict[str, Any], dialect: str) -> bool:
    """Return whether ``expectation`` has a compiled form."""
    return _compile_one(expectation, dialect) is not None


def evaluate_table(run_query: Callable[[str], list[tuple]], dialect: str, schema: str, table: str,
                   expectations: list[dict[str, Any]], want_samples: bool = True) -> list[CheckResult]:
    """Evaluate ``expectations`` (all compilable) on ``schema.table`` and return their results.

    ``run_query`` runs one SQL statement on the warehouse and returns its rows.
    """
    compiled = [_compile_one(expectation, dialect) for expectation in expectations]
    target = qualified(schema, table)
    aggregates = ["count(*)"]
    for item in compiled:
        assert item is not None
        if item.kind == "unique":
            column = ident(item.column)
            aggregates.append(f"count(*) FILTER (WHERE {column} IS NULL)")
            # Rows whose value occurs more than once (GX's unexpected_count), and how many
            # distinct values are duplicated, packed in one number: rows * 2^32 + values.
            aggregates.append(f"(SELECT coalesce(sum(n), 0) * 4294967296 + count(*) FROM (SELECT count(*) AS n "
                              f"FROM {target} WHERE {column} IS NOT NULL GROUP BY {column} "
                              f"HAVING count(*) > 1) AS d)")
            continue
        if item.kind == "map":
            aggregates.append(f"count(*) FILTER (WHERE {ident(item.column)} IS NULL)")
        else:
            aggregates.append("0")
        aggregates.append(f"count(*) FILTER (WHERE {item.unexpected})")
    row = run_query(f"SELECT {', '.join(aggregates)} FROM {target}")[0]
    total = int(row[0])
    results = []
    for index, item in enumerate(compiled):
        nulls, unexpected = int(row[1 + 2 * index]), int(row[2 + 2 * index])
        duplicated = None
        if item.kind == "unique":
            unexpected, duplicated = divmod(unexpected, 4294967296)
        result = _result(item, schema, table, total, nulls, unexpected)
        if duplicated is not None:
            result.observed_value = {"duplicated_values": duplicated}
        if want_samples and result.status is Status.FAILED:
            _add_samples(run_query, item, result, target)
        results.append(result)
    return results


def _result(item: _Compiled, schema: str, table: str, total: int, nulls: int, unexpected: int) -> CheckResult:
    expectation = item.expectation
    kwargs = expectation.get("kwargs") or {}
    mostly = float(kwargs.get("mostly", 1) or 1)
    result = CheckResult(table=table, expectation=expectation["type"], column=item.column,
                         severity=severity_from_gx(expectation.get("severity")), status=Status.PASSED,
                         description=expectation.get("description") or "", kwargs=kwargs, engine="sql")
    if item.kind == "rows":
        result.observed_value = unexpected
        result.unexpected_count = unexpected
        result.element_count = total
        result.unexpected_percent = unexpected / total * 100 if total else None
        result.status = Status.PASSED if unexpected == 0 else Status.FAILED
    elif item.kind == "not_null":
        result.element_count = total
        result.unexpected_count = unexpected
        result.unexpected_percent = unexpected / total * 100 if total else None
        passed = total == 0 or (total - unexpected) / total >= mostly
        result.status = Status.PASSED if passed else Status.FAILED
    else:
        nonnull = total - nulls
        result.element_count = total
        result.unexpected_count = unexpected
        result.unexpected_percent = unexpected / nonnull * 100 if nonnull else None
        passed = total == 0 or nonnull == 0 or (nonnull - unexpected) / nonnull >= mostly
        result.status = Status.PASSED if passed else Status.FAILED
    result.failing_rows_sql = failing_rows_sql(item, schema, table)
    return result


def failing_rows_sql(item: _Compiled, schema: str, table: str) -> str:
    """Return a query for the engine in use that lists the rows the expectation rejects."""
    target = qualified(schema, table)
    if item.kind == "unique":
        column = ident(item.column)
        return (f"SELECT * FROM {target} WHERE {column} IN (SELECT {column} FROM {target} "
                f"GROUP BY {column} HAVING count(*) > 1) ORDER BY {column}")
    return f"SELECT * FROM {target} WHERE {item.unexpected}"


def _add_samples(run_query: Callable[[str], list[tuple]], item: _Compiled, result: CheckResult, target: str) -> None:
    where = result.failing_rows_sql.split(" WHERE ", 1)[1].split(" ORDER BY ")[0]
    id_column = ident("id")
    if item.column is not None and item.kind != "not_null":
        column = ident(item.column)
        rows = run_query(f"SELECT {column}, count(*) AS n FROM {target} WHERE {where} "
                         f"GROUP BY {column} ORDER BY n DESC, {column} LIMIT {SAMPLE_LIMIT}")
        result.sample_values = [value for value, _ in rows]
    try:
        rows = run_query(f"SELECT {id_column} FROM {target} WHERE {where} ORDER BY {id_column} LIMIT {SAMPLE_LIMIT}")
        result.sample_ids = [str(value) for (value,) in rows]
    except Exception:  # the table has no id column; samples are optional
        result.sample_ids = []


def count_duplicated_values(run_query: Callable[[str], list[tuple]], schema: str, table: str, column: str) -> int:
    """Return how many distinct non-null values of ``column`` occur more than once."""
    target, name = qualified(schema, table), ident(column)
    return int(run_query(f"SELECT count(*) FROM (SELECT {name} FROM {target} WHERE {name} IS NOT NULL "
                         f"GROUP BY {name} HAVING count(*) > 1) AS d")[0][0])


def referenced_columns(expectation: dict[str, Any]) -> list[str]:
    """Return the columns an expectation names in its kwargs."""
    kwargs = expectation.get("kwargs") or {}
    names = [kwargs.get(key) for key in ("column", "column_A", "column_B")]
    names += list(kwargs.get("column_list") or [])
    return [name for name in names if isinstance(name, str)]


def mark(result: CheckResult, status: Status, message: str) -> CheckResult:
    """Set ``status`` and ``message`` on ``result`` and return it."""
    result.status = status
    result.message = message
    return result
