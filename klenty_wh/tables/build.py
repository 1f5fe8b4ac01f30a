"""The warehouse tables a tracking plan implies, as SQLAlchemy ``Table`` objects."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.types import TypeEngine

from klenty_wh.errors import UsageError
from klenty_wh.plan.model import LogicalType, Plan
from klenty_wh.plan.names import redshift_identifier

PROFILES = ("default", "redshift", "bigquery")
"""Loader profiles: ``redshift`` and ``bigquery`` add the columns and rules of those loaders."""

TOOL_SCHEMA = "klenty_wh"
"""klenty-wh's own schema, kept apart from Segment's schema, which keeps Segment's shape."""

REJECTED_TABLE = "rejected_records"

# Segment's Redshift loader creates every text column as VARCHAR(512).
_REDSHIFT_VARCHAR_LENGTH = 512


def check_profile(profile: str) -> str:
    """Return ``profile`` when it is known.

    Raises:
        UsageError: the profile is not one of :data:`PROFILES`.
    """
    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}.")
    return profile


def sa_type(logical_type: LogicalType, profile: str = "default") -> TypeEngine:
    """Return the SQLAlchemy type that stores ``logical_type`` under ``profile``."""
    if logical_type is LogicalType.TEXT:
        return sa.String(_REDSHIFT_VARCHAR_LENGTH) if profile == "redshift" else sa.String()
    if logical_type is LogicalType.INTEGER:
        return sa.BigInteger()
    if logical_type is LogicalType.FLOAT:
        return sa.Double()
    if logical_type is LogicalType.BOOLEAN:
        return sa.Boolean()
    return sa.TIMESTAMP(timezone=False)


def data_identifier(name: str, profile: str = "default") -> str:
    """Return the warehouse name for a table or column name derived from data.

    Under the ``redshift`` profile, names that start with a digit or are Redshift reserved
    words get a leading ``_``, as Segment's Redshift loader does. Segment's own standard
    columns (``timestamp`` among them) keep their names.
    """
    return redshift_identifier(name) if profile == "redshift" else name


def event_table(metadata: sa.MetaData, schema: str, name: str,
                columns: Iterable[tuple[str, LogicalType]], profile: str = "default") -> sa.Table:
    """Add a table with ``columns`` (name, logical type) to ``metadata`` and return it."""
    return sa.Table(
        name,
        metadata,
        *(sa.Column(column, sa_type(column_type, profile), info={"logical_type": column_type})
          for column, column_type in columns),
        schema=schema,
    )


def build_metadata(plan: Plan, schema: str, profile: str = "default") -> sa.MetaData:
    """Return the documented tables of ``plan`` in ``schema``: ``tracks`` plus one per event."""
    metadata = sa.MetaData()
    standard = [(column.name, column.type) for column in plan.columns_for(None, profile)]
    event_table(metadata, schema, "tracks", standard, profile)
    for event in plan.events:
        properties = [(data_identifier(prop.column, profile), prop.type)
                      for prop, _ in event.properties_in(plan)]
        event_table(metadata, schema, data_identifier(event.table, profile),
                    standard + properties, profile)
    return metadata


def rejected_records_table(metadata: sa.MetaData) -> sa.Table:
    """Add klenty-wh's table of rejected input records to ``metadata`` and return it."""
    return sa.Table(
        REJECTED_TABLE,
        metadata,
        sa.Column("record_key", sa.String(), comment="md5 of target schema, file name, line and raw text"),
        sa.Column("load_id", sa.String()),
        sa.Column("rejected_at", sa.TIMESTAMP(timezone=False)),
        sa.Column("target_schema", sa.String()),
        sa.Column("source_file", sa.String()),
        sa.Column("line", sa.BigInteger(),
                  comment="1-based line of an NDJSON file; element or document number of a JSON file; row of a CSV"),
        sa.Column("item", sa.Integer(), comment="1-based item number inside an HTTP API batch body"),
        sa.Column("byte_offset", sa.BigInteger()),
        sa.Column("reason", sa.String()),
        sa.Column("raw", sa.String(), comment="the record as read; NUL and invalid UTF-8 bytes appear as \\xNN, writeKey values as ***"),
        schema=TOOL_SCHEMA,
    )
