"""Check results as JUnit XML, the test-report format CI systems display.

One ``testsuite`` per table and one ``testcase`` per check. Failed error-severity checks
are ``failure`` elements, checks that could not run are ``error`` elements, skipped checks
are ``skipped``; failed warnings stay passing test cases and say so in ``system-out``, so
they show in the report without failing the job.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from klenty_wh.checks.results import CheckReport, CheckResult, Status
from klenty_wh.report.text import observed_text


def _case_name(result: CheckResult) -> str:
    column = f" [{result.column}]" if result.column else ""
    description = f": {result.description}" if result.description else ""
    return f"{result.expectation}{column}{description}"


def _details(result: CheckResult) -> str:
    lines = [f"severity: {result.severity}", f"observed: {observed_text(result)}"]
    if result.message:
        lines.append(f"message: {result.message}")
    if result.sample_values:
        lines.append(f"sample values: {result.sample_values}")
    if result.sample_ids:
        lines.append(f"sample ids: {', '.join(result.sample_ids)}")
    if result.failing_rows_sql:
        lines.append(f"failing rows: {result.failing_rows_sql}")
    return "\n".join(lines)


def report_to_junit(report: CheckReport) -> str:
    """Return the report as a JUnit XML document."""
    by_table: dict[str, list[CheckResult]] = defaultdict(list)
    for result in report.results:
        by_table[result.table].append(result)
    counts = report.counts()
    root = ET.Element("testsuites", {
        "name": f"klenty-wh check {report.schema}",
        "tests": str(counts["checks"]),
        "failures": str(sum(1 for r in report.results if r.fails_run and r.status is Status.FAILED)),
        "errors": str(sum(1 for r in report.results if r.fails_run and r.status is Status.ERROR)),
        "skipped": str(counts["skipped"]),
        "time": f"{report.seconds:.3f}",
    })
    for table, results in by_table.items():
        suite = ET.SubElement(root, "testsuite", {
            "name": f"{report.schema}.{table}",
            "tests": str(len(results)),
            "failures": str(sum(1 for r in results if r.fails_run and r.status is Status.FAILED)),
            "errors": str(sum(1 for r in results if r.fails_run and r.status is Status.ERROR)),
            "skipped": str(sum(1 for r in results if r.status is Status.SKIPPED)),
        })
        for result in results:
            case = ET.SubElement(suite, "testcase", {"classname": f"{report.schema}.{table}",
                                                     "name": _case_name(result)})
            if result.status is Status.SKIPPED:
                ET.SubElement(case, "skipped", {"message": result.message or "skipped"})
            elif result.fails_run and result.status is Status.ERROR:
                error = ET.SubElement(case, "error", {"message": result.message or "check could not run",
                                                      "type": result.expectation})
                error.text = _details(result)
            elif result.fails_run:
                failure = ET.SubElement(case, "failure", {"message": f"{observed_text(result)}",
                                                          "type": result.expectation})
                failure.text = _details(result)
            elif result.status is not Status.PASSED:
                output = ET.SubElement(case, "system-out")
                output.text = f"{result.severity}: {result.status.value}\n{_details(result)}"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
