#!/usr/bin/env python3
"""Reads a Parquet file with two independent readers and prints what they saw, as JSON.

    parquet-read.py FILE

pyarrow: the schema (column: type), the row groups, each column chunk's statistics in the first
row group, the compression, and every row (dates ISO, decimals as text). DuckDB: a few aggregates
over the same file, by its own reader.
"""
import json
import sys

import duckdb
import pyarrow.parquet as pq

path = sys.argv[1]
f = pq.ParquetFile(path)
table = f.read()
meta = f.metadata
rg = meta.row_group(0)
stats = {}
for i in range(rg.num_columns):
    c = rg.column(i)
    s = c.statistics
    stats[c.path_in_schema] = None if s is None or not s.has_min_max else {"min": str(s.min), "max": str(s.max), "nulls": s.null_count}


def cell(v):
    if v is None:
        return None
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if type(v).__name__ == "Decimal":
        return str(v)
    return v


rows = [[cell(v) for v in row.values()] for row in table.to_pylist()]
con = duckdb.connect()
first = table.schema.names[0]
agg = con.execute(f"SELECT count(*), count(DISTINCT \"{first}\") FROM read_parquet(?)", [path]).fetchone()
described = con.execute("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))", [path]).fetchall()
print(json.dumps({
    "schema": {n: str(t) for n, t in zip(table.schema.names, table.schema.types)},
    "row_groups": meta.num_row_groups,
    "num_rows": meta.num_rows,
    "compression": rg.column(0).compression,
    "statistics": stats,
    "encodings": {rg.column(i).path_in_schema: list(rg.column(i).encodings) for i in range(rg.num_columns)},
    "rows": rows,
    "duckdb": {"count": agg[0], "distinct_first": agg[1], "types": {n: t for n, t in described}},
}, default=str))
