"""Expectation suites and the checks that run them.

Importing this package does not import Great Expectations; only the GX engine does.
"""

from klenty_wh.checks.results import CheckReport, CheckResult, Status
from klenty_wh.checks.run import ENGINES, CheckOptions, run_checks

__all__ = ["ENGINES", "CheckOptions", "CheckReport", "CheckResult", "Status", "run_checks"]
