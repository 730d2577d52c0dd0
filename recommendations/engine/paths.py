"""Career goals: how much a role needs each of its skills, and a learning path toward it.

A path is a greedy weighted set cover of the member's skill gap: each step is the course whose
gap skills not yet covered weigh most, scaled up for courses the member's learned scores rank
high; the steps are then ordered so that, within a skill, beginner courses come before
intermediate before advanced ones. Greedy set cover is within a factor ln(n) of the smallest
cover and, unlike an exact cover, gives the most valuable step first.
"""

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from recommendations.engine.sparse_ops import Sparse, presence

# Course levels as the snapshot stores them (`catalog.Course.Level`, in order).
LEVEL_BEGINNER, LEVEL_INTERMEDIATE, LEVEL_ADVANCED = 0, 1, 2


class PathStep(NamedTuple):
    """One step of a planned path: a course (a row of the coverage matrix) and the gap skills
    (its columns) it teaches, most important first."""

    course: int
    covers: np.ndarray


def role_skill_importance(
    onet_weight: np.ndarray, hot: np.ndarray, cohort_share: np.ndarray, *, hot_boost: float
) -> np.ndarray:
    """How much a role needs each of its skills: the mean of how well the skill marks the
    occupation in O*NET (`onet_weight`, in (0, 1]) and the share of members holding the title
    who have it (`cohort_share`, in [0, 1]; 0 without a cohort yet), times `hot_boost` for
    O*NET's in-demand ("hot") technologies."""
    base = 0.5 * (np.asarray(onet_weight, dtype=np.float64) + np.asarray(cohort_share))
    return base * np.where(np.asarray(hot, dtype=bool), hot_boost, 1.0)


def role_skill_order(importance: np.ndarray, hot: np.ndarray) -> np.ndarray:
    """Indices of the role's skills in the order they are shown: in-demand ones first, then by
    importance, ties to the lower index."""
    indices = np.arange(np.asarray(importance).size)
    return np.lexsort((indices, -np.asarray(importance), ~np.asarray(hot, dtype=bool)))


def path_plan(
    coverage: Sparse,
    importance: np.ndarray,
    *,
    preference: np.ndarray,
    level: np.ndarray,
    eligible: np.ndarray,
    max_steps: int,
    preference_weight: float,
) -> list[PathStep]:
    """The ordered steps of a path over `coverage` (courses × gap skills, nonzero where a course
    teaches a skill the member lacks) weighted by each gap skill's `importance`.

    Greedy: while a step is left and an `eligible` course covers a gap skill not yet covered,
    take the course maximising (importance of its uncovered gap skills) × (1 + preference_weight
    × preference), `preference` being in [0, 1] (how high the member's learned scores rank it);
    ties go to the lower level, then the lower index. Then the steps are put in order: the
    earliest chosen step goes first unless a remaining step of a lower level teaches one of the
    same gap skills, which then goes before it (beginner before intermediate before advanced
    within a skill). Each step's `covers` lists every gap skill it teaches, most important
    first: never empty.
    """
    taught = sp.csr_array(presence(coverage))
    importance = np.asarray(importance, dtype=np.float64)
    n_courses, n_skills = taught.shape
    if n_courses == 0 or n_skills == 0 or max_steps <= 0:
        return []
    multiplier = 1.0 + preference_weight * np.clip(np.asarray(preference, dtype=np.float64), 0, 1)
    allowed = np.asarray(eligible, dtype=bool).copy()
    level = np.asarray(level, dtype=np.int64)
    indices = np.arange(n_courses)
    uncovered = np.ones(n_skills)
    chosen: list[int] = []
    while len(chosen) < max_steps:
        gain = (taught @ (importance * uncovered)) * multiplier
        gain[~allowed] = 0.0
        best = np.lexsort((indices, level, -gain))[0]
        if gain[best] <= 0.0:
            break
        chosen.append(int(best))
        allowed[best] = False
        uncovered[taught.indices[taught.indptr[best] : taught.indptr[best + 1]]] = 0.0
    skills_of = {
        course: taught.indices[taught.indptr[course] : taught.indptr[course + 1]]
        for course in chosen
    }
    ordered: list[int] = []
    remaining = list(chosen)
    while remaining:
        for course in remaining:
            earlier = [
                other
                for other in remaining
                if level[other] < level[course]
                and np.intersect1d(skills_of[other], skills_of[course]).size
            ]
            if not earlier:
                ordered.append(course)
                remaining.remove(course)
                break
    return [
        PathStep(
            course,
            skills_of[course][np.lexsort((skills_of[course], -importance[skills_of[course]]))],
        )
        for course in ordered
    ]
