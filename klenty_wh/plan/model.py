"""The tracking plan as typed, immutable objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path


class LogicalType(str, Enum):
    """Segment's five warehouse types (``text`` is Segment's varchar)."""

    TEXT = "text"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"


class Presence(str, Enum):
    """Whether an event carries a documented property."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    NOT_APPLICABLE = "not_applicable"


class Freshness(str, Enum):
    """Freshness class of an event under ``--max-age``: ``rare`` events only warn when they are old."""

    EXPECTED = "expected"
    RARE = "rare"


@dataclass(frozen=True)
class Source:
    """The Segment source the plan describes."""

    name: str
    kind: str
    segment_catalog_id: str
    default_schema: str
    documentation: str


@dataclass(frozen=True)
class Column:
    """A warehouse column that Segment writes on ``tracks`` and on every event table."""

    name: str
    type: LogicalType
    description: str
    raw_path: str | None = None
    """Source path of the value in the raw call (``messageId``, ``context.library.name``)."""
    format: str | None = None
    profile: str | None = None
    """Set for columns only one warehouse's loader adds (``redshift``, ``bigquery``)."""


@dataclass(frozen=True)
class Property:
    """A documented property of Klenty's events."""

    key: str
    column: str
    type: LogicalType
    description: str
    format: str | None = None
    non_empty: bool = False
    """Empty strings count as missing in the checks."""
    sample: str | None = None
    """Kind of value ``klenty-wh sample`` writes: email_id, sender, subject or link."""


@dataclass(frozen=True)
class SampleRule:
    """Rule by which ``klenty-wh sample`` generates an event in an email's thread."""

    after: str | None
    share: float
    max_repeats: int = 1
    ends_thread: bool = False


@dataclass(frozen=True)
class Event:
    """One of the source's events and the table Segment gives it."""

    name: str
    table: str
    description: str
    presence: dict[str, Presence]
    """Presence of each documented property, keyed by the raw property key."""
    freshness: Freshness
    sample: SampleRule

    def properties_in(self, plan: Plan) -> list[tuple[Property, Presence]]:
        """Return the documented properties this event carries, in plan order, with presence."""
        return [
            (prop, self.presence[prop.key])
            for prop in plan.properties
            if self.presence.get(prop.key, Presence.NOT_APPLICABLE) is not Presence.NOT_APPLICABLE
        ]


@dataclass(frozen=True)
class Thresholds:
    """Numbers the checks use."""

    user_id_min_share: float
    timestamp_tolerance_seconds: int


@dataclass(frozen=True)
class Plan:
    """A validated tracking plan; build it with :func:`klenty_wh.plan.load_plan`."""

    path: Path
    version: int
    source: Source
    standard_columns: tuple[Column, ...]
    profile_columns: tuple[Column, ...]
    properties: tuple[Property, ...]
    events: tuple[Event, ...]
    thresholds: Thresholds
    formats: dict[str, str] = field(default_factory=dict)
    """Regular expression of each format (``email``, ``url``) that columns may declare."""
    _by_table: dict[str, Event] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_table.update({event.table: event for event in self.events})

    def event_for_table(self, table: str) -> Event | None:
        """Return the event whose table is ``table``, or None for tables outside the plan."""
        return self._by_table.get(table)

    def property_by_key(self, key: str) -> Property:
        """Return the documented property with raw key ``key``."""
        return next(prop for prop in self.properties if prop.key == key)

    def columns_for(self, event: Event | None, profile: str = "default") -> list[Column]:
        """Return the documented columns of an event table (``None`` means ``tracks``).

        Standard columns come first, then the profile's loader columns, then the
        event's documented properties in plan order.
        """
        columns = list(self.standard_columns)
        columns += [column for column in self.profile_columns if column.profile == profile]
        if event is not None:
            columns += [
                Column(name=prop.column, type=prop.type, description=prop.description,
                       raw_path=f"properties.{prop.key}", format=prop.format)
                for prop, _ in event.properties_in(self)
            ]
        return columns

    @property
    def table_names(self) -> list[str]:
        """Return ``tracks`` followed by the event tables, in plan order."""
        return ["tracks", *(event.table for event in self.events)]
