"""Exceptions that end a command, each tied to an exit code.

Failures found in the data (a check that fails, a record that is rejected) are results,
not exceptions. These classes are for the cases where the tool cannot do its work.
"""

from klenty_wh.exit_codes import ExitCode


class KlentyWhError(Exception):
    """Base class: a one-line message that states what failed, on which value, and what to do."""

    exit_code: ExitCode = ExitCode.RUNTIME

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(KlentyWhError):
    """A bad option value or configuration (exit code 2)."""

    exit_code = ExitCode.USAGE


class PlanError(UsageError):
    """The tracking plan file is missing or invalid (exit code 2)."""


class WarehouseError(KlentyWhError):
    """The warehouse cannot be reached or refused the work (exit code 3)."""

    exit_code = ExitCode.RUNTIME


class InputError(KlentyWhError):
    """An input path cannot be read at all (exit code 3); bad records inside are rejected, not raised."""

    exit_code = ExitCode.RUNTIME
