"""The table and column reference of docs/analyst.md, generated from the plan and the models.

The reference sits between two marker lines in the guide. Refresh it after changing the
plan or a model with ``python -m klenty_wh.models.reference docs/analyst.md``; a test fails
while the guide and the generated text differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

from klenty_wh.models.build import models_schema_name
from klenty_wh.models.catalog import model_views
from klenty_wh.models.outreach import outreach_from_plan
from klenty_wh.models.rates_sql import COUNTS, RATES
from klenty_wh.plan import load_plan
from klenty_wh.plan.model import Plan, Presence

BEGIN = "<!-- BEGIN generated reference: python -m klenty_wh.models.reference docs/analyst.md -->"
END = "<!-- END generated reference -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def reference_markdown(plan: Plan) -> str:
    """Return the Markdown reference of the Segment tables and the model views of ``plan``."""
    schema = plan.source.default_schema
    lines = [
        f"### Segment tables (schema `{schema}`)",
        "",
        "Every call is a row of `tracks` (standard columns only) and a row of its event table "
        "(standard columns plus the event's properties).",
        "",
        "| Table | Event | Meaning |",
        "|---|---|---|",
        "| `tracks` | every event | One row per call, whatever the event. |",
    ]
    lines += [f"| `{event.table}` | {event.name} | {_cell(event.description)} |" for event in plan.events]
    lines += ["", "Standard columns, on `tracks` and on every event table:", "",
              "| Column | Type | Meaning |", "|---|---|---|"]
    lines += [f"| `{column.name}` | {column.type.value} | {_cell(column.description)} |"
              for column in plan.standard_columns]
    lines += ["", "Property columns, on the event tables that carry them:", "",
              "| Column | Property | Type | Tables | Meaning |", "|---|---|---|---|---|"]
    for prop in plan.properties:
        carried = [f"`{event.table}`" for event in plan.events
                   if event.presence.get(prop.key, Presence.NOT_APPLICABLE) is not Presence.NOT_APPLICABLE]
        lines.append(f"| `{prop.column}` | `{prop.key}` | {prop.type.value} | {', '.join(carried)} | "
                     f"{_cell(prop.description)} |")

    lines += ["", f"### Models (schema `{models_schema_name(schema)}`)", "",
              "Created by `klenty-wh models`.", ""]
    views = model_views(plan, outreach_from_plan(plan))
    measure_names = {measure.name for measure in COUNTS + RATES}
    rate_views = [view for view in views if measure_names <= {name for name, _ in view.columns}]
    for view in views:
        if view in rate_views:
            continue
        lines += [f"#### `{view.name}`", "", _cell(view.description), "",
                  "| Column | Meaning |", "|---|---|"]
        lines += [f"| `{name}` | {_cell(meaning)} |" for name, meaning in view.columns]
        lines.append("")
    lines += ["#### Rate views", "",
              "Each rate view has the columns it is grouped by, then every count and rate below.", "",
              "| View | Grouped by | Meaning |", "|---|---|---|"]
    for view in rate_views:
        keys = [name for name, _ in view.columns if name not in measure_names]
        grouped = ", ".join(f"`{key}`" for key in keys) or "nothing (one row)"
        lines.append(f"| `{view.name}` | {grouped} | {_cell(view.description)} |")
    lines += ["", "Grouping columns: `sent_date` is the UTC day of the email's first send, `sent_week` "
              "the Monday (UTC) of that week, `sender` the sender's address and `subject` the subject line.",
              "", "| Count or rate | Definition |", "|---|---|"]
    lines += [f"| `{measure.name}` | {_cell(measure.definition)} |" for measure in COUNTS + RATES]
    return "\n".join(lines).rstrip("\n") + "\n"


def replace_reference(text: str, plan: Plan) -> str:
    """Return ``text`` with the part between the marker lines replaced by the current reference.

    Raises:
        ValueError: the marker lines are missing or out of order.
    """
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the guide lacks the marker lines {BEGIN!r} and {END!r}, in that order")
    return text[: start + len(BEGIN)] + "\n\n" + reference_markdown(plan) + "\n" + text[end:]


def main(argv: list[str]) -> int:
    """Rewrite the reference part of the guide given as the only argument; return the exit status."""
    if len(argv) != 1:
        print("usage: python -m klenty_wh.models.reference docs/analyst.md", file=sys.stderr)
        return 2
    path = Path(argv[0])
    text = path.read_text(encoding="utf-8")
    updated = replace_reference(text, load_plan())
    if updated != text:
        path.write_text(updated, encoding="utf-8")
        print(f"updated the reference in {path}")
    else:
        print(f"the reference in {path} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
