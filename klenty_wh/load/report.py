"""The result of a load: what happened to every record, per file and in total."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FileCounts:
    """Outcome counts of the records of one input file.

    ``read = loaded + duplicates + skipped + rejected`` holds for every file.
    """

    file: str
    format: str
    read: int = 0
    loaded: int = 0
    duplicates: int = 0
    skipped: int = 0
    rejected: int = 0

    @property
    def balanced(self) -> bool:
        """Return whether every record read has exactly one outcome."""
        return self.read == self.loaded + self.duplicates + self.skipped + self.rejected


@dataclass
class LoadReport:
    """Everything a load did; :meth:`to_dict` gives the JSON form of ``--format json``."""

    schema: str
    warehouse: str
    load_id: str
    dedupe: str
    profile: str
    files: list[FileCounts] = field(default_factory=list)
    loaded_by_table: dict[str, int] = field(default_factory=dict)
    replaced_by_table: dict[str, int] = field(default_factory=dict)
    skipped_by_type: Counter = field(default_factory=Counter)
    rejected_by_reason: Counter = field(default_factory=Counter)
    adjustments: Counter = field(default_factory=Counter)
    """Counts of each kind of change made to values (see :data:`ADJUSTMENT_LABELS`)."""
    details: list[str] = field(default_factory=list)
    """One line per column-level adjustment or drop, for the detailed report."""
    drift: list[str] = field(default_factory=list)
    """Tables and columns created for data outside the tracking plan."""
    created_tables: list[str] = field(default_factory=list)
    added_columns: list[str] = field(default_factory=list)
    rejects_stored: int = 0
    seconds: float = 0.0
    step_seconds: dict[str, float] = field(default_factory=dict)
    """Wall seconds per step of the load (reading each file, staging, each table, commit)."""

    @property
    def read(self) -> int:
        """Return the records read across all files."""
        return sum(f.read for f in self.files)

    @property
    def loaded(self) -> int:
        """Return the records that produced a new row in their event table."""
        return sum(f.loaded for f in self.files)

    @property
    def duplicates(self) -> int:
        """Return the records whose id was already loaded (in this load or before)."""
        return sum(f.duplicates for f in self.files)

    @property
    def skipped(self) -> int:
        """Return the non-track calls that were skipped."""
        return sum(f.skipped for f in self.files)

    @property
    def rejected(self) -> int:
        """Return the records rejected, each kept in ``klenty_wh.rejected_records``."""
        return sum(f.rejected for f in self.files)

    @property
    def changed(self) -> bool:
        """Return whether the load wrote or altered anything in the Segment schema."""
        return bool(sum(self.loaded_by_table.values()) or self.created_tables or self.added_columns
                    or sum(self.replaced_by_table.values()))

    @property
    def warnings(self) -> int:
        """Return the number of adjusted values, drops and drift items."""
        return sum(self.adjustments.values()) + len(self.drift)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {
            "schema": self.schema,
            "warehouse": self.warehouse,
            "load_id": self.load_id,
            "dedupe": self.dedupe,
            "profile": self.profile,
            "changed": self.changed,
            "read": self.read,
            "loaded": dict(self.loaded_by_table),
            "loaded_records": self.loaded,
            "replaced": dict(self.replaced_by_table),
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "skipped_by_type": dict(self.skipped_by_type),
            "rejected": self.rejected,
            "rejected_by_reason": dict(self.rejected_by_reason),
            "warnings": dict(self.adjustments),
            "warning_details": list(self.details),
            "drift": list(self.drift),
            "created_tables": list(self.created_tables),
            "added_columns": list(self.added_columns),
            "files": [
                {"file": f.file, "format": f.format, "read": f.read, "loaded": f.loaded,
                 "duplicates": f.duplicates, "skipped": f.skipped, "rejected": f.rejected}
                for f in self.files
            ],
            "seconds": round(self.seconds, 3),
            "step_seconds": {step: round(seconds, 3) for step, seconds in self.step_seconds.items()},
        }


ADJUSTMENT_LABELS = {
    "generated_ids": "records without a usable messageId got an id from file, line and content",
    "message_id_case": "records had a 'messageid' key (wrong case), which is not messageId",
    "message_id_numbers": "numeric messageIds were stored as text",
    "user_id_numbers": "numeric userIds were stored as text",
    "anonymous_id_numbers": "numeric anonymousIds were stored as text",
    "empty_identities": "empty userId or anonymousId strings were stored as NULL",
    "properties_ignored": "properties values that were not objects were ignored",
    "context_ignored": "context values that were not objects were ignored",
    "received_at_assigned": "raw API calls without receivedAt got the load time as received_at",
    "received_at_fallback": "unreadable receivedAt values were replaced by the load time",
    "timestamp_fallback": "unreadable timestamp values: timestamp computed from the other times",
    "sent_at_null": "unreadable sentAt values were stored as NULL",
    "original_timestamp_null": "unreadable originalTimestamp values were stored as NULL",
    "future_timestamps": "timestamps later than the load time were kept",
    "dropped_reserved_properties": "property values named like Segment columns were dropped",
    "dropped_properties": "property or context values without a column were dropped (see details)",
    "converted_values": "values of another JSON type were converted to the column type",
    "cast_to_null": "values that could not be cast to the column type were stored as NULL",
    "key_conflicts": "rows had two keys with different values for one column (first key kept)",
    "repaired_strings": "strings had NUL characters removed or lone surrogates replaced",
    "truncated_values": "text values were cut to the varchar limit",
    "null_only_keys": "keys held only null, so no column was created for them",
}
