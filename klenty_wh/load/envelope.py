"""SQL that turns Segment calls into classified, typed rows of ``kwh_stage``.

One pass per input file decides each record's outcome and computes its envelope
columns, in parallel inside DuckDB:

* outcome (``kind``): ``track``, ``skip`` (identify, page, screen, group, alias), ``batch``
  (an HTTP API batch body, expanded in a second pass), ``repair`` (JSON that DuckDB cannot
  parse, or that contains ``\\u0000``, which Python repairs or rejects), ``reject`` or ``blank``;
* timestamps, following Segment's rules: a processed record (one with ``receivedAt``) keeps
  its ``timestamp``; otherwise ``timestamp = receivedAt - (sentAt - originalTimestamp)``;
* flags for every adjustment, counted in the load report.

Sources come in two shapes. A *records* source (DuckDB's ``read_json``) yields the envelope
fields already parsed, without the raw text. A *lines* source yields the raw text of each
line, which this module parses with ``json_transform``. The raw text is kept only for rows
that need it later (rejects, batch bodies, repairs).
"""

from __future__ import annotations

from klenty_wh.load.stage_json import MAX_EVENT_BYTES

SKIPPED_TYPES = ("identify", "page", "screen", "group", "alias")
MAX_BATCH_ITEMS = 2500
"""Segment's HTTP API drops the items of a batch beyond the first 2,500."""

ENVELOPE_FIELDS = ("type", "event", "userId", "anonymousId", "messageId", "receivedAt", "sentAt",
                   "timestamp", "originalTimestamp", "properties", "context", "batch")
"""Top-level keys read from every call, each kept as JSON so that its type can be checked."""

TRANSFORM_SPEC = "{" + ",".join(f'"{field}":"JSON"' for field in ENVELOPE_FIELDS) + "}"

# Segment timestamps as accepted by the loader: date, "T" or space, time with optional
# seconds and fraction (up to nanoseconds), optional "Z" or +hh:mm / +hhmm / +hh offset.
# Month and day may have one digit, as in Segment's own batch example.
TIMESTAMP_PATTERN = (
    r"\d{4}-\d{1,2}-\d{1,2}[T ]\d{1,2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?"
)

FLAG_COLUMNS = (
    "f_user_id_number", "f_anonymous_id_number", "f_empty_identity", "f_properties_ignored",
    "f_context_ignored", "f_received_at_fallback", "f_received_at_assigned", "f_timestamp_fallback",
    "f_sent_at_null", "f_original_timestamp_null", "f_future_timestamp", "f_message_id_number",
    "f_message_id_case",
)

STAGE_COLUMNS = (
    "file_id INTEGER, line BIGINT, phys_line BIGINT, item INTEGER, kind VARCHAR, reason VARCHAR, "
    "call_type VARCHAR, raw VARCHAR, batch_context VARCHAR, batch_sent_at VARCHAR, "
    "event_text VARCHAR, id VARCHAR, user_id VARCHAR, anonymous_id VARCHAR, "
    'received_at TIMESTAMP, sent_at TIMESTAMP, "timestamp" TIMESTAMP, original_timestamp TIMESTAMP, '
    "properties JSON, context JSON, route_table VARCHAR, only_table BOOLEAN, "
    "keep_event BOOLEAN, keep_tracks BOOLEAN, slug VARCHAR, pos BIGINT, f_generated_id BOOLEAN, "
    + ", ".join(f"{flag} BOOLEAN" for flag in FLAG_COLUMNS)
)

_IS_BATCH = "(s.type IS NULL AND kwh_kind(s.batch) = 'array')"

# Above this many bytes of parsed fields, a record from a records source may be over the
# 32 KB limit. Such a record goes through the Python path, which measures the raw line.
_SIZE_SUSPECT_BYTES = MAX_EVENT_BYTES - 2048


def create_macros(con) -> None:
    """Define the temporary SQL macros the staging SQL uses."""
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "CREATE OR REPLACE TEMP MACRO kwh_ts(s) AS "
        f"CASE WHEN regexp_full_match(s, '{TIMESTAMP_PATTERN}') "
        "THEN CAST(TRY_CAST(s AS TIMESTAMPTZ) AS TIMESTAMP) END"
    )
    # The JSON kind of a value as DuckDB serialises it (no leading whitespace), read from
    # its first character, which is much cheaper than parsing it again with json_type().
    con.execute(
        "CREATE OR REPLACE TEMP MACRO kwh_kind(j) AS CASE WHEN j IS NULL THEN NULL ELSE "
        "CASE substr(j, 1, 1) WHEN '\"' THEN 'string' WHEN '{' THEN 'object' WHEN '[' THEN 'array' "
        "WHEN 'n' THEN 'null' WHEN 't' THEN 'boolean' WHEN 'f' THEN 'boolean' ELSE 'number' END END"
    )
    con.execute(
        "CREATE OR REPLACE TEMP MACRO kwh_string(j) AS CASE WHEN substr(j, 1, 1) = '\"' THEN j->>'$' END"
    )
    # go-snakecase: every non-empty match of [A-Z0-9]*[a-z0-9]*, lower-cased, joined by "_".
    con.execute(
        "CREATE OR REPLACE TEMP MACRO kwh_snake(s) AS lower(array_to_string("
        "list_filter(regexp_extract_all(s, '[A-Z0-9]*[a-z0-9]*'), lambda x: x <> ''), '_'))"
    )


def records_source(reader: str, file_id: int) -> str:
    """Return a source over DuckDB's ``read_json`` output (the records shape)."""
    fields = ", ".join(f'"{field}" := "{field}"' for field in ENVELOPE_FIELDS)
    return f"""
        SELECT {file_id} AS file_id, NULL::BIGINT AS line, NULL::BIGINT AS phys_line,
               NULL::BIGINT AS pos, NULL::INTEGER AS item, NULL::VARCHAR AS raw,
               NULL::VARCHAR AS batch_context, NULL::VARCHAR AS batch_sent_at,
               struct_pack({fields}) AS s
        FROM {reader}
    """


def lines_source(inner: str) -> str:
    """Return a source that parses the ``raw`` column of ``inner`` (the lines shape).

    ``inner`` yields ``file_id, line, phys_line, pos, item, raw, batch_context, batch_sent_at``.
    """
    return f"""
        SELECT *, CASE WHEN raw IS NOT NULL THEN TRY(json_transform(raw, '{TRANSFORM_SPEC}')) END AS s
        FROM ({inner})
    """


def _raw_checks(from_lines: bool) -> dict[str, str]:
    """SQL for the checks that need the raw text, or their records-source equivalents."""
    if from_lines:
        return {
            "blank": "raw IS NULL OR raw = '' OR regexp_full_match(raw, '\\s*')",
            "too_big": f"strlen(raw) > {MAX_EVENT_BYTES} AND NOT {_IS_BATCH}",
            "size": "strlen(raw)",
            "repair": ("(s IS NULL OR NOT starts_with(raw, '{') AND NOT regexp_matches(raw, '^\\s*[{]') "
                       "OR contains(raw, '\\u0000'))"),
            "message_id_case": "contains(raw, '\"messageid\"')",
        }
    # A batch body's size is not an event's: its items are measured when they are expanded.
    parts = [f"coalesce(strlen(s.{field}), 0)" for field in ("properties", "context", "event")]
    nul = " OR ".join(f"contains(s.{field}, '\\u0000')" for field in ENVELOPE_FIELDS)
    return {
        "blank": "false",
        "too_big": "false",
        "size": "NULL",
        "repair": f"({' + '.join(parts)} > {_SIZE_SUSPECT_BYTES} OR {nul})",
        "message_id_case": "false",
    }


def slug_sql(known: dict[str, str]) -> str:
    """Return SQL for the go-snakecase slug of ``event_text``.

    Names in ``known`` (the plan's events) map by a plain comparison; only other names go
    through the regular expression.
    """
    cases = " ".join(f"WHEN {_quote(name)} THEN {_quote(slug)}" for name, slug in known.items())
    return f"CASE event_text {cases} ELSE kwh_snake(event_text) END" if cases else "kwh_snake(event_text)"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def stage_select(source: str, load_time: str, from_lines: bool, known_slugs: dict[str, str]) -> str:
    """Return a SELECT that produces ``kwh_stage`` rows from ``source``.

    ``source`` comes from :func:`records_source` or :func:`lines_source`, and ``from_lines``
    is true for the second. ``load_time`` is a SQL TIMESTAMP literal, the load's single clock reading.
    ``known_slugs`` maps event names to their slugs (a shortcut for the plan's events).
    """
    raw = _raw_checks(from_lines)
    skipped = ", ".join(f"'{name}'" for name in SKIPPED_TYPES)
    original = "CASE WHEN processed THEN original0 ELSE coalesce(timestamp0, original0) END"
    received = f"coalesce(received0, {load_time})"
    return f"""
    SELECT file_id, line, phys_line, pos, item, kind, reason, call_type, slug,
           CASE WHEN kind IN ('reject', 'repair') THEN raw
                WHEN kind = 'batch' THEN coalesce(raw, json_object('batch', s.batch, 'context', s.context,
                                                                   'sentAt', s.sentAt)::VARCHAR)
           END AS raw,
           batch_context, batch_sent_at, event_text, id, user_id, anonymous_id,
           received_at, sent_at, "timestamp", original_timestamp, properties, context,
           {", ".join(FLAG_COLUMNS)}
    FROM (
        SELECT *,
            CASE WHEN reason IS NOT NULL THEN 'reject' ELSE kind0 END AS kind,
            "timestamp" > {load_time} AS f_future_timestamp
        FROM (
            SELECT *,
                coalesce(reason0, CASE
                    WHEN kind0 <> 'track' THEN NULL
                    WHEN k_event IS NULL OR k_event = 'null' THEN 'track call without event'
                    WHEN k_event <> 'string' THEN 'event must be a string, found ' || k_event
                    WHEN slug = ''
                        THEN 'event name ' || event_text || ' has no ASCII letter or digit, so its table name would be empty'
                    WHEN slug = 'tracks'
                        THEN 'event name ' || event_text || ' maps to the table tracks, which contains every call'
                    WHEN k_user IN ('object', 'array', 'boolean') THEN 'userId must be a string, found ' || k_user
                    WHEN k_anon IN ('object', 'array', 'boolean')
                        THEN 'anonymousId must be a string, found ' || k_anon
                    WHEN user_id IS NULL AND anonymous_id IS NULL THEN 'neither userId nor anonymousId is set'
                END) AS reason,
                {received} AS received_at,
                {original} AS original_timestamp,
                CASE WHEN processed AND timestamp0 IS NOT NULL THEN timestamp0
                     ELSE coalesce({received} - (sent0 - {original}), {original}, {received})
                END AS "timestamp",
                sent0 AS sent_at,
                CASE WHEN k_props = 'object' THEN s.properties END AS properties,
                CASE WHEN batch_context IS NULL THEN CASE WHEN k_ctx = 'object' THEN s.context END
                     ELSE json_merge_patch(batch_context, CASE WHEN k_ctx = 'object' THEN s.context ELSE '{{}}' END)
                END AS context,
                k_user = 'number' AS f_user_id_number,
                k_anon = 'number' AS f_anonymous_id_number,
                (k_user = 'string' AND s.userId = '""') OR (k_anon = 'string' AND s.anonymousId = '""')
                    AS f_empty_identity,
                k_props NOT IN ('object', 'null') AS f_properties_ignored,
                k_ctx NOT IN ('object', 'null') AS f_context_ignored,
                processed AND received0 IS NULL AS f_received_at_fallback,
                NOT processed AS f_received_at_assigned,
                kwh_kind(s.timestamp) NOT IN ('null') AND timestamp0 IS NULL AS f_timestamp_fallback,
                (kwh_kind(s.sentAt) NOT IN ('null') OR batch_sent_at IS NOT NULL) AND sent0 IS NULL
                    AS f_sent_at_null,
                kwh_kind(s.originalTimestamp) NOT IN ('null') AND original0 IS NULL AS f_original_timestamp_null,
                k_mid = 'number' AS f_message_id_number,
                CASE WHEN k_mid IS NULL OR k_mid = 'null' THEN {raw['message_id_case']} ELSE false END
                    AS f_message_id_case
            FROM (
              SELECT *, CASE WHEN event_text IS NOT NULL THEN {slug_sql(known_slugs)} END AS slug
              FROM (
                SELECT *,
                    CASE
                        WHEN blank THEN 'blank'
                        WHEN reason0 IS NOT NULL THEN 'reject'
                        WHEN needs_repair THEN 'repair'
                        WHEN s.type IS NULL AND kwh_kind(s.batch) = 'array' THEN 'batch'
                        WHEN call_type IN ({skipped}) THEN 'skip'
                        ELSE 'track'
                    END AS kind0,
                    CASE WHEN k_event = 'string' THEN s.event->>'$' END AS event_text,
                    CASE k_mid WHEN 'string' THEN nullif(s.messageId->>'$', '') WHEN 'number' THEN CAST(s.messageId AS VARCHAR) END
                        AS id,
                    CASE k_user WHEN 'string' THEN nullif(s.userId->>'$', '') WHEN 'number' THEN CAST(s.userId AS VARCHAR) END
                        AS user_id,
                    CASE k_anon WHEN 'string' THEN nullif(s.anonymousId->>'$', '') WHEN 'number' THEN CAST(s.anonymousId AS VARCHAR) END
                        AS anonymous_id,
                    kwh_kind(s.receivedAt) IS NOT NULL AND kwh_kind(s.receivedAt) <> 'null' AS processed,
                    kwh_ts(kwh_string(s.receivedAt)) AS received0,
                    kwh_ts(coalesce(kwh_string(s.sentAt), batch_sent_at)) AS sent0,
                    kwh_ts(kwh_string(s.timestamp)) AS timestamp0,
                    kwh_ts(kwh_string(s.originalTimestamp)) AS original0
                FROM (
                    SELECT *,
                        CASE
                            WHEN blank THEN NULL
                            WHEN {raw['too_big']}
                                THEN 'record is ' || {raw['size']} || ' bytes, over Segment''s 32 KB limit per event'
                            WHEN needs_repair THEN NULL
                            WHEN item > {MAX_BATCH_ITEMS}
                                THEN 'batch item beyond Segment''s limit of {MAX_BATCH_ITEMS:,} items per batch'
                            WHEN s.type IS NULL AND kwh_kind(s.batch) = 'array' THEN NULL
                            WHEN k_type IS NULL OR k_type = 'null' THEN 'call without type'
                            WHEN k_type <> 'string' THEN 'type must be a string, found ' || k_type
                            WHEN call_type NOT IN ('track', {skipped}) THEN 'unknown call type ' || call_type
                        END AS reason0
                    FROM (
                        SELECT *,
                            {raw['repair']} AND NOT blank AND NOT ({raw['too_big']}) AS needs_repair,
                            CASE WHEN k_type = 'string' THEN s.type->>'$' END AS call_type
                        FROM (
                            SELECT *,
                                {raw['blank']} AS blank,
                                kwh_kind(s.type) AS k_type, kwh_kind(s.event) AS k_event,
                                kwh_kind(s.userId) AS k_user, kwh_kind(s.anonymousId) AS k_anon,
                                kwh_kind(s.messageId) AS k_mid, kwh_kind(s.properties) AS k_props,
                                kwh_kind(s.context) AS k_ctx
                            FROM ({source})
                        )
                    )
                )
              )
            )
        )
    )
    """
