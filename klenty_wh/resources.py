"""Where the tracking plan and the committed suites are found.

In a source checkout (and an editable install) they are the repository's ``schema/`` and
``checks/`` folders. A wheel carries copies under ``klenty_wh/_bundled/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
PLAN_FILE_NAME = "klenty.yaml"


def _data_root() -> Path:
    checkout_root = _PACKAGE_DIR.parent
    if (checkout_root / "schema" / PLAN_FILE_NAME).is_file():
        return checkout_root
    return _PACKAGE_DIR / "_bundled"


def default_plan_path() -> Path:
    """Return the tracking plan shipped with klenty-wh."""
    return _data_root() / "schema" / PLAN_FILE_NAME


def default_suites_dir() -> Path:
    """Return the folder of expectation suites shipped with klenty-wh."""
    return _data_root() / "checks"
