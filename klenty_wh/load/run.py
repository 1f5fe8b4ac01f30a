"""``load_files``: Segment exports into the warehouse, as one transaction.

Steps:

1. Stage every input file in DuckDB (``kwh_stage``): classify each record and compute its
   envelope columns (:mod:`klenty_wh.load.envelope`).
2. Expand HTTP API batch bodies; repair or reject records DuckDB cannot parse.
3. Start the warehouse transaction; create the schema, the documented tables and columns
   when missing, and klenty-wh's own ``rejected_records`` table.
4. De-duplicate on ``id`` per table, within the load and against rows already loaded.
5. Scan the kept rows for ``properties`` and ``context`` paths, decide columns and types,
   and create the new tables and columns.
6. Write each table, then the rejected records, and commit.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from klenty_wh.errors import InputError, UsageError, WarehouseError
from klenty_wh.load.columns import MAX_TABLE_COLUMNS, Drop, TableColumns, plan_columns
from klenty_wh.load.discover import discover_leaves
from klenty_wh.load.envelope import FLAG_COLUMNS, STAGE_COLUMNS, create_macros, lines_source, stage_select
from klenty_wh.load.inputs import Format, InputFile, discover_inputs
from klenty_wh.load.repair import RepairOutcome, repair_record
from klenty_wh.load.report import FileCounts, LoadReport
from klenty_wh.load.sinks import DuckDBSink, PostgresSink, Sink
from klenty_wh.load.sql import literal, qualified
from klenty_wh.load.stage_json import MAX_EVENT_BYTES, EarlyReject, StageMode, locate_records, stage_json_file
from klenty_wh.load.stage_tabular import stage_tabular_file
from klenty_wh.load.table_sql import build_table_query
from klenty_wh.plan.model import LogicalType, Plan, Presence
from klenty_wh.plan.names import IDENTIFIER_LIMITS, redshift_reserved_words, snakecase, validate_schema_name
from klenty_wh.tables.build import (
    REJECTED_TABLE,
    TOOL_SCHEMA,
    check_profile,
    rejected_records_table,
    sa_type,
)
from klenty_wh.tables.init import init_statements
from klenty_wh.warehouse.connection import Warehouse, driver_message
from klenty_wh.warehouse.introspect import ColumnInfo

logger = logging.getLogger(__name__)

DEDUPE_MODES = ("keep-first", "keep-last")
ProgressCallback = Callable[[str, int, int], None]
"""Called with (step description, steps done, steps in total)."""

_MAX_LINES_PER_FILE = 2**28


@dataclass(frozen=True)
class LoadOptions:
    """How to load.

    Attributes:
        schema: the Segment schema to load into.
        profile: ``default``, ``redshift`` or ``bigquery`` (see :data:`klenty_wh.tables.build.PROFILES`).
        dedupe: ``keep-first`` (Segment on PostgreSQL and Snowflake) or ``keep-last`` (Redshift).
        varchar_limit: cut text values to this many characters; the ``redshift`` profile
            defaults to Segment's 512.
        table: target table of CSV or Parquet exports that have no ``event`` column.
        memory_limit: DuckDB memory limit while staging (larger loads spill to disk).
    """

    schema: str
    profile: str = "default"
    dedupe: str = "keep-first"
    varchar_limit: int | None = None
    table: str | None = None
    memory_limit: str = "1GB"


def load_files(warehouse: Warehouse, plan: Plan, paths: list[str], options: LoadOptions,
               progress: ProgressCallback | None = None) -> LoadReport:
    """Load Segment exports from ``paths`` into ``options.schema``; return what happened.

    Every record read ends as loaded, duplicate, skipped or rejected. The warehouse changes
    in one transaction: if anything fails, it is left as it was.

    Raises:
        UsageError: invalid schema name, profile or option.
        InputError: an input path is missing or unreadable as a whole.
        WarehouseError: the warehouse refused a statement; nothing was written.
    """
    _validate(warehouse, options)
    started = time.monotonic()
    notify = progress or (lambda step, done, total: None)
    with tempfile.TemporaryDirectory(prefix="klenty-wh-") as spool:
        spool_dir = Path(spool)
        inputs = discover_inputs(paths, spool_dir)
        if not inputs:
            raise InputError(f"no input files found in {', '.join(paths)}.")
        job = _LoadJob(warehouse, plan, options, inputs, spool_dir, notify)
        try:
            report = job.run()
        finally:
            job.close()
    report.seconds = time.monotonic() - started
    return report


def _validate(warehouse: Warehouse, options: LoadOptions) -> None:
    validate_schema_name(options.schema, warehouse.dialect)
    check_profile(options.profile)
    if options.dedupe not in DEDUPE_MODES:
        raise UsageError(f"unknown --dedupe {options.dedupe!r}: choose {' or '.join(DEDUPE_MODES)}.")
    if options.varchar_limit is not None and options.varchar_limit < 1:
        raise UsageError(f"--varchar-limit must be a positive number of characters, found {options.varchar_limit}.")
    if warehouse.dialect not in ("duckdb", "postgresql"):
        raise UsageError(
            f"klenty-wh loads into DuckDB and PostgreSQL; {warehouse.display} is {warehouse.dialect}. "
            f"Use `klenty-wh ddl --dialect {warehouse.dialect}` for the table definitions."
        )


class _LoadJob:
    """One run of :func:`load_files`: the connections and the report under construction."""

    def __init__(self, warehouse: Warehouse, plan: Plan, options: LoadOptions, inputs: list[InputFile],
                 spool_dir: Path, notify: ProgressCallback) -> None:
        self.warehouse = warehouse
        self.plan = plan
        self.options = options
        self.inputs = inputs
        self.spool_dir = spool_dir
        self._progress = notify
        self._step: str | None = None
        self._step_started = time.monotonic()
        self.load_id = uuid.uuid4().hex[:16]
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        self.load_time = f"TIMESTAMP '{now.isoformat(sep=' ')}'"
        self.varchar_limit = options.varchar_limit or (512 if options.profile == "redshift" else None)
        self.report = LoadReport(schema=options.schema, warehouse=warehouse.display, load_id=self.load_id,
                                 dedupe=options.dedupe, profile=options.profile)
        self.early_rejects: list[EarlyReject] = []
        self._sa_connection = None
        self.sink = self._open_sink()
        self.con = self.sink.staging
        self._total_steps = len(inputs) + 4

    # -- connections -------------------------------------------------------------------

    def _open_sink(self) -> Sink:
        import duckdb

        try:
            self._sa_connection = self.warehouse.engine.raw_connection()
        except Exception as exc:
            raise WarehouseError(f"cannot connect to {self.warehouse.display}: {driver_message(exc)}.") from exc
        if self.warehouse.dialect == "duckdb":
            staging = self._sa_connection.driver_connection
            sink: Sink = DuckDBSink(staging)
        else:
            staging = duckdb.connect()
            sink = PostgresSink(staging, self._sa_connection.driver_connection, self.spool_dir)
        staging.execute(f"SET memory_limit = {literal(self.options.memory_limit)}")
        staging.execute(f"SET temp_directory = {literal(str(self.spool_dir / 'duckdb-spill'))}")
        staging.execute("SET preserve_insertion_order = true")
        return sink

    def close(self) -> None:
        """Release the warehouse connection (rolling back anything not committed)."""
        if self._sa_connection is not None:
            try:
                self._sa_connection.close()
            except Exception:  # the connection is already closed or broken
                logger.debug("closing the load connection failed", exc_info=True)
        if isinstance(self.sink, PostgresSink):
            self.sink.staging.close()

    # -- the run -----------------------------------------------------------------------

    def run(self) -> LoadReport:
        # Staging only fills temporary tables, so it runs before the warehouse transaction;
        # a failed statement there (an unreadable file) then leaves the transaction intact.
        self._stage_all()
        self.sink.begin()
        try:
            self._write_all()
            self.notify("committing", self._total_steps, self._total_steps)
            self.sink.commit()
            self._end_step()
        except Exception as exc:
            self.sink.rollback()
            if isinstance(exc, (UsageError, InputError, WarehouseError)):
                raise
            reason = driver_message(exc)
            raise WarehouseError(
                f"load into {self.options.schema} on {self.warehouse.display} failed and was rolled back, "
                f"nothing was written: {reason}.{_hint(reason)}"
            ) from exc
        return self.report

    def notify(self, step: str, done: int, total: int) -> None:
        """Start ``step``: time the step before it and tell the progress callback."""
        self._end_step()
        self._step = step
        self._progress(step, done, total)

    def _end_step(self) -> None:
        now = time.monotonic()
        if self._step is not None:
            self.report.step_seconds[self._step] = now - self._step_started
        self._step, self._step_started = None, now

    def _stage_all(self) -> None:
        create_macros(self.con)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE kwh_stage ({STAGE_COLUMNS})")
        self.con.execute("CREATE OR REPLACE TEMP TABLE kwh_files (file_id INTEGER, start_rowid BIGINT, "
                         "name VARCHAR, display VARCHAR, mode VARCHAR)")
        for file_id, source in enumerate(self.inputs, start=1):
            self.notify(f"reading {source.display}", file_id - 1, self._total_steps)
            if source.format in (Format.CSV, Format.PARQUET):
                mode = StageMode.ELEMENTS
                self.early_rejects += stage_tabular_file(self.con, file_id, source, self.options.table,
                                                         self.load_time)
            else:
                mode, early = stage_json_file(self._insert_calls, file_id, source, self.spool_dir)
                self.early_rejects += early
            # Rows staged without a line number are in file order: the line (or record, or
            # element) number is the row's position among them.
            start = self.con.execute(
                "SELECT min(rowid) FROM kwh_stage WHERE file_id = ? AND line IS NULL", [file_id]
            ).fetchone()[0]
            self.con.execute("INSERT INTO kwh_files VALUES (?, ?, ?, ?, ?)",
                             [file_id, start or 0, source.path.name, source.display, mode.value])
            self._number_lines(file_id, mode)
            if mode is not StageMode.LINES:
                self._locate(file_id, source, mode)
        self.notify("staging calls", len(self.inputs), self._total_steps)
        self._expand_batches()
        self._repair()
        self._check_line_numbers()
        self._map_tables()

    def _insert_calls(self, source: str, from_lines: bool) -> None:
        known = {event.name: snakecase(event.name) for event in self.plan.events}
        self.con.execute(f"INSERT INTO kwh_stage BY NAME {stage_select(source, self.load_time, from_lines, known)}")

    def _number_lines(self, file_id: int, mode: StageMode) -> None:
        # Rows without a line number get it from their position among the file's rows. For
        # line-by-line reads that is the physical line too. Only the rows that are looked at
        # one by one (rejects, repairs, batch bodies, calls that need a generated id) are
        # numbered here. The rest get their number when kwh_calls is built.
        physical = ", phys_line = kwh_stage.rowid - f.start_rowid + 1" if mode is StageMode.LINES else ""
        self.con.execute(
            f"UPDATE kwh_stage SET line = kwh_stage.rowid - f.start_rowid + 1{physical} FROM kwh_files f "
            "WHERE kwh_stage.file_id = f.file_id AND kwh_stage.file_id = ? AND kwh_stage.line IS NULL "
            "AND (kwh_stage.kind IN ('reject', 'repair', 'batch') OR (kwh_stage.kind = 'track' AND kwh_stage.id IS NULL))",
            [file_id],
        )

    def _locate(self, file_id: int, source: InputFile, mode: StageMode) -> None:
        """Find the raw text and physical line of the rows that need them (rejects, repairs, new ids)."""
        needed = self.con.execute(
            "SELECT rowid, line, kind FROM kwh_stage WHERE file_id = ? "
            "AND (kind IN ('reject', 'repair') OR (kind = 'track' AND id IS NULL))", [file_id]
        ).fetchall()
        if not needed:
            return
        ordinals = {line for _, line, _ in needed}
        if mode is StageMode.RECORDS:
            found = locate_records(source, ordinals)
        else:
            found = self._locate_elements(source, ordinals)
        updates = []
        for rowid, line, kind in needed:
            physical, raw = found.get(line, (None, None))
            reason = self._reason_from_raw(raw) if kind == "reject" and raw is not None else None
            updates.append((physical, raw if kind in ("reject", "repair") else None,
                            raw is not None and '"messageid"' in raw, reason, rowid))
        self.con.executemany(
            "UPDATE kwh_stage SET phys_line = ?, raw = coalesce(?, raw), "
            "f_message_id_case = ? AND kind = 'track', reason = coalesce(?, reason) WHERE rowid = ?", updates)

    def _locate_elements(self, source: InputFile, ordinals: set[int]) -> dict[int, tuple[int, str]]:
        reader_format = "array" if source.format is Format.JSON_ARRAY else "auto"
        rows = self.con.execute(
            f"SELECT n, raw FROM (SELECT row_number() OVER () AS n, json::VARCHAR AS raw "
            f"FROM read_json_objects({literal(str(source.path))}, format = {literal(reader_format)}, "
            f"compression = {literal('gzip' if source.gzip else 'none')})) "
            f"WHERE n IN ({', '.join(str(n) for n in sorted(ordinals))})"
        ).fetchall() if source.format not in (Format.CSV, Format.PARQUET) else []
        return {n: (n, raw) for n, raw in rows}

    @staticmethod
    def _reason_from_raw(raw: str) -> str | None:
        """Return a more precise reason for a record that is not a JSON object, else None."""
        stripped = raw.lstrip()
        if stripped.startswith("{"):
            return None
        outcome = repair_record(raw)
        return outcome.reason

    def _expand_batches(self) -> None:
        batch_count = self.con.execute("SELECT count(*) FROM kwh_stage WHERE kind = 'batch'").fetchone()[0]
        if not batch_count:
            return
        inner = """
            SELECT file_id, line, phys_line, pos, item, raw, batch_context, batch_sent_at FROM (
                SELECT s.file_id, s.line, s.phys_line, coalesce(s.pos, s.rowid) AS pos,
                       unnest(range(1, len(json_extract(s.raw, '$.batch[*]')) + 1))::INTEGER AS item,
                       unnest(json_extract(s.raw, '$.batch[*]'))::VARCHAR AS raw,
                       CASE WHEN json_type(s.raw, '$.context') = 'OBJECT'
                            THEN json_extract(s.raw, '$.context')::VARCHAR END AS batch_context,
                       CASE WHEN json_type(s.raw, '$.sentAt') = 'VARCHAR'
                            THEN json_extract_string(s.raw, '$.sentAt') END AS batch_sent_at
                FROM kwh_stage s
                WHERE s.kind = 'batch'
            )
        """
        self.con.execute("UPDATE kwh_stage SET kind = 'expanding' WHERE kind = 'batch'")
        self._insert_calls(lines_source(inner.replace("s.kind = 'batch'", "s.kind = 'expanding'")), True)
        # A batch inside a batch item is not a Segment call.
        self.con.execute("UPDATE kwh_stage SET kind = 'reject', reason = 'batch body inside a batch item' "
                         "WHERE kind = 'batch' AND item IS NOT NULL")
        self.con.execute("UPDATE kwh_stage SET kind = 'expanded' WHERE kind IN ('expanding', 'batch')")

    def _repair(self) -> None:
        rows = self.con.execute(
            "SELECT rowid, file_id, line, phys_line, coalesce(pos, rowid), item, raw, batch_context, batch_sent_at "
            "FROM kwh_stage WHERE kind = 'repair'"
        ).fetchall()
        if not rows:
            return
        repaired = []
        for rowid, file_id, line, physical, pos, item, raw, batch_context, batch_sent_at in rows:
            if raw is None:
                outcome = RepairOutcome(None, "record text could not be found again for repair", 0)
            elif len(raw.encode("utf-8", "surrogatepass")) > MAX_EVENT_BYTES:
                outcome = RepairOutcome(None, f"record is {len(raw.encode('utf-8', 'surrogatepass'))} bytes, "
                                              "over Segment's 32 KB limit per event", 0)
            else:
                outcome = repair_record(raw)
            if outcome.raw is None:
                self.con.execute("UPDATE kwh_stage SET kind = 'reject', reason = ? WHERE rowid = ?",
                                 [outcome.reason, rowid])
                continue
            self.report.adjustments["repaired_strings"] += outcome.repairs
            repaired.append((file_id, line, physical, pos, item, outcome.raw, batch_context, batch_sent_at))
            self.con.execute("UPDATE kwh_stage SET kind = 'repaired' WHERE rowid = ?", [rowid])
        if not repaired:
            return
        self.con.execute("CREATE OR REPLACE TEMP TABLE kwh_repaired (file_id INTEGER, line BIGINT, "
                         "phys_line BIGINT, pos BIGINT, item INTEGER, raw VARCHAR, batch_context VARCHAR, "
                         "batch_sent_at VARCHAR)")
        self.con.executemany("INSERT INTO kwh_repaired VALUES (?, ?, ?, ?, ?, ?, ?, ?)", repaired)
        self._insert_calls(lines_source("SELECT * FROM kwh_repaired"), True)
        self.con.execute("UPDATE kwh_stage SET kind = 'reject', "
                         "reason = 'malformed JSON: DuckDB''s JSON parser rejects the repaired record' "
                         "WHERE kind = 'repair'")
        self._expand_batches()

    def _check_line_numbers(self) -> None:
        longest = self.con.execute(
            "SELECT max(coalesce(s.line, s.rowid - f.start_rowid + 1)) FROM kwh_stage s JOIN kwh_files f USING (file_id)"
        ).fetchone()[0]
        if longest is not None and longest >= _MAX_LINES_PER_FILE:
            raise InputError(f"an input file has {longest:,} lines; split files above "
                             f"{_MAX_LINES_PER_FILE:,} lines before loading.")

    def _map_tables(self) -> None:
        """Give every call its id and target table, and count the outcomes per file."""
        content = ("coalesce(event_text, '') || '|' || coalesce(user_id, '') || '|' || "
                   "coalesce(anonymous_id, '') || '|' || coalesce(CAST(original_timestamp AS VARCHAR), '') "
                   "|| '|' || coalesce(CAST(received_at AS VARCHAR), '') || '|' || "
                   "coalesce(CAST(properties AS VARCHAR), '') || '|' || coalesce(CAST(context AS VARCHAR), '')")
        # Calls without a usable messageId get an id from file name, physical line, batch item
        # and content: the same record loaded again gets the same id.
        self.con.execute(f"""
            UPDATE kwh_stage SET f_generated_id = true,
                   id = 'kwh-' || md5(f.name || '|' || coalesce(kwh_stage.phys_line, kwh_stage.line) || '|'
                                      || coalesce(kwh_stage.item, 0) || '|' || {content})
            FROM kwh_files f
            WHERE kwh_stage.file_id = f.file_id AND kwh_stage.kind = 'track' AND kwh_stage.id IS NULL
        """)

        flags = ", ".join(FLAG_COLUMNS)
        only_table = "coalesce(only_table, false)"
        table_name = self._table_name_sql()
        # A view, not a copy: the calls are read a few times, and copying them costs more.
        # Rows appended after their file (batch items, repaired records) carry in pos the
        # position of the row they came from, so rec orders every call as in its file.
        self.con.execute(f"""
            CREATE OR REPLACE TEMP VIEW kwh_calls AS
            SELECT srowid, (coalesce(pos, srowid) << 12) + coalesce(item, 0) AS rec, file_id, id,
                   coalesce(f_generated_id, false) AS f_generated_id, slug, table_name, single_table AS only_table,
                   coalesce(keep_event, true) AND table_name <> 'tracks' AS keep_event,
                   coalesce(keep_tracks, true) AND (NOT single_table OR table_name = 'tracks') AS keep_tracks,
                   event_text, user_id, anonymous_id, received_at, sent_at, "timestamp",
                   original_timestamp, properties, context, {flags}
            FROM (
                SELECT *, rowid AS srowid, {table_name} AS table_name, {only_table} AS single_table
                FROM kwh_stage WHERE kind = 'track'
            )
        """)

        self.con.execute("""
            CREATE OR REPLACE TEMP TABLE kwh_outcomes AS
            SELECT file_id, kind, call_type, count(*) AS n FROM kwh_stage
            WHERE kind IN ('track', 'skip', 'reject') GROUP BY ALL
        """)
        self.con.execute("""
            CREATE OR REPLACE TEMP TABLE kwh_staged_rejects AS
            SELECT file_id, coalesce(phys_line, line) AS line, item, reason, raw FROM kwh_stage WHERE kind = 'reject'
        """)

    # -- writing -----------------------------------------------------------------------

    def _write_all(self) -> None:
        schema = self.options.schema
        self.sink.lock_schema(schema)
        self.notify("preparing tables", len(self.inputs) + 1, self._total_steps)
        existing = self.sink.schema_columns(schema)
        statements, init_result = init_statements(self.plan, schema, self.options.profile,
                                                  self.warehouse.engine.dialect, existing)
        for statement in statements:
            self.sink.execute(statement)
        self.report.created_tables += init_result.created_tables
        self.report.added_columns += [f"{table}.{column}" for table, column, _ in init_result.added_columns]
        self._ensure_rejects_table()
        tables = self.sink.schema_columns(schema) or {}

        self.notify("finding duplicates", len(self.inputs) + 1, self._total_steps)
        self._dedupe(tables)
        self.notify("scanning properties", len(self.inputs) + 2, self._total_steps)
        decisions = self._decide_columns(tables)
        self._create_tables_and_columns(decisions, tables)
        # Row order inside a warehouse table carries no meaning, and unordered inserts run in parallel.
        self.con.execute("SET preserve_insertion_order = false")
        for index, (table, columns) in enumerate(decisions.items()):
            self.notify(f"writing {table}", len(self.inputs) + 3, self._total_steps)
            self._write_table(table, columns)
        self.con.execute("SET preserve_insertion_order = true")
        self.notify("storing rejected records", len(self.inputs) + 3, self._total_steps)
        self._write_rejects()
        self._count_outcomes()

    def _ensure_rejects_table(self) -> None:
        import sqlalchemy as sa
        from sqlalchemy.schema import CreateSchema, CreateTable

        dialect = self.warehouse.engine.dialect
        schemas = {name for (name,) in self.sink.query(
            "SELECT schema_name FROM information_schema.schemata WHERE catalog_name = current_database()")}
        if TOOL_SCHEMA not in schemas:
            self.sink.execute(str(CreateSchema(TOOL_SCHEMA).compile(dialect=dialect)))
        tables = self.sink.schema_columns(TOOL_SCHEMA) or {}
        if REJECTED_TABLE not in tables:
            table = rejected_records_table(sa.MetaData())
            self.sink.execute(str(CreateTable(table).compile(dialect=dialect)).strip())

    def _dedupe(self, tables: dict[str, list[ColumnInfo]]) -> None:
        """Clear the keep flags of calls whose id a table already has, in this load or before."""
        pick = "min" if self.options.dedupe == "keep-first" else "max"
        # Within the load: only ids that occur more than once need a decision.
        for flag, key in (("keep_event", "table_name, id"), ("keep_tracks", "id")):
            join = " AND ".join(f"c.{column.strip()} = d.{column.strip()}" for column in key.split(","))
            self.con.execute(f"""
                UPDATE kwh_stage SET {flag} = false WHERE rowid IN (
                    SELECT c.srowid FROM kwh_calls c JOIN (
                        SELECT {key}, {pick}(rec) AS chosen FROM kwh_calls WHERE {flag}
                        GROUP BY ALL HAVING count(*) > 1
                    ) d ON {join}
                    WHERE c.{flag} AND c.rec <> d.chosen
                )
            """)
        # Against the rows already loaded.
        self.con.execute("CREATE OR REPLACE TEMP TABLE kwh_existing (tbl VARCHAR, id VARCHAR)")
        targets = [tbl for (tbl,) in self.con.execute(
            "SELECT DISTINCT table_name FROM kwh_calls WHERE keep_event "
            "UNION SELECT 'tracks' FROM kwh_calls WHERE keep_tracks"
        ).fetchall()]
        for tbl in targets:
            if tbl not in tables:
                continue
            flag = "keep_tracks" if tbl == "tracks" else "keep_event"
            where = flag + ("" if tbl == "tracks" else f" AND table_name = {literal(tbl)}")
            self.con.execute("CREATE OR REPLACE TEMP TABLE kwh_found (id VARCHAR)")
            self.sink.fetch_existing_ids(self.options.schema, tbl, f"SELECT id FROM kwh_calls WHERE {where}",
                                         "kwh_found")
            self.con.execute(f"INSERT INTO kwh_existing SELECT {literal(tbl)}, id FROM kwh_found")
            if self.options.dedupe == "keep-first":
                self.con.execute(f"UPDATE kwh_stage SET {flag} = false WHERE rowid IN "
                                 f"(SELECT srowid FROM kwh_calls WHERE {where} AND id IN (SELECT id FROM kwh_found))")

    def _decide_columns(self, tables: dict[str, list[ColumnInfo]]) -> dict[str, TableColumns]:
        event_groups = "CASE WHEN keep_event THEN [table_name] ELSE [] END"
        all_groups = ("list_filter([CASE WHEN keep_event THEN table_name END, "
                      "CASE WHEN keep_tracks THEN 'tracks' END], lambda g: g IS NOT NULL)")
        found = discover_leaves(self.con, "kwh_calls", {"properties": event_groups, "context": all_groups},
                                known=self._documented_paths())
        properties, contexts = found["properties"], found["context"]
        self.object_paths = {
            table: {("properties", path) for path in properties.objects.get(table, set())}
            | {("context", path) for path in contexts.objects.get(table, set())}
            for table in set(properties.objects) | set(contexts.objects)
        }

        targets = [tbl for (tbl,) in self.con.execute(
            "SELECT 'tracks' FROM kwh_calls WHERE keep_tracks "
            "UNION SELECT DISTINCT table_name FROM kwh_calls WHERE keep_event"
        ).fetchall()]
        targets.sort(key=self._table_order)
        limit = IDENTIFIER_LIMITS.get(self.warehouse.dialect, 63)
        standard = self._standard_columns()
        decisions: dict[str, TableColumns] = {}
        for table in targets:
            event = self.plan.event_for_table(table) if table != "tracks" else None
            documented = {column.name: column.type for column in self.plan.columns_for(event, self.options.profile)
                          if column.name not in dict(standard)}
            existing = {info.name: info.logical_type for info in tables.get(table, [])}
            leaves = list(contexts.leaves.get(table, {}).values())
            if table != "tracks":
                leaves += list(properties.leaves.get(table, {}).values())
            decision = plan_columns(table, standard, documented, existing, leaves, self.options.profile, limit)
            for base in (contexts, properties) if table != "tracks" else (contexts,):
                for path, rows in base.overflow.get(table, []):
                    decision.drops.append(Drop(table, ".".join(("properties" if base is properties else "context",)
                                                               + path), "table would exceed 1600 columns", rows))
            decisions[table] = decision
            self._record_column_findings(decision, event is not None or table == "tracks", table in tables)
        return decisions

    def _documented_paths(self) -> set[tuple[str, tuple[str, ...]]]:
        """Return the (column, key path) of values that every table stores in a documented column."""
        paths = {("context", tuple(column.raw_path.split(".")[1:])) for column in self.plan.standard_columns
                 if (column.raw_path or "").startswith("context.")}
        for prop in self.plan.properties:
            if all(event.presence.get(prop.key) is not Presence.NOT_APPLICABLE for event in self.plan.events):
                paths.add(("properties", (prop.key,)))
        return paths

    def _table_name_sql(self) -> str:
        if self.options.profile != "redshift":
            return "slug"
        reserved = ", ".join(literal(word) for word in sorted(redshift_reserved_words()))
        return (f"CASE WHEN slug IN ({reserved}) OR regexp_matches(slug, '^[0-9]') "
                f"THEN '_' || slug ELSE slug END")

    def _table_order(self, table: str) -> tuple[int, str]:
        planned = [event.table for event in self.plan.events]
        if table == "tracks":
            return (0, "")
        if table in planned:
            return (1 + planned.index(table), "")
        return (len(planned) + 1, table)

    def _standard_columns(self) -> list[tuple[str, LogicalType]]:
        standard = [(column.name, column.type) for column in self.plan.standard_columns
                    if not (column.raw_path or "").startswith("context.")]
        standard += [(column.name, column.type) for column in self.plan.profile_columns
                     if column.profile == self.options.profile]
        return standard

    def _record_column_findings(self, decision: TableColumns, planned_table: bool, table_exists: bool) -> None:
        if not planned_table and not table_exists:
            self.report.drift.append(f"new table {decision.table}: event not in the tracking plan")
        for spec in decision.new_columns:
            if spec.sources:
                sources = ", ".join(source.label for source in spec.sources)
                self.report.drift.append(f"new column {decision.table}.{spec.name} ({spec.type.value}) from {sources}")
        for drop in decision.drops:
            kind = "dropped_reserved_properties" if "named like Segment" in drop.reason else "dropped_properties"
            self.report.adjustments[kind] += drop.rows
            self.report.details.append(f"{drop.table}: {drop.source} dropped in {drop.rows} rows: {drop.reason}")
        for label in decision.null_only:
            self.report.adjustments["null_only_keys"] += 1
            self.report.details.append(f"{decision.table}: {label} held only null, so no column was created")
        if len(decision.columns) >= MAX_TABLE_COLUMNS:
            self.report.details.append(f"{decision.table}: reached {MAX_TABLE_COLUMNS} columns")

    def _create_tables_and_columns(self, decisions: dict[str, TableColumns],
                                   tables: dict[str, list[ColumnInfo]]) -> None:
        import sqlalchemy as sa
        from sqlalchemy.schema import CreateTable

        from klenty_wh.tables.build import event_table
        from klenty_wh.tables.init import add_column_statement

        dialect = self.warehouse.engine.dialect
        for table, decision in decisions.items():
            metadata = sa.MetaData()
            if table not in tables:
                columns = [(spec.name, spec.type) for spec in decision.columns.values()]
                created = event_table(metadata, self.options.schema, table, columns, self.options.profile)
                self.sink.execute(str(CreateTable(created).compile(dialect=dialect)).strip())
                self.report.created_tables.append(table)
                for spec in decision.columns.values():
                    spec.exists = True
                continue
            shell = sa.Table(table, metadata, schema=self.options.schema)
            for spec in decision.new_columns:
                column = sa.Column(spec.name, sa_type(spec.type, self.options.profile))
                shell.append_column(column)
                self.sink.execute(add_column_statement(dialect, shell, column))
                self.report.added_columns.append(f"{table}.{spec.name}")
                spec.exists = True

    def _write_table(self, table: str, decision: TableColumns) -> None:
        standard_sql = {
            "id": "id", "user_id": "user_id", "anonymous_id": "anonymous_id",
            "event": "slug", "event_text": "event_text", "received_at": "received_at", "sent_at": "sent_at",
            "timestamp": '"timestamp"', "original_timestamp": "original_timestamp",
            "uuid_ts": self.load_time, "loaded_at": self.load_time,
            "uuid": "CAST(hash(id) >> 1 AS BIGINT)",
        }
        relation = ("(SELECT * FROM kwh_calls WHERE keep_tracks)" if table == "tracks"
                    else f"(SELECT * FROM kwh_calls WHERE keep_event AND table_name = {literal(table)})")
        query = build_table_query(decision, standard_sql, relation, self.object_paths.get(table, set()),
                                  self.varchar_limit)
        self._count_adjustments(table, query)
        if self.options.dedupe == "keep-last":
            replaced = self.sink.delete_ids(self.options.schema, table,
                                            f"SELECT id FROM kwh_existing WHERE tbl = {literal(table)}")
            if replaced:
                self.report.replaced_by_table[table] = replaced
        inserted = self.sink.insert(self.options.schema, table, query.columns, query.select)
        self.report.loaded_by_table[table] = inserted

    def _count_adjustments(self, table: str, query) -> None:
        for column, source, rows in query.converted:
            self.report.adjustments["converted_values"] += rows
            self.report.details.append(f"{table}.{column}: {rows} values from {source} converted to the column type")
        if query.checks is None:
            return
        counts = self.con.execute(query.checks).fetchone()
        for name, count in zip(query.check_names, counts):
            if not count:
                continue
            kind, _, rest = name.partition(":")
            if kind == "null":
                column, _, source = rest.partition(":")
                self.report.adjustments["cast_to_null"] += count
                self.report.details.append(f"{table}.{column}: {count} values from {source} could not be cast "
                                           f"and were stored as NULL")
            elif kind == "conflict":
                self.report.adjustments["key_conflicts"] += count
                self.report.details.append(f"{table}.{rest}: {count} rows had different values under two keys; "
                                           f"the first key in the record was kept")
            elif kind == "truncated":
                self.report.adjustments["truncated_values"] += count
                self.report.details.append(f"{table}.{rest}: {count} values cut to {self.varchar_limit} characters")

    def _write_rejects(self) -> None:
        self.con.execute("CREATE OR REPLACE TEMP TABLE kwh_early (file_id INTEGER, line BIGINT, "
                         "byte_offset BIGINT, reason VARCHAR, raw VARCHAR)")
        if self.early_rejects:
            self.con.executemany("INSERT INTO kwh_early VALUES (?, ?, ?, ?, ?)",
                                 [(r.file_id, r.line, r.byte_offset, r.reason, r.raw) for r in self.early_rejects])
        schema = literal(self.options.schema)
        masked_raw = ("replace(regexp_replace(raw, '(\"writeKey\"\\s*:\\s*\")[^\"]*(\")', '\\1***\\2', 'g'), "
                      "chr(0), '\\x00')")
        self.con.execute(f"""
            CREATE OR REPLACE TEMP TABLE kwh_rejects AS
            SELECT md5({schema} || '|' || f.name || '|' || coalesce(r.line, 0) || '|' || coalesce(r.item, 0)
                       || '|' || coalesce(r.raw, '')) AS record_key,
                   {literal(self.load_id)} AS load_id, {self.load_time} AS rejected_at, {schema} AS target_schema,
                   f.display AS source_file, r.line, r.item, r.byte_offset, r.reason, {masked_raw} AS raw,
                   r.file_id
            FROM (
                SELECT file_id, line, item, NULL::BIGINT AS byte_offset, reason, raw FROM kwh_staged_rejects
                UNION ALL
                SELECT file_id, line, NULL, byte_offset, reason, raw FROM kwh_early
            ) r JOIN kwh_files f USING (file_id)
        """)
        self.con.execute("CREATE OR REPLACE TEMP TABLE kwh_known_rejects (id VARCHAR)")
        known_sql = "SELECT record_key FROM kwh_rejects"
        self._fetch_known_rejects(known_sql)
        columns = ["record_key", "load_id", "rejected_at", "target_schema", "source_file", "line", "item",
                   "byte_offset", "reason", "raw"]
        select = (f"SELECT {', '.join(columns)} FROM kwh_rejects "
                  "WHERE record_key NOT IN (SELECT id FROM kwh_known_rejects)")
        self.report.rejects_stored = self.sink.insert(TOOL_SCHEMA, REJECTED_TABLE, columns, select)

    def _fetch_known_rejects(self, keys_sql: str) -> None:
        # rejected_records has no id column; compare on record_key through a view of it.
        if isinstance(self.sink, DuckDBSink):
            self.con.execute(f"INSERT INTO kwh_known_rejects SELECT record_key FROM "
                             f"{qualified(TOOL_SCHEMA, REJECTED_TABLE)} WHERE record_key IN ({keys_sql})")
            return
        keys = [key for (key,) in self.con.execute(keys_sql).fetchall()]
        if not keys:
            return
        rows = self.sink.query(f"SELECT record_key FROM {qualified(TOOL_SCHEMA, REJECTED_TABLE)} "
                               "WHERE record_key = ANY(%s)", (keys,))
        if rows:
            self.con.executemany("INSERT INTO kwh_known_rejects VALUES (?)", rows)

    def _count_outcomes(self) -> None:
        names = {file_id: (display, source.format.value)
                 for file_id, (display, source) in enumerate(((s.display, s) for s in self.inputs), start=1)}
        counts = {file_id: FileCounts(file=display, format=fmt) for file_id, (display, fmt) in names.items()}
        for file_id, kind, call_type, n in self.con.execute(
            "SELECT file_id, kind, call_type, n FROM kwh_outcomes"
        ).fetchall():
            entry = counts[file_id]
            entry.read += n
            if kind == "skip":
                entry.skipped += n
                self.report.skipped_by_type[call_type] += n
            elif kind == "reject":
                entry.rejected += n
        for reject in self.early_rejects:
            counts[reject.file_id].read += 1
            counts[reject.file_id].rejected += 1
        for reason, n in self.con.execute("SELECT reason, count(*) FROM kwh_rejects GROUP BY reason").fetchall():
            self.report.rejected_by_reason[_reason_kind(reason)] += n
        for file_id, loaded, tracked in self.con.execute(
            "SELECT file_id, count(*) FILTER (WHERE keep_event OR (only_table AND keep_tracks)), count(*) "
            "FROM kwh_calls GROUP BY file_id"
        ).fetchall():
            counts[file_id].loaded += loaded
            counts[file_id].duplicates += tracked - loaded
        self.report.files = [counts[file_id] for file_id in sorted(counts)]
        self._count_flags()

    def _count_flags(self) -> None:
        kept = "(SELECT * FROM kwh_calls WHERE keep_event OR (only_table AND keep_tracks))"
        labels = {
            "f_generated_id": "generated_ids", "f_message_id_case": "message_id_case",
            "f_message_id_number": "message_id_numbers", "f_user_id_number": "user_id_numbers",
            "f_anonymous_id_number": "anonymous_id_numbers", "f_empty_identity": "empty_identities",
            "f_properties_ignored": "properties_ignored", "f_context_ignored": "context_ignored",
            "f_received_at_assigned": "received_at_assigned", "f_received_at_fallback": "received_at_fallback",
            "f_timestamp_fallback": "timestamp_fallback", "f_sent_at_null": "sent_at_null",
            "f_original_timestamp_null": "original_timestamp_null", "f_future_timestamp": "future_timestamps",
        }
        sums = ", ".join(f"count(*) FILTER (WHERE {flag})" for flag in labels)
        values = self.con.execute(f"SELECT {sums} FROM {kept}").fetchone()
        for label, value in zip(labels.values(), values):
            if value:
                self.report.adjustments[label] += value


def _hint(reason: str) -> str:
    """Return what to do about a failed load, for the failures users can fix themselves."""
    lowered = reason.lower()
    if "no space left" in lowered or "disk full" in lowered:
        return " Free space on that disk (DuckDB also spills to a temporary folder), then load again."
    if "read-only" in lowered or "read only" in lowered or "permission denied" in lowered:
        return " The target is read-only for this account; load into a writable warehouse."
    if "row is too big" in lowered:
        return (" PostgreSQL keeps the fixed-size values of a row (numbers, booleans, timestamps) in one"
                " 8 KB page, and these events carry too many of them; load them into DuckDB, or remove"
                " the extra properties from the export.")
    if "terminat" in lowered or "closed the connection" in lowered or "connection" in lowered:
        return " The connection to the warehouse was lost; load again once it is reachable."
    return ""


def _reason_kind(reason: str) -> str:
    """Group reject reasons by their first words, so the report shows a few lines."""
    for prefix in ("malformed JSON", "not a JSON object", "record is", "invalid UTF-8", "incomplete last line",
                   "event name", "malformed CSV row"):
        if reason.startswith(prefix):
            return {"record is": "record over 32 KB", "event name": "event name without a table name"}.get(prefix, prefix)
    return reason


def report_to_json(report: LoadReport) -> str:
    """Return the report as indented JSON (``klenty-wh load --format json``)."""
    return json.dumps(report.to_dict(), indent=2, sort_keys=False)
