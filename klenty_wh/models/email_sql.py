"""SQL of the event-level models: ``email_events`` (every event) and ``emails`` (one row per email).

Both are plain SELECT statements in the SQL that DuckDB and PostgreSQL share: CASE, COUNT,
MIN, MAX, ROW_NUMBER, CAST, EXTRACT(EPOCH FROM ...) and NULLIF, with no dialect functions.
Every identifier goes through :func:`klenty_wh.load.sql.ident`.
"""

from __future__ import annotations

from collections.abc import Callable

from klenty_wh.load.sql import ident, literal
from klenty_wh.models.outreach import SQL_TYPES, Attribute, Outreach

Ref = Callable[[str], str]
"""Turn a table or model name into the SQL that refers to it."""

EMAIL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("email_id", "Klenty's id of the email; one row per id."),
    ("sender", "The sender's email address (`from_id`)."),
    ("prospect", "The prospect's email address (`user_id`); NULL when every event of the email "
                 "came without userId."),
    ("subject", "Subject line of the email (`email_subject`); empty subjects count as missing."),
    ("first_sent_at", "`timestamp` of the first Email Sent event; NULL when the send is not in "
                      "the warehouse (sent before the data starts)."),
    ("first_opened_at", "`timestamp` of the first Email Opened event."),
    ("first_clicked_at", "`timestamp` of the first Link Clicked event."),
    ("replied_at", "`timestamp` of the first Email Replied event."),
    ("bounced_at", "`timestamp` of the first Email Bounced event."),
    ("unsubscribed_at", "`timestamp` of the first Email Unsubscribed event."),
    ("opens", "Number of Email Opened events (a prospect may open an email several times)."),
    ("clicks", "Number of Link Clicked events."),
    ("delivered", "True when the email was sent and did not bounce."),
    ("hours_to_first_open", "Hours from `first_sent_at` to `first_opened_at`."),
    ("hours_to_reply", "Hours from `first_sent_at` to `replied_at`."),
)
"""Columns of ``emails`` with their meaning, in view order."""

# Timestamp column of each step in ``emails``, in funnel order after the send.
_STEP_TIMES = (
    ("sent", "first_sent_at"),
    ("opened", "first_opened_at"),
    ("clicked", "first_clicked_at"),
    ("replied", "replied_at"),
    ("bounced", "bounced_at"),
    ("unsubscribed", "unsubscribed_at"),
)
_STEP_COUNTS = (("opened", "opens"), ("clicked", "clicks"))


def email_events_select(outreach: Outreach, table: Ref) -> str:
    """Return the SELECT that stacks every event table of the plan, one row per event.

    A property the plan marks not applicable for an event is NULL on that event's rows, so
    every branch of the UNION ALL has the same columns in the same order.
    """
    branches = []
    for event in outreach.events:
        present = outreach.table_columns[event.table]
        columns = [
            ident(name) if name in present else f"CAST(NULL AS {SQL_TYPES[column_type]}) AS {ident(name)}"
            for name, column_type in outreach.union_columns
        ]
        branches.append("SELECT " + ", ".join(columns) + f"\nFROM {table(event.table)}")
    return "\nUNION ALL\n".join(branches)


def emails_select(outreach: Outreach, model: Ref) -> str:
    """Return the SELECT of ``emails``: one row per email id, from ``email_events``.

    Steps:

    1. Rank each email's events once per attribute: rows that carry the attribute first,
       then Email Sent before other events, then by ``timestamp``, ``received_at`` and ``id``.
    2. Take each attribute from its first-ranked row, so the sender, prospect and subject
       come from the send when it has them and from the earliest other event when not.
    3. Take the first time and the count of each step.
    """
    email_id = ident(outreach.email_id)
    sent = literal(outreach.step_tables["sent"])
    ranks = [
        f"ROW_NUMBER() OVER (PARTITION BY {email_id} ORDER BY "
        f"CASE WHEN {_value(attribute)} IS NULL THEN 1 ELSE 0 END, "
        f"CASE WHEN {ident('event')} = {sent} THEN 0 ELSE 1 END, "
        f"{ident('timestamp')}, {ident('received_at')}, {ident('id')}) AS {ident(attribute.name + '_rank')}"
        for attribute in outreach.attributes
    ]
    ranked = (
        f"SELECT {email_id}, {ident('event')}, {ident('timestamp')}, "
        + ", ".join(f"{_value(attribute)} AS {ident(attribute.name)}" for attribute in outreach.attributes)
        + ",\n    " + ",\n    ".join(ranks)
        + f"\n  FROM {model('email_events')}\n  WHERE {email_id} IS NOT NULL"
    )
    picks = [
        f"MAX(CASE WHEN {ident(attribute.name + '_rank')} = 1 THEN {ident(attribute.name)} END) "
        f"AS {ident(attribute.name)}"
        for attribute in outreach.attributes
    ]
    times = [f"MIN({_when(outreach, step, ident('timestamp'))}) AS {ident(name)}" for step, name in _STEP_TIMES]
    counts = [f"COUNT({_when(outreach, step, '1')}) AS {ident(name)}" for step, name in _STEP_COUNTS]
    grouped = (
        f"SELECT {email_id} AS {ident('email_id')},\n    "
        + ",\n    ".join(picks + times + counts)
        + f"\n  FROM (\n  {ranked}\n  ) AS {ident('ranked')}\n  GROUP BY {email_id}"
    )
    first_sent, bounced = ident("first_sent_at"), ident("bounced_at")
    derived = [
        f"CASE WHEN {first_sent} IS NOT NULL AND {bounced} IS NULL THEN TRUE ELSE FALSE END "
        f"AS {ident('delivered')}",
        f"{_hours(first_sent, ident('first_opened_at'))} AS {ident('hours_to_first_open')}",
        f"{_hours(first_sent, ident('replied_at'))} AS {ident('hours_to_reply')}",
    ]
    names = [name for name, _ in EMAIL_COLUMNS[: -len(derived)]]
    return (
        "SELECT " + ", ".join(ident(name) for name in names) + ",\n  " + ",\n  ".join(derived)
        + f"\nFROM (\n  {grouped}\n) AS {ident('per_email')}"
    )


def _value(attribute: Attribute) -> str:
    column = ident(attribute.source)
    return f"NULLIF({column}, '')" if attribute.empty_is_missing else column


def _when(outreach: Outreach, step: str, value: str) -> str:
    return f"CASE WHEN {ident('event')} = {literal(outreach.step_tables[step])} THEN {value} END"


def _hours(start: str, end: str) -> str:
    # EXTRACT(EPOCH ...) is numeric on PostgreSQL and DOUBLE on DuckDB, so the cast makes both DOUBLE.
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION) / 3600"
