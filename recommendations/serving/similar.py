"""Similar courses for the course page and the API: the course's stored row
(`SimilarCourses`, written with the active run: `training/similar_rows.py`), and the rows of
courses created since, by text against the active snapshot."""

import logging
import threading
from dataclasses import dataclass

import numpy as np
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from catalog.models import Course
from catalog.selectors import courses_in_bulk
from core.tasks import task_queue
from recommendations import engine
from recommendations.data import RulesSnapshot
from recommendations.models import SimilarCourses, TrainingRun
from recommendations.serving.state import serving_state, snapshot_active
from recommendations.training.precompute import run_active_locked
from recommendations.training.similar_rows import (
    course_texts,
    similar_rows_by_text,
    similar_rows_write,
    snapshot_text_index,
)

logger = logging.getLogger(__name__)

_text_lock = threading.Lock()
_text_index: dict[str, object] = {"snapshot": None, "index": None}

# One pending `similar_rows_missing` task at a time (see `similar_rows_missing_request`).
MISSING_PENDING_KEY = "recommendations:similar-rows-missing"
MISSING_PENDING_SECONDS = 300


@dataclass(frozen=True)
class SimilarCourse:
    course: Course
    score: float


def similar_ranked(payload: bytes | memoryview) -> list[tuple[int, float]]:
    """A stored row as (course id, score), best first."""
    records = engine.similar_courses_decode(payload)
    return list(zip(records["course"].tolist(), records["score"].tolist(), strict=True))


def courses_similar(*, course: Course, limit: int) -> list[SimilarCourse]:
    """Published courses most like `course`, best first: its stored row (one query), read
    past courses unpublished or deleted since.

    Without a row (no run has been activated yet, or the course was created a moment ago and
    its row is still being written) the same lists are worked out in this process: the
    snapshot's `similar_courses` row, else the snapshot's courses whose text reads most like
    the course's (a TF-IDF index of the snapshot's courses, built on first use and kept with
    the snapshot). A course added since the last retrain is no one's neighbour until the next.
    """
    if limit <= 0:
        return []
    payload = (
        SimilarCourses.objects.filter(course_id=course.pk).values_list("payload", flat=True).first()
    )
    ranked = similar_ranked(payload) if payload is not None else _ranked_in_process(course, limit)
    found: list[SimilarCourse] = []
    # Read in chunks so a few unpublished courses do not shorten the list, without loading
    # every neighbour of a long row.
    for start in range(0, len(ranked), limit * 2):
        chunk = ranked[start : start + limit * 2]
        score_of = dict(chunk)
        for item in courses_in_bulk(course_ids=[course_id for course_id, _ in chunk]):
            found.append(SimilarCourse(course=item, score=score_of[item.pk]))
            if len(found) == limit:
                return found
    return found


def _ranked_in_process(course: Course, limit: int) -> list[tuple[int, float]]:
    snapshot = snapshot_active()
    position = int(snapshot.course_positions(np.array([course.pk], dtype=np.int64))[0])
    row = snapshot.similar_courses[[position], :].tocsr() if position >= 0 else None
    if row is None or row.nnz == 0:
        row = engine.text_index_query(
            _index_of(snapshot),
            [course_texts([course.pk]).get(course.pk, "")],
            top_k=limit * 4,
        )
    records, _ = engine.similar_course_lists(
        row, k=max(row.nnz, 1), own_columns=np.array([position])
    )
    return list(
        zip(
            snapshot.course_ids[records["course"]].tolist(),
            records["score"].tolist(),
            strict=True,
        )
    )


def _index_of(snapshot: RulesSnapshot) -> engine.TextIndex:
    """The TF-IDF index of the snapshot's courses, built on first use in this process (one read
    of the catalog's texts) and kept until the snapshot changes."""
    with _text_lock:
        if _text_index["snapshot"] is snapshot:
            return _text_index["index"]  # type: ignore[return-value]
    index = snapshot_text_index(snapshot)
    with _text_lock:
        _text_index.update(snapshot=snapshot, index=index)
    return index


def similar_rows_missing_request() -> bool:
    """Queue `similar_rows_missing` unless one is pending (a catalog import creating a thousand
    courses queues one task); True when this call queued it. Never raises: a broker that
    refuses is logged, and the scheduled `precompute_resume_missing` writes the rows later
    (the course page works them out meanwhile)."""
    try:
        first = cache.add(MISSING_PENDING_KEY, 1, timeout=MISSING_PENDING_SECONDS)
    except Exception:
        logger.exception("similar rows of new courses: the cache failed; queued unchecked")
        first = True
    if not first:
        return False
    task_id = task_queue(
        func="recommendations.tasks.similar_rows_missing",
        repair="the scheduled precompute_resume_missing writes the new courses' similar rows",
    )
    if task_id is None:
        cache.delete(MISSING_PENDING_KEY)
    return task_id is not None


def similar_rows_add_missing() -> int:
    """Write the rows of courses that have none (created or imported since the active run was
    activated): the active snapshot's courses whose text reads most like theirs, as the course
    page would work them out. A row written meanwhile (an activation) is kept. Returns the
    number of rows written; none without an active run (pages work them out then)."""
    cache.delete(MISSING_PENDING_KEY)  # courses created from now on queue another pass
    if not TrainingRun.objects.filter(is_active=True).exists():
        return 0  # checked first: without a run, the serving state builds a snapshot
    state = serving_state()
    if state.run_id is None:
        return 0
    missing = np.fromiter(
        Course.objects.exclude(pk__in=SimilarCourses.objects.values("course_id"))
        .order_by("pk")
        .values_list("pk", flat=True),
        dtype=np.int64,
    )
    if missing.size == 0:
        return 0
    rows = similar_rows_by_text(
        snapshot=state.snapshot, course_ids=missing, index=_index_of(state.snapshot)
    )
    with transaction.atomic():
        if not run_active_locked(state.run_id):
            # Another run took over since this process last looked: its activation wrote the
            # rows of every course it read, and the next pass does the others.
            logger.info("similar rows of new courses: run %s is no longer active", state.run_id)
            return 0
        similar_rows_write(run_id=state.run_id, rows=rows, now=timezone.now(), replace=False)
    return len(rows)
