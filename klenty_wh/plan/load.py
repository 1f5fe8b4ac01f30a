"""Read and validate the tracking plan file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from klenty_wh.errors import PlanError
from klenty_wh.plan.model import (
    Column,
    Event,
    Freshness,
    LogicalType,
    Plan,
    Presence,
    Property,
    SampleRule,
    Source,
    Thresholds,
)
from klenty_wh.plan.names import schema_name_problem, snakecase
from klenty_wh.resources import default_plan_path

SUPPORTED_VERSIONS = (1,)
PROFILES = ("redshift", "bigquery")
SAMPLE_KINDS = ("email_id", "sender", "subject", "link")


class _Problems:
    """Collects every problem in the file, so one run of ``klenty-wh plan`` lists them all."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")


def load_plan(path: str | Path | None = None) -> Plan:
    """Read the tracking plan at ``path`` (default: the shipped plan) and validate it.

    Raises:
        PlanError: the file is missing, is not YAML, or breaks a rule of the plan format;
            the message lists every problem found, each with its location in the file.
    """
    plan_path = Path(path) if path is not None else default_plan_path()
    raw = _read_yaml(plan_path)
    problems = _Problems()
    plan = _build_plan(plan_path, raw, problems)
    if problems.items:
        count = len(problems.items)
        listed = "; ".join(problems.items[:10])
        more = f"; and {count - 10} more" if count > 10 else ""
        raise PlanError(
            f"invalid tracking plan {plan_path}: {count} problem{'s' if count > 1 else ''}: "
            f"{listed}{more}. Fix the file, then run `klenty-wh plan --plan {plan_path}` to validate it."
        )
    assert plan is not None
    return plan


def _read_yaml(plan_path: Path) -> dict[str, Any]:
    try:
        text = plan_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(
            f"tracking plan not found: {plan_path}. Pass an existing file with --plan."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"cannot read tracking plan {plan_path}: {exc}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise PlanError(f"tracking plan {plan_path} is not valid YAML{where}: {reason}.") from None
    if not isinstance(raw, dict):
        raise PlanError(f"tracking plan {plan_path} must be a YAML mapping at the top level.")
    return raw


def _build_plan(plan_path: Path, raw: dict[str, Any], problems: _Problems) -> Plan | None:
    formats = _formats(raw.get("formats"), problems)
    version = raw.get("version")
    if version not in SUPPORTED_VERSIONS:
        problems.add("version", f"expected one of {list(SUPPORTED_VERSIONS)}, found {version!r}")

    source = _source(raw.get("source"), problems)
    standard = tuple(_columns(raw.get("standard_columns"), "standard_columns", problems, formats))
    profile_columns = tuple(
        _columns(raw.get("profile_columns", []), "profile_columns", problems, formats, with_profile=True)
    )
    properties = tuple(_properties(raw.get("properties"), problems, formats))
    events = tuple(_events(raw.get("events"), properties, problems))
    thresholds = _thresholds(raw.get("thresholds"), problems)

    _check_unique_columns(standard, profile_columns, properties, problems)
    if problems.items or source is None or thresholds is None:
        return None
    return Plan(
        path=plan_path,
        version=version,
        source=source,
        standard_columns=standard,
        profile_columns=profile_columns,
        properties=properties,
        events=events,
        thresholds=thresholds,
        formats=formats,
    )


def _mapping(value: Any, where: str, problems: _Problems) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        problems.add(where, f"expected a mapping, found {type(value).__name__}")
        return None
    return value


def _string(entry: dict[str, Any], key: str, where: str, problems: _Problems,
            required: bool = True) -> str | None:
    value = entry.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.add(f"{where}.{key}", f"expected a non-empty string, found {value!r}")
        return None
    return value


def _enum(enum_type: type, value: Any, where: str, problems: _Problems) -> Any:
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_type)
        problems.add(where, f"expected one of {allowed}, found {value!r}")
        return None


def _source(value: Any, problems: _Problems) -> Source | None:
    entry = _mapping(value, "source", problems)
    if entry is None:
        return None
    fields = {key: _string(entry, key, "source", problems)
              for key in ("name", "kind", "segment_catalog_id", "default_schema", "documentation")}
    schema = fields["default_schema"]
    if schema is not None and (problem := schema_name_problem(schema)):
        problems.add("source.default_schema", f"{schema!r}: {problem}")
    if any(value is None for value in fields.values()):
        return None
    return Source(**fields)


def _formats(value: Any, problems: _Problems) -> dict[str, str]:
    import re

    entry = _mapping(value if value is not None else {}, "formats", problems) or {}
    formats = {}
    for name, pattern in entry.items():
        if not isinstance(pattern, str) or not pattern:
            problems.add(f"formats.{name}", f"expected a regular expression, found {pattern!r}")
            continue
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.add(f"formats.{name}", f"invalid regular expression {pattern!r}: {exc}")
            continue
        formats[name] = pattern
    return formats


def _columns(value: Any, where: str, problems: _Problems, formats: dict[str, str],
             with_profile: bool = False) -> list[Column]:
    if not isinstance(value, list) or (not value and not with_profile):
        problems.add(where, "expected a non-empty list of columns")
        return []
    columns = []
    for index, item in enumerate(value):
        at = f"{where}[{index}]"
        entry = _mapping(item, at, problems)
        if entry is None:
            continue
        name = _string(entry, "name", at, problems)
        if name is not None and snakecase(name) != name:
            problems.add(f"{at}.name", f"{name!r} is not a warehouse column name "
                                       f"(go-snakecase gives {snakecase(name)!r})")
        column_type = _enum(LogicalType, entry.get("type"), f"{at}.type", problems)
        description = _string(entry, "description", at, problems)
        profile = entry.get("profile")
        if with_profile and profile not in PROFILES:
            problems.add(f"{at}.profile", f"expected one of {', '.join(PROFILES)}, found {profile!r}")
        column_format = entry.get("format")
        if column_format is not None and column_format not in formats:
            problems.add(f"{at}.format", f"{column_format!r} is not defined under `formats`")
        if name and column_type and description:
            columns.append(Column(name=name, type=column_type, description=description,
                                  raw_path=entry.get("from"), format=column_format,
                                  profile=profile if with_profile else None))
    return columns


def _properties(value: Any, problems: _Problems, formats: dict[str, str]) -> list[Property]:
    if not isinstance(value, list) or not value:
        problems.add("properties", "expected a non-empty list of properties")
        return []
    properties = []
    for index, item in enumerate(value):
        at = f"properties[{index}]"
        entry = _mapping(item, at, problems)
        if entry is None:
            continue
        key = _string(entry, "key", at, problems)
        column = _string(entry, "column", at, problems)
        if key and column and snakecase(key) != column:
            problems.add(f"{at}.column", f"{column!r} is not the go-snakecase of key {key!r} "
                                         f"(expected {snakecase(key)!r})")
        prop_type = _enum(LogicalType, entry.get("type"), f"{at}.type", problems)
        description = _string(entry, "description", at, problems)
        prop_format = entry.get("format")
        if prop_format is not None and prop_format not in formats:
            problems.add(f"{at}.format", f"{prop_format!r} is not defined under `formats`")
        if prop_format is not None and prop_type is not LogicalType.TEXT:
            problems.add(f"{at}.format", f"format {prop_format!r} needs type text, found {entry.get('type')!r}")
        non_empty = entry.get("non_empty", False)
        if not isinstance(non_empty, bool):
            problems.add(f"{at}.non_empty", f"expected true or false, found {non_empty!r}")
        sample = entry.get("sample")
        if sample is not None and sample not in SAMPLE_KINDS:
            problems.add(f"{at}.sample", f"expected one of {', '.join(SAMPLE_KINDS)}, found {sample!r}")
        if key and column and prop_type and description:
            properties.append(Property(key=key, column=column, type=prop_type, description=description,
                                       format=prop_format, non_empty=non_empty is True, sample=sample))
    keys = [prop.key for prop in properties]
    for key in sorted({key for key in keys if keys.count(key) > 1}):
        problems.add("properties", f"key {key!r} is listed more than once")
    return properties


def _events(value: Any, properties: tuple[Property, ...], problems: _Problems) -> list[Event]:
    if not isinstance(value, list) or not value:
        problems.add("events", "expected a non-empty list of events")
        return []
    names = [item.get("name") for item in value if isinstance(item, dict)]
    events = []
    for index, item in enumerate(value):
        at = f"events[{index}]"
        entry = _mapping(item, at, problems)
        if entry is None:
            continue
        event = _event(entry, at, properties, names, problems)
        if event is not None:
            events.append(event)
    tables = [event.table for event in events]
    for table in sorted({table for table in tables if tables.count(table) > 1}):
        problems.add("events", f"table {table!r} is used by more than one event")
    if "tracks" in tables:
        problems.add("events", "no event may use the table name 'tracks'")
    return events


def _event(entry: dict[str, Any], at: str, properties: tuple[Property, ...],
           event_names: list[Any], problems: _Problems) -> Event | None:
    name = _string(entry, "name", at, problems)
    table = _string(entry, "table", at, problems)
    if name and table and snakecase(name) != table:
        problems.add(f"{at}.table", f"{table!r} is not the go-snakecase slug of {name!r} "
                                    f"(expected {snakecase(name)!r})")
    description = _string(entry, "description", at, problems)

    presence: dict[str, Presence] = {}
    declared = _mapping(entry.get("properties", {}), f"{at}.properties", problems) or {}
    known_keys = {prop.key for prop in properties}
    for key, value in declared.items():
        if key not in known_keys:
            problems.add(f"{at}.properties.{key}", "is not a documented property (see `properties`)")
            continue
        found = _enum(Presence, value, f"{at}.properties.{key}", problems)
        if found is not None:
            presence[key] = found
    for key in known_keys - set(declared):
        presence[key] = Presence.NOT_APPLICABLE

    freshness = _enum(Freshness, entry.get("freshness", "expected"), f"{at}.freshness", problems)
    sample = _sample_rule(entry.get("sample"), f"{at}.sample", event_names, problems)
    if not (name and table and description and freshness and sample):
        return None
    return Event(name=name, table=table, description=description, presence=presence,
                 freshness=freshness, sample=sample)


def _sample_rule(value: Any, at: str, event_names: list[Any], problems: _Problems) -> SampleRule | None:
    entry = _mapping(value, at, problems)
    if entry is None:
        return None
    after = entry.get("after")
    if after is not None and after not in event_names:
        problems.add(f"{at}.after", f"{after!r} is not an event of this plan")
    share = entry.get("share")
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
        problems.add(f"{at}.share", f"expected a number from 0 to 1, found {share!r}")
        return None
    repeats = entry.get("max_repeats", 1)
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        problems.add(f"{at}.max_repeats", f"expected a whole number of at least 1, found {repeats!r}")
        return None
    return SampleRule(after=after, share=float(share), max_repeats=repeats,
                      ends_thread=bool(entry.get("ends_thread", False)))


def _thresholds(value: Any, problems: _Problems) -> Thresholds | None:
    entry = _mapping(value, "thresholds", problems)
    if entry is None:
        return None
    before = len(problems.items)
    share = entry.get("user_id_min_share")
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
        problems.add("thresholds.user_id_min_share", f"expected a number from 0 to 1, found {share!r}")
    tolerance = entry.get("timestamp_tolerance_seconds")
    if isinstance(tolerance, bool) or not isinstance(tolerance, int) or tolerance < 0:
        problems.add("thresholds.timestamp_tolerance_seconds",
                     f"expected a whole number of seconds, found {tolerance!r}")
    if len(problems.items) > before:
        return None
    return Thresholds(user_id_min_share=float(share), timestamp_tolerance_seconds=tolerance)


def _check_unique_columns(standard: tuple[Column, ...], profile_columns: tuple[Column, ...],
                          properties: tuple[Property, ...], problems: _Problems) -> None:
    seen: set[str] = set()
    for name in [column.name for column in standard + profile_columns] + [p.column for p in properties]:
        if name in seen:
            problems.add("columns", f"column {name!r} is defined more than once")
        seen.add(name)
