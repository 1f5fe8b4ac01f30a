"""The two output streams of the CLI: results on stdout, diagnostics on stderr.

Both consoles pass every write through :func:`klenty_wh.redact.redact`, so a password can
never reach the terminal or a CI log, whatever code path printed it. The stderr console
also masks email addresses.
"""

from __future__ import annotations

import sys
from typing import IO

from rich.console import Console

from klenty_wh.redact import redact, redact_diagnostic


class _RedactingStream:
    """A text stream that removes secrets (and, for diagnostics, email addresses) from what it writes."""

    def __init__(self, stream: IO[str], diagnostic: bool) -> None:
        self._stream = stream
        self._clean = redact_diagnostic if diagnostic else redact

    def write(self, text: str) -> int:
        return self._stream.write(self._clean(text))

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", "utf-8")


# Width for output that is not a terminal (CI logs, files, pipes), regardless of COLUMNS:
# wide enough that tables keep file names, ids and queries whole.
PIPE_WIDTH = 240


def _console(stream: IO[str], diagnostic: bool) -> Console:
    target = _RedactingStream(stream, diagnostic)
    if _is_terminal(stream):
        return Console(file=target, soft_wrap=False, highlight=False)
    # Lines are not wrapped at all, so a long message stays one line that grep finds whole.
    return Console(file=target, soft_wrap=True, highlight=False, width=PIPE_WIDTH)


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _Consoles:
    """Consoles bound to the current ``sys.stdout`` and ``sys.stderr``.

    They are created on first use, so a test runner that swaps the streams gets its own.
    """

    def __init__(self) -> None:
        self._cache: dict[str, tuple[IO[str], Console]] = {}

    def _get(self, name: str) -> Console:
        stream = getattr(sys, name)
        cached = self._cache.get(name)
        if cached is None or cached[0] is not stream:
            cached = (stream, _console(stream, diagnostic=name == "stderr"))
            self._cache[name] = cached
        return cached[1]

    @property
    def out(self) -> Console:
        """Return the console for results (stdout)."""
        return self._get("stdout")

    @property
    def err(self) -> Console:
        """Return the console for diagnostics, progress and errors (stderr)."""
        return self._get("stderr")


consoles = _Consoles()


def print_result(text: str = "") -> None:
    """Print plain result text to stdout, with no markup interpretation."""
    consoles.out.print(text, markup=False, highlight=False, soft_wrap=True)


def print_raw(text: str) -> None:
    """Write machine-readable text (JSON, XML, SQL) to stdout exactly as given, secrets masked."""
    sys.stdout.write(redact(text))
    if not text.endswith("\n"):
        sys.stdout.write("\n")
    sys.stdout.flush()


def note(text: str) -> None:
    """Print a diagnostic line to stderr."""
    consoles.err.print(text, markup=False, highlight=False, soft_wrap=True)


def warn(text: str) -> None:
    """Print a warning line to stderr."""
    consoles.err.print(f"[yellow]Warning:[/yellow] {_escape(text)}", highlight=False, soft_wrap=True)


def error(text: str, hint: str | None = None) -> None:
    """Print an error line (and an optional dim hint) to stderr."""
    consoles.err.print(f"[bold red]Error:[/bold red] {_escape(text)}", highlight=False, soft_wrap=True)
    if hint:
        consoles.err.print(f"[dim]{_escape(hint)}[/dim]", highlight=False, soft_wrap=True)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
