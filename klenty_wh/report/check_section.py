"""The check results section of the HTML report, read from ``klenty-wh check --format json`` output.

Email addresses are masked (``m***@example.com``) wherever they appear, whether or not the
check run masked them already: masking is idempotent, so masked values stay as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from klenty_wh.errors import UsageError
from klenty_wh.plan.model import Plan
from klenty_wh.redact import mask_email, mask_emails_in_text

MAX_LISTED = 50
"""Checks listed in the findings table; the rest are counted."""
_TEXT_FIELDS = ("table", "column", "expectation", "description", "severity", "status", "message",
                "failing_rows_sql")


@dataclass
class CheckSummary:
    """Masked check results ready to render."""

    source: Path
    success: bool
    schema: str
    counts: dict[str, int]
    findings: list[dict[str, Any]] = field(default_factory=list)
    """Every result that did not pass, in the order of the file."""


def load_check_results(path: Path, plan: Plan) -> CheckSummary:
    """Read a check JSON file and mask the email addresses in it.

    Raises:
        UsageError: the file cannot be read or is not ``klenty-wh check --format json`` output.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--checks file {path} not found; write it with "
                         f"`klenty-wh check --format json > {path}`.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read --checks file {path} as JSON: {exc}.") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list) \
            or not isinstance(data.get("counts"), dict):
        raise UsageError(f"--checks file {path} is not `klenty-wh check --format json` output: "
                         f"it lacks the results list or the counts.")
    email_columns = _email_columns(plan)
    findings = [_masked(result, email_columns) for result in data["results"]
                if isinstance(result, dict) and result.get("status") != "passed"]
    return CheckSummary(source=path, success=bool(data.get("success")),
                        schema=mask_emails_in_text(str(data.get("schema", ""))),
                        counts={str(k): int(v) for k, v in data["counts"].items() if isinstance(v, int)},
                        findings=findings)


def render_check_section(summary: CheckSummary) -> str:
    """Return the HTML section with the verdict, the counts and the checks that did not pass."""
    counts = summary.counts
    verdict_class = "pass" if summary.success else "fail"
    verdict = "PASSED" if summary.success else "FAILED"
    parts = [
        '<section id="checks"><h2>Latest check results</h2>',
        f'<p class="verdict {verdict_class}">{verdict}: {counts.get("passed", 0):,} of '
        f'{counts.get("checks", 0):,} checks passed on {escape(summary.schema)} '
        f'({counts.get("failed", 0):,} failed, {counts.get("warnings", 0):,} warnings, '
        f'{counts.get("errors", 0):,} errors, {counts.get("skipped", 0):,} skipped).</p>',
        f'<p class="note">From {escape(summary.source.name)}. Email addresses are masked.</p>',
    ]

    if not summary.findings:
        parts.append("<p>Every check passed.</p></section>")
        return "\n".join(parts)

    parts.append("<table><thead><tr><th>table</th><th>column</th><th>check</th><th>severity</th>"
                 "<th>status</th><th class=\"num\">unexpected</th><th>sample values</th></tr></thead><tbody>")
    for finding in summary.findings[:MAX_LISTED]:
        unexpected = finding.get("unexpected_count")
        samples = ", ".join(repr(value) for value in finding.get("sample_values") or [])
        parts.append(
            f"<tr><td>{escape(finding['table'])}</td><td>{escape(finding['column'])}</td>"
            f"<td>{escape(finding['description'] or finding['expectation'])}</td>"
            f"<td>{escape(finding['severity'])}</td><td>{escape(finding['status'])}</td>"
            f"<td class=\"num\">{'' if unexpected is None else f'{unexpected:,}'}</td>"
            f"<td>{escape(samples)}</td></tr>"
        )
    parts.append("</tbody></table>")

    if len(summary.findings) > MAX_LISTED:
        parts.append(f"<p class=\"note\">and {len(summary.findings) - MAX_LISTED:,} more; see the JSON file.</p>")
    parts.append("</section>")
    return "\n".join(parts)


def _email_columns(plan: Plan) -> set[str]:
    columns = {column.name for column in plan.standard_columns if column.format == "email"}
    return columns | {prop.column for prop in plan.properties if prop.format == "email"}


def _masked(result: dict[str, Any], email_columns: set[str]) -> dict[str, Any]:
    masked = {name: mask_emails_in_text(str(result[name])) if result.get(name) is not None else ""
              for name in _TEXT_FIELDS}
    count = result.get("unexpected_count")
    masked["unexpected_count"] = count if isinstance(count, int) else None
    whole_value = result.get("column") in email_columns
    masked["sample_values"] = [
        _mask_value(value, whole_value) for value in result.get("sample_values") or []
    ]
    return masked


def _mask_value(value: Any, whole_value: bool) -> Any:
    if not isinstance(value, str):
        return value
    if whole_value:
        # A value of an email column identifies a person even when it is not email-shaped.
        return mask_email(value)
    return mask_emails_in_text(value)
