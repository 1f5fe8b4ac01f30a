"""Great Expectations Data Docs: a static HTML site of the suite results of a check run.

Results of both engines are handed to GX as validation results, and GX's own site
builder renders them, so the pages look like any GX project's Data Docs. Sample values
are the (masked) values of the report. Importing this module imports GX.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from klenty_wh.checks.results import CheckReport, CheckResult, Status

_SITE = "klenty_wh"


def _validation_result(result: CheckResult):
    from great_expectations.core import ExpectationValidationResult
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    config = ExpectationConfiguration(type=result.expectation, kwargs=dict(result.kwargs),
                                      meta={"severity": result.severity},
                                      description=result.description or None)
    if result.status in (Status.SKIPPED, Status.ERROR):
        return ExpectationValidationResult(
            success=False, expectation_config=config, result={},
            exception_info={"raised_exception": True, "exception_message": result.message or "not run",
                            "exception_traceback": None},
        )
    data: dict[str, Any]
    if result.expectation == "unexpected_rows_expectation":
        data = {"observed_value": result.unexpected_count}
    else:
        data = {"element_count": result.element_count, "unexpected_count": result.unexpected_count,
                "unexpected_percent": result.unexpected_percent,
                "partial_unexpected_list": list(result.sample_values)}
    return ExpectationValidationResult(success=result.success, expectation_config=config, result=data)


def write_data_docs(report: CheckReport, suite_tables: list[str], directory: Path) -> Path:
    """Render the results of the suites of ``suite_tables`` into ``directory``; return its index page."""
    import great_expectations as gx
    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    from klenty_wh.checks import gx_runtime  # registers the portable regex expectation

    del gx_runtime
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    run_id = RunIdentifier(run_name=f"klenty-wh check {report.schema}", run_time=datetime.now(timezone.utc))
    with tempfile.TemporaryDirectory(prefix="klenty-wh-gx-") as project:
        context = gx.get_context(mode="file", project_root_dir=project)
        context.add_data_docs_site(site_name=_SITE, site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(directory)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
        for table in suite_tables:
            results = [_validation_result(r) for r in report.results
                       if r.table == table and r.engine in ("sql", "gx", "skipped")]
            if not results:
                continue
            passed = sum(1 for r in results if r.success)
            suite_name = f"klenty.{table}"
            validation = ExpectationSuiteValidationResult(
                success=all(r.success for r in results), results=results, suite_name=suite_name,
                statistics={"evaluated_expectations": len(results), "successful_expectations": passed,
                            "unsuccessful_expectations": len(results) - passed,
                            "success_percent": passed / len(results) * 100},
                meta={"run_id": run_id, "batch_spec": {"schema_name": report.schema, "table_name": table},
                      "active_batch_definition": {"datasource_name": "warehouse",
                                                  "data_asset_name": f"{report.schema}.{table}"}},
            )
            key = ValidationResultIdentifier(expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
                                             run_id=run_id, batch_identifier=f"{report.schema}.{table}")
            context.validation_results_store.set(key, validation)
        context.build_data_docs(site_names=[_SITE])
    return directory / "index.html"
