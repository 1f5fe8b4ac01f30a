"""The ``klenty-wh`` command: thin typer commands over the library functions.

Exit codes (:class:`klenty_wh.exit_codes.ExitCode`): 0 success, 1 checks failed,
2 usage or configuration error, 3 runtime error. Results go to stdout; progress,
warnings and errors go to stderr.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback

import typer

from klenty_wh import __version__
from klenty_wh.cli.commands import check, ddl, init, load, models, plan, report, sample, sql, suites
from klenty_wh.cli.console import error
from klenty_wh.errors import KlentyWhError
from klenty_wh.exit_codes import ExitCode
from klenty_wh.redact import redact_diagnostic

DEBUG_ENV = "KLENTY_WH_DEBUG"

app = typer.Typer(
    name="klenty-wh",
    help=(
        "Build, load and check the Segment warehouse tables of a Klenty source.\n\n"
        "Typical run: klenty-wh sample --out sample.ndjson.gz; klenty-wh init; "
        "klenty-wh load sample.ndjson.gz; klenty-wh check.\n\n"
        "Exit codes: 0 success, 1 checks failed, 2 usage or configuration error, "
        "3 runtime error (warehouse unreachable, missing schema). Add --debug anywhere "
        "(or set KLENTY_WH_DEBUG=1) to see tracebacks and debug logs."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"klenty-wh {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs on stderr."),
) -> None:
    """Build, load and check the Segment warehouse tables of a Klenty source."""


for module in (plan, init, ddl, sample, load, suites, check, models, sql, report):
    module.register(app)


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_diagnostic(record.getMessage())
        record.args = None
        return True


def configure_logging(debug: bool) -> None:
    """Send log records to stderr: warnings by default, everything with ``--debug``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    for noisy in ("great_expectations", "urllib3", "snowflake", "google", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.INFO if debug else logging.ERROR)
    # The pool logs a traceback when it closes a connection a failed load left broken; the
    # failure itself is already reported as one line.
    logging.getLogger("sqlalchemy.pool").setLevel(logging.DEBUG if debug else logging.CRITICAL)


def _debug_requested(argv: list[str]) -> bool:
    before_terminator = argv[: argv.index("--")] if "--" in argv else argv
    return "--debug" in before_terminator or os.environ.get(DEBUG_ENV, "") not in ("", "0")


def _without_debug_flag(argv: list[str]) -> list[str]:
    """Drop ``--debug`` after the command name, so it works in any position."""
    end = argv.index("--") if "--" in argv else len(argv)
    head = [arg for index, arg in enumerate(argv[:end]) if not (arg == "--debug" and index > 0)]
    return head + argv[end:]


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and exit with one of the documented exit codes."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(args)
    args = _without_debug_flag(args)
    configure_logging(debug)
    try:
        app(args=args, prog_name="klenty-wh")
    except KlentyWhError as exc:
        if debug:
            sys.stderr.write(redact_diagnostic(traceback.format_exc()))
        error(exc.message)
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        error("interrupted; nothing was committed by the step that was running.")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the one place that turns any failure into one line
        if debug:
            sys.stderr.write(redact_diagnostic(traceback.format_exc()))
        error(f"unexpected {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
              hint=None if debug else "Run again with --debug for the traceback.")
        sys.exit(int(ExitCode.RUNTIME))


if __name__ == "__main__":
    main()
