"""SQL of the rate models: the funnel counts and the rates between them, by period and group.

Emails are counted in the cohort of their send: an email sent on Monday that is opened on
Wednesday counts as opened in Monday's row. Days and weeks are UTC, because Segment's
timestamps are UTC; a week starts on Monday (``date_trunc('week', ...)`` on DuckDB and
PostgreSQL). Emails whose send is not in the warehouse have no cohort and are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from klenty_wh.load.sql import ident
from klenty_wh.models.email_sql import Ref

PERIODS: dict[str | None, tuple[str, str, str]] = {
    None: ("", "", ""),
    "day": ("daily", "sent_date", "UTC day of the emails' first send."),
    "week": ("weekly", "sent_week", "Monday (UTC) of the week of the emails' first send."),
}
"""Period -> (view name prefix, period column, its meaning)."""

GROUPS: dict[str | None, str] = {
    None: "",
    "sender": "The sender's email address (`from_id`).",
    "subject": "Subject line of the email.",
}
"""Grouping column of ``emails`` -> its meaning."""


@dataclass(frozen=True)
class Measure:
    """A count or rate column of the rate models."""

    name: str
    definition: str
    sql: str
    """Expression over ``emails`` (counts) or over the counts (rates)."""


def _count_where(condition: str) -> str:
    return f"COUNT(CASE WHEN {condition} THEN 1 END)"


_DELIVERED = f"{ident('bounced_at')} IS NULL"

COUNTS: tuple[Measure, ...] = (
    Measure("sent", "Emails with an Email Sent event.", "COUNT(*)"),
    Measure("bounced", "Sent emails with an Email Bounced event.", f"COUNT({ident('bounced_at')})"),
    Measure("delivered", "sent - bounced.", _count_where(_DELIVERED)),
    Measure("opened", "Delivered emails opened at least once.",
            _count_where(f"{_DELIVERED} AND {ident('first_opened_at')} IS NOT NULL")),
    Measure("clicked", "Delivered emails with at least one Link Clicked.",
            _count_where(f"{_DELIVERED} AND {ident('first_clicked_at')} IS NOT NULL")),
    Measure("replied", "Delivered emails with an Email Replied event.",
            _count_where(f"{_DELIVERED} AND {ident('replied_at')} IS NOT NULL")),
    Measure("unsubscribed", "Delivered emails with an Email Unsubscribed event.",
            _count_where(f"{_DELIVERED} AND {ident('unsubscribed_at')} IS NOT NULL")),
)
"""Counts of each cohort, in view order."""


def _ratio(numerator: str, denominator: str) -> str:
    # The cast avoids integer division on both engines, and NULLIF turns 0/0 into NULL.
    return f"CAST({ident(numerator)} AS DOUBLE PRECISION) / NULLIF({ident(denominator)}, 0)"


RATES: tuple[Measure, ...] = (
    Measure("delivery_rate", "delivered / sent.", _ratio("delivered", "sent")),
    Measure("bounce_rate", "bounced / sent.", _ratio("bounced", "sent")),
    Measure("open_rate", "opened / delivered.", _ratio("opened", "delivered")),
    Measure("click_rate", "clicked / delivered.", _ratio("clicked", "delivered")),
    Measure("click_to_open_rate", "clicked / opened; can pass 1 when clicks arrive from "
            "prospects whose opens were not tracked (images blocked).", _ratio("clicked", "opened")),
    Measure("reply_rate", "replied / delivered.", _ratio("replied", "delivered")),
    Measure("unsubscribe_rate", "unsubscribed / delivered.", _ratio("unsubscribed", "delivered")),
)
"""Rates between the counts, in view order. A rate is NULL when its denominator is 0."""


def rates_view_name(period: str | None, group: str | None) -> str:
    """Return the model name for a period and group: ``funnel``, ``weekly_sender_rates``, ..."""
    prefix = PERIODS[period][0]
    if period is None and group is None:
        return "funnel"
    parts = [part for part in (prefix, group, "rates") if part]
    return "_".join(parts)


def key_columns(period: str | None, group: str | None) -> list[tuple[str, str]]:
    """Return the (name, meaning) of the columns a rate model is grouped by."""
    keys = []
    if period is not None:
        keys.append((PERIODS[period][1], PERIODS[period][2]))
    if group is not None:
        keys.append((group, GROUPS[group]))
    return keys


def rates_select(period: str | None, group: str | None, model: Ref) -> str:
    """Return the SELECT of a rate model over ``emails``.

    ``period`` is None (all time), ``day`` or ``week``; ``group`` is None, ``sender`` or
    ``subject``. Without both, the result is one row even when no email was sent.
    """
    first_sent = ident("first_sent_at")
    keys: list[tuple[str, str]] = []
    if period == "day":
        keys.append((f"CAST({first_sent} AS DATE)", PERIODS[period][1]))
    elif period == "week":
        keys.append((f"CAST(date_trunc('week', {first_sent}) AS DATE)", PERIODS[period][1]))
    if group is not None:
        keys.append((ident(group), group))

    selected = [f"{expression} AS {ident(name)}" for expression, name in keys]
    selected += [f"{measure.sql} AS {ident(measure.name)}" for measure in COUNTS]
    cohort = (
        "SELECT " + ",\n    ".join(selected)
        + f"\n  FROM {model('emails')}\n  WHERE {first_sent} IS NOT NULL"
    )
    if keys:
        cohort += "\n  GROUP BY " + ", ".join(expression for expression, _ in keys)

    outer = [ident(name) for _, name in keys] + [ident(measure.name) for measure in COUNTS]
    outer += [f"{measure.sql} AS {ident(measure.name)}" for measure in RATES]
    return "SELECT " + ",\n  ".join(outer) + f"\nFROM (\n  {cohort}\n) AS {ident('cohort')}"
