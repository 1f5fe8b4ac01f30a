"""Check results as JSON (``klenty-wh check --format json``)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from klenty_wh.checks.results import CheckReport, CheckResult


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def result_to_dict(result: CheckResult) -> dict[str, Any]:
    """Return one result as JSON-ready data."""
    return {
        "table": result.table,
        "column": result.column,
        "expectation": result.expectation,
        "description": result.description,
        "severity": result.severity,
        "status": result.status.value,
        "success": result.success,
        "element_count": result.element_count,
        "unexpected_count": result.unexpected_count,
        "unexpected_percent": result.unexpected_percent,
        "observed_value": _plain(result.observed_value),
        "sample_values": _plain(result.sample_values),
        "sample_ids": result.sample_ids,
        "failing_rows_sql": result.failing_rows_sql,
        "message": result.message,
        "engine": result.engine,
        "kwargs": _plain(result.kwargs),
    }


def report_to_dict(report: CheckReport) -> dict[str, Any]:
    """Return the whole report as JSON-ready data; ``success`` is false when any error-severity check failed."""
    return {
        "success": report.success,
        "schema": report.schema,
        "warehouse": report.warehouse,
        "engine": report.engine,
        "values_masked": not report.show_values,
        "counts": report.counts(),
        "seconds": round(report.seconds, 3),
        "results": [result_to_dict(result) for result in report.results],
    }


def report_to_json(report: CheckReport) -> str:
    """Return the report as indented JSON text."""
    return json.dumps(report_to_dict(report), indent=2) + "\n"
