"""The tracking plan as Markdown (docs/tracking-plan.md) and as JSON."""

from __future__ import annotations

from typing import Any

from klenty_wh.plan.model import Plan, Presence


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """Return the plan as plain data, in the same shape as the YAML file."""
    return {
        "version": plan.version,
        "source": vars(plan.source),
        "standard_columns": [
            {"name": c.name, "type": c.type.value, "from": c.raw_path, "format": c.format,
             "description": c.description}
            for c in plan.standard_columns
        ],
        "profile_columns": [
            {"name": c.name, "type": c.type.value, "profile": c.profile, "description": c.description}
            for c in plan.profile_columns
        ],
        "properties": [
            {"key": p.key, "column": p.column, "type": p.type.value, "format": p.format,
             "non_empty": p.non_empty, "sample": p.sample, "description": p.description}
            for p in plan.properties
        ],
        "events": [
            {"name": e.name, "table": e.table, "description": e.description,
             "properties": {key: presence.value for key, presence in e.presence.items()},
             "freshness": e.freshness.value, "sample": vars(e.sample)}
            for e in plan.events
        ],
        "thresholds": vars(plan.thresholds),
        "formats": dict(plan.formats),
    }


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|")


def plan_to_markdown(plan: Plan) -> str:
    """Return the reference page for the plan's tables and columns."""
    lines = [
        "# Klenty tracking plan",
        "",
        f"Generated from `schema/{plan.path.name}` by "
        f"`klenty-wh plan --format markdown --output docs/tracking-plan.md`. "
        "Edit the plan, not this page; a test fails while the two disagree.",
        "",
        f"Source: **{plan.source.name}**, a {plan.source.kind} (Segment catalog id "
        f"`{plan.source.segment_catalog_id}`, [documentation]({plan.source.documentation})). "
        f"Default schema: `{plan.source.default_schema}`.",
        "",
        "## Tables",
        "",
        "Every call lands in `tracks` (standard columns only) and in its event table "
        "(standard columns plus the event's properties).",
        "",
        "| Event | Table | Freshness | Description |",
        "|---|---|---|---|",
    ]
    lines += [f"| {_cell(e.name)} | `{e.table}` | {e.freshness.value} | {_cell(e.description)} |"
              for e in plan.events]
    lines += ["", "## Standard columns", "",
              "On `tracks` and on every event table.", "",
              "| Column | Type | From | Description |", "|---|---|---|---|"]
    lines += [f"| `{c.name}` | {c.type.value}{' (' + c.format + ')' if c.format else ''} | "
              f"{'`' + c.raw_path + '`' if c.raw_path else 'loader'} | {_cell(c.description)} |"
              for c in plan.standard_columns]
    if plan.profile_columns:
        lines += ["", "Added only under a loader profile:", "",
                  "| Column | Type | Profile | Description |", "|---|---|---|---|"]
        lines += [f"| `{c.name}` | {c.type.value} | {c.profile} | {_cell(c.description)} |"
                  for c in plan.profile_columns]
    lines += ["", "## Properties", "",
              "| Property key | Column | Type | Format | Description |", "|---|---|---|---|---|"]
    lines += [f"| `{p.key}` | `{p.column}` | {p.type.value} | {p.format or ''}"
              f"{' (not empty)' if p.non_empty else ''} | {_cell(p.description)} |"
              for p in plan.properties]
    if plan.formats:
        lines += ["", "Formats are checked with these regular expressions:", ""]
        lines += [f"- {name}: `{pattern}`" for name, pattern in plan.formats.items()]
    lines += ["", "## Properties by event", "",
              "| Table | " + " | ".join(f"`{p.column}`" for p in plan.properties) + " |",
              "|---|" + "---|" * len(plan.properties)]
    for event in plan.events:
        marks = [_presence_mark(event.presence.get(p.key, Presence.NOT_APPLICABLE)) for p in plan.properties]
        lines.append(f"| `{event.table}` | " + " | ".join(marks) + " |")
    lines += ["", "A column marked n/a does not exist on that table unless a non-null value arrives.",
              "", "## Thresholds used by the checks", "",
              f"- `user_id` must be present on at least {plan.thresholds.user_id_min_share:.0%} "
              "of the rows of each table (Klenty sends it when available).",
              f"- `timestamp` may be at most {plan.thresholds.timestamp_tolerance_seconds} seconds "
              "later than `received_at`.", ""]
    return "\n".join(lines)


def _presence_mark(presence: Presence) -> str:
    return {Presence.REQUIRED: "required", Presence.OPTIONAL: "optional",
            Presence.NOT_APPLICABLE: "n/a"}[presence]
