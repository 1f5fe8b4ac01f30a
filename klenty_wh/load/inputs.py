"""Find the input files of a load and tell what each one holds.

Compression is detected from the first bytes (gzip magic ``1f 8b``), never from the file
name. The format is detected from the content too, except for CSV and Parquet warehouse
exports, which are recognised by their extension (Parquet also by its ``PAR1`` magic).
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
import tempfile
import zlib
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from klenty_wh.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
UTF8_BOM = b"\xef\xbb\xbf"
_HEAD_BYTES = 1 << 20
_SKIPPED_NAMES = {"dummy-object.txt"}  # written by Segment's S3 bucket validation


class Format(str, Enum):
    """Content format of an input file."""

    NDJSON = "ndjson"
    """One JSON value per line (Segment's S3 export; batch bodies may sit on a line)."""
    JSON_DOCUMENT = "json-document"
    """One or more pretty-printed JSON values: a batch body, a single call."""
    JSON_ARRAY = "json-array"
    """A JSON array of calls."""
    CSV = "csv"
    PARQUET = "parquet"


@dataclass(frozen=True)
class InputFile:
    """One file to load."""

    path: Path
    display: str
    """The name used in reports and in ``rejected_records.source_file``."""
    gzip: bool
    format: Format
    size: int


def discover_inputs(paths: list[str], spool_dir: Path) -> list[InputFile]:
    """Expand ``paths`` (files, folders walked recursively, ``-`` for stdin) into input files.

    Folder contents are sorted by path so that loads are repeatable. Stdin is copied to a
    file in ``spool_dir`` first.

    Raises:
        InputError: a path does not exist or cannot be read.
    """
    files: list[InputFile] = []
    for argument in paths:
        if argument == "-":
            files.append(classify(_spool_stdin(spool_dir), display="<stdin>"))
            continue
        path = Path(argument)
        if not path.exists():
            raise InputError(f"input not found: {argument}. Pass existing files or folders, or - for stdin.")
        if path.is_dir():
            members = sorted(p for p in path.rglob("*") if p.is_file() and _is_data_file(p))
            files.extend(classify(member, display=str(member)) for member in members)
        else:
            files.append(classify(path, display=str(path)))
    return files


def _is_data_file(path: Path) -> bool:
    return not path.name.startswith(".") and path.name not in _SKIPPED_NAMES


def _spool_stdin(spool_dir: Path) -> Path:
    target = spool_dir / "stdin.input"
    with target.open("wb") as out:
        shutil.copyfileobj(sys.stdin.buffer, out)
    return target


def classify(path: Path, display: str) -> InputFile:
    """Detect the compression and format of one file.

    Raises:
        InputError: the file cannot be read.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise InputError(f"cannot read input {display}: {exc.strerror or exc}. Check the path and permissions.") from None
    is_gzip = magic[:2] == GZIP_MAGIC
    suffixes = [s.lower() for s in path.suffixes]
    if magic == PARQUET_MAGIC or ".parquet" in suffixes:
        return InputFile(path, display, False, Format.PARQUET, size)
    if ".csv" in suffixes:
        return InputFile(path, display, is_gzip, Format.CSV, size)
    head = read_head(path, is_gzip)
    return InputFile(path, display, is_gzip, _json_format(head), size)


def read_head(path: Path, is_gzip: bool, limit: int = _HEAD_BYTES) -> bytes:
    """Return up to ``limit`` decompressed bytes from the start of the file, BOM removed."""
    try:
        if is_gzip:
            with gzip.open(path, "rb") as handle:
                head = handle.read(limit)
        else:
            with path.open("rb") as handle:
                head = handle.read(limit)
    except (OSError, EOFError, zlib.error):
        head = _partial_gzip_head(path, limit) if is_gzip else b""
    return head[len(UTF8_BOM):] if head.startswith(UTF8_BOM) else head


def _partial_gzip_head(path: Path, limit: int) -> bytes:
    """Decompress what can be decompressed of a damaged gzip file, up to ``limit`` bytes."""
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        with path.open("rb") as handle:
            return decompressor.decompress(handle.read(limit), limit)
    except zlib.error:
        return b""


def _json_format(head: bytes) -> Format:
    stripped = head.lstrip()
    if stripped.startswith(b"["):
        return Format.JSON_ARRAY
    if not stripped.startswith(b"{"):
        return Format.NDJSON
    lines = [line.strip() for line in stripped.split(b"\n")[:8]]
    if _is_json_line(lines[0]):
        return Format.NDJSON
    # A broken first line in an NDJSON file: the lines after it are whole objects.
    if any(line.startswith(b"{") and _is_json_line(line) for line in lines[1:-1]):
        return Format.NDJSON
    return Format.JSON_DOCUMENT


def _is_json_line(line: bytes) -> bool:
    try:
        json.loads(line)
    except RecursionError:
        return True  # deeper than Python parses, but a complete value on one line
    except ValueError:
        return False
    return True


def copy_to_temp(source: Path, spool_dir: Path, name: str) -> Path:
    """Copy ``source`` into ``spool_dir`` (used for files DuckDB must re-read)."""
    target = Path(tempfile.mkstemp(dir=spool_dir, prefix=name)[1])
    shutil.copyfile(source, target)
    return target
