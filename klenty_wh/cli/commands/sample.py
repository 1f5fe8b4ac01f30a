"""``klenty-wh sample``: write realistic Klenty exports to try everything without data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from klenty_wh.cli.console import consoles, print_raw
from klenty_wh.cli.options import PlanOption, TextOrJsonOption, require_choice

EPILOG = (
    "Example: klenty-wh sample --events 100000 --seed 7 --out sample.ndjson.gz\n\n"
    "The same seed always writes the same bytes. --layout s3 writes "
    "OUT/segment-logs/<source-id>/<day-ms>/*.gz, one gzip file per day of receipt. "
    "--defects 0.02 plants faults in about 2% of the calls (a required property missing, an "
    "empty subject, link missing on Link Clicked, a cut-off line) and prints what it planted; "
    "the sample then fails `klenty-wh check` on purpose."
)


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("sample", epilog=EPILOG)(sample_command)


def sample_command(
    events: Annotated[int, typer.Option("--events", "-n", help="Number of calls to write.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same output.")] = 7,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file (.ndjson or .ndjson.gz), or "
                                      "folder with --layout s3.")] = Path("sample.ndjson.gz"),
    layout: Annotated[str, typer.Option("--layout", help="file (one NDJSON file) or s3 (Segment's S3 "
                                        "folder layout).")] = "file",
    defects: Annotated[float, typer.Option("--defects", help="Share of calls, from 0 to 1, that get "
                                           "a planted fault.")] = 0.0,
    plan_path: PlanOption = None,
    output_format: TextOrJsonOption = "text",
) -> None:
    """Write deterministic, realistic Klenty calls in Segment's raw export format."""
    from klenty_wh.errors import UsageError
    from klenty_wh.plan import load_plan
    from klenty_wh.sample.generate import DEFECT_KINDS, write_sample

    if events < 1:
        raise UsageError(f"--events must be at least 1, found {events}.")
    require_choice("--layout", layout, ("file", "s3"))
    if not 0.0 <= defects <= 1.0:
        raise UsageError(f"--defects is a share from 0 to 1, found {defects}; for 2% pass 0.02.")
    require_choice("--format", output_format, ("text", "json"))
    if layout == "file" and out.is_dir():
        raise UsageError(f"--out {out} is a folder; pass a file name such as sample.ndjson.gz, or --layout s3.")
    plan = load_plan(plan_path)
    summary = write_sample(plan, events, seed, out, layout=layout, defects=defects)
    if output_format == "json":
        print_raw(json.dumps(summary.to_dict(), indent=2))
        return
    console = consoles.out
    where = f"{summary.files} daily files under {out}" if layout == "s3" else str(out)
    console.print(f"Wrote {summary.events:,} calls for {summary.emails:,} emails to {where} "
                  f"(seed {seed}; {summary.duplicates:,} repeated deliveries, {summary.anonymous:,} "
                  f"calls without userId).", markup=False)
    for name, count in summary.by_event.items():
        console.print(f"  {name}: {count:,}", markup=False)
    if defects:
        planted = sum(summary.defects.values())
        console.print(f"Planted {planted:,} defects ({defects:.1%} of calls):", markup=False)
        for kind in DEFECT_KINDS:
            console.print(f"  {kind.replace('_', ' ')}: {summary.defects.get(kind, 0):,}", markup=False)
