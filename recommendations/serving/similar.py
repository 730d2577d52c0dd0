"""Similar courses for the course page: the active run's item-item scores where the course
has activity, else shared skills; by text for a course added since the snapshot."""

import threading
from dataclasses import dataclass

import numpy as np

from catalog.models import Course, CourseSkill
from catalog.selectors import courses_in_bulk
from recommendations import engine
from recommendations.data import RulesSnapshot
from recommendations.serving.state import snapshot_active

_text_lock = threading.Lock()
_text_index: dict[str, object] = {"snapshot": None, "index": None}


@dataclass(frozen=True)
class SimilarCourse:
    course: Course
    score: float


def courses_similar(*, course: Course, limit: int) -> list[SimilarCourse]:
    """Published courses most like `course`, best first: by what the same learners took (ALS
    item factors) where the course has activity, else by shared (IDF-weighted) skills, else by
    text.

    Read from the active snapshot. A course added since the last retrain, or one with neither
    activity nor skills in common with another, is compared by its text (title, description
    and approved skills, TF-IDF) with the snapshot's courses; a course added since the last
    retrain is no one's neighbour until the next. Ties go to the lower course id.
    """
    if limit <= 0:
        return []
    snapshot = snapshot_active()
    position = int(snapshot.course_positions(np.array([course.pk], dtype=np.int64))[0])
    row = snapshot.similar_courses[[position], :].tocsr() if position >= 0 else None
    if row is None or row.nnz == 0:
        row = _similar_by_text(course, snapshot=snapshot, limit=limit * 4)
    neighbours, scores = row.indices, row.data
    keep = (scores > 0) & (neighbours != position)
    neighbours, scores = neighbours[keep], scores[keep]
    ids = snapshot.course_ids[neighbours]
    order = np.lexsort((ids, -scores))
    ranked = [(int(ids[i]), float(scores[i])) for i in order]
    found: list[SimilarCourse] = []
    # Courses unpublished or deleted since the snapshot drop out; read in chunks so a few such
    # courses do not shorten the list, without loading every neighbour of a dense row.
    for start in range(0, len(ranked), limit * 2):
        chunk = ranked[start : start + limit * 2]
        score_of = dict(chunk)
        for item in courses_in_bulk(course_ids=[course_id for course_id, _ in chunk]):
            found.append(SimilarCourse(course=item, score=score_of[item.pk]))
            if len(found) == limit:
                return found
    return found


def _texts(course_ids: list[int] | None) -> dict[int, str]:
    """Each course's text as the retrain's text similarity reads it (`engine.course_text`)."""
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


def _index_of(snapshot: RulesSnapshot) -> engine.TextIndex:
    """The TF-IDF index of the snapshot's courses, built on first use in this process (one read
    of the catalog's texts) and kept until the snapshot changes."""
    with _text_lock:
        if _text_index["snapshot"] is snapshot:
            return _text_index["index"]  # type: ignore[return-value]
    texts = _texts(None)
    index = engine.text_index_build([texts.get(pk, "") for pk in snapshot.course_ids.tolist()])
    with _text_lock:
        _text_index.update(snapshot=snapshot, index=index)
    return index


def _similar_by_text(course: Course, *, snapshot: RulesSnapshot, limit: int):
    """The snapshot's courses whose text reads most like `course`'s, as a one-row matrix over
    the snapshot's positions."""
    text = _texts([course.pk]).get(course.pk, "")
    return engine.text_index_query(_index_of(snapshot), [text], top_k=limit)
