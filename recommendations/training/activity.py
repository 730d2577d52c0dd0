"""Read members' course activity as numpy arrays in one query per table (per member range, for
tables too large for one).

At benchmark scale (2 M enrolments) building Python datetimes per row costs more than all the
maths after it, so times come out of the database as epoch seconds (floats) and rows go
straight into arrays (on PostgreSQL each column aggregated server-side and sent in binary,
see `table_arrays`).
"""

import functools
import math
import os
from dataclasses import dataclass, fields

import numpy as np
from django.db import connection

from core.concurrent import calls_run_concurrently
from members.models import Bookmark, Enrolment
from recommendations.models import Dismissal
from recommendations.training.table_arrays import query_arrays


@dataclass(frozen=True)
class ActivityArrays:
    """Parallel arrays per table; times are epoch seconds."""

    enrol_member: np.ndarray
    enrol_course: np.ndarray
    enrol_progress: np.ndarray
    enrol_started: np.ndarray
    enrol_latest: np.ndarray
    enrol_completed: np.ndarray  # bool
    bookmark_member: np.ndarray
    bookmark_course: np.ndarray
    bookmark_time: np.ndarray
    dismiss_member: np.ndarray
    dismiss_course: np.ndarray
    dismiss_time: np.ndarray


def _latest(*columns: str) -> str:
    if connection.vendor == "postgresql":
        return f"GREATEST({', '.join(columns)})"  # NULLs are ignored
    first = columns[0]
    return f"MAX({', '.join(f'COALESCE({c}, {first})' for c in columns)})"


# Rows one aggregated query returns at most. PostgreSQL caps a result row at 1 GB, and a row
# here holds every column's array (12 bytes an element): 20 M enrolments of six columns do not
# fit, so larger tables are read in member-id ranges of about this many rows.
ROWS_PER_QUERY = 4_000_000
# From this many enrolments the read is split by member ids over the cores (below it, the extra
# queries cost more than they save).
PARALLEL_MIN_ROWS = 500_000


def activity_read(*, member_id_range: tuple[int, int] | None = None) -> ActivityArrays:
    """Enrolments, bookmarks and dismissals, optionally of members with ids in the range."""
    if member_id_range is None and connection.vendor == "postgresql":
        ranges = _member_ranges(rows_per_range=ROWS_PER_QUERY)
        if len(ranges) > 1:
            # One connection per range, as many at once as there are cores: each range's
            # aggregation runs in a PostgreSQL backend of its own.
            parts = calls_run_concurrently(
                *(functools.partial(_activity_read, member_id_range=bounds) for bounds in ranges)
            )
            # Column by column, each part's piece dropped once joined: at 20 M enrolments the
            # parts and the joined arrays side by side would be twice the activity (2 GB).
            pieces = [
                {field.name: getattr(part, field.name) for field in fields(part)} for part in parts
            ]
            del parts
            return ActivityArrays(
                **{
                    field.name: np.concatenate([piece.pop(field.name) for piece in pieces])
                    for field in fields(ActivityArrays)
                }
            )
    return _activity_read(member_id_range=member_id_range)


def _member_ranges(*, rows_per_range: int) -> list[tuple[int, int]]:
    """Member-id ranges, equally wide, that split the enrolments (the largest activity table)
    into parts of about `rows_per_range` rows, and into one per core from PARALLEL_MIN_ROWS
    rows; one range for less."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT min(member_id), max(member_id), count(*) FROM {Enrolment._meta.db_table}"
        )
        low, high, rows = cursor.fetchone()
    cores = os.cpu_count() or 1
    if not rows or (rows <= rows_per_range and (rows < PARALLEL_MIN_ROWS or cores == 1)):
        return [(0, 2**63 - 1)]
    parts = max(math.ceil(rows / rows_per_range), cores if rows >= PARALLEL_MIN_ROWS else 1)
    width = math.ceil((high - low + 1) / parts)
    bounds = [(low + i * width, low + (i + 1) * width - 1) for i in range(parts)]
    # The first and last ranges are open, so members outside [low, high] (in the smaller
    # tables) are read too.
    bounds[0] = (0, bounds[0][1])
    bounds[-1] = (bounds[-1][0], 2**63 - 1)
    return bounds


def _activity_read(*, member_id_range: tuple[int, int] | None) -> ActivityArrays:
    where, params = "", []
    if member_id_range is not None:
        where, params = " WHERE member_id BETWEEN %s AND %s", list(member_id_range)
    enrolments = query_arrays(
        columns=[
            ("member", "member_id", "int"),
            ("course", "course_id", "int"),
            ("progress", "progress_percent", "float"),
            ("started", "enrolled_at", "time"),
            ("latest", _latest("enrolled_at", "last_watched_at", "completed_at"), "time"),
            ("completed", "CASE WHEN completed_at IS NULL THEN 0 ELSE 1 END", "int"),
        ],
        source=f"{Enrolment._meta.db_table}{where}",
        params=params,
    )
    timed = [("member", "member_id", "int"), ("course", "course_id", "int")]
    timed.append(("created", "created_at", "time"))
    bookmarks = query_arrays(
        columns=timed, source=f"{Bookmark._meta.db_table}{where}", params=params
    )
    dismissals = query_arrays(
        columns=timed, source=f"{Dismissal._meta.db_table}{where}", params=params
    )
    return ActivityArrays(
        enrol_member=enrolments["member"],
        enrol_course=enrolments["course"],
        enrol_progress=enrolments["progress"],
        enrol_started=enrolments["started"],
        enrol_latest=enrolments["latest"],
        enrol_completed=enrolments["completed"] > 0,
        bookmark_member=bookmarks["member"],
        bookmark_course=bookmarks["course"],
        bookmark_time=bookmarks["created"],
        dismiss_member=dismissals["member"],
        dismiss_course=dismissals["course"],
        dismiss_time=dismissals["created"],
    )
