"""Benchmark `klenty-wh load` and `klenty-wh check` against bare DuckDB baselines.

Usage (from the repository root, in the virtual environment of the README):

    python bench/run.py                      # 1M and 5M events, about 10 minutes
    python bench/run.py --events 200000      # one smaller size, for a quick look

For each size N it:

1. writes N sample events (`klenty-wh sample`, one .ndjson.gz file; not timed);
2. times a bare DuckDB `read_json` of that file into one table (the floor);
3. times `klenty-wh init` + `klenty-wh load` of the file into a new DuckDB file, and
   records the peak resident memory of the load process;
4. times `klenty-wh check` on the loaded file, and a hand-written SQL query per table
   that computes the same counts in one scan (the check floor).

It also times `klenty-wh check` on a 1,000-event warehouse: its start-up cost. Every
command runs in its own process, as a user would run it. Results are printed as a
Markdown table and written to bench/out/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out"
EVENT_TABLES = ["email_sent", "email_opened", "link_clicked", "email_replied", "email_bounced", "email_unsubscribed"]
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
URL = r"^https?://[^\s/?#]+([/?#]\S*)?$"


def klenty(*args: str) -> list[str]:
    return [sys.executable, "-m", "klenty_wh", *args]


def run_timed(command: list[str], allowed: tuple[int, ...] = (0,)) -> tuple[float, int, str]:
    """Run ``command``; return (wall seconds, peak resident memory in MiB, stdout)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        code = os.waitstatus_to_exitcode(status)
        if code not in allowed:
            raise SystemExit(f"{' '.join(command)} exited {code}: {err.read().decode()[-2000:]}")
        return seconds, usage.ru_maxrss // 1024, out.read().decode()


def floor_read_json(sample: Path, work: Path) -> float:
    database = work / "floor.duckdb"
    database.unlink(missing_ok=True)
    connection = duckdb.connect(str(database))
    connection.execute("SET enable_progress_bar = false")
    started = time.perf_counter()
    connection.execute(f"CREATE TABLE events AS SELECT * FROM read_json('{sample}')")
    seconds = time.perf_counter() - started
    connection.close()
    database.unlink(missing_ok=True)
    return seconds


def single_scan_sql(database: Path) -> float:
    """Time hand-written SQL computing every count the check computes, one query per table."""
    connection = duckdb.connect(str(database), read_only=True)
    started = time.perf_counter()
    for table in ["tracks", *EVENT_TABLES]:
        counts = [
            "count(*)", "count(*) FILTER (WHERE id IS NULL)", "count(*) FILTER (WHERE received_at IS NULL)",
            "count(*) FILTER (WHERE event IS NOT NULL AND event NOT IN ('email_sent'))",
            "count(*) FILTER (WHERE user_id IS NULL)",
            f"count(*) FILTER (WHERE user_id IS NOT NULL AND NOT regexp_matches(user_id, '{EMAIL}'))",
            "count(*) FILTER (WHERE user_id IS NULL AND anonymous_id IS NULL)",
            "count(*) FILTER (WHERE \"timestamp\" > received_at + INTERVAL '300 seconds')",
            "(SELECT count(*) FROM (SELECT id FROM klenty_prod.{t} GROUP BY id HAVING count(*) > 1))",
        ]
        if table != "tracks":
            counts += [
                "count(*) FILTER (WHERE event_text IS NOT NULL AND event_text NOT IN ('x'))",
                "count(*) FILTER (WHERE email_id IS NULL)", "count(*) FILTER (WHERE from_id IS NULL)",
                f"count(*) FILTER (WHERE from_id IS NOT NULL AND NOT regexp_matches(from_id, '{EMAIL}'))",
                "count(*) FILTER (WHERE email_subject IS NULL)",
                "count(*) FILTER (WHERE email_subject IS NOT NULL AND length(email_subject) < 1)",
                f"(SELECT count(*) FROM klenty_prod.{table} e WHERE NOT EXISTS (SELECT 1 FROM "
                f"klenty_prod.tracks t WHERE t.id = e.id AND t.event = e.event))",
            ]
        if table == "link_clicked":
            counts += ["count(*) FILTER (WHERE link IS NULL)",
                       f"count(*) FILTER (WHERE link IS NOT NULL AND NOT regexp_matches(link, '{URL}'))"]
        sql = f"SELECT {', '.join(counts)} FROM klenty_prod.{table}".replace("{t}", table)
        connection.execute(sql).fetchall()
    seconds = time.perf_counter() - started
    connection.close()
    return seconds


def machine() -> dict:
    cpu = "unknown"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import great_expectations
    import sqlalchemy

    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(memory, 1), "python": platform.python_version(),
            "duckdb": duckdb.__version__, "sqlalchemy": sqlalchemy.__version__,
            "great_expectations": great_expectations.__version__, "os": platform.platform()}


def measure(events: int, work: Path) -> dict:
    sample = work / f"sample-{events}.ndjson.gz"
    if not sample.exists():
        print(f"writing {events:,} sample events ...", flush=True)
        subprocess.run(klenty("sample", "--events", str(events), "--seed", "7", "--out", str(sample)),
                       check=True, stdout=subprocess.DEVNULL)
    floor = floor_read_json(sample, work)
    database = work / f"warehouse-{events}.duckdb"
    database.unlink(missing_ok=True)
    url = f"duckdb:///{database}"
    init_seconds, _, _ = run_timed(klenty("init", "--url", url))
    load_seconds, load_mib, load_json = run_timed(klenty("load", str(sample), "--url", url, "--format", "json"))
    check_seconds, check_mib, _ = run_timed(klenty("check", "--url", url))
    scan_seconds = single_scan_sql(database)
    return {"events": events, "file_mib": round(sample.stat().st_size / 2**20, 1),
            "floor_read_json_s": round(floor, 2), "init_s": round(init_seconds, 2),
            "load_s": round(load_seconds, 2), "load_vs_floor": round(load_seconds / floor, 2),
            "load_peak_mib": load_mib, "check_s": round(check_seconds, 2), "check_peak_mib": check_mib,
            "single_scan_s": round(scan_seconds, 2),
            "load_steps_s": load_steps(load_json)}


def load_steps(report_json: str) -> dict[str, float]:
    """Return the seconds per load step, with the one input file named "the sample file"."""
    steps = json.loads(report_json)["step_seconds"]
    return {("reading the sample file" if step.startswith("reading ") else step): round(seconds, 2)
            for step, seconds in steps.items()}


def startup(work: Path) -> float:
    sample = work / "sample-1000.ndjson.gz"
    database = work / "warehouse-1000.duckdb"
    database.unlink(missing_ok=True)
    subprocess.run(klenty("sample", "--events", "1000", "--out", str(sample)), check=True, stdout=subprocess.DEVNULL)
    subprocess.run(klenty("load", str(sample), "--url", f"duckdb:///{database}"), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # A warehouse this small may fail the user_id share on a table of a few rows; only time matters.
    return min(run_timed(klenty("check", "--url", f"duckdb:///{database}"), allowed=(0, 1))[0] for _ in range(3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", default="1000000,5000000", help="comma-separated sizes (default 1M and 5M)")
    parser.add_argument("--keep", action="store_true", help="keep the sample and warehouse files in bench/out")
    args = parser.parse_args()
    sizes = [int(size) for size in args.events.split(",")]
    work = OUT / "work"
    work.mkdir(parents=True, exist_ok=True)
    results = {"machine": machine(), "command": " ".join(["python", "bench/run.py", *sys.argv[1:]]),
               "startup_check_s": round(startup(work), 2), "sizes": []}
    for size in sizes:
        print(f"measuring {size:,} events ...", flush=True)
        results["sizes"].append(measure(size, work))
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print_markdown(results)
    if not args.keep:
        shutil.rmtree(work)


def print_markdown(results: dict) -> None:
    start = results["startup_check_s"]
    print(f"\nMachine: {results['machine']}\nCommand: {results['command']}\n")
    print("| events | file | floor read_json | load | load / floor | load peak RSS | check | single-scan SQL "
          "| check / (2 × scan + start-up) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in results["sizes"]:
        budget = 2 * row["single_scan_s"] + start
        print(f"| {row['events']:,} | {row['file_mib']} MiB | {row['floor_read_json_s']} s | {row['load_s']} s | "
              f"{row['load_vs_floor']} | {row['load_peak_mib']} MiB | {row['check_s']} s | "
              f"{row['single_scan_s']} s | {row['check_s'] / budget:.2f} |")
    print(f"\nStart-up cost of `klenty-wh check` (1,000 events, best of 3): {start} s")
    sizes = results["sizes"]
    print("\nWhere the load time goes (seconds per step, from `klenty-wh load --format json`):\n")
    print("| step | " + " | ".join(f"{row['events']:,}" for row in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for step in sizes[0]["load_steps_s"]:
        cells = " | ".join(str(row["load_steps_s"].get(step, "")) for row in sizes)
        print(f"| {step} | {cells} |")


if __name__ == "__main__":
    main()
