"""The outreach funnel as the tracking plan names it: event tables, property columns, SQL types.

The models need to know which event is the send, which is the open and so on, and which
property contains the email id, the sender and the subject. Event names and property keys
are the ones on Segment's Klenty catalog page
(https://segment.com/docs/connections/sources/catalog/cloud-apps/klenty/). The table and
column names they map to are read from the plan, so a plan that renames a table or column
changes the generated SQL with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from klenty_wh.errors import PlanError
from klenty_wh.plan.model import Column, Event, LogicalType, Plan, Property

STEPS: tuple[tuple[str, str], ...] = (
    ("sent", "Email Sent"),
    ("opened", "Email Opened"),
    ("clicked", "Link Clicked"),
    ("replied", "Email Replied"),
    ("bounced", "Email Bounced"),
    ("unsubscribed", "Email Unsubscribed"),
)
"""Funnel step and the Klenty event that marks it, in funnel order."""

EMAIL_ID_KEY = "email_id"
SENDER_KEY = "fromId"
SUBJECT_KEY = "email_subject"
PROSPECT_RAW_PATH = "userId"
"""The prospect is the call's ``userId``: Klenty sends the prospect's email address there."""

# Portable spellings of Segment's five types: DuckDB and PostgreSQL accept all of them.
SQL_TYPES: dict[LogicalType, str] = {
    LogicalType.TEXT: "TEXT",
    LogicalType.INTEGER: "BIGINT",
    LogicalType.FLOAT: "DOUBLE PRECISION",
    LogicalType.BOOLEAN: "BOOLEAN",
    LogicalType.TIMESTAMP: "TIMESTAMP",
}


@dataclass(frozen=True)
class Attribute:
    """A column that describes the email (sender, prospect, subject) and where it comes from."""

    name: str
    """Column name in the models."""
    source: str
    """Column name in the Segment tables."""
    empty_is_missing: bool = False
    """The plan marks the property ``non_empty``, so ``''`` counts as missing."""


@dataclass(frozen=True)
class Outreach:
    """The plan facts the models are generated from."""

    events: tuple[Event, ...]
    """Every event of the plan; ``email_events`` unions their tables."""
    union_columns: tuple[tuple[str, LogicalType], ...]
    """Columns of ``email_events``: the standard columns, then every documented property."""
    step_tables: dict[str, str]
    """Funnel step (``sent``, ``opened``, ...) -> event table."""
    email_id: str
    """Column that contains Klenty's email id."""
    attributes: tuple[Attribute, ...]
    table_columns: dict[str, frozenset[str]]
    """Event table -> the columns the plan gives it (standard columns and applicable properties)."""


def outreach_from_plan(plan: Plan) -> Outreach:
    """Resolve the funnel steps and email columns of ``plan``.

    Raises:
        PlanError: the plan lacks one of the Klenty events or properties the models use.
    """
    problems: list[str] = []
    by_name = {event.name: event for event in plan.events}
    step_tables = {}
    for step, event_name in STEPS:
        event = by_name.get(event_name)
        if event is None:
            problems.append(f"event {event_name!r} (the {step} step) is missing")
        else:
            step_tables[step] = event.table

    properties = {prop.key: prop for prop in plan.properties}
    for key in (EMAIL_ID_KEY, SENDER_KEY, SUBJECT_KEY):
        if key not in properties:
            problems.append(f"property {key!r} is missing")
    prospect = _standard_column(plan, PROSPECT_RAW_PATH)
    if prospect is None:
        problems.append(f"no standard column comes from {PROSPECT_RAW_PATH!r}")
    if problems:
        raise PlanError(
            f"the models cannot be built from tracking plan {plan.path}: {'; '.join(problems)}. "
            f"The models need the six Klenty events and the properties email_id, fromId and "
            f"email_subject."
        )

    assert prospect is not None
    union = [(column.name, column.type) for column in plan.standard_columns]
    union += [(prop.column, prop.type) for prop in plan.properties]
    standard = {column.name for column in plan.standard_columns}
    table_columns = {
        event.table: frozenset(standard | {prop.column for prop, _ in event.properties_in(plan)})
        for event in plan.events
    }
    return Outreach(
        events=plan.events,
        union_columns=tuple(union),
        step_tables=step_tables,
        email_id=properties[EMAIL_ID_KEY].column,
        attributes=(
            _attribute("sender", properties[SENDER_KEY]),
            Attribute(name="prospect", source=prospect.name),
            _attribute("subject", properties[SUBJECT_KEY]),
        ),
        table_columns=table_columns,
    )


def _attribute(name: str, prop: Property) -> Attribute:
    return Attribute(name=name, source=prop.column, empty_is_missing=prop.non_empty)


def _standard_column(plan: Plan, raw_path: str) -> Column | None:
    return next((column for column in plan.standard_columns if column.raw_path == raw_path), None)
