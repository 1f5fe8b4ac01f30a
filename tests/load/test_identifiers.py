"""Names that come from data are data: they never change the SQL that runs."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from klenty_wh.load.columns import column_name
from klenty_wh.load.discover import Leaf
from tests.conftest import CASES
from tests.helpers import columns, load, rows, run_cli, tables

HOSTILE_EVENT = 'x"; DROP TABLE klenty_prod.tracks; --'
HOSTILE_KEYS = {
    'quote"key': "a", "single'quote": "b", "back`tick": "c", "semi;colon": "d", "new\nline": "e",
    "drop table tracks; --": "f", "tab\there": "g", "/slash~tilde": "h",
}


def hostile_file(tmp_path):
    base = json.loads((CASES / "C01.ndjson").read_text().splitlines()[0])
    base["properties"] = {"email_id": "em_1", "fromId": "rep@example.com", "email_subject": "Hi"}
    records = []
    for index, (key, value) in enumerate(HOSTILE_KEYS.items()):
        record = dict(base, messageId=f"hostile-{index}")
        record["properties"] = dict(base["properties"], **{key: value})
        records.append(record)
    records.append(dict(base, messageId="hostile-event", event=HOSTILE_EVENT))
    path = tmp_path / "hostile.ndjson"
    path.write_text("\n".join(json.dumps(record) for record in records) + "\n")
    return path


def test_hostile_names_become_snake_case_names(warehouse_target, tmp_path):
    url, schema = warehouse_target
    load(url, [CASES / "C14.ndjson.gz"], schema)
    report = load(url, [hostile_file(tmp_path)], schema)

    assert report.rejected == 0
    assert report.loaded == len(HOSTILE_KEYS) + 1
    assert {"tracks", "email_sent", "email_opened", "link_clicked"} <= tables(url, schema)
    assert rows(url, f'SELECT count(*) AS n FROM "{schema}".tracks')[0]["n"] == 3 + len(HOSTILE_KEYS) + 1
    assert "x_drop_table_klenty_prod_tracks" in tables(url, schema)
    event = rows(url, f'SELECT event, event_text FROM "{schema}".x_drop_table_klenty_prod_tracks')
    assert event == [{"event": "x_drop_table_klenty_prod_tracks", "event_text": HOSTILE_EVENT}]
    present = set(columns(url, schema, "email_sent"))
    assert {"quote_key", "single_quote", "back_tick", "semi_colon", "new_line", "drop_table_tracks", "tab_here",
            "slash_tilde"} <= present
    stored = rows(url, f'SELECT semi_colon, new_line, slash_tilde FROM "{schema}".email_sent '
                       "WHERE id IN ('hostile-3', 'hostile-4', 'hostile-7') ORDER BY id")
    assert [list(filter(None, row.values())) for row in stored] == [["d"], ["e"], ["h"]]


def test_hostile_schema_names_are_rejected(duckdb_url, tmp_path):
    commands = {
        "load": ["load", str(CASES / "C01.ndjson")],
        "init": ["init"],
        "check": ["check"],
        "models": ["models"],
        "report": ["report", "--out", str(tmp_path / "report.html")],
        "ddl": ["ddl"],
    }
    for schema in ('x"; DROP TABLE t; --', "klenty prod", "Klenty", "a.b", "bad-name!"):
        for name, args in commands.items():
            url = [] if name == "ddl" else ["--url", duckdb_url]
            result = run_cli(*args, "--schema", schema, *url)
            assert result.code == 2, (name, schema)
            assert result.err.startswith(f"Error: invalid schema name {schema!r}"), (name, result.err)


@given(st.lists(st.text(), min_size=1, max_size=4), st.sampled_from(["properties", "context"]))
def test_flattened_names_are_identifiers(path, base):
    name = column_name(Leaf(base=base, path=tuple(path)))
    assert name == "" or all(part.isalnum() and part == part.lower() for part in name.split("_"))
    assert name.isascii()
    assert column_name(Leaf(base="properties", path=(name,))) == name or base == "context"
