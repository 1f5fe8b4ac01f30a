"""Repair of the few records DuckDB cannot parse, and the reasons for those that stay broken.

DuckDB's JSON parser rejects lone UTF-16 surrogate escapes (``"\\ud800"``); Segment's
loader replaces them with U+FFFD. NUL characters (``"\\u0000"``) are removed, because
PostgreSQL cannot store them. Both repairs are counted. Records that Python's parser
rejects too keep its error message as their rejection reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

_REPLACEMENT = "\ufffd"


@dataclass(frozen=True)
class RepairOutcome:
    """The repaired record (None when it stays rejected), the reason, and the repairs made."""

    raw: str | None
    reason: str | None
    repairs: int


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def repair_record(raw: str) -> RepairOutcome:
    """Return ``raw`` with its strings repaired, or the reason it cannot be loaded."""
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except RecursionError:
        return RepairOutcome(None, "malformed JSON: nested too deeply to parse", 0)
    except ValueError as exc:
        return RepairOutcome(None, f"malformed JSON: {_describe(exc)}", 0)
    if not isinstance(value, dict):
        return RepairOutcome(None, f"not a JSON object: found {_json_kind(value)}", 0)
    counter = [0]
    try:
        cleaned = _clean(value, counter)
    except RecursionError:
        return RepairOutcome(None, "malformed JSON: nested too deeply to parse", 0)
    return RepairOutcome(json.dumps(cleaned, ensure_ascii=False, separators=(",", ":")), None, counter[0])


def _describe(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (character {exc.pos + 1})"
    return str(exc)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array"


def _clean(value: Any, counter: list[int]) -> Any:
    if isinstance(value, str):
        return _clean_string(value, counter)
    if isinstance(value, list):
        return [_clean(item, counter) for item in value]
    if isinstance(value, dict):
        return {_clean_string(key, counter): _clean(item, counter) for key, item in value.items()}
    return value


def _clean_string(text: str, counter: list[int]) -> str:
    if "\x00" not in text and not any("\ud800" <= char <= "\udfff" for char in text):
        return text
    counter[0] += 1
    text = text.replace("\x00", "")
    # json.loads joins valid surrogate pairs into one character, so any surrogate left is lone.
    return "".join(_REPLACEMENT if "\ud800" <= char <= "\udfff" else char for char in text)
