"""Offline measure of the goal path (`serving/goal.py`): for members with a goal, how often the
course they took last is among the first k steps of the path planned without it, next to how
often it is among the first k courses of the plain skill-affinity ranking (the order the
"Because you follow / have" carousels draw from: the member's blended skill relevance).

Held-out split: each member with a goal and at least two enrolments has their most recent
enrolment held out; their inputs are read as the homepage reads them, without that enrolment
and without the stored learned row (it was computed after it), and the path is planned from
them over the active snapshot. The snapshot's all-members statistics (popularity, cohort
profiles) include the held-out enrolments; neither the path nor relevance reads popularity.
"""

import datetime as dt
from dataclasses import replace

import numpy as np
from django.conf import settings
from django.utils import timezone

from members.models import Enrolment, Member
from recommendations.serving.goal import goal_gap_build, goal_path_plan
from recommendations.serving.inputs import member_serving_inputs
from recommendations.serving.reasons import member_scoring_build
from recommendations.serving.state import snapshot_active


def goal_paths_evaluate(*, k: int, now: dt.datetime | None = None) -> dict:
    """{"members", "goal_path": {"hit_rate"}, "skill_affinity": {"hit_rate"}, "k"}: the share
    of members with a goal whose held-out course is in the first k steps of their path, and in
    the first k courses by skill relevance (courses they took or dismissed left out of both)."""
    now = now or timezone.now()
    config = settings.RECOMMENDATIONS
    snapshot = snapshot_active()
    members = Member.objects.filter(goal__isnull=False).select_related("title", "industry")
    path_hits = affinity_hits = measured = 0
    for member in members.iterator(chunk_size=500):
        held_out = (
            Enrolment.objects.filter(member=member)
            .order_by("-enrolled_at", "-course_id")
            .values_list("course_id", flat=True)[:2]
        )
        held_out = list(held_out)
        if len(held_out) < 2:
            continue
        course_id = held_out[0]
        inputs = member_serving_inputs(
            member_id=member.pk,
            window_start=timezone.localdate(now)
            - dt.timedelta(days=config["DISCOUNT_WINDOW_DAYS"]),
            discount_threshold=config["DISCOUNT_THRESHOLD"],
            with_learned=False,
            goal_id=member.goal_id,
        )
        inputs = replace(
            inputs,
            enrolled=[row for row in inputs.enrolled if row[0] != course_id],
            in_progress=[row for row in inputs.in_progress if row[0] != course_id],
        )
        gap = goal_gap_build(inputs=inputs, member=member, snapshot=snapshot)
        if gap is None:
            continue
        scoring = member_scoring_build(inputs=inputs, member=member, snapshot=snapshot, now=now)
        steps = goal_path_plan(gap=gap, inputs=inputs, scoring=scoring, snapshot=snapshot, now=now)
        measured += 1
        path_hits += course_id in [step.course_id for step in steps[:k]]
        # Without the held-out enrolment in the inputs, its course is a valid candidate.
        valid = np.flatnonzero(scoring.valid)
        ranked = valid[np.argsort(-scoring.relevance[valid], kind="stable")][:k]
        position = int(snapshot.course_positions(np.array([course_id]))[0])
        affinity_hits += position >= 0 and position in ranked.tolist()
    return {
        "k": k,
        "members": measured,
        "goal_path": {"hit_rate": path_hits / measured if measured else None},
        "skill_affinity": {"hit_rate": affinity_hits / measured if measured else None},
    }
