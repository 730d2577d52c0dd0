"""Similar courses for the course page: the active run's item-item scores where the course
has activity, else shared skills."""

from dataclasses import dataclass

import numpy as np

from catalog.models import Course
from catalog.selectors import courses_in_bulk
from recommendations.serving.state import snapshot_active


@dataclass(frozen=True)
class SimilarCourse:
    course: Course
    score: float


def courses_similar(*, course: Course, limit: int) -> list[SimilarCourse]:
    """Published courses most like `course`, best first: by what the same learners took (ALS
    item factors) where the course has activity, else by shared (IDF-weighted) skills.

    Read from the active snapshot, so a course added since the last retrain has no neighbours
    yet (and is no one's neighbour). Ties go to the lower course id.
    """
    if limit <= 0:
        return []
    snapshot = snapshot_active()
    position = int(snapshot.course_positions(np.array([course.pk], dtype=np.int64))[0])
    if position < 0:
        return []
    row = snapshot.similar_courses[[position], :].tocsr()
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
