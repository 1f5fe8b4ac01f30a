"""The numbers of the outreach report, read from the warehouse through the model queries.

The report compiles each model into one standalone query
(:func:`klenty_wh.models.standalone_query`), so it works on a read-only connection and
does not need ``klenty-wh models`` to have run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from klenty_wh.errors import WarehouseError
from klenty_wh.models import standalone_query
from klenty_wh.models.build import check_source_tables
from klenty_wh.models.outreach import outreach_from_plan
from klenty_wh.plan.model import Plan
from klenty_wh.warehouse.connection import Warehouse, driver_message
from klenty_wh.warehouse.introspect import list_schemas

TOP_SUBJECTS = 10
"""Subject lines listed in the report: the ones with the most sent emails."""

Row = dict[str, Any]


@dataclass
class OutreachData:
    """Funnel, rates over time and league tables of one Segment schema."""

    schema: str
    funnel: Row
    daily: list[Row] = field(default_factory=list)
    weekly: list[Row] = field(default_factory=list)
    senders: list[Row] = field(default_factory=list)
    subjects: list[Row] = field(default_factory=list)
    subject_count: int = 0
    """Number of distinct subject lines, of which ``subjects`` contains the top :data:`TOP_SUBJECTS`."""

    @property
    def first_day(self) -> date | None:
        """Return the first UTC day with a sent email, or None when nothing was sent."""
        return self.daily[0]["sent_date"] if self.daily else None

    @property
    def last_day(self) -> date | None:
        """Return the last UTC day with a sent email, or None when nothing was sent."""
        return self.daily[-1]["sent_date"] if self.daily else None


def read_outreach(warehouse: Warehouse, plan: Plan, schema: str) -> OutreachData:
    """Read the report's numbers for ``schema``.

    Raises:
        PlanError: the plan lacks an event or property the models need.
        WarehouseError: the schema or a documented table is missing, or a query failed.
    """
    outreach = outreach_from_plan(plan)
    try:
        with warehouse.engine.connect() as connection:
            check_source_tables(connection, list_schemas(connection), schema, outreach)

            def fetch(model: str) -> list[Row]:
                result = connection.execute(sa.text(standalone_query(plan, schema, model)))
                return [dict(row) for row in result.mappings()]

            funnel = fetch("funnel")[0]
            daily = sorted(fetch("daily_rates"), key=lambda row: row["sent_date"])
            weekly = sorted(fetch("weekly_rates"), key=lambda row: row["sent_week"])
            senders = sorted(fetch("sender_rates"), key=_league_order)
            subjects = sorted(fetch("subject_rates"), key=lambda row: (-row["sent"], row["subject"] or ""))
    except DBAPIError as exc:
        raise WarehouseError(
            f"reading the report's numbers from {schema!r} on {warehouse.display} failed: "
            f"{driver_message(exc)}."
        ) from exc
    return OutreachData(schema=schema, funnel=funnel, daily=daily, weekly=weekly, senders=senders,
                        subjects=subjects[:TOP_SUBJECTS], subject_count=len(subjects))


def _league_order(row: Row) -> tuple:
    """Highest reply rate first; senders with no delivered email last; ties by volume."""
    rate = row["reply_rate"]
    return (rate is None, -(rate or 0.0), -row["sent"], row["sender"] or "")
