"""Segment's naming rules: go-snakecase for tables and columns, nickname to schema.

Segment converts event names and property keys with ``github.com/segmentio/go-snakecase``
(v1.2.0). Only the ASCII letters and digits are word characters; every other character,
``_`` and every non-ASCII letter included, separates words. A run of upper-case letters and
digits followed by a run of lower-case letters and digits forms one word, so acronyms stay
glued to the next word (``URLClicked`` -> ``urlclicked``) and digits never start a word.

>>> snakecase("Email Sent")
'email_sent'
>>> snakecase("fromId")
'from_id'
>>> snakecase("URLClicked")
'urlclicked'
>>> schema_from_nickname("Klenty Prod")
'klenty_prod'
"""

from __future__ import annotations

import re
from importlib import resources

from klenty_wh.errors import UsageError

# One word of go-snakecase: upper-case letters and digits, then lower-case letters and digits.
# Both classes are ASCII ranges, so every other character acts as a separator.
_WORD = re.compile(r"[A-Z0-9]*[a-z0-9]*")
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_NON_WORD_RUN = re.compile(r"[^a-z0-9]+")
_APOSTROPHES = ("'", "\u2019")

# Maximum identifier length of each warehouse, in bytes (go-snakecase output is ASCII, so
# bytes and characters agree). PostgreSQL: NAMEDATALEN - 1. Redshift, Snowflake and
# BigQuery limits are from each vendor's identifier documentation. DuckDB sets no limit,
# so the PostgreSQL figure is used and a DuckDB file can be copied to PostgreSQL as is.
IDENTIFIER_LIMITS: dict[str, int] = {
    "duckdb": 63,
    "postgresql": 63,
    "redshift": 127,
    "snowflake": 255,
    "bigquery": 300,
}


def snakecase(name: str) -> str:
    """Convert an event name or property key exactly as go-snakecase v1.2.0 does.

    Returns the empty string when ``name`` has no ASCII letter or digit.
    """
    return "_".join(word.lower() for word in _WORD.findall(name) if word)


def schema_from_nickname(nickname: str) -> str:
    """Derive the default warehouse schema name from a Segment source nickname.

    The rule fits every nickname-to-schema pair observed in Segment workspaces; Segment does
    not document it. Steps: lower-case, drop apostrophes, turn each run of characters other
    than ``a-z`` and ``0-9`` into ``_``, trim ``_``, and prefix ``_`` when the result starts
    with a digit.
    """
    text = nickname.lower()
    for apostrophe in _APOSTROPHES:
        text = text.replace(apostrophe, "")
    text = _NON_WORD_RUN.sub("_", text).strip("_")
    if text[:1].isdigit():
        text = "_" + text
    return text


def schema_name_problem(name: str, dialect: str = "duckdb") -> str | None:
    """Return why ``name`` cannot be a schema name on ``dialect``, or None when it can."""
    if not _SCHEMA_NAME.match(name):
        return "a schema name must match ^[a-z_][a-z0-9_]*$ (lower-case letters, digits, underscores)"
    limit = IDENTIFIER_LIMITS.get(dialect, 63)
    if len(name) > limit:
        return f"a schema name on {dialect} has at most {limit} characters, this one has {len(name)}"
    return None


def validate_schema_name(schema: str, dialect: str) -> str:
    """Return ``schema`` when it is a valid schema name on ``dialect``.

    Raises:
        UsageError: the name breaks the naming rule or the warehouse's length limit.
    """
    if problem := schema_name_problem(schema, dialect):
        raise UsageError(
            f"invalid schema name {schema!r}: {problem}. Pass --schema with a name such as "
            f"klenty_prod, or --source-nickname to derive one."
        )
    return schema


def redshift_reserved_words() -> frozenset[str]:
    """Return the Redshift reserved words (AWS Redshift documentation, "Reserved words")."""
    text = resources.files("klenty_wh.plan").joinpath("redshift_reserved_words.txt").read_text("utf-8")
    return frozenset(word for word in text.split() if not word.startswith("#"))


def redshift_identifier(name: str) -> str:
    """Apply Segment's Redshift rule: prefix ``_`` to names that start with a digit or are reserved."""
    if name[:1].isdigit() or name in _REDSHIFT_RESERVED:
        return "_" + name
    return name


_REDSHIFT_RESERVED = redshift_reserved_words()
