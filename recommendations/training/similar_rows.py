"""Every course's similar courses, one packed row per course (`SimilarCourses`).

Activating a run (`runs.training_run_execute`, and a rollback's `training_run_activate`)
writes every course's row from that run's snapshot in the activation's transaction, so the
course page and the similar-courses API read the active run's lists and never a mix of two
runs. A row holds the `SIMILAR_KEPT` best courses of the snapshot's `similar_courses` (the
chosen family's item-item scores where a course has activity, shared IDF-weighted skills
elsewhere: `rules.similar_courses_blend`). A course whose row there is empty, and a catalog
course the snapshot does not hold (created since it was built), is compared by text (title,
description, approved skills; TF-IDF) with the snapshot's courses; `serving/similar.py` does
the same for courses created after the activation. Courses unpublished or deleted since are
left out when a row is read, so rows are not rewritten when a course is unpublished.

Written set-based: on PostgreSQL one `INSERT ... SELECT FROM unnest(...)` of up to
`WRITE_CHUNK_ROWS` rows per statement, with binary parameters.
"""

import datetime as dt

import numpy as np
import psycopg
from django.db import connection

from catalog.models import Course, CourseSkill
from recommendations import engine
from recommendations.data import RulesSnapshot
from recommendations.models import SimilarCourses
from recommendations.training.rules import SIMILAR_COURSES_PER_COURSE

# Similar courses kept per course: as many as the snapshot's skill rows hold, and the API's
# largest `limit`; the page shows six, the rest stand in for courses unpublished since.
SIMILAR_KEPT = SIMILAR_COURSES_PER_COURSE
WRITE_CHUNK_ROWS = 5000

# (course id, packed `engine.SIMILAR_COURSE` records)
Row = tuple[int, bytes]


def course_texts(course_ids: list[int] | None) -> dict[int, str]:
    """Each course's text as text similarity reads it (`engine.course_text`): title,
    description and approved skills, most confident first; every course's for None."""
    courses = (
        Course.objects.all() if course_ids is None else Course.objects.filter(pk__in=course_ids)
    )
    tags = CourseSkill.objects.filter(status=CourseSkill.Status.APPROVED)
    if course_ids is not None:
        tags = tags.filter(course_id__in=course_ids)
    names: dict[int, list[str]] = {}
    for course_id, name in tags.values_list("course_id", "skill__name").order_by(
        "course_id", "-confidence", "skill__name"
    ):
        names.setdefault(course_id, []).append(name)
    return {
        pk: engine.course_text(title, description, names.get(pk, []))
        for pk, title, description in courses.values_list("pk", "title", "description")
    }


def snapshot_text_index(snapshot: RulesSnapshot) -> engine.TextIndex:
    """The TF-IDF index of the snapshot's courses' texts (one read of the catalog's texts)."""
    texts = course_texts(None)
    return engine.text_index_build([texts.get(pk, "") for pk in snapshot.course_ids.tolist()])


def _rows_packed(
    snapshot: RulesSnapshot, course_ids: np.ndarray, records: np.ndarray, bounds: np.ndarray
) -> list[Row]:
    """Records over the snapshot's positions as one packed row of database ids per course."""
    records = records.copy()
    records["course"] = snapshot.course_ids[records["course"]]
    payload = engine.similar_courses_encode(records)
    width = engine.SIMILAR_COURSE.itemsize
    return [
        (course_id, payload[bounds[i] * width : bounds[i + 1] * width])
        for i, course_id in enumerate(course_ids.tolist())
    ]


def similar_rows_by_text(
    *, snapshot: RulesSnapshot, course_ids: np.ndarray, index: engine.TextIndex
) -> list[Row]:
    """Rows of `course_ids`: the snapshot's courses whose text reads most like theirs (`index`:
    `snapshot_text_index`), a course never its own neighbour."""
    if course_ids.size == 0:
        return []
    texts = course_texts(course_ids.tolist())
    scores = engine.text_index_query(
        index, [texts.get(pk, "") for pk in course_ids.tolist()], top_k=SIMILAR_KEPT + 1
    )
    records, bounds = engine.similar_course_lists(
        scores, k=SIMILAR_KEPT, own_columns=snapshot.course_positions(course_ids)
    )
    return _rows_packed(snapshot, course_ids, records, bounds)


def similar_rows_build(snapshot: RulesSnapshot) -> list[Row]:
    """A row for every course of the catalog from `snapshot` (see the module docstring)."""
    records, bounds = engine.similar_course_lists(snapshot.similar_courses, k=SIMILAR_KEPT)
    rows = dict(_rows_packed(snapshot, snapshot.course_ids, records, bounds))
    catalog = np.fromiter(Course.objects.values_list("pk", flat=True), dtype=np.int64)
    added = catalog[snapshot.course_positions(catalog) < 0]
    by_text = np.concatenate([snapshot.course_ids[np.diff(bounds) == 0], added])
    if by_text.size:
        index = snapshot_text_index(snapshot)
        rows.update(similar_rows_by_text(snapshot=snapshot, course_ids=by_text, index=index))
    return list(rows.items())


def similar_rows_write(
    *, run_id: int, rows: list[Row], now: dt.datetime, replace: bool = True
) -> None:
    """Store the rows as `run_id`'s, replacing a course's row (or, without `replace`, keeping
    it). Rows of courses deleted meanwhile are skipped. Call inside a transaction to make the
    rows appear together."""
    table = SimilarCourses._meta.db_table
    if connection.vendor != "postgresql":
        existing = set(Course.objects.values_list("pk", flat=True))
        SimilarCourses.objects.bulk_create(
            [
                SimilarCourses(course_id=pk, run_id=run_id, computed_at=now, payload=payload)
                for pk, payload in rows
                if pk in existing
            ],
            update_conflicts=replace,
            ignore_conflicts=not replace,
            unique_fields=["course"] if replace else None,
            update_fields=["run", "computed_at", "payload"] if replace else None,
            batch_size=500,
        )
        return
    conflict = (
        "DO UPDATE SET run_id = EXCLUDED.run_id, computed_at = EXCLUDED.computed_at, "
        "payload = EXCLUDED.payload"
        if replace
        else "DO NOTHING"
    )
    statement = (
        f"INSERT INTO {table} (course_id, run_id, computed_at, payload) "
        "SELECT t.course_id, %s, %s, t.payload "
        "FROM unnest(%b::bigint[], %b::bytea[]) AS t(course_id, payload) "
        f"JOIN {Course._meta.db_table} c ON c.id = t.course_id "
        f"ON CONFLICT (course_id) {conflict}"
    )
    # Binary parameters through psycopg's own cursor: Django's binds client-side, escaping
    # every byte of the payloads into SQL text.
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        for start in range(0, len(rows), WRITE_CHUNK_ROWS):
            chunk = rows[start : start + WRITE_CHUNK_ROWS]
            cursor.execute(
                statement,
                [run_id, now, [pk for pk, _ in chunk], [payload for _, payload in chunk]],
            )
