"""Warehouse URLs and connections.

The warehouse is any SQLAlchemy URL, from ``--url`` or ``KLENTY_WH_URL``; without either,
klenty-wh uses the DuckDB file ``klenty.duckdb`` in the working directory. Passwords in URLs
are registered with :mod:`klenty_wh.redact` as soon as a URL is parsed, so no message, log
line or traceback shows them.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from klenty_wh.errors import UsageError, WarehouseError
from klenty_wh.redact import redact, register_secret

logger = logging.getLogger(__name__)

ENV_VAR = "KLENTY_WH_URL"
DEFAULT_URL = "duckdb:///klenty.duckdb"
SUPPORTED_ENGINES = ("duckdb", "postgresql")


def resolve_url(url: str | None = None) -> URL:
    """Return the warehouse URL: ``url``, else ``$KLENTY_WH_URL``, else the default DuckDB file.

    Raises:
        UsageError: the text is not a SQLAlchemy URL.
    """
    text = url or os.environ.get(ENV_VAR) or DEFAULT_URL
    try:
        parsed = make_url(text)
    except ArgumentError:
        raise UsageError(
            f"invalid warehouse URL {redact(text)!r}: expected a SQLAlchemy URL such as "
            f"duckdb:///klenty.duckdb or postgresql://user@host:5432/db"
        ) from None
    register_secret(parsed.password)
    return parsed


def display_url(url: URL) -> str:
    """Return ``url`` as text with its password masked."""
    return url.render_as_string(hide_password=True)


@dataclass
class Warehouse:
    """An open SQLAlchemy engine plus what klenty-wh needs to know about it."""

    url: URL
    engine: Engine

    @property
    def dialect(self) -> str:
        """Return the SQLAlchemy dialect name: ``duckdb``, ``postgresql``, ..."""
        return self.engine.dialect.name

    @property
    def display(self) -> str:
        """Return the URL with its password masked."""
        return display_url(self.url)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def open_warehouse(url: str | URL | None = None, read_only: bool = False, lock_timeout: float = 0.0,
                   on_wait: Callable[[str], None] | None = None) -> Warehouse:
    """Create an engine for the warehouse and check that it answers.

    With ``read_only``, a DuckDB file is opened read-only (other readers may share it) and
    must exist already. A DuckDB file that another process has open for writing is retried
    for up to ``lock_timeout`` seconds; ``on_wait`` is called once with a message when
    waiting starts.

    Raises:
        UsageError: the URL names a driver that is not installed or not supported.
        WarehouseError: the warehouse cannot be reached or opened.
    """
    parsed = url if isinstance(url, URL) else resolve_url(url)
    options: dict = {}
    if parsed.get_backend_name() == "postgresql":
        # Shown in pg_stat_activity, so a DBA can tell klenty-wh's sessions apart.
        options["connect_args"] = {"application_name": "klenty-wh", "connect_timeout": 10}
    if parsed.get_backend_name() == "duckdb":
        _check_duckdb_path(parsed, must_exist=read_only)
        if read_only:
            options["connect_args"] = {"read_only": True}
    try:
        engine = sa.create_engine(parsed, **options)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise UsageError(
            f"no SQLAlchemy driver for {display_url(parsed)}: {exc}. Supported warehouses: "
            f"{', '.join(SUPPORTED_ENGINES)}."
        ) from None
    warehouse = Warehouse(url=parsed, engine=engine)
    deadline = time.monotonic() + lock_timeout
    waiting = False
    while True:
        try:
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            break
        except Exception as exc:
            if _is_lock_conflict(exc) and time.monotonic() < deadline:
                if not waiting and on_wait is not None:
                    on_wait(f"waiting up to {lock_timeout:.0f} s for {warehouse.display}: another process "
                            f"has the file open ({driver_message(exc)})")
                waiting = True
                engine.dispose()
                time.sleep(_LOCK_RETRY_SECONDS)
                continue
            engine.dispose()
            raise connection_error(warehouse, exc) from exc
    logger.info("connected to %s", warehouse.display)
    return warehouse


_LOCK_RETRY_SECONDS = 0.5


def _is_lock_conflict(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


def _check_duckdb_path(url: URL, must_exist: bool = False) -> None:
    database = url.database
    if not database or database == ":memory:":
        return
    if must_exist and not Path(database).expanduser().is_file():
        raise WarehouseError(
            f"DuckDB file {database} does not exist. Run `klenty-wh init` and `klenty-wh load` first, "
            f"or pass the right --url."
        )
    parent = Path(database).expanduser().resolve().parent
    if not parent.is_dir():
        raise WarehouseError(
            f"cannot open DuckDB file {database}: folder {parent} does not exist. "
            f"Create the folder or pass another --url."
        )


def connection_error(warehouse: Warehouse, exc: BaseException) -> WarehouseError:
    """Turn a driver exception raised while connecting into a one-line :class:`WarehouseError`."""
    reason = driver_message(exc)
    lowered = reason.lower()
    if _is_lock_conflict(exc):
        hint = ("Another process has the file open; wait for it to finish (--lock-timeout sets how long "
                "klenty-wh waits) or use another file.")
    elif "permission denied" in lowered or "read-only" in lowered:
        hint = "Check the file or account permissions, or pass a writable --url."
    else:
        hint = "Check that the server is running and that --url (or KLENTY_WH_URL) is right."
    return WarehouseError(f"cannot connect to {warehouse.display}: {reason}. {hint}")


def driver_message(exc: BaseException) -> str:
    """Return the first line of a driver error's text, with secrets removed."""
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(original).strip() or type(original).__name__
    first_line = text.splitlines()[0].strip().rstrip(".!")
    return redact(first_line)
