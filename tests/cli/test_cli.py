"""The command line contract: help, lazy imports, exit codes, streams."""

from __future__ import annotations

import re
import subprocess
import sys

from klenty_wh.exit_codes import ExitCode
from tests.conftest import CASES
from tests.helpers import run_cli


def test_exit_codes_are_documented():
    assert [code.value for code in ExitCode] == [0, 1, 2, 3]
    result = run_cli("--help")
    assert "0 success, 1 checks failed, 2 usage or configuration error" in result.out


def test_help_does_not_import_heavy_libraries():
    code = ("import sys; from klenty_wh.cli.app import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('great_expectations', 'duckdb', 'sqlalchemy', 'pandas') if m in sys.modules]\n"
            "sys.stderr.write('heavy=' + ','.join(heavy))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stderr.strip().endswith("heavy=")


def test_every_command_has_help_with_example():
    for command in ("plan", "init", "ddl", "sample", "load", "suites", "check", "models", "sql", "report"):
        result = run_cli(command, "--help")
        assert result.code == 0, command
        assert "Example:" in result.out, command


def test_unknown_option_is_a_usage_error():
    result = run_cli("init", "--no-such-option")
    assert result.code == 2


def test_schema_and_nickname_together_is_a_usage_error(duckdb_url):
    result = run_cli("init", "--schema", "a", "--source-nickname", "B", "--url", duckdb_url)
    assert result.code == 2
    assert "pass only one of them" in result.err


def test_invalid_url_is_a_usage_error():
    result = run_cli("init", "--url", "not a url")
    assert result.code == 2
    assert "invalid warehouse URL" in result.err


def test_piped_output_keeps_long_values_whole(tmp_path):
    folder = tmp_path / ("a-long-folder-name-" * 5)
    folder.mkdir()
    data = folder / "C15.ndjson"
    data.write_bytes((CASES / "C15.ndjson").read_bytes())
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    command = [sys.executable, "-m", "klenty_wh", "load", str(data), "--url", url]
    first = subprocess.run(command, capture_output=True, text=True)
    assert str(data) in first.stdout
    load_id = re.search(r"load ([0-9a-f]{16}) took", first.stderr).group(1)
    assert f"(load_id {load_id})" in first.stdout
    again = subprocess.run(command, capture_output=True, text=True)
    assert "Nothing changed" in again.stdout
    assert "Rows written per table" not in again.stdout
