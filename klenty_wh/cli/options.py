"""Options shared by several commands, and their resolution into values."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Optional

import typer

from klenty_wh.errors import UsageError

UrlOption = Annotated[
    Optional[str],
    typer.Option(
        "--url",
        envvar="KLENTY_WH_URL",
        show_envvar=True,
        help="Warehouse as a SQLAlchemy URL, e.g. duckdb:///klenty.duckdb or "
        "postgresql://user@host:5432/db. Default: the DuckDB file klenty.duckdb in the "
        "working directory. Passwords in it are never printed.",
    ),
]
SchemaOption = Annotated[
    Optional[str],
    typer.Option(
        "--schema",
        help="Segment schema of the source, e.g. klenty_prod. Default: the plan's "
        "source.default_schema.",
    ),
]
NicknameOption = Annotated[
    Optional[str],
    typer.Option(
        "--source-nickname",
        help='Segment source nickname, e.g. "Klenty Prod"; the schema name is derived from '
        "it (klenty_prod). Use instead of --schema.",
    ),
]
PlanOption = Annotated[
    Optional[Path],
    typer.Option(
        "--plan",
        envvar="KLENTY_WH_PLAN",
        show_envvar=True,
        help="Tracking plan file. Default: the plan shipped with klenty-wh (schema/klenty.yaml).",
        dir_okay=False,
    ),
]
ProfileOption = Annotated[
    str,
    typer.Option(
        "--profile",
        help="Loader profile: default, redshift (VARCHAR(512), uuid column, _ prefix for "
        "reserved names) or bigquery (loaded_at column).",
    ),
]


TextOrJsonOption = Annotated[str, typer.Option("--format", help="Output format: text or json.")]

LockTimeoutOption = Annotated[
    float,
    typer.Option(
        "--lock-timeout",
        help="Seconds to wait when another process has the DuckDB file open (a load in progress).",
    ),
]


def require_choice(option: str, value: str, choices: Sequence[str]) -> str:
    """Return ``value`` when it is one of ``choices``.

    Raises:
        UsageError: naming the option, the value and the choices.
    """
    if value not in choices:
        listed = ", ".join(choices[:-1]) + f" or {choices[-1]}" if len(choices) > 1 else choices[0]
        raise UsageError(f"unknown {option} {value!r}: choose {listed}.")
    return value


def resolve_schema(schema: str | None, nickname: str | None, default_schema: str) -> str:
    """Return the schema named by ``--schema`` or derived from ``--source-nickname``.

    Raises:
        UsageError: both options were given, or the nickname yields no name.
    """
    from klenty_wh.plan.names import schema_from_nickname

    if schema is not None and nickname is not None:
        raise UsageError("--schema and --source-nickname name the same thing; pass only one of them.")
    if nickname is not None:
        derived = schema_from_nickname(nickname)
        if not derived:
            raise UsageError(
                f"source nickname {nickname!r} has no ASCII letters or digits, so no schema name "
                f"can be derived from it; pass --schema instead."
            )
        return derived
    return schema if schema is not None else default_schema
