"""Stage CSV and Parquet exports of warehouse tables as calls in ``kwh_stage``.

Columns are warehouse column names (``user_id``, ``received_at``, ``from_id`` ...); header
names are passed through go-snakecase, so upper-case exports (Snowflake) work too. Rows that
carry an ``event`` column are routed by it to ``tracks`` and their event table, like raw
calls; otherwise every row goes to one table, named by ``--table`` or by the file name
(``email_sent.csv`` -> ``email_sent``).

CSV follows RFC 4180: quoted fields may hold newlines, ``""`` is an empty string and an
unquoted empty field is NULL. Column types come from DuckDB's CSV sniffer over the whole file.
"""

from __future__ import annotations

import logging

from klenty_wh.errors import InputError
from klenty_wh.load.envelope import FLAG_COLUMNS
from klenty_wh.load.inputs import Format, InputFile
from klenty_wh.load.sql import ident, literal
from klenty_wh.load.stage_json import EarlyReject
from klenty_wh.plan.names import snakecase

logger = logging.getLogger(__name__)

_ENVELOPE = ("id", "user_id", "anonymous_id", "event", "event_text", "received_at", "sent_at",
             "timestamp", "original_timestamp")
_LOADER_COLUMNS = ("uuid_ts", "uuid", "loaded_at")


def _reader(source: InputFile) -> str:
    path = literal(str(source.path))
    if source.format is Format.PARQUET:
        return f"read_parquet({path})"
    compression = literal("gzip" if source.gzip else "none")
    return (f"read_csv({path}, delim = ',', quote = '\"', escape = '\"', header = true, "
            f"sample_size = -1, allow_quoted_nulls = false, compression = {compression}, "
            f"store_rejects = true, rejects_table = 'kwh_csv_errors', rejects_scan = 'kwh_csv_scans')")


def _timestamp(column: str | None, data_type: str | None) -> str:
    if column is None:
        return "CAST(NULL AS TIMESTAMP)"
    if data_type and data_type.upper().startswith("TIMESTAMP"):
        return f"CAST({ident(column)} AS TIMESTAMP)"
    return f"kwh_ts(CAST({ident(column)} AS VARCHAR))"


def stage_tabular_file(con, file_id: int, source: InputFile, table: str | None, load_time: str) -> list[EarlyReject]:
    """Append the rows of one CSV or Parquet export to ``kwh_stage``; return rows rejected early.

    Raises:
        InputError: the file is not readable CSV or Parquet at all.
    """
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE kwh_tab AS SELECT * FROM {_reader(source)}")
    except Exception as exc:  # DuckDB raises several exception types for unreadable input
        raise InputError(
            f"cannot read {source.format.value} export {source.display}: {str(exc).splitlines()[0]}. "
            f"Check that it is a warehouse table export with a header row."
        ) from None
    early = _csv_rejects(con, file_id, source)
    described = con.execute("SELECT column_name, column_type FROM (DESCRIBE kwh_tab)").fetchall()
    names: dict[str, tuple[str, str]] = {}
    for original, data_type in described:
        names.setdefault(snakecase(original), (original, data_type))

    def col(name: str) -> str | None:
        return names[name][0] if name in names else None

    def typ(name: str) -> str | None:
        return names[name][1] if name in names else None

    if "event" in names:
        route = f"nullif(kwh_snake(CAST({ident(col('event'))} AS VARCHAR)), '')"
        only_table = "false"
    else:
        target = table or snakecase(source.path.name.split(".")[0])
        if not target:
            raise InputError(f"cannot tell which table {source.display} belongs to: pass --table.")
        route = literal(target)
        only_table = "true"
    event_text = " , ".join(f"CAST({ident(c)} AS VARCHAR)" for c in (col("event_text"), col("event")) if c)
    event_text_sql = f"coalesce({event_text})" if event_text else route

    properties = [n for n in names if n not in _ENVELOPE + _LOADER_COLUMNS and not n.startswith("context_")]
    contexts = [n for n in names if n.startswith("context_")]

    def struct(keys: list[str], strip: str = "") -> str:
        if not keys:
            return "NULL"
        fields = ", ".join(f"{ident(key[len(strip):])} := {ident(col(key))}" for key in keys)
        return f"CAST(to_json(struct_pack({fields})) AS JSON)"

    def text(name: str) -> str:
        return f"nullif(CAST({ident(col(name))} AS VARCHAR), '')" if col(name) else "CAST(NULL AS VARCHAR)"

    flags = ", ".join(f"false AS {flag}" for flag in FLAG_COLUMNS if flag != "f_received_at_fallback")
    con.execute(f"""
        INSERT INTO kwh_stage BY NAME
        SELECT {file_id} AS file_id, line, NULL AS item,
               CASE WHEN reason IS NULL THEN 'track' ELSE 'reject' END AS kind, reason,
               NULL AS call_type, CASE WHEN reason IS NOT NULL THEN raw END AS raw,
               event_text, id, user_id, anonymous_id,
               coalesce(received0, {load_time}) AS received_at, sent_at,
               coalesce(timestamp0, original_timestamp, received0, {load_time}) AS "timestamp",
               original_timestamp, properties, context, route_table, only_table, route_table AS slug,
               received0 IS NULL AS f_received_at_fallback, {flags}
        FROM (
            SELECT *, CASE
                    WHEN route_table IS NULL THEN 'row without event'
                    WHEN user_id IS NULL AND anonymous_id IS NULL THEN 'neither user_id nor anonymous_id is set'
                END AS reason
            FROM (
                SELECT rowid + 1 AS line, CAST(to_json(kwh_tab) AS VARCHAR) AS raw,
                       {route} AS route_table, {only_table} AS only_table,
                       {event_text_sql} AS event_text, {text('id')} AS id,
                       {text('user_id')} AS user_id, {text('anonymous_id')} AS anonymous_id,
                       {_timestamp(col('received_at'), typ('received_at'))} AS received0,
                       {_timestamp(col('sent_at'), typ('sent_at'))} AS sent_at,
                       {_timestamp(col('timestamp'), typ('timestamp'))} AS timestamp0,
                       {_timestamp(col('original_timestamp'), typ('original_timestamp'))} AS original_timestamp,
                       {struct(properties)} AS properties,
                       {struct(contexts, 'context_')} AS context
                FROM kwh_tab
            )
        )
    """)
    con.execute("DROP TABLE kwh_tab")
    return early


def _csv_rejects(con, file_id: int, source: InputFile) -> list[EarlyReject]:
    if source.format is not Format.CSV:
        return []
    try:
        rows = con.execute(
            "SELECT line, byte_position, error_type || ': ' || error_message, csv_line FROM kwh_csv_errors"
        ).fetchall()
    except Exception:  # no rejects table when the reader found no faulty line
        return []
    con.execute("DROP TABLE IF EXISTS kwh_csv_errors")
    con.execute("DROP TABLE IF EXISTS kwh_csv_scans")
    # One row may have several errors (one per extra column); keep one reject per row.
    by_line: dict[int, EarlyReject] = {}
    for line, offset, message, raw in rows:
        if line in by_line:
            continue
        by_line[line] = EarlyReject(file_id, line, offset, f"malformed CSV row: {message}", raw or "")
    return list(by_line.values())
