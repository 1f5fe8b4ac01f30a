"""Decide the columns a load writes to each table: names, types and value sources.

Rules (Segment's warehouse loader, as klenty-wh emulates it):

* Names: flatten the key path with ``_`` and apply go-snakecase; ``context`` paths get the
  ``context_`` prefix. The ``redshift`` profile prefixes ``_`` to reserved words and names
  that start with a digit.
* Properties named like Segment's own columns are dropped (``event``, ``user_id`` ...) or
  renamed with a ``_`` prefix (``id``, ``uuid``, ``uuid_ts``, ``loaded_at``). The envelope
  value always wins. A property that maps onto a context column is dropped too.
* Several keys mapping to one column share it: per row, a non-null value wins over null,
  and between two non-null values the key that comes first in the document wins.
* A documented or existing column keeps its type. A new column takes the type of the last
  non-null value in this load; it is only created when a non-null value arrives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from klenty_wh.load.discover import Leaf
from klenty_wh.plan.model import LogicalType
from klenty_wh.plan.names import snakecase
from klenty_wh.tables.build import data_identifier

DROPPED_PROPERTY_NAMES = frozenset({
    "event", "event_text", "timestamp", "user_id", "anonymous_id", "received_at", "sent_at",
    "original_timestamp",
})
PREFIXED_PROPERTY_NAMES = frozenset({"id", "uuid", "uuid_ts", "loaded_at"})
MAX_TABLE_COLUMNS = 1600
"""PostgreSQL's and Redshift's limit of columns per table; DuckDB files keep the same limit."""

_TIMESTAMP_SHAPE = re.compile(
    r"^\d{4}-\d{1,2}-\d{1,2}[T ]\d{1,2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
)
_INT64_MAX = 2**63 - 1
_INT64_MIN = -(2**63)


@dataclass
class Source:
    """One key path that feeds a column."""

    leaf: Leaf

    @property
    def label(self) -> str:
        """Return the path as users write it: ``properties.fromId``."""
        return ".".join((self.leaf.base, *self.leaf.path))


@dataclass
class ColumnSpec:
    """A column of one target table and where its values come from."""

    name: str
    type: LogicalType
    sources: list[Source] = field(default_factory=list)
    standard: bool = False
    """Filled from the envelope (id, timestamps, ...), not from properties or context."""
    exists: bool = False
    documented: bool = False


@dataclass
class Drop:
    """A key path whose values are not stored, and why."""

    table: str
    source: str
    reason: str
    rows: int


@dataclass
class TableColumns:
    """The column decisions for one target table."""

    table: str
    columns: dict[str, ColumnSpec] = field(default_factory=dict)
    drops: list[Drop] = field(default_factory=list)
    null_only: list[str] = field(default_factory=list)
    """Key paths that only held null, so no column was created (Segment does the same)."""

    @property
    def new_columns(self) -> list[ColumnSpec]:
        """Return the columns this load creates."""
        return [column for column in self.columns.values() if not column.exists]


def infer_type(json_type: str | None, value: str | None) -> LogicalType:
    """Return the type of a new column from the last non-null value that reached it."""
    if json_type == "BOOLEAN":
        return LogicalType.BOOLEAN
    if json_type in ("BIGINT", "UBIGINT"):
        number = int(value) if value is not None else 0
        return LogicalType.INTEGER if _INT64_MIN <= number <= _INT64_MAX else LogicalType.TEXT
    if json_type == "DOUBLE":
        return LogicalType.FLOAT
    if json_type == "VARCHAR" and value is not None and _TIMESTAMP_SHAPE.match(value):
        return LogicalType.TIMESTAMP if _is_real_datetime(value) else LogicalType.TEXT
    return LogicalType.TEXT


def _is_real_datetime(value: str) -> bool:
    from datetime import datetime

    date_part = re.split(r"[T ]", value, maxsplit=1)[0]
    year, month, day = (int(part) for part in date_part.split("-"))
    try:
        datetime(year, month, day)
    except ValueError:
        return False
    return True


def column_name(leaf: Leaf) -> str:
    """Return the go-snakecase column name of a leaf path (before reserved-name rules)."""
    prefix = ("context",) if leaf.base == "context" else ()
    return snakecase("_".join(prefix + leaf.path))


def plan_columns(table: str, standard: list[tuple[str, LogicalType]], documented: dict[str, LogicalType],
                 existing: dict[str, LogicalType | None], leaves: list[Leaf], profile: str,
                 name_limit: int) -> TableColumns:
    """Decide the columns of ``table``.

    Args:
        table: target table name.
        standard: envelope columns written from the staged fields, in order.
        documented: plan columns of this table that come from properties or context.
        existing: columns the table already has, with their Segment types (None when the
            warehouse type is not one of the five).
        leaves: flattened context and property paths seen in the rows of this load.
        profile: loader profile (``redshift`` renames reserved words).
        name_limit: maximum length of a column name on the warehouse.
    """
    result = TableColumns(table=table)
    for name, column_type in standard:
        result.columns[name] = ColumnSpec(name, existing.get(name) or column_type, standard=True,
                                          exists=name in existing, documented=True)
    standard_names = set(result.columns)
    for name, column_type in documented.items():
        result.columns.setdefault(name, ColumnSpec(name, existing.get(name) or column_type,
                                                   exists=name in existing, documented=True))
    for name, column_type in existing.items():
        result.columns.setdefault(name, ColumnSpec(name, column_type or LogicalType.TEXT, exists=True))

    # Context first, so that a property colliding with a context column loses to it.
    ordered = sorted(leaves, key=lambda leaf: leaf.base != "context")
    for leaf in ordered:
        _place_leaf(result, leaf, standard_names, profile, name_limit)

    _set_new_column_types(result)
    _enforce_column_limit(result)
    return result


def _place_leaf(result: TableColumns, leaf: Leaf, standard_names: set[str], profile: str,
                name_limit: int) -> None:
    label = Source(leaf).label
    if leaf.non_null_rows == 0:
        result.null_only.append(label)
        return
    name = column_name(leaf)
    if not name:
        result.drops.append(Drop(result.table, label, "the key has no ASCII letter or digit, so it has no column name",
                                 leaf.non_null_rows))
        return
    if leaf.base == "properties":
        if name in DROPPED_PROPERTY_NAMES:
            result.drops.append(Drop(result.table, label,
                                     f"named like Segment's column {name}; the envelope value is kept",
                                     leaf.non_null_rows))
            return
        if name in PREFIXED_PROPERTY_NAMES:
            name = "_" + name
    name = data_identifier(name, profile)
    if len(name) > name_limit:
        result.drops.append(Drop(result.table, label,
                                 f"column name {name[:40]}... is longer than {name_limit} characters",
                                 leaf.non_null_rows))
        return
    spec = result.columns.get(name)
    if spec is not None and spec.standard:
        result.drops.append(Drop(result.table, label,
                                 f"maps onto Segment's column {name}; the envelope value is kept",
                                 leaf.non_null_rows))
        return
    if spec is not None and leaf.base == "properties" and any(s.leaf.base == "context" for s in spec.sources):
        result.drops.append(Drop(result.table, label,
                                 f"maps onto the context column {name}; the context value is kept",
                                 leaf.non_null_rows))
        return
    if spec is None:
        spec = result.columns[name] = ColumnSpec(name, LogicalType.TEXT)
    spec.sources.append(Source(leaf))


def _set_new_column_types(result: TableColumns) -> None:
    for spec in result.columns.values():
        if spec.exists or spec.documented or not spec.sources:
            continue
        last = max((source.leaf for source in spec.sources), key=lambda leaf: leaf.last_rec)
        spec.type = infer_type(last.last_type, last.last_value)


def _enforce_column_limit(result: TableColumns) -> None:
    if len(result.columns) <= MAX_TABLE_COLUMNS:
        return
    keep_budget = MAX_TABLE_COLUMNS - sum(1 for spec in result.columns.values() if spec.exists or spec.documented)
    for name in [name for name, spec in result.columns.items() if not (spec.exists or spec.documented)]:
        if keep_budget > 0:
            keep_budget -= 1
            continue
        spec = result.columns.pop(name)
        for source in spec.sources:
            result.drops.append(Drop(result.table, source.label,
                                     f"table would exceed {MAX_TABLE_COLUMNS} columns",
                                     source.leaf.non_null_rows))
