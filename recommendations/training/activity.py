"""Read members' course activity as numpy arrays in one query per table.

At benchmark scale (2 M enrolments) building Python datetimes per row costs more than all the
maths after it, so times come out of the database as epoch seconds (floats) and rows go
straight into arrays (on PostgreSQL each column aggregated server-side and sent in binary,
see `table_arrays`).
"""

from dataclasses import dataclass

import numpy as np
from django.db import connection

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


def activity_read(*, member_id_range: tuple[int, int] | None = None) -> ActivityArrays:
    """Enrolments, bookmarks and dismissals, optionally of members with ids in the range."""
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
