"""Quoting of identifiers and literals in generated SQL.

Names and values that come from data (event names, property keys, file paths) only ever
reach SQL through these functions, so no input can change the statement that runs. The
rules are the SQL standard ones, which DuckDB and PostgreSQL share.
"""

from __future__ import annotations


def ident(name: str) -> str:
    """Quote an identifier: ``email_sent`` -> ``"email_sent"``, doubling any ``"`` inside."""
    if "\x00" in name:
        raise ValueError("identifiers cannot contain NUL characters")
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, table: str) -> str:
    """Quote ``schema.table``."""
    return f"{ident(schema)}.{ident(table)}"


def literal(value: str) -> str:
    """Quote a string literal, doubling any ``'`` inside (standard-conforming strings)."""
    if "\x00" in value:
        raise ValueError("string literals cannot contain NUL characters")
    return "'" + value.replace("'", "''") + "'"


def json_pointer(path: tuple[str, ...]) -> str:
    """Return the RFC 6901 JSON pointer for a key path: ``("a/b", "c")`` -> ``/a~1b/c``."""
    return "".join("/" + key.replace("~", "~0").replace("/", "~1") for key in path)
