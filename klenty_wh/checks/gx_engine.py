"""Evaluate expectations with Great Expectations itself.

Used for expectation types that have no compiled form, for ``check --engine gx``, and as
the reference the compiled engine is tested against. Importing this module imports GX.
"""

from __future__ import annotations

import logging
from typing import Any

from klenty_wh.checks.compiled import SAMPLE_LIMIT
from klenty_wh.checks.results import CheckResult, Status, severity_from_gx

logger = logging.getLogger(__name__)


class GxSession:
    """One ephemeral GX context with a data source for the warehouse."""

    def __init__(self, url: str, read_only: bool = False) -> None:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        from klenty_wh.checks import gx_runtime

        self._gx_runtime = gx_runtime
        self.context = gx_runtime.new_context()
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        engine_kwargs = {"connect_args": {"read_only": True}} if read_only and url.startswith("duckdb") else {}
        self.datasource = gx_runtime.add_datasource(self.context, "warehouse", url, engine_kwargs)
        self.validation_results: list[Any] = []
        """The raw GX results of every run, for Data Docs."""

    def validate(self, schema: str, table: str, suite_name: str,
                 expectations: list[dict[str, Any]]) -> list[CheckResult]:
        """Run ``expectations`` on ``schema.table`` through GX and return their results."""
        import great_expectations as gx

        asset = self.datasource.add_table_asset(name=f"{schema}.{table}", table_name=table, schema_name=schema)
        batch = asset.add_batch_definition_whole_table("whole table")
        suite = self.context.suites.add(gx.ExpectationSuite(name=suite_name, expectations=[
            {key: value for key, value in expectation.items() if key != "id"} for expectation in expectations
        ]))
        definition = self.context.validation_definitions.add(
            gx.ValidationDefinition(name=f"check {schema}.{table}", data=batch, suite=suite)
        )
        outcome = definition.run(result_format={"result_format": "SUMMARY",
                                                "partial_unexpected_count": SAMPLE_LIMIT})
        self.validation_results.append(outcome)
        return [_convert(table, expectation, result) for expectation, result in zip(expectations, outcome.results)]


def _convert(table: str, expectation: dict[str, Any], result: Any) -> CheckResult:
    kwargs = expectation.get("kwargs") or {}
    data = dict(result.result or {})
    converted = CheckResult(
        table=table, expectation=expectation["type"], column=kwargs.get("column"),
        severity=severity_from_gx(expectation.get("severity")),
        status=Status.PASSED if result.success else Status.FAILED,
        description=expectation.get("description") or "", kwargs=kwargs, engine="gx",
        element_count=data.get("element_count"), unexpected_count=data.get("unexpected_count"),
        unexpected_percent=data.get("unexpected_percent"), observed_value=data.get("observed_value"),
        sample_values=list(data.get("partial_unexpected_list") or [])[:SAMPLE_LIMIT],
    )
    if converted.unexpected_count is None and isinstance(converted.observed_value, int) \
            and expectation["type"] == "unexpected_rows_expectation":
        converted.unexpected_count = converted.observed_value
    info = result.exception_info or {}
    raised = info.get("raised_exception") if "raised_exception" in info else any(
        isinstance(value, dict) and value.get("raised_exception") for value in info.values()
    )
    if raised:
        messages = [info.get("exception_message")] if "exception_message" in info else [
            value.get("exception_message") for value in info.values() if isinstance(value, dict)
        ]
        converted.status = Status.ERROR
        converted.message = "; ".join(str(message).splitlines()[0] for message in messages if message)
    return converted
