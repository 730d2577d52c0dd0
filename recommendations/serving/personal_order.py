"""Any list of courses in the order one member is most likely to take them: the rerank API's
order (`courses_ordered_for_member`), and a signed-in member's search results re-ordered among
results of similar relevance (`search_results_for_member`).

Scores come from what a homepage already serves, nothing is fitted per request: the member's
inputs (one read), the active snapshot, and the precomputed learned row. Each course goes under
its best reason exactly as on the homepage (`engine.best_reason_among_candidates`), ranked
among the listed courses only: a course's score is 1/k for the k-th best of the list under
that reason. Equal scores go to the earlier reason (followed skills first, as on the homepage),
then to the course matching the member's skills better, then to the lower id. Courses the
member finished, is taking or dismissed, and courses no reason scores, score 0 and come last.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from catalog.models import Course
from members.models import Member
from recommendations import engine
from recommendations.serving.inputs import member_serving_inputs
from recommendations.serving.new_courses import snapshot_with_new_courses
from recommendations.serving.reasons import member_scoring_build, reasons_for_member
from recommendations.serving.state import serving_state


@dataclass(frozen=True)
class CourseOrdered:
    course_id: int
    score: float
    # The reason the course ranks under (family, key, label); None when no reason scores it.
    reason: str | None
    reason_key: str | None
    label: str | None


def courses_ordered_for_member(
    *, member: Member, course_ids: Sequence[int], now: dt.datetime | None = None
) -> list[CourseOrdered]:
    """`course_ids` (distinct) best first for `member` (see the module docstring)."""
    ids = np.array(list(dict.fromkeys(course_ids)), dtype=np.int64)
    if ids.size == 0:
        return []
    config = settings.RECOMMENDATIONS
    now = now or timezone.now()
    state = serving_state()
    inputs = member_serving_inputs(
        member_id=member.pk,
        window_start=timezone.localdate(now) - dt.timedelta(days=config["DISCOUNT_WINDOW_DAYS"]),
        discount_threshold=config["DISCOUNT_THRESHOLD"],
        with_learned=state.learned,
    )
    snapshot = snapshot_with_new_courses(
        snapshot=state.snapshot, catalog_revision=inputs.catalog_revision
    )
    scoring = member_scoring_build(inputs=inputs, member=member, snapshot=snapshot, now=now)
    reasons = reasons_for_member(
        inputs=inputs, scoring=scoring, member=member, snapshot=snapshot, personalised=True
    )
    positions = snapshot.course_positions(ids)
    listed = np.zeros(snapshot.course_ids.size, dtype=bool)
    listed[positions[positions >= 0]] = True
    best_reason, best_score = engine.best_reason_among_candidates(
        [(reason.courses, reason.scores) for reason in reasons],
        valid=scoring.valid & listed,
        limit=ids.size,
    )
    known = positions >= 0
    reason_of = np.full(ids.size, -1, dtype=np.int64)
    score_of = np.zeros(ids.size)
    relevance_of = np.zeros(ids.size)
    reason_of[known] = best_reason[positions[known]]
    score_of[known] = best_score[positions[known]]
    relevance_of[known] = scoring.relevance[positions[known]]
    # No reason: after every reason (np.lexsort sorts by the last key first).
    reason_rank = np.where(reason_of >= 0, reason_of, len(reasons))
    order = np.lexsort((ids, -relevance_of, reason_rank, -score_of))
    ordered = []
    for index in order.tolist():
        reason = reasons[reason_of[index]] if reason_of[index] >= 0 else None
        ordered.append(
            CourseOrdered(
                course_id=int(ids[index]),
                score=float(score_of[index]),
                reason=reason.reason if reason else None,
                reason_key=reason.key if reason else None,
                label=reason.label if reason else None,
            )
        )
    return ordered


# Only the first results are re-ordered: they are what a member reads, and ordering them costs
# one read of the member's inputs whatever the number of results.
PERSONAL_SEARCH_WINDOW = 100
# Results within this share of the relevance of the first result of their band are "of similar
# relevance" and may swap places for the member; a clearly better match stays ahead.
SIMILAR_RELEVANCE = 0.8


class ResultsWithHead(Sequence):
    """Search results whose first courses were re-ordered: a list for them, the query for the
    rest. Pages (Django's Paginator) slice it and count it; the count is the query's."""

    def __init__(self, results: QuerySet[Course], head: list[Course]) -> None:
        self._results, self._head = results, head

    def count(self) -> int:  # type: ignore[override]  # Paginator's count, not Sequence's
        return self._results.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):  # type: ignore[override]
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop = index.start or 0, index.stop
        size = len(self._head)
        if stop is not None and stop <= size:
            return self._head[start:stop]
        beyond = list(self._results[max(start, size) : stop])
        return self._head[start:] + beyond if start < size else beyond


def search_results_for_member(
    *, member: Member, results: QuerySet[Course], now: dt.datetime | None = None
) -> Sequence[Course]:
    """`results` (ranked by relevance, each with its `relevance`) with the first
    `PERSONAL_SEARCH_WINDOW` re-ordered for `member` among results of similar relevance: bands
    of consecutive results within `SIMILAR_RELEVANCE` of their first one's relevance, each band
    in `courses_ordered_for_member`'s order."""
    head = list(results[:PERSONAL_SEARCH_WINDOW])
    if len(head) < 2:
        return head if len(head) == results.count() else ResultsWithHead(results, head)
    rank = {
        item.course_id: index
        for index, item in enumerate(
            courses_ordered_for_member(
                member=member, course_ids=[course.pk for course in head], now=now
            )
        )
    }
    bands: list[list[Course]] = []
    for course in head:
        if bands and course.relevance >= SIMILAR_RELEVANCE * bands[-1][0].relevance:
            bands[-1].append(course)
        else:
            bands.append([course])
    ordered = [course for band in bands for course in sorted(band, key=lambda c: rank.get(c.pk, 0))]
    return ResultsWithHead(results, ordered)
