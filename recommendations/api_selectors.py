"""Reads behind the recommendations API: similar courses, a trimmed homepage, training runs."""

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np
from django.db.models import QuerySet, prefetch_related_objects

from catalog.models import Course
from catalog.selectors import course_card_skills_prefetch, courses_in_bulk
from members.models import Member
from recommendations.models import TrainingRun
from recommendations.selectors import HomePage
from recommendations.snapshots import snapshot_active

REASON_FAMILIES = ("follow", "watched", "profile", "title", "industry", "popular", "new")


@dataclass(frozen=True)
class SimilarCourse:
    course: Course
    score: float


def courses_similar(*, course: Course, limit: int) -> list[SimilarCourse]:
    """Published courses most like `course` by shared (IDF-weighted) skills, best first.

    Read from the active snapshot's course-to-course similarity, so a course added since the last
    retrain has no neighbours yet (and is no one's neighbour). Ties go to the lower course id.
    """
    if limit <= 0:
        return []
    snapshot = snapshot_active()
    position = int(snapshot.course_positions(np.array([course.pk], dtype=np.int64))[0])
    if position < 0:
        return []
    row = snapshot.course_similarity[[position], :].tocsr()
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


def home_page_trim(*, page: HomePage, reason: str | None, limit: int) -> HomePage:
    """`page` with only the carousels of one reason family (all when None), each cut to `limit`
    cards, and the card courses ready for serialization (approved skills prefetched).

    Cards keep their carousel position and position from the full page, so impressions logged
    for the trimmed page attribute clicks exactly as the homepage would.
    """
    carousels = [
        replace(carousel, cards=carousel.cards[:limit])
        for carousel in page.carousels
        if reason is None or carousel.reason == reason
    ]
    prefetch_related_objects(
        [card.course for carousel in carousels for card in carousel.cards],
        course_card_skills_prefetch(),
    )
    return replace(page, carousels=carousels)


def members_in_bulk(*, member_ids: Iterable[int]) -> dict[int, Member]:
    """Members by id with what `home_page_for_member` reads of them (title, industry names)."""
    return Member.objects.select_related("title", "industry").in_bulk(list(member_ids))


def training_runs_recent() -> QuerySet[TrainingRun]:
    """Training runs, newest first, without their (large) model artifact."""
    return TrainingRun.objects.defer("artifact").order_by("-started_at", "-id")
