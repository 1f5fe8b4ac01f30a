"""Stage JSON inputs as one row per record in the DuckDB staging table ``kwh_stage``.

Each file takes the first of three paths that works:

1. Records: DuckDB's ``read_json`` parses the file (NDJSON, an array or one document),
   decompressing gzip, every member of a multi-member gzip included.
2. Lines: when ``read_json`` rejects the file, ``read_csv`` reads it as one row per line
   and the envelope module parses each line, so one malformed line is rejected alone.
3. Clean copy: when DuckDB cannot read the lines either (invalid UTF-8, a cut-off gzip
   stream, a line longer than its buffer), Python copies the whole lines it can read into
   a temporary file. It rejects the rest with their line and byte offset, and DuckDB reads
   the copy by the lines path.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from klenty_wh.load.inputs import UTF8_BOM, Format, InputFile
from klenty_wh.load.sql import literal

logger = logging.getLogger(__name__)

MAX_EVENT_BYTES = 32 * 1024
"""Segment's API rejects events larger than 32 KB; the loader rejects such records too."""

# DuckDB's line reader errors out on longer lines; the Python path rejects them first.
_MAX_LINE_BYTES = 4 * 1024 * 1024
_MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
_CHUNK = 1 << 20

@dataclass
class EarlyReject:
    """A record rejected before DuckDB saw it (bad bytes, cut-off gzip, over-long line)."""

    file_id: int
    line: int | None
    byte_offset: int | None
    reason: str
    raw: str


class StageMode(str, Enum):
    """How a file was staged, which decides what ``kwh_stage.line`` means for its rows."""

    RECORDS = "records"
    """DuckDB's JSON reader: the row position counts non-blank lines; physical lines are found later."""
    LINES = "lines"
    """One row per physical line, blank lines included: the row position is the line number."""
    ELEMENTS = "elements"
    """One row per element of a JSON array or per JSON document."""


def stage_json_file(insert: Callable[[str, bool], None], file_id: int, source: InputFile,
                    spool_dir: Path) -> tuple[StageMode, list[EarlyReject]]:
    """Stage the records of one JSON input; return how, and the records rejected before staging.

    ``insert(source_sql, from_lines)`` must stage the rows of a source built by
    :func:`klenty_wh.load.envelope.records_source` (``from_lines`` false) or
    :func:`klenty_wh.load.envelope.lines_source` (true). A failing ``insert`` must leave
    nothing behind (one statement in autocommit mode does that).
    """
    from klenty_wh.load.envelope import lines_source, records_source

    reader_format = {Format.NDJSON: "newline_delimited", Format.JSON_ARRAY: "array",
                     Format.JSON_DOCUMENT: "auto"}[source.format]
    try:
        insert(records_source(json_reader(source.path, source.gzip, reader_format), file_id), False)
        return (StageMode.RECORDS if source.format is Format.NDJSON else StageMode.ELEMENTS), []
    except Exception as exc:  # DuckDB raises several exception types for malformed input
        reason = str(exc).splitlines()[0]
        logger.info("DuckDB's JSON reader rejected %s (%s); reading it line by line", source.display, reason)
    if source.format is Format.JSON_DOCUMENT:
        raw = _decode(_read_all(source)[0])
        return StageMode.ELEMENTS, [EarlyReject(file_id, None, None, f"malformed JSON document: {reason}", raw)]
    try:
        insert(lines_source(_lines_reader(file_id, source.path, source.gzip)), True)
        return StageMode.LINES, []
    except Exception as exc:  # DuckDB raises several exception types for unreadable input
        logger.info("DuckDB could not read the lines of %s (%s); cleaning it in Python", source.display,
                    str(exc).splitlines()[0])
    clean_path = spool_dir / f"clean-{file_id}.ndjson"
    rejects = _write_clean_copy(file_id, source, clean_path)
    insert(lines_source(_lines_reader(file_id, clean_path, False)), True)
    clean_path.unlink(missing_ok=True)
    return StageMode.LINES, rejects


def json_reader(path: Path, is_gzip: bool, reader_format: str) -> str:
    """Return DuckDB's ``read_json`` over ``path`` with the envelope fields as JSON columns."""
    from klenty_wh.load.envelope import ENVELOPE_FIELDS

    columns = ", ".join(f"'{field}': 'JSON'" for field in ENVELOPE_FIELDS)
    return (f"read_json({literal(str(path))}, format = {literal(reader_format)}, columns = {{{columns}}}, "
            f"maximum_object_size = {_MAX_DOCUMENT_BYTES}, "
            f"compression = {literal('gzip' if is_gzip else 'none')})")


def _lines_reader(file_id: int, path: Path, is_gzip: bool) -> str:
    # Each physical line becomes one row, blank lines included, in file order, and the caller
    # numbers lines by row position. chr(31) never occurs in valid JSON. A line that contains
    # it has two fields, so strict mode fails and the Python path takes over.
    return f"""
        SELECT {file_id} AS file_id, NULL::BIGINT AS line, NULL::BIGINT AS phys_line,
               NULL::BIGINT AS pos, NULL::INTEGER AS item, raw, NULL::VARCHAR AS batch_context, NULL::VARCHAR AS batch_sent_at
        FROM read_csv({literal(str(path))}, columns = {{'raw': 'VARCHAR'}}, delim = chr(31),
                      quote = '', escape = '', header = false, auto_detect = false,
                      strict_mode = true, max_line_size = {_MAX_LINE_BYTES},
                      compression = {literal('gzip' if is_gzip else 'none')})
    """


def locate_records(source: InputFile, ordinals: set[int]) -> dict[int, tuple[int, str]]:
    """Return the physical line and raw text of the non-blank lines numbered ``ordinals``.

    Used for files staged in :attr:`StageMode.RECORDS`, where DuckDB numbered only the
    non-blank lines. Blank means empty or JSON whitespace only, as for DuckDB's reader.
    """
    found: dict[int, tuple[int, str]] = {}
    if not ordinals:
        return found
    last = max(ordinals)
    ordinal = 0
    for number, line in _physical_lines(source):
        if not line.strip(b" \t\r\n"):
            continue
        ordinal += 1
        if ordinal in ordinals:
            found[ordinal] = (number, _decode(line))
            if ordinal == last:
                break
    return found


def _physical_lines(source: InputFile) -> Iterator[tuple[int, bytes]]:
    pending = b""
    number = 0
    for chunk, _problem in _decompressed_chunks(source):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            number += 1
            yield number, _strip_line(number, line)
    if pending:
        yield number + 1, _strip_line(number + 1, pending)


def _strip_line(number: int, line: bytes) -> bytes:
    if number == 1 and line.startswith(UTF8_BOM):
        line = line[len(UTF8_BOM):]
    return line[:-1] if line.endswith(b"\r") else line


def _read_all(source: InputFile) -> tuple[bytes, str | None]:
    chunks = []
    problem = None
    for chunk, error in _decompressed_chunks(source):
        chunks.append(chunk)
        problem = error or problem
    return b"".join(chunks), problem


def _decompressed_chunks(source: InputFile) -> Iterator[tuple[bytes, str | None]]:
    """Yield (bytes, problem) pieces of the file; a problem ends the stream."""
    with source.path.open("rb") as handle:
        if not source.gzip:
            while chunk := handle.read(_CHUNK):
                yield chunk, None
            return
        decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        consumed = 0
        while True:
            compressed = handle.read(_CHUNK)
            if not compressed:
                if not decompressor.eof:
                    yield b"", f"gzip stream is cut off at compressed byte {consumed}"
                return
            while compressed:
                try:
                    data = decompressor.decompress(compressed)
                except zlib.error as exc:
                    yield b"", f"gzip data is corrupt near compressed byte {consumed} ({exc})"
                    return
                if data:
                    yield data, None
                if decompressor.eof:
                    # Another gzip member may follow (files made by `cat a.gz b.gz`).
                    used = len(compressed) - len(decompressor.unused_data)
                    consumed += used
                    compressed = decompressor.unused_data
                    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
                else:
                    consumed += len(compressed)
                    compressed = b""


def _write_clean_copy(file_id: int, source: InputFile, target: Path) -> list[EarlyReject]:
    """Copy the readable lines of ``source`` to ``target``; return the lines that cannot be read.

    Every input line keeps its line number: a rejected line is written as an empty line.
    """
    rejects: list[EarlyReject] = []
    line_number = 0
    offset = 0
    pending = b""
    problem = None
    with target.open("wb") as out:
        for chunk, error in _decompressed_chunks(source):
            problem = error or problem
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                line_number += 1
                out.write(_clean_line(file_id, line_number, offset, line, rejects) + b"\n")
                offset += len(line) + 1
        if pending:
            line_number += 1
            if problem:
                rejects.append(EarlyReject(file_id, line_number, offset,
                                           f"incomplete last line: {problem}", _decode(pending)))
            else:
                out.write(_clean_line(file_id, line_number, offset, pending, rejects) + b"\n")
        elif problem:
            rejects.append(EarlyReject(file_id, None, offset, f"rest of file unreadable: {problem}", ""))
    return rejects


def _clean_line(file_id: int, number: int, offset: int, line: bytes, rejects: list[EarlyReject]) -> bytes:
    if number == 1 and line.startswith(UTF8_BOM):
        line = line[len(UTF8_BOM):]
    if line.endswith(b"\r"):
        line = line[:-1]
    reason = None
    if len(line) > MAX_EVENT_BYTES:
        reason = f"record is {len(line)} bytes, over Segment's 32 KB limit per event"
    elif b"\x1f" in line:
        reason = "malformed JSON: control character U+001F outside a JSON string escape"
    else:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            reason = f"invalid UTF-8 at byte {exc.start} of the line (shown as \\x escapes in raw)"
    if reason is None:
        return line
    rejects.append(EarlyReject(file_id, number, offset, reason, _decode(line)))
    return b""


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="backslashreplace")
