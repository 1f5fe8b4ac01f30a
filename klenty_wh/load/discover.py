"""Find the leaf paths of ``properties`` and ``context`` in the rows a load will write.

Objects flatten into one column per leaf; arrays are leaves (stored as JSON text). For
each (group, path) the scan returns how many rows hold each JSON type and the last
non-null value in load order, which decides a new column's type.

Steps (each one scan of the calls, whatever the number of keys):

1. List the keys of each JSON column's top-level object.
2. Extract every child found so far in one go, count its JSON types, keep its last
   value, and list the keys of the children that are objects.
3. Repeat step 2 one level deeper while objects remain (at most :data:`MAX_DEPTH`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from klenty_wh.load.sql import json_pointer, literal

MAX_DEPTH = 32
"""Objects nested deeper than this are stored as JSON text in the column of this depth."""

MAX_KEYS = 1700
"""Top-level keys examined per JSON column; a table cannot hold more columns than 1,600 anyway."""

# Keys counted per scan: each adds six aggregates, and DuckDB sizes its hash tables by the
# width of a group's row, so wide scans exhaust memory. Wide data takes more scans instead.
_CHILDREN_PER_SCAN = 32

# The JSON type of an extracted value, read from its first character; DuckDB serialises
# extracted values without leading whitespace. Whole numbers of up to 18 digits always
# fit in BIGINT; longer ones are marked UBIGINT and checked when cast.
_KIND = (
    "CASE WHEN v IS NULL THEN NULL ELSE CASE substr(v, 1, 1) WHEN '\"' THEN 'VARCHAR' WHEN '{' THEN 'OBJECT' WHEN '[' THEN 'ARRAY' "
    "WHEN 'n' THEN 'NULL' WHEN 't' THEN 'BOOLEAN' WHEN 'f' THEN 'BOOLEAN' ELSE "
    "CASE WHEN regexp_matches(v, '[.eE]') THEN 'DOUBLE' WHEN length(v) <= 18 THEN 'BIGINT' "
    "ELSE 'UBIGINT' END END END"
)


@dataclass
class Leaf:
    """One flattened path seen in the data of one table."""

    base: str
    """``properties`` or ``context``."""
    path: tuple[str, ...]
    type_counts: dict[str, int] = field(default_factory=dict)
    """Rows per JSON type (``VARCHAR``, ``BIGINT``, ``UBIGINT``, ``DOUBLE``, ``BOOLEAN``, ``ARRAY``, ``NULL``)."""
    last_rec: int = -1
    last_type: str | None = None
    last_value: str | None = None
    stored_as_json: bool = False
    """True when the path is at the depth limit and objects there are stored as JSON text."""

    @property
    def non_null_rows(self) -> int:
        """Return the rows that hold a value other than null at this path."""
        return sum(n for json_type, n in self.type_counts.items() if json_type != "NULL")


@dataclass
class Discovery:
    """The leaves under one JSON column, per group (target table)."""

    leaves: dict[str, dict[tuple[str, ...], Leaf]] = field(default_factory=dict)
    objects: dict[str, set[tuple[str, ...]]] = field(default_factory=dict)
    """Paths that hold an object in some rows of the group (their leaves are below them)."""
    overflow: dict[str, list[tuple[tuple[str, ...], int]]] = field(default_factory=dict)
    """Keys left out because the data has more than :data:`MAX_KEYS`, with their row counts."""


def discover_leaves(con, relation: str, bases: dict[str, str],
                    known: set[tuple[str, tuple[str, ...]]] | None = None) -> dict[str, Discovery]:
    """Scan ``relation`` and return, per JSON column and per group, the leaves found.

    ``bases`` maps each JSON column of ``relation`` to an expression that lists the groups
    (target tables) a row's values of that column belong to. ``relation`` must also have a
    ``rec`` column, the load order. ``known`` lists (column, path) pairs of documented
    columns: nested ones are scanned together with their top-level key, and their last
    value, which only a new column's type needs, is not kept.
    """
    known = known or set()
    found = {base: Discovery() for base in bases}
    top = _top_level_keys(con, relation, bases, found)
    present = set(top)
    children = top + sorted(child for child in known
                            if len(child[1]) > 1 and (child[0], child[1][:1]) in present)
    scanned: set[tuple[str, tuple[str, ...]]] = set()
    depth = 1
    while children:
        scanned.update(children)
        objects = _scan_children(con, relation, bases, children, found, known,
                                 allow_objects=depth < MAX_DEPTH)
        children = sorted(objects - scanned)
        depth += 1
    return found


def _groups_union(bases: dict[str, str]) -> str:
    return ", ".join(f"{sql} AS g_{base}" for base, sql in bases.items())


def _top_level_keys(con, relation: str, bases: dict[str, str],
                    found: dict[str, Discovery]) -> list[tuple[str, tuple[str, ...]]]:
    """Return the top-level keys of each JSON column, at most :data:`MAX_KEYS` each.

    Keys beyond the limit, in order of first appearance, can never get a column, because a
    table has at most 1,600. They are recorded in ``Discovery.overflow`` with their row counts.
    """
    selects = [
        f"SELECT '{base}' AS b, k, grp, count(*) AS n, min(rec) AS first FROM ("
        f"SELECT unnest(groups) AS grp, rec, k FROM (SELECT groups, rec, unnest(json_keys({base})) AS k FROM "
        f"(SELECT {base}, rec, {sql} AS groups FROM {relation}) WHERE len(groups) > 0 AND {base} IS NOT NULL)"
        f") GROUP BY ALL"
        for base, sql in bases.items()
    ]
    rows = con.execute(" UNION ALL ".join(selects)).fetchall()
    first_seen: dict[tuple[str, str], int] = {}
    for base, key, _, _, first in rows:
        first_seen[(base, key)] = min(first, first_seen.get((base, key), first))
    within_limit: set[tuple[str, str]] = set()
    for base in bases:
        ordered = sorted((first, key) for (b, key), first in first_seen.items() if b == base)
        within_limit.update((base, key) for _, key in ordered[:MAX_KEYS])
    for base, key, group, count, _ in rows:
        if (base, key) not in within_limit:
            found[base].overflow.setdefault(group, []).append(((key,), count))
    return [(base, (key,)) for base, key in sorted(within_limit)]


def _scan_children(con, relation: str, bases: dict[str, str], children: list[tuple[str, tuple[str, ...]]],
                   found: dict[str, Discovery], known: set[tuple[str, tuple[str, ...]]],
                   allow_objects: bool) -> set[tuple[str, tuple[str, ...]]]:
    """Count the JSON types of ``children``; return the children of those that are objects.

    The scan groups rows by (table, keep flags) and aggregates every child in its own
    columns, so the rows are never multiplied. The groups are then merged per target.
    Most values are strings, nulls or objects, which three plain counts cover. Only the
    children with values of other types get a second scan with a full histogram.
    """
    stats: dict = {}
    for start in range(0, len(children), _CHILDREN_PER_SCAN):
        stats.update(_aggregate(con, relation, bases, children[start:start + _CHILDREN_PER_SCAN], known,
                                detailed=False))
    mixed = sorted({child for (_, _, _, child), (counts, *_rest) in stats.items() if counts is None})
    for start in range(0, len(mixed), _CHILDREN_PER_SCAN):
        stats.update(_aggregate(con, relation, bases, mixed[start:start + _CHILDREN_PER_SCAN], known,
                                detailed=True))
    objects = sorted({child for (_, _, _, child), (counts, *_rest) in stats.items() if counts.get("OBJECT")})
    keys = _object_keys(con, relation, bases, objects) if allow_objects else {}
    next_children: set[tuple[str, tuple[str, ...]]] = set()
    for (table_name, keep_event, keep_tracks, (base, path)), (counts, last_rec, last_value) in stats.items():
        for group in _groups_of(base, bases, table_name, keep_event, keep_tracks):
            next_children |= _record(found[base], group, base, path, counts, last_rec, last_value,
                                     keys.get((base, path)), allow_objects)
    return next_children


def _object_keys(con, relation: str, bases: dict[str, str],
                 objects: list[tuple[str, tuple[str, ...]]]) -> dict[tuple[str, tuple[str, ...]], list[str]]:
    """Return the keys found under each child that is an object in some rows."""
    found: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for start in range(0, len(objects), _CHILDREN_PER_SCAN):
        batch = objects[start:start + _CHILDREN_PER_SCAN]
        selects = [
            f"SELECT DISTINCT {index} AS i, unnest(json_keys({base}, {literal(json_pointer(path))})) AS k "
            f"FROM {relation} WHERE (keep_event OR keep_tracks) AND json_type({base}, {literal(json_pointer(path))}) "
            f"= 'OBJECT'"
            for index, (base, path) in enumerate(batch)
        ]
        for index, key in con.execute(" UNION ALL ".join(selects) + " ORDER BY i, k").fetchall():
            found.setdefault(batch[index], []).append(key)
    return found


def _aggregate(con, relation: str, bases: dict[str, str], children: list[tuple[str, tuple[str, ...]]],
               known: set[tuple[str, tuple[str, ...]]], detailed: bool) -> dict:
    """Return {(table, keep_event, keep_tracks, child): (kind counts or None, last rec, last value)}.

    Without ``detailed``, the kind counts are None for a child with any value other than a
    string, null or object.
    """
    lists, values, aggregates = [], [], []
    for number, (base, path) in enumerate(children, start=1):
        position = [p for b, p in children if b == base].index(path) + 1
        values.append(f"vs_{base}[{position}] AS v{number}")
        values.append(f"{_kind_of(f'v{number}')} AS t{number}")
        if detailed:
            aggregates.append(f"histogram(t{number})")
        else:
            aggregates += [f"count(v{number})", f"count(*) FILTER (WHERE t{number} = 'VARCHAR')",
                           f"count(*) FILTER (WHERE t{number} = 'NULL')",
                           f"count(*) FILTER (WHERE t{number} = 'OBJECT')"]
        aggregates += [
            f"max(rec) FILTER (WHERE t{number} <> 'NULL')",
            "NULL" if (base, path) in known else
            f"arg_max(v{number}, rec) FILTER (WHERE t{number} NOT IN ('NULL', 'OBJECT'))",
        ]
    for base in bases:
        paths = [path for child_base, path in children if child_base == base]
        if paths:
            pointers = "[" + ", ".join(literal(json_pointer(path)) for path in paths) + "]"
            lists.append(f"json_extract({base}, {pointers}) AS vs_{base}")
    rows = con.execute(f"""
        SELECT table_name, keep_event, keep_tracks, {", ".join(aggregates)}
        FROM (
            SELECT table_name, keep_event, keep_tracks, rec, {", ".join(values)}
            FROM (SELECT table_name, keep_event, keep_tracks, rec, {", ".join(lists)} FROM {relation}
                  WHERE keep_event OR keep_tracks)
        )
        GROUP BY ALL
    """).fetchall()
    width = 3 if detailed else 6
    stats = {}
    for table_name, keep_event, keep_tracks, *columns in rows:
        for number, child in enumerate(children):
            chunk = columns[number * width:(number + 1) * width]
            if detailed:
                counts = dict(chunk[0] or {})
            else:
                total, strings, nulls, objects = chunk[:4]
                counts = ({"VARCHAR": strings, "NULL": nulls, "OBJECT": objects}
                          if total == strings + nulls + objects else None)
            stats[(table_name, keep_event, keep_tracks, child)] = (counts, *chunk[-2:])
    return stats


def _kind_of(value: str) -> str:
    return (_KIND.replace("WHEN v IS NULL", f"WHEN {value} IS NULL")
            .replace("substr(v, 1, 1)", f"substr({value}, 1, 1)")
            .replace("regexp_matches(v, ", f"regexp_matches({value}, ")
            .replace("length(v)", f"length({value})"))


def _groups_of(base: str, bases: dict[str, str], table_name: str, keep_event: bool, keep_tracks: bool) -> list[str]:
    groups = [table_name] if keep_event else []
    if base == "context" and keep_tracks:
        groups.append("tracks")
    return groups


def _record(discovery: Discovery, group: str, base: str, path: tuple[str, ...], counts: dict[str, int],
            last_rec: int | None, last_value: str | None, object_keys: list[str] | None,
            allow_objects: bool) -> set[tuple[str, tuple[str, ...]]]:
    next_children: set[tuple[str, tuple[str, ...]]] = set()
    if counts.get("OBJECT") and allow_objects:
        discovery.objects.setdefault(group, set()).add(path)
        next_children.update((base, path + (key,)) for key in object_keys or [])
    kinds = {kind: n for kind, n in counts.items() if n and (kind != "OBJECT" or not allow_objects)}
    if not kinds:
        return next_children
    leaf = discovery.leaves.setdefault(group, {}).setdefault(path, Leaf(base=base, path=path))
    for kind, n in kinds.items():
        if kind == "OBJECT":
            leaf.stored_as_json = True
            kind = "ARRAY"  # stored as JSON text, like an array
        leaf.type_counts[kind] = leaf.type_counts.get(kind, 0) + n
    if last_rec is not None and last_value is not None and last_rec > leaf.last_rec:
        leaf.last_rec = last_rec
        leaf.last_value, leaf.last_type = _decode_value(last_value)
    return next_children


def _decode_value(text: str) -> tuple[str, str]:
    """Return (value, JSON type) of the JSON text of a last value."""
    first = text[:1]
    if first == '"':
        return json.loads(text), "VARCHAR"
    if first in "tf":
        return text, "BOOLEAN"
    if first == "[" or first == "{":
        return text, "ARRAY"
    if any(char in text for char in ".eE"):
        return text, "DOUBLE"
    return text, "BIGINT" if len(text) <= 18 else "UBIGINT"
