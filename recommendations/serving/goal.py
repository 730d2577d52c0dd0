"""A member's career goal over the serving snapshot: the skill gap to the role they aim for, the
learning path that closes it, and the homepage's "Toward <role>" reason built from that path.

Everything here is computed from what a page view already holds, so the carousel costs no query
of its own: the goal is read with the member row (`Member.goal`, `goal_text`), the role's O*NET
skills in the inputs statement (`inputs.goal_skills`), and the rest comes from the snapshot (the
title's cohort profile, course tags and levels) and the member's stored learned row. The "My
goal" page and `GET /api/v1/me/goal/` call `goal_for_member`, which runs the same functions, so
the page's path and the carousel are the same plan. Nothing is stored: the gap and the path are
worked out afresh on every read, so finishing a course, following or adding a skill, or
dismissing a course re-plans the path on the next page load.
"""

import datetime as dt
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from django.conf import settings
from django.utils import timezone

from catalog.models import Course
from catalog.selectors import course_cards_by_id
from members.models import JobTitle, Member
from recommendations import engine
from recommendations.data import RulesSnapshot
from recommendations.serving.inputs import MemberServingInputs, member_serving_inputs
from recommendations.serving.new_courses import snapshot_with_new_courses
from recommendations.serving.reasons import MemberScoring, Reason, member_scoring_build
from recommendations.serving.state import serving_state

REASON_GOAL = "goal"


@dataclass(frozen=True)
class GoalSkill:
    """One skill the goal role needs, and whether (and how) the member already has it."""

    skill_id: int
    name: str
    hot: bool
    importance: float
    # "profile", "followed" or "course" (a finished course teaches it); "" while it is to learn.
    held_by: str


@dataclass(frozen=True)
class GoalGap:
    """The role's skills (at most `GOAL_ROLE_SKILLS`, in-demand first, then by importance)
    split into those the member has and those they lack."""

    skills: list[GoalSkill]

    @property
    def covered(self) -> list[GoalSkill]:
        return [skill for skill in self.skills if skill.held_by]

    @property
    def to_learn(self) -> list[GoalSkill]:
        return [skill for skill in self.skills if not skill.held_by]

    @property
    def share_covered(self) -> float:
        return len(self.covered) / len(self.skills) if self.skills else 0.0


@dataclass(frozen=True)
class PlannedStep:
    """A step of the member's path: a course (snapshot position and id) and the gap skills it
    teaches (ids, most important first)."""

    position: int
    course_id: int
    covers: list[int]


def goal_gap_build(
    *, inputs: MemberServingInputs, member: Member, snapshot: RulesSnapshot
) -> GoalGap | None:
    """The member's gap to their goal role, None without a goal. A role skill is weighted by
    `engine.role_skill_importance` (O*NET's weight, the share of the title's members holding
    it in the snapshot's cohort profile, `GOAL_HOT_BOOST` for in-demand ones); the member has
    it when it is on their profile, they follow it, or a course they finished teaches it."""
    if member.goal_id is None or not inputs.goal_skills:
        return None
    config = settings.RECOMMENDATIONS
    skill_ids = np.array([row[0] for row in inputs.goal_skills], dtype=np.int64)
    positions = snapshot.skill_positions(skill_ids)
    share = np.zeros(skill_ids.size)
    title_row = snapshot.title_position(member.goal_id)
    if title_row >= 0:
        columns, values = engine.sparse_row(snapshot.title_profiles, title_row)
        profile = dict(zip(columns.tolist(), values.tolist(), strict=True))
        share = np.array([profile.get(int(p), 0.0) if p >= 0 else 0.0 for p in positions])
    hot = np.array([row[2] for row in inputs.goal_skills], dtype=bool)
    importance = engine.role_skill_importance(
        np.array([row[1] for row in inputs.goal_skills]),
        hot,
        share,
        hot_boost=config["GOAL_HOT_BOOST"],
    )
    order = engine.role_skill_order(importance, hot)[: config["GOAL_ROLE_SKILLS"]]
    held_by = {skill_id: "course" for skill_id in _skills_of_finished_courses(inputs, snapshot)}
    held_by.update({skill_id: "followed" for skill_id, _ in inputs.followed})
    held_by.update({skill_id: "profile" for skill_id, _, _ in inputs.profile})
    return GoalGap(
        skills=[
            GoalSkill(
                skill_id=int(skill_ids[index]),
                name=inputs.goal_skills[index][3],
                hot=bool(hot[index]),
                importance=float(importance[index]),
                held_by=held_by.get(int(skill_ids[index]), ""),
            )
            for index in order.tolist()
        ]
    )


def _skills_of_finished_courses(inputs: MemberServingInputs, snapshot: RulesSnapshot) -> set[int]:
    unfinished = {course_id for course_id, _ in inputs.in_progress}
    finished = np.array(
        [course_id for course_id, _ in inputs.enrolled if course_id not in unfinished],
        dtype=np.int64,
    )
    positions = snapshot.course_positions(finished)
    positions = positions[positions >= 0]
    if not positions.size:
        return set()
    columns = snapshot.course_skill[positions].indices
    return set(snapshot.skill_ids[np.unique(columns)].tolist())


def goal_path_plan(
    *,
    gap: GoalGap,
    inputs: MemberServingInputs,
    scoring: MemberScoring,
    snapshot: RulesSnapshot,
    now: dt.datetime,
) -> list[PlannedStep]:
    """The path over the gap (`engine.path_plan`): published courses teaching a gap skill, none
    the member finished or dismissed (a course in progress may be a step: it is on its way),
    preferring those the member's learned row scores high (else their skill relevance), at
    most `GOAL_PATH_STEPS` steps."""
    config = settings.RECOMMENDATIONS
    to_learn = gap.to_learn
    gap_ids = np.array([skill.skill_id for skill in to_learn], dtype=np.int64)
    gap_positions = snapshot.skill_positions(gap_ids)
    known = gap_positions >= 0
    if not known.any():
        return []
    gap_ids, gap_positions = gap_ids[known], gap_positions[known]
    importance = np.array([skill.importance for skill, k in zip(to_learn, known, strict=True) if k])
    by_skill = snapshot.course_skill_by_column
    rows, columns = [], []
    for column, position in enumerate(gap_positions.tolist()):
        courses, _ = engine.sparse_column(by_skill, position)
        rows.append(courses)
        columns.append(np.full(courses.size, column, dtype=np.int64))
    course_rows = np.concatenate(rows)
    candidates, local = np.unique(course_rows, return_inverse=True)
    if not candidates.size:
        return []
    coverage = sp.csr_array(
        (np.ones(course_rows.size), (local, np.concatenate(columns))),
        shape=(candidates.size, gap_ids.size),
    )
    unfinished = {course_id for course_id, _ in inputs.in_progress}
    blocked = [course_id for course_id, _ in inputs.enrolled if course_id not in unfinished]
    blocked_positions = snapshot.course_positions(
        np.array(blocked + list(inputs.dismissed), dtype=np.int64)
    )
    eligible = snapshot.course_published[candidates] <= now.timestamp()
    eligible &= ~np.isin(candidates, blocked_positions[blocked_positions >= 0])
    steps = engine.path_plan(
        coverage,
        importance,
        preference=_preference(scoring, candidates),
        level=snapshot.course_level[candidates],
        eligible=eligible,
        max_steps=config["GOAL_PATH_STEPS"],
        preference_weight=config["GOAL_PREFERENCE_WEIGHT"],
    )
    return [
        PlannedStep(
            position=int(candidates[step.course]),
            course_id=int(snapshot.course_ids[candidates[step.course]]),
            covers=gap_ids[step.covers].tolist(),
        )
        for step in steps
    ]


def _preference(scoring: MemberScoring, candidates: np.ndarray) -> np.ndarray:
    """Per candidate, in [0, 1]: its learned score as a share of the row's best (the member's
    personal picks), or, for a member without a learned row, its skill relevance."""
    learned = scoring.learned.get((engine.FAMILY_ALS, -1))
    if learned is None:
        return scoring.relevance[candidates]
    courses, scores = learned
    top = scores.max() if scores.size else 0.0
    preference = np.zeros(candidates.size)
    if top > 0:
        found = np.searchsorted(courses, candidates)
        found = np.minimum(found, max(courses.size - 1, 0))
        hit = courses[found] == candidates if courses.size else np.zeros(candidates.size, bool)
        preference[hit] = np.clip(scores[found[hit]] / top, 0.0, 1.0)
    return preference


def goal_reason(*, member: Member, gap: GoalGap | None, steps: list[PlannedStep]) -> Reason | None:
    """The "Toward <role>" reason: the path's steps, the first scoring highest, so a course
    the path puts first is the carousel's first candidate. None without a path."""
    if gap is None or not steps:
        return None
    n = len(steps)
    return Reason(
        REASON_GOAL,
        f"{REASON_GOAL}:{member.goal_id}",
        goal_label(member.goal_text),
        np.array([step.position for step in steps], dtype=np.int64),
        np.arange(n, 0, -1, dtype=np.float64),
    )


def goal_label(goal_text: str) -> str:
    return f"Toward {goal_text}"


# The "My goal" page and `GET /api/v1/me/goal/`.


@dataclass(frozen=True)
class GoalStep:
    course: Course
    covers: list[str]
    # The member's progress on it (percent) when they started it, else None.
    progress: int | None


@dataclass(frozen=True)
class GoalOverview:
    goal_text: str
    occupation: JobTitle | None
    gap: GoalGap | None
    steps: list[GoalStep]


def goal_for_member(*, member: Member, now: dt.datetime | None = None) -> GoalOverview:
    """The member's goal, gap and path as the homepage plans them (the same inputs, snapshot
    and learned row): the inputs statement, and the path's cards unless the card cache holds
    them. Without a goal, an overview with neither gap nor steps."""
    now = now or timezone.now()
    if member.goal_id is None:
        return GoalOverview(goal_text="", occupation=None, gap=None, steps=[])
    config = settings.RECOMMENDATIONS
    state = serving_state()
    inputs = member_serving_inputs(
        member_id=member.pk,
        window_start=timezone.localdate(now) - dt.timedelta(days=config["DISCOUNT_WINDOW_DAYS"]),
        discount_threshold=config["DISCOUNT_THRESHOLD"],
        with_learned=state.learned,
        goal_id=member.goal_id,
    )
    snapshot = snapshot_with_new_courses(
        snapshot=state.snapshot, catalog_revision=inputs.catalog_revision
    )
    gap = goal_gap_build(inputs=inputs, member=member, snapshot=snapshot)
    planned: list[PlannedStep] = []
    if gap is not None:
        scoring = member_scoring_build(inputs=inputs, member=member, snapshot=snapshot, now=now)
        planned = goal_path_plan(
            gap=gap, inputs=inputs, scoring=scoring, snapshot=snapshot, now=now
        )
    names = {skill.skill_id: skill.name for skill in gap.skills} if gap is not None else {}
    cards = course_cards_by_id(
        course_ids=[step.course_id for step in planned], catalog_revision=inputs.catalog_revision
    )
    progress = dict(inputs.in_progress)
    steps = [
        GoalStep(
            course=cards[step.course_id],
            covers=[names[skill_id] for skill_id in step.covers],
            progress=progress.get(step.course_id),
        )
        for step in planned
        # Deleted, or unpublished, since the snapshot.
        if step.course_id in cards and cards[step.course_id].published_at <= now
    ]
    return GoalOverview(goal_text=member.goal_text, occupation=member.goal, gap=gap, steps=steps)
