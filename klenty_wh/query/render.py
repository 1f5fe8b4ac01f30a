"""Query results as a terminal table, CSV or JSON, with values printed as they are."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from rich.table import Table
from rich.text import Text

from klenty_wh.query.run import QueryResult

FORMATS = ("table", "csv", "json")


def plain_value(value: Any) -> Any:
    """Return ``value`` as JSON-ready data: times as ISO 8601 text, decimals as numbers.

    Intervals become seconds (a float), binary values hex text, and NaN and infinities
    None, because JSON has no spelling for them.
    """
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(key): plain_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_value(item) for item in value]
    return value


def cell_text(value: Any) -> str:
    """Return ``value`` as one CSV or table cell; NULL is the empty string."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    plain = plain_value(value)
    if isinstance(plain, (dict, list)):
        return json.dumps(plain)
    return str(plain)


def to_csv(result: QueryResult) -> str:
    """Return the result as CSV (RFC 4180 quoting) with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(result.columns)
    for row in result.rows:
        writer.writerow([cell_text(value) for value in row])
    return buffer.getvalue()


def to_json(result: QueryResult) -> str:
    """Return the result as a JSON array with one object per row."""
    records = [dict(zip(result.columns, (plain_value(value) for value in row))) for row in result.rows]
    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"


def to_table(result: QueryResult) -> Table:
    """Return the result as a rich table; NULL shows as a dim ``NULL``."""
    table = Table(show_lines=False)
    for index, column in enumerate(result.columns):
        numeric = any(isinstance(row[index], (int, float, Decimal)) and not isinstance(row[index], bool)
                      for row in result.rows)
        table.add_column(Text(column), justify="right" if numeric else "left")
    for row in result.rows:
        table.add_row(*(Text("NULL", style="dim") if value is None else Text(cell_text(value))
                        for value in row))
    return table
