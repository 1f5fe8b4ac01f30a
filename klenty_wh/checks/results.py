"""Check results: what each check found, with the facts a CI log or an analyst needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Status(str, Enum):
    """Outcome of one check."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    """The check could not be evaluated (a query failed)."""
    SKIPPED = "skipped"
    """The check was not run, for example because its column does not exist."""


SEVERITIES = ("error", "warning", "info")
"""Report severities. GX's ``critical`` is ``error``: only those fail the run."""


def severity_from_gx(value: str | None) -> str:
    """Map a GX severity (``critical``, ``warning``, ``info``) to a report severity."""
    return {"critical": "error", "warning": "warning", "info": "info"}.get((value or "critical").lower(), "error")


@dataclass
class CheckResult:
    """One expectation or built-in check, evaluated on one table."""

    table: str
    expectation: str
    """The GX expectation type, or the name of a built-in check (``table_exists`` ...)."""
    severity: str
    status: Status
    description: str = ""
    column: str | None = None
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed_value: Any = None
    sample_values: list[Any] = field(default_factory=list)
    sample_ids: list[str] = field(default_factory=list)
    failing_rows_sql: str | None = None
    engine: str = "sql"
    """Evaluator of the check: ``sql`` (compiled query), ``gx`` (Great Expectations) or ``schema``."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    """Reason a check errored or was skipped, or extra detail on a finding."""

    @property
    def success(self) -> bool:
        """Return whether the check passed (a skipped check did not pass, but fails nothing)."""
        return self.status is Status.PASSED

    @property
    def fails_run(self) -> bool:
        """Return whether this result makes ``check`` exit with code 1."""
        return self.severity == "error" and self.status in (Status.FAILED, Status.ERROR)


@dataclass
class CheckReport:
    """All results of one ``check`` run."""

    schema: str
    warehouse: str
    engine: str
    results: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0
    show_values: bool = False
    gx_session: Any = field(default=None, repr=False, compare=False)
    """The GX session that ran expectations, if any (its raw results feed Data Docs)."""

    @property
    def success(self) -> bool:
        """Return whether no error-severity check failed."""
        return not any(result.fails_run for result in self.results)

    def counts(self) -> dict[str, int]:
        """Return how many results have each outcome, plus failed warnings."""
        counts = {"checks": len(self.results), "passed": 0, "failed": 0, "warnings": 0, "errors": 0, "skipped": 0}
        for result in self.results:
            if result.status is Status.PASSED:
                counts["passed"] += 1
            elif result.status is Status.SKIPPED:
                counts["skipped"] += 1
            elif result.status is Status.ERROR:
                counts["errors"] += 1
            elif result.severity == "error":
                counts["failed"] += 1
            else:
                counts["warnings"] += 1
        return counts
