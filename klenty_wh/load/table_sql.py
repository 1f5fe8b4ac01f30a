"""The SELECT that produces the rows of one target table from the staged calls."""

from __future__ import annotations

from dataclasses import dataclass

from klenty_wh.load.columns import ColumnSpec, TableColumns
from klenty_wh.load.discover import Leaf
from klenty_wh.load.sql import ident, json_pointer, literal
from klenty_wh.plan.model import LogicalType

# JSON types each column type takes without conversion.
_NATURAL_TYPES: dict[LogicalType, frozenset[str]] = {
    LogicalType.TEXT: frozenset({"VARCHAR", "ARRAY"}),
    LogicalType.INTEGER: frozenset({"BIGINT", "UBIGINT"}),
    LogicalType.FLOAT: frozenset({"DOUBLE", "BIGINT", "UBIGINT"}),
    LogicalType.BOOLEAN: frozenset({"BOOLEAN"}),
    LogicalType.TIMESTAMP: frozenset(),
}
# JSON types that can never become a value of the column type.
_IMPOSSIBLE_TYPES: dict[LogicalType, frozenset[str]] = {
    LogicalType.TEXT: frozenset(),
    LogicalType.INTEGER: frozenset({"BOOLEAN", "ARRAY"}),
    LogicalType.FLOAT: frozenset({"BOOLEAN", "ARRAY"}),
    LogicalType.BOOLEAN: frozenset({"BIGINT", "UBIGINT", "DOUBLE", "ARRAY"}),
    LogicalType.TIMESTAMP: frozenset({"BIGINT", "UBIGINT", "DOUBLE", "BOOLEAN", "ARRAY"}),
}


@dataclass
class TableQuery:
    """SQL for one target table."""

    select: str
    """SELECT returning the table's columns in :attr:`columns` order, one row per kept call."""
    columns: list[str]
    checks: str | None
    """Aggregate query returning the adjustment counts named in :attr:`check_names`, or None."""
    check_names: list[str]
    converted: list[tuple[str, str, int]]
    """(column, source, rows) of values stored after a type conversion, known from the scan."""


def _source_list(columns: list[ColumnSpec], base: str) -> list[Leaf]:
    leaves: list[Leaf] = []
    for spec in columns:
        leaves += [source.leaf for source in spec.sources if source.leaf.base == base and source.leaf not in leaves]
    return leaves


def _convert(column_type: LogicalType, value: str, json_type: str, leaf: Leaf, guard_objects: bool) -> str:
    """Return the expression that turns one leaf's value into ``column_type``."""
    types = set(leaf.type_counts) - {"NULL"}
    if column_type is LogicalType.TEXT:
        if guard_objects and not leaf.stored_as_json:
            return f"CASE WHEN {json_type} = 'OBJECT' THEN NULL ELSE {value} END"
        return value
    if types <= _NATURAL_TYPES[column_type] - {"UBIGINT"} and column_type is not LogicalType.TIMESTAMP:
        cast = {LogicalType.INTEGER: "BIGINT", LogicalType.FLOAT: "DOUBLE", LogicalType.BOOLEAN: "BOOLEAN"}
        return f"CAST({value} AS {cast[column_type]})"
    if column_type is LogicalType.INTEGER:
        return (f"CASE {json_type} WHEN 'BIGINT' THEN CAST({value} AS BIGINT) "
                f"WHEN 'UBIGINT' THEN TRY_CAST({value} AS BIGINT) "
                f"WHEN 'DOUBLE' THEN TRY_CAST(CAST({value} AS DOUBLE) AS BIGINT) "
                f"WHEN 'VARCHAR' THEN TRY_CAST(trim({value}) AS BIGINT) END")
    if column_type is LogicalType.FLOAT:
        return (f"CASE WHEN {json_type} IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN CAST({value} AS DOUBLE) "
                f"WHEN {json_type} = 'VARCHAR' THEN TRY_CAST(trim({value}) AS DOUBLE) END")
    if column_type is LogicalType.BOOLEAN:
        return (f"CASE WHEN {json_type} = 'BOOLEAN' THEN {value} = 'true' "
                f"WHEN {json_type} = 'VARCHAR' THEN CASE lower(trim({value})) WHEN 'true' THEN true "
                f"WHEN 'false' THEN false END END")
    return f"CASE WHEN {json_type} = 'VARCHAR' THEN kwh_ts({value}) END"


def _position(leaf: Leaf) -> str:
    """Return a list expression that orders leaves by their place in the record."""
    parts = []
    for depth, key in enumerate(leaf.path):
        parent = json_pointer(leaf.path[:depth])
        container = leaf.base if not parent else f"json_extract({leaf.base}, {literal(parent)})"
        parts.append(f"coalesce(list_position(json_keys({container}), {literal(key)}), 1000000)")
    return "[" + ", ".join(parts) + "]"


def build_table_query(columns: TableColumns, standard_sql: dict[str, str], relation: str,
                      object_paths: set[tuple[str, tuple[str, ...]]], varchar_limit: int | None) -> TableQuery:
    """Build the SELECT and the adjustment-count query for one table.

    Args:
        columns: the table's column decisions.
        standard_sql: SQL expression of each standard column, over ``relation``.
        relation: FROM clause yielding the kept calls of this table, with ``properties``,
            ``context`` and the standard fields.
        object_paths: (base, path) pairs that hold an object in some rows, so text
            columns there must skip objects.
        varchar_limit: cut text values to this many characters, or None.
    """
    specs = list(columns.columns.values())
    bases = {"properties": _source_list(specs, "properties"), "context": _source_list(specs, "context")}
    need_types = any(
        _needs_type(spec, source.leaf, object_paths) for spec in specs for source in spec.sources
    )
    inner = ["*"]
    index: dict[int, tuple[str, str]] = {}
    for base, leaves in bases.items():
        if not leaves:
            continue
        pointers = "[" + ", ".join(literal(json_pointer(leaf.path)) for leaf in leaves) + "]"
        short = "p" if base == "properties" else "c"
        inner.append(f"json_extract_string({base}, {pointers}) AS kwh_{short}v")
        if need_types:
            inner.append(f"json_type({base}, {pointers}) AS kwh_{short}t")
        for position, leaf in enumerate(leaves, start=1):
            index[id(leaf)] = (f"kwh_{short}v[{position}]", f"kwh_{short}t[{position}]")

    select_items: list[str] = []
    check_items: list[str] = []
    check_names: list[str] = []
    converted: list[tuple[str, str, int]] = []
    for spec in specs:
        expression = _column_value(spec, standard_sql, index, object_paths)
        if spec.type is LogicalType.TEXT and varchar_limit and not spec.standard:
            check_items.append(f"count(*) FILTER (WHERE length({expression}) > {varchar_limit})")
            check_names.append(f"truncated:{spec.name}")
            expression = f"left({expression}, {varchar_limit})"
        select_items.append(f"{expression} AS {ident(spec.name)}")
        for source in spec.sources:
            leaf = source.leaf
            odd = {t: n for t, n in leaf.type_counts.items()
                   if t != "NULL" and t not in _NATURAL_TYPES[spec.type]}
            if odd and spec.type is not LogicalType.TIMESTAMP:
                converted.append((spec.name, source.label, sum(odd.values())))
            if _may_fail(spec.type, leaf):
                value, json_type = index[id(leaf)]
                check_items.append(
                    f"count(*) FILTER (WHERE {json_type} NOT IN ('NULL', 'OBJECT') "
                    f"AND ({_convert(spec.type, value, json_type, leaf, False)}) IS NULL)"
                )
                check_names.append(f"null:{spec.name}:{source.label}")
        if len(spec.sources) > 1:
            values = ", ".join(
                _convert(spec.type, *index[id(s.leaf)], s.leaf, _guard(s.leaf, object_paths))
                for s in spec.sources
            )
            check_items.append(
                f"count(*) FILTER (WHERE len(list_distinct(list_filter([{values}], lambda x: x IS NOT NULL))) > 1)"
            )
            check_names.append(f"conflict:{spec.name}")

    from_clause = f"(SELECT {', '.join(inner)} FROM {relation})"
    select = f"SELECT {', '.join(select_items)} FROM {from_clause}"
    checks = f"SELECT {', '.join(check_items)} FROM {from_clause}" if check_items else None
    return TableQuery(select=select, columns=[spec.name for spec in specs], checks=checks,
                      check_names=check_names, converted=converted)


def _guard(leaf: Leaf, object_paths: set[tuple[str, tuple[str, ...]]]) -> bool:
    return (leaf.base, leaf.path) in object_paths


def _needs_type(spec: ColumnSpec, leaf: Leaf, object_paths: set[tuple[str, tuple[str, ...]]]) -> bool:
    if spec.type is LogicalType.TEXT:
        return _guard(leaf, object_paths) or len(spec.sources) > 1
    return True


def _may_fail(column_type: LogicalType, leaf: Leaf) -> bool:
    types = set(leaf.type_counts) - {"NULL"}
    if column_type is LogicalType.TEXT:
        return False
    if column_type is LogicalType.TIMESTAMP:
        return bool(types)
    return bool(types - _NATURAL_TYPES[column_type]) or "UBIGINT" in types or bool(types & _IMPOSSIBLE_TYPES[column_type])


def _column_value(spec: ColumnSpec, standard_sql: dict[str, str], index: dict[int, tuple[str, str]],
                  object_paths: set[tuple[str, tuple[str, ...]]]) -> str:
    if spec.standard:
        return standard_sql[spec.name]
    if not spec.sources:
        return f"CAST(NULL AS {_sql_type(spec.type)})"
    converted = [
        (source.leaf, _convert(spec.type, *index[id(source.leaf)], source.leaf, _guard(source.leaf, object_paths)))
        for source in spec.sources
    ]
    if len(converted) == 1:
        return converted[0][1]
    # Several keys feed this column: the first non-null value in document order wins.
    items = ", ".join(f"{{'p': {_position(leaf)}, 'v': {value}}}" for leaf, value in converted)
    return f"(list_sort(list_filter([{items}], lambda x: x.v IS NOT NULL)))[1].v"


def _sql_type(column_type: LogicalType) -> str:
    return {LogicalType.TEXT: "VARCHAR", LogicalType.INTEGER: "BIGINT", LogicalType.FLOAT: "DOUBLE",
            LogicalType.BOOLEAN: "BOOLEAN", LogicalType.TIMESTAMP: "TIMESTAMP"}[column_type]
