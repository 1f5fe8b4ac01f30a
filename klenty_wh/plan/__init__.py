"""The tracking plan (``schema/klenty.yaml``) and Segment's naming rules."""

from klenty_wh.plan.load import load_plan
from klenty_wh.plan.model import Column, Event, LogicalType, Plan, Presence, Property
from klenty_wh.plan.names import schema_from_nickname, snakecase

__all__ = [
    "Column",
    "Event",
    "LogicalType",
    "Plan",
    "Presence",
    "Property",
    "load_plan",
    "schema_from_nickname",
    "snakecase",
]
