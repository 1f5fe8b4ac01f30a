"""The exit codes every ``klenty-wh`` command uses."""

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit status of a ``klenty-wh`` command."""

    OK = 0
    """The command did its work; for ``check``, every error-severity check passed."""

    CHECKS_FAILED = 1
    """``check`` ran and at least one error-severity check failed."""

    USAGE = 2
    """Usage or configuration error: bad option value, invalid plan file, unknown dialect."""

    RUNTIME = 3
    """The command could not run: warehouse unreachable, permission denied, missing schema."""
