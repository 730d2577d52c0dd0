"""Reason annotation and online ranking adjustments.

Scores from different candidate models (affinity, ALS, similarity, trending...) live on
incomparable scales, so each reason's scores are turned into reciprocal ranks before a course is
assigned to the reason under which it ranks best. The serving-time helpers (impression fatigue,
per-reason click-through) are cheap enough to run on every page view.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from recommendations.engine.sparse_ops import BoolArray, FloatArray, IntArray

__all__ = [
    "argmax_reasons",
    "best_reason_among_candidates",
    "best_reason_per_course",
    "ctr_with_prior",
    "exploration_slots",
    "impression_discount",
    "order_by_ctr",
    "rank_scale",
]


def rank_scale(scores: ArrayLike, valid: ArrayLike | None = None) -> FloatArray:
    """Reciprocal rank of each course within its reason, same shape as ``scores``.

    Ranking runs along the last axis: ``scores`` is (courses,), (reasons × courses) or any batch
    of those. The k-th best eligible course scores ``1 / k``; equal scores are ranked by course
    index, lower first, so every eligible course gets a distinct rank. A course is eligible when
    ``valid`` (a boolean mask broadcastable to ``scores``, default all) is true and its score is
    finite and non-zero; a zero score means "no signal", and ineligible courses score 0.
    Negative scores (e.g. from ALS) are eligible and rank below positive ones.
    """
    scores = np.asarray(scores, dtype=np.float64)
    eligible: BoolArray = np.isfinite(scores) & (scores != 0)
    if valid is not None:
        eligible &= np.broadcast_to(np.asarray(valid, dtype=bool), scores.shape)
    if scores.size == 0:
        return np.zeros(scores.shape)
    # Ineligible entries sort last; a stable sort keeps equal scores in course-index order.
    keys = np.where(eligible, -scores, np.inf)
    order = np.argsort(keys, axis=-1, kind="stable")
    ranks = np.empty(scores.shape, dtype=np.float64)
    positions = np.broadcast_to(np.arange(1, scores.shape[-1] + 1, dtype=np.float64), scores.shape)
    np.put_along_axis(ranks, order, positions, axis=-1)
    return np.where(eligible, 1.0 / ranks, 0.0)


def argmax_reasons(scaled: ArrayLike, *, axis: int = -2) -> tuple[IntArray, FloatArray]:
    """Best reason per course from rank-scaled scores.

    ``scaled`` is (reasons × courses) (or a batch; ``axis`` is the reasons axis). Returns
    (best reason index, best score), each with the reasons axis removed. Ties go to the earlier
    reason, so list reasons in order of preference; courses with no positive score get -1 and 0.
    """
    scaled = np.asarray(scaled, dtype=np.float64)
    if scaled.shape[axis] == 0:
        shape = tuple(n for i, n in enumerate(scaled.shape) if i != axis % scaled.ndim)
        return np.full(shape, -1, dtype=np.int64), np.zeros(shape)
    best = np.argmax(scaled, axis=axis)  # first occurrence wins, i.e. the earlier reason
    score = np.take_along_axis(scaled, np.expand_dims(best, axis), axis=axis).squeeze(axis)
    return np.where(score > 0, best, -1).astype(np.int64), np.where(score > 0, score, 0.0)


def best_reason_per_course(
    reason_scores: Sequence[ArrayLike], *, valid: ArrayLike, limit: int
) -> tuple[IntArray, FloatArray]:
    """Each course's best reason among each reason's top ``limit`` valid, positive scores.

    ``reason_scores`` is one (courses,) row per reason, in order of preference; ``valid`` masks
    the courses that may be shown. Per reason, the ``limit`` best finite, positive, valid courses
    (ties to the lower course index) get reciprocal ranks 1, 1/2, ...; each course then goes to
    the reason under which it ranks best, the earlier reason on equal ranks. Returns (best reason
    (courses,), -1 for none; its reciprocal rank, 0 for none).

    The same result as :func:`rank_scale` and :func:`argmax_reasons` over the stacked rows cut to
    their top ``limit``, in time linear in the courses: only the kept candidates are sorted, where
    the dense route sorts every row in full on every page view.
    """
    valid = np.asarray(valid, dtype=bool)
    if valid.ndim != 1:
        raise ValueError(f"valid must be one flag per course, got shape {valid.shape}")
    every_course = np.arange(valid.size, dtype=np.int64)
    rows = []
    for index, scores in enumerate(reason_scores):
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != valid.shape:
            raise ValueError(f"reason {index} has shape {scores.shape}, expected {valid.shape}")
        rows.append((every_course, scores))
    return best_reason_among_candidates(rows, valid=valid, limit=limit)


def best_reason_among_candidates(
    reason_candidates: Sequence[tuple[ArrayLike, ArrayLike]], *, valid: ArrayLike, limit: int
) -> tuple[IntArray, FloatArray]:
    """:func:`best_reason_per_course` with each reason given as its candidates only: (course
    indices, scores), the indices distinct, every other course scoring 0 (no signal).

    A page view's reasons are mostly sparse (a skill's courses, a cohort's trending courses,
    learned candidates): handing over those few entries instead of full rows saves work in
    proportion to the catalog. The result is the same as for the dense rows.
    """
    valid = np.asarray(valid, dtype=bool)
    if valid.ndim != 1:
        raise ValueError(f"valid must be one flag per course, got shape {valid.shape}")
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    n_courses = valid.size
    best_reason = np.full(n_courses, -1, dtype=np.int64)
    best_score = np.zeros(n_courses)
    all_positions, all_scores = [], []
    for index, (positions, scores) in enumerate(reason_candidates):
        positions = np.asarray(positions, dtype=np.int64)
        scores = np.asarray(scores, dtype=np.float64)
        if positions.ndim != 1 or positions.shape != scores.shape:
            raise ValueError(
                f"reason {index} has {positions.shape} courses for {scores.shape} scores"
            )
        all_positions.append(positions)
        all_scores.append(scores)
    if not all_positions:
        return best_reason, best_score
    # Every reason's candidates in one set of arrays, reason by reason: a page view has a
    # dozen or more reasons, and numpy calls per reason would cost more than the work.
    sizes = [positions.size for positions in all_positions]
    course = np.concatenate(all_positions)
    score = np.concatenate(all_scores)
    reason = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    outside = (course < 0) | (course >= n_courses)
    if outside.any():
        raise ValueError(
            f"reason {reason[np.argmax(outside)]} names a course outside 0..{n_courses - 1}"
        )
    keep = valid[course] & np.isfinite(score) & (score > 0)
    course, score, reason = course[keep], score[keep], reason[keep]
    # A reason scoring much of the catalog (Popular, New) is cut to its top `limit` first in
    # linear time, so the sort below only sees survivors. Entries stay grouped by reason.
    counts = np.bincount(reason, minlength=len(sizes))
    if (counts > 4 * limit).any():
        kept = np.ones(course.size, dtype=bool)
        bounds = np.concatenate(([0], np.cumsum(counts)))
        for index in np.flatnonzero(counts > 4 * limit).tolist():
            start, end = bounds[index], bounds[index + 1]
            kept[start:end] = _top_mask(course[start:end], score[start:end], limit)
        course, score, reason = course[kept], score[kept], reason[kept]
    # Per reason best first, ties to the lower course index; the first `limit` are ranked.
    order = np.lexsort((course, -score, reason))
    course, reason = course[order], reason[order]
    per_reason = np.bincount(reason, minlength=len(sizes))
    rank = np.arange(reason.size) - np.repeat(np.cumsum(per_reason) - per_reason, per_reason)
    ranked = rank < limit
    course, reason = course[ranked], reason[ranked]
    scaled = 1.0 / (rank[ranked] + 1.0)
    # Per course: highest reciprocal rank first, then the earlier reason.
    order = np.lexsort((reason, -scaled, course))
    first = np.ones(order.size, dtype=bool)
    first[1:] = course[order][1:] != course[order][:-1]
    winners = order[first]
    best_reason[course[winners]] = reason[winners]
    best_score[course[winners]] = scaled[winners]
    return best_reason, best_score


def _top_mask(courses: IntArray, values: FloatArray, limit: int) -> BoolArray:
    """Which of one reason's candidates are its `limit` best (ties to the lower course index),
    in time linear in the candidates."""
    cut = np.partition(values, values.size - limit)[values.size - limit]
    above = values > cut
    tied = np.flatnonzero(values == cut)
    tied = tied[np.argsort(courses[tied], kind="stable")]
    above[tied[: limit - int(above.sum())]] = True
    return above


def impression_discount(
    impressions_without_click: ArrayLike, *, threshold: int, decay: float, floor: float
) -> FloatArray:
    """Score multiplier for courses shown repeatedly to a member without a click.

    Per (member, course) count n: 1.0 while ``n <= threshold``, then ``decay ** (n - threshold)``,
    never below ``floor``. Applied per course, so one ignored course fades without penalising the
    member's other recommendations.
    """
    if not 0 < decay <= 1:
        raise ValueError("decay must be in (0, 1]")
    if not 0 <= floor <= 1:
        raise ValueError("floor must be in [0, 1]")
    shown = np.asarray(impressions_without_click, dtype=np.float64)
    excess = np.maximum(shown - threshold, 0.0)
    return np.maximum(decay**excess, floor)


def ctr_with_prior(
    clicks: ArrayLike,
    impressions: ArrayLike,
    *,
    prior_ctr: ArrayLike | float,
    prior_strength: float,
) -> FloatArray:
    """Beta-smoothed click-through rate ``(clicks + prior_ctr·s) / (impressions + s)``.

    ``prior_strength`` s is the number of pseudo-impressions the prior is worth: with no
    impressions the estimate is the prior, and it moves towards the observed rate as data arrives.
    """
    if prior_strength <= 0:
        raise ValueError("prior_strength must be positive")
    clicks = np.asarray(clicks, dtype=np.float64)
    impressions = np.asarray(impressions, dtype=np.float64)
    prior = np.asarray(prior_ctr, dtype=np.float64)
    return (clicks + prior * prior_strength) / (impressions + prior_strength)


def order_by_ctr(
    clicks: ArrayLike,
    impressions: ArrayLike,
    *,
    prior_ctr: ArrayLike,
    prior_strength: float,
) -> list[int]:
    """Order in which to show a member's carousels (reasons), as indices into the inputs.

    All arguments are per reason, shape (reasons,). Highest smoothed CTR first
    (:func:`ctr_with_prior`); ties by higher prior CTR, then by input order. A member with no
    impressions therefore sees the prior's order.
    """
    prior = np.broadcast_to(np.asarray(prior_ctr, dtype=np.float64), np.shape(clicks))
    smoothed = ctr_with_prior(clicks, impressions, prior_ctr=prior, prior_strength=prior_strength)
    order = np.lexsort((np.arange(smoothed.size), -prior, -smoothed))
    return [int(i) for i in order]


def exploration_slots(n_slots: int, *, share: float, rng: np.random.Generator) -> IntArray:
    """Indices (ascending) of the slots given to exploration: each slot independently with
    probability `share`, so the share holds on average over pages, not exactly per page."""
    if not 0.0 <= share <= 1.0:
        raise ValueError("share must be in [0, 1]")
    return np.flatnonzero(rng.random(n_slots) < share)
