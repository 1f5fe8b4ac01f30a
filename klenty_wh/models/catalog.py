"""The list of models: name, meaning, columns and SQL of each view, in dependency order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from klenty_wh.models.email_sql import EMAIL_COLUMNS, Ref, email_events_select, emails_select
from klenty_wh.models.outreach import Outreach
from klenty_wh.models.rates_sql import COUNTS, RATES, key_columns, rates_select, rates_view_name
from klenty_wh.plan.model import Plan


@dataclass(frozen=True)
class ModelView:
    """One view of the models schema."""

    name: str
    description: str
    columns: tuple[tuple[str, str], ...]
    """(name, meaning) of each column, in view order."""
    depends_on: tuple[str, ...]
    """Models this one reads; they come earlier in :func:`model_views`."""
    select: Callable[[Ref, Ref], str]
    """Build the SELECT from a reference to Segment tables and a reference to other models."""


_RATE_MODELS: tuple[tuple[str | None, str | None, str], ...] = (
    (None, None, "All-time funnel: one row with the counts and rates of every sent email."),
    (None, "sender", "All-time counts and rates per sender: the sender league table."),
    (None, "subject", "All-time counts and rates per subject line."),
    ("day", None, "Counts and rates per UTC day of sending."),
    ("week", None, "Counts and rates per week of sending (weeks start on Monday, UTC)."),
    ("day", "sender", "Counts and rates per UTC day of sending and sender."),
    ("week", "sender", "Counts and rates per week of sending and sender."),
    ("day", "subject", "Counts and rates per UTC day of sending and subject line."),
    ("week", "subject", "Counts and rates per week of sending and subject line."),
)


def model_views(plan: Plan, outreach: Outreach) -> tuple[ModelView, ...]:
    """Return every model built from ``plan``, each after the models it reads."""
    union_docs = tuple(
        [(column.name, column.description) for column in plan.standard_columns]
        + [(prop.column, f"{prop.description} NULL on events that do not carry it.")
           for prop in plan.properties]
    )
    views = [
        ModelView(
            name="email_events",
            description="Every Klenty event in one relation: the event tables of the plan stacked, "
                        "with Segment's column names.",
            columns=union_docs,
            depends_on=(),
            select=lambda table, model: email_events_select(outreach, table),
        ),
        ModelView(
            name="emails",
            description="One row per email: who sent it to whom, when each funnel step first "
                        "happened, and how often it was opened and clicked.",
            columns=EMAIL_COLUMNS,
            depends_on=("email_events",),
            select=lambda table, model: emails_select(outreach, model),
        ),
    ]
    measures = tuple((measure.name, measure.definition) for measure in COUNTS + RATES)
    for period, group, description in _RATE_MODELS:
        views.append(ModelView(
            name=rates_view_name(period, group),
            description=description,
            columns=tuple(key_columns(period, group)) + measures,
            depends_on=("emails",),
            select=_rates_builder(period, group),
        ))
    return tuple(views)


def _rates_builder(period: str | None, group: str | None) -> Callable[[Ref, Ref], str]:
    return lambda table, model: rates_select(period, group, model)


def view_by_name(views: tuple[ModelView, ...], name: str) -> ModelView:
    """Return the view called ``name``.

    Raises:
        KeyError: no model has that name.
    """
    for view in views:
        if view.name == name:
            return view
    raise KeyError(name)
