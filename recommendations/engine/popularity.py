"""Popularity, trending and recency scores, globally and per cohort (title, industry...).

Trending counts members, not events: each member counts once per course, weighted by how recent
their latest event on it is, so one member replaying a course cannot make it trend.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from recommendations.engine.sparse_ops import (
    FloatArray,
    IntArray,
    Sparse,
    as_csr,
    group_matrix,
    presence,
    scale_rows,
)

__all__ = [
    "cohort_popularity_scores",
    "cohort_trending_scores",
    "decay_weights",
    "popularity_scores",
    "recency_scores",
    "to_seconds",
    "trending_scores",
]

SECONDS_PER_DAY = 86_400.0


def to_seconds(times: ArrayLike | np.datetime64) -> FloatArray:
    """Float seconds since the Unix epoch from floats (returned as is) or ``datetime64`` values."""
    values = np.asarray(times)
    if np.issubdtype(values.dtype, np.datetime64):
        seconds = (values - np.datetime64(0, "s")) / np.timedelta64(1, "s")
        return np.asarray(seconds, dtype=np.float64)
    return values.astype(np.float64)


def decay_weights(
    times: ArrayLike, *, now: float | np.datetime64, half_life_days: float
) -> FloatArray:
    """``0.5 ** (age / half_life)`` per timestamp; ages in the future count as 0 (weight 1)."""
    if half_life_days <= 0:
        raise ValueError("half_life_days must be positive")
    age = np.maximum(to_seconds(now) - to_seconds(times), 0.0)
    return np.exp2(-age / (half_life_days * SECONDS_PER_DAY))


def popularity_scores(interactions: Sparse) -> FloatArray:
    """Number of distinct members with a positive interaction per course, shape (courses,).

    ``interactions`` is (members × courses) of counts or weights; negative entries (dismissals)
    and zeros do not count.
    """
    positive = as_csr(interactions)
    positive.data = (positive.data > 0).astype(np.float64)
    return np.bincount(positive.indices, weights=positive.data, minlength=positive.shape[1])


def _zero_small_cohorts(
    per_cohort: Sparse, cohort_of_member: ArrayLike, *, n_cohorts: int, min_cohort_size: int
) -> sp.csr_array:
    groups = np.asarray(cohort_of_member, dtype=np.int64)
    sizes = np.bincount(groups[groups >= 0], minlength=n_cohorts)
    return scale_rows(per_cohort, (sizes >= max(min_cohort_size, 1)).astype(np.float64))


def cohort_popularity_scores(
    interactions: Sparse,
    cohort_of_member: ArrayLike,
    *,
    n_cohorts: int,
    min_cohort_size: int,
) -> sp.csr_array:
    """Distinct members with a positive interaction per (cohort, course), shape (cohorts × courses).

    ``cohort_of_member`` (members,) is a cohort index or -1. Rows of cohorts with fewer than
    ``min_cohort_size`` members (counting all members, active or not) are empty.
    """
    positive = as_csr(interactions)
    positive.data = (positive.data > 0).astype(np.float64)
    counts = group_matrix(cohort_of_member, n_groups=n_cohorts) @ presence(positive)
    return _zero_small_cohorts(
        counts, cohort_of_member, n_cohorts=n_cohorts, min_cohort_size=min_cohort_size
    )


def _latest_member_course_weights(
    event_member: ArrayLike,
    event_course: ArrayLike,
    event_time: ArrayLike,
    *,
    now: float | np.datetime64,
    half_life_days: float,
    n_courses: int,
) -> tuple[IntArray, IntArray, FloatArray]:
    """(member, course, decay weight of the latest event) for each distinct pair."""
    members = np.asarray(event_member, dtype=np.int64)
    courses = np.asarray(event_course, dtype=np.int64)
    weights = decay_weights(event_time, now=now, half_life_days=half_life_days)
    if not (members.size == courses.size == weights.size):
        raise ValueError("event arrays must have the same length")
    if members.size == 0:
        return members, courses, weights
    pair = members * n_courses + courses
    # One sort by pair (stable: events arrive grouped, which timsort finds), then each group's
    # largest weight, its latest event's: a sort by (pair, weight) cost four times as much.
    order = np.argsort(pair, kind="stable")
    starts = np.flatnonzero(np.r_[True, pair[order][1:] != pair[order][:-1]])
    first = order[starts]
    return members[first], courses[first], np.maximum.reduceat(weights[order], starts)


def trending_scores(
    event_member: ArrayLike,
    event_course: ArrayLike,
    event_time: ArrayLike,
    *,
    now: float | np.datetime64,
    half_life_days: float,
    n_courses: int,
) -> FloatArray:
    """Time-decayed count of members engaging with each course, shape (courses,).

    Events are parallel arrays (member index, course index, time as float seconds or
    ``datetime64``). Each member counts once per course with weight
    ``0.5 ** (age of their latest event / half_life)``.
    """
    _, courses, weights = _latest_member_course_weights(
        event_member,
        event_course,
        event_time,
        now=now,
        half_life_days=half_life_days,
        n_courses=n_courses,
    )
    return np.bincount(courses, weights=weights, minlength=n_courses).astype(np.float64)


def cohort_trending_scores(
    event_member: ArrayLike,
    event_course: ArrayLike,
    event_time: ArrayLike,
    cohort_of_member: ArrayLike,
    *,
    now: float | np.datetime64,
    half_life_days: float,
    n_courses: int,
    n_cohorts: int,
    min_cohort_size: int,
) -> sp.csr_array:
    """:func:`trending_scores` within each cohort, shape (cohorts × courses).

    ``cohort_of_member`` (members,) is a cohort index or -1 (the member's events then count
    nowhere). Rows of cohorts with fewer than ``min_cohort_size`` members are empty.
    """
    members, courses, weights = _latest_member_course_weights(
        event_member,
        event_course,
        event_time,
        now=now,
        half_life_days=half_life_days,
        n_courses=n_courses,
    )
    groups = np.asarray(cohort_of_member, dtype=np.int64)
    cohort = groups[members]
    kept = cohort >= 0
    per_cohort = sp.csr_array(
        (weights[kept], (cohort[kept], courses[kept])), shape=(n_cohorts, n_courses)
    )
    return _zero_small_cohorts(
        per_cohort, groups, n_cohorts=n_cohorts, min_cohort_size=min_cohort_size
    )


def recency_scores(
    published_at: ArrayLike, *, now: float | np.datetime64, half_life_days: float
) -> FloatArray:
    """Freshness of each course, ``0.5 ** (age / half_life)``, shape (courses,).

    ``published_at`` is float seconds (NaN for unknown, scoring 0) or ``datetime64`` (NaT for
    unknown). Courses published in the future score 1.
    """
    seconds = to_seconds(published_at)
    known = np.isfinite(seconds)
    scores = np.zeros(seconds.shape)
    scores[known] = decay_weights(seconds[known], now=now, half_life_days=half_life_days)
    return scores
