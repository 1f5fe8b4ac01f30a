"""Fixtures of the report tests: Chromium for rendering, loaded warehouses to report on.

Chromium is looked up as ``chromium`` on PATH (Debian's package, which ``.ci/run`` installs).
When it is missing, a test that needs it is skipped outside CI, with the reason printed. In
CI (``CI=true``) the test fails instead, so a green CI run always includes it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, IN_CI
from tests.helpers import load

OUTREACH_FIXTURE = FIXTURES / "models" / "outreach.ndjson"


def require_chromium() -> str:
    """Return the path of chromium; skip (outside CI) or fail (in CI) when it is missing."""
    path = shutil.which("chromium")
    if path is not None:
        return path
    problem = "chromium is not installed (no `chromium` on PATH)"
    if IN_CI:
        pytest.fail(f"{problem}; CI must run the report rendering test (.ci/run installs chromium).")
    pytest.skip(f"{problem}; install Debian's chromium package to run this test.")


@pytest.fixture
def outreach_duckdb(tmp_path: Path) -> str:
    """Return the URL of a DuckDB file with the hand-made outreach fixture in klenty_prod."""
    url = f"duckdb:///{tmp_path / 'outreach.duckdb'}"
    load(url, [OUTREACH_FIXTURE], "klenty_prod")
    return url
