"""Reject SQL text that is not one read-only query, before it reaches the warehouse.

This scan is the first guard: :mod:`klenty_wh.query.run` also opens the warehouse
read-only, so a write that gets past the scan still fails in the engine. The scan reads the
text as DuckDB and PostgreSQL tokenize it: '...' strings ('' inside), E'...' strings
(backslash escapes), "..." identifiers, $tag$...$tag$ strings, -- and /* */ comments
(nested, as PostgreSQL allows). Unterminated strings or comments are rejected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from klenty_wh.errors import UsageError

READ_KEYWORDS = ("SELECT", "WITH", "VALUES", "TABLE", "FROM", "SHOW", "DESCRIBE", "SUMMARIZE", "EXPLAIN")
"""Keywords a read-only query may start with (FROM-first and SUMMARIZE are DuckDB syntax)."""

WRITE_KEYWORDS = frozenset((
    "INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "INTO", "DROP", "CREATE", "ALTER", "TRUNCATE",
    "COPY", "ATTACH", "DETACH", "GRANT", "REVOKE", "INSTALL", "LOAD", "PRAGMA", "SET", "RESET",
    "CALL", "EXPORT", "IMPORT", "VACUUM", "CHECKPOINT", "BEGIN", "COMMIT", "ROLLBACK", "ABORT",
    "SAVEPOINT", "PREPARE", "EXECUTE", "DEALLOCATE", "REINDEX", "CLUSTER", "LOCK", "COMMENT",
    "REFRESH", "DO", "USE",
))
"""Keywords that write, change the session or run other statements; rejected anywhere as bare words.

``INTO`` covers ``SELECT ... INTO new_table``, which creates a table on PostgreSQL.
"""

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


@dataclass(frozen=True)
class Token:
    """A bare word (upper-cased) or a statement separator ``;`` outside strings and comments."""

    text: str
    offset: int


def tokenize(sql: str) -> list[Token]:
    """Return the bare words and ``;`` of ``sql``, skipping strings, quoted names and comments.

    Raises:
        UsageError: a string, quoted identifier or comment is not terminated.
    """
    tokens: list[Token] = []
    index, length = 0, len(sql)
    while index < length:
        char = sql[index]
        if char == "-" and sql.startswith("--", index):
            end = sql.find("\n", index)
            index = length if end < 0 else end + 1
        elif char == "/" and sql.startswith("/*", index):
            index = _skip_block_comment(sql, index)
        elif char == "'":
            index = _skip_quoted(sql, index, "'", backslash=False)
        elif char == '"':
            index = _skip_quoted(sql, index, '"', backslash=False)
        elif char == "$" and (match := _DOLLAR_TAG.match(sql, index)):
            closing = sql.find(match.group(0), match.end())
            if closing < 0:
                raise _unterminated("dollar-quoted string", index)
            index = closing + len(match.group(0))
        elif char == ";":
            tokens.append(Token(";", index))
            index += 1
        elif match := _WORD.match(sql, index):
            word = match.group(0)
            if word in ("E", "e") and sql.startswith("'", match.end()):
                index = _skip_quoted(sql, match.end(), "'", backslash=True)
                continue
            tokens.append(Token(word.upper(), index))
            index = match.end()
        else:
            index += 1
    return tokens


def check_read_only(sql: str) -> str:
    """Return ``sql`` without a trailing ``;`` when it is one read-only query.

    Raises:
        UsageError: the text is empty, contains more than one statement, does not start with a
            read keyword, or contains a keyword that writes.
    """
    tokens = tokenize(sql)
    if not any(token.text != ";" for token in tokens):
        raise UsageError("the query is empty: pass one SELECT statement, e.g. "
                         "klenty-wh sql \"SELECT count(*) FROM klenty_prod.tracks\".")
    separators = [token for token in tokens if token.text == ";"]
    last_word = max(token.offset for token in tokens if token.text != ";")
    if any(separator.offset < last_word for separator in separators):
        raise UsageError("the query contains more than one statement; klenty-wh sql runs exactly one "
                         "read-only statement per call.")
    first = next(token.text for token in tokens if token.text != ";")
    if first not in READ_KEYWORDS:
        raise UsageError(f"klenty-wh sql runs only read-only queries, and a statement starting with "
                         f"{first} is not one. Allowed first keywords: {', '.join(READ_KEYWORDS)}.")
    writes = sorted({token.text for token in tokens if token.text in WRITE_KEYWORDS})
    if writes:
        raise UsageError(f"the query contains {', '.join(writes)}, which can write or change the session; "
                         f"klenty-wh sql runs only read-only queries. A column with such a name must be "
                         f'written in double quotes ("{writes[0].lower()}").')
    text = sql.rstrip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    return text


def _skip_quoted(sql: str, start: int, quote: str, backslash: bool) -> int:
    index = start + 1
    while index < len(sql):
        char = sql[index]
        if backslash and char == "\\":
            index += 2
            continue
        if char == quote:
            if sql.startswith(quote * 2, index):
                index += 2
                continue
            return index + 1
        index += 1
    raise _unterminated("string" if quote == "'" else "quoted identifier", start)


def _skip_block_comment(sql: str, start: int) -> int:
    depth, index = 1, start + 2
    while index < len(sql):
        if sql.startswith("/*", index):
            depth, index = depth + 1, index + 2
        elif sql.startswith("*/", index):
            depth, index = depth - 1, index + 2
            if depth == 0:
                return index
        else:
            index += 1
    raise _unterminated("comment", start)


def _unterminated(kind: str, offset: int) -> UsageError:
    return UsageError(f"the query has an unterminated {kind} starting at character {offset + 1}; "
                      f"close it and run again.")
