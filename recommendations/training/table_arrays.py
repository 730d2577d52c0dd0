"""Read a query's columns straight into numpy arrays.

At benchmark scale (millions of rows) building a Python tuple per row costs more than the
maths after it, and so does a COPY read row by row (psycopg hands over one message per row).
On PostgreSQL each column is aggregated server-side into one array (`array_agg`) and the single
resulting row comes back in binary, which numpy views without parsing: integers as `bigint`,
floats as `double precision`, times as `timestamptz` (microseconds since 2000-01-01, turned
into epoch seconds here; no per-row conversion in the database). Elsewhere (SQLite, the demo)
rows come through the cursor as usual.
"""

from collections.abc import Sequence

import numpy as np
import psycopg
from django.db import connection

_KINDS = {"int": "bigint", "float": "double precision", "time": "timestamptz"}
_VALUE_TYPES = {"int": ">i8", "float": ">f8", "time": ">i8"}
_POSTGRES_EPOCH = 946_684_800.0  # 2000-01-01T00:00:00Z in Unix seconds


class ArrayFormatError(RuntimeError):
    """The database answered with a layout this reader does not expect (e.g. a NULL)."""


def query_arrays(
    *,
    columns: Sequence[tuple[str, str, str]],
    source: str,
    params: Sequence[int] = (),
    order_by: str | None = None,
) -> dict[str, np.ndarray]:
    """`SELECT <columns> FROM <source>` as one array per column, in the same row order.

    `columns` are (name, SQL expression, kind) with kind "int", "float" or "time" (a
    timestamp, returned as epoch seconds); no expression may be NULL. `source` is everything
    after FROM (tables, joins, WHERE; no ORDER BY) with `%s` placeholders for `params`;
    `order_by` (an SQL expression) orders the rows, else they come in the database's order.
    Ints come back as int64, floats and times as float64.
    """
    for _, _, kind in columns:
        if kind not in _KINDS:
            raise ValueError(f"unknown column kind {kind!r}")
    if connection.vendor == "postgresql":
        return _aggregated_arrays(columns, source, params, order_by)
    selected = ", ".join(_sqlite_expression(expression, kind) for _, expression, kind in columns)
    ordering = f" ORDER BY {order_by}" if order_by else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {selected} FROM {source}{ordering}", list(params))
        rows = cursor.fetchall()
    table = np.array(rows, dtype=np.float64).reshape(-1, len(columns))
    return {
        name: table[:, index].astype(np.int64 if kind == "int" else np.float64)
        for index, (name, _, kind) in enumerate(columns)
    }


def _sqlite_expression(expression: str, kind: str) -> str:
    if kind == "time":
        # SQLite stores ISO text; julianday keeps the fractional seconds strftime('%s') drops.
        return f"((julianday({expression}) - 2440587.5) * 86400.0)"
    return expression


def _aggregated_arrays(
    columns: Sequence[tuple[str, str, str]],
    source: str,
    params: Sequence[int],
    order_by: str | None,
) -> dict[str, np.ndarray]:
    # array_send gives the array's binary wire form as bytea, which psycopg returns as bytes
    # without building a Python object per element.
    ordering = f" ORDER BY {order_by}" if order_by else ""
    aggregates = ", ".join(
        f"array_send(array_agg(({expression})::{_KINDS[kind]}{ordering}))"
        for _, expression, kind in columns
    )
    connection.ensure_connection()
    # A server-binding psycopg cursor with binary results: bytea arrives as raw bytes instead
    # of hex text to decode (Django's own cursors bind client-side, which cannot).
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(f"SELECT {aggregates} FROM {source}", list(params), binary=True)
        row = cursor.fetchone()
    return {
        name: _array_values(raw, kind) for (name, _, kind), raw in zip(columns, row, strict=True)
    }


def _array_values(raw: bytes | memoryview | None, kind: str) -> np.ndarray:
    """Decode PostgreSQL's binary form of a 1-D array of 8-byte values."""
    dtype = np.int64 if kind == "int" else np.float64
    if raw is None:  # array_agg over no rows
        return np.zeros(0, dtype=dtype)
    payload = memoryview(raw)
    header = np.frombuffer(payload[:12], dtype=">i4")
    dimensions, has_nulls = int(header[0]), int(header[1])
    if dimensions == 0:
        return np.zeros(0, dtype=dtype)
    if dimensions != 1 or has_nulls:
        raise ArrayFormatError(f"expected a 1-D array without NULLs ({kind} column)")
    count = int(np.frombuffer(payload[12:16], dtype=">i4")[0])
    elements = np.frombuffer(
        payload[20:], dtype=np.dtype([("length", ">i4"), ("value", _VALUE_TYPES[kind])])
    )
    if elements.size != count or np.any(elements["length"] != 8):
        raise ArrayFormatError(f"unexpected element layout ({kind} column)")
    values = elements["value"].astype(dtype)
    if kind == "time":
        values /= 1e6
        values += _POSTGRES_EPOCH
    return values
