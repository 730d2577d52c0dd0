"""Any list of courses in the order one member is most likely to take them: the rerank API's
order, and the order of a signed-in member's search results among results of similar
relevance.

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
from django.utils import timezone

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
