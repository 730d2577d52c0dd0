"""The learned ranker: logistic regression on logged impressions, with GLMix-style effects.

Model (after Zhang et al., "GLMix", KDD 2016, as used by LinkedIn Learning):

    logit P(click | m, c) = g·x  +  β_m·[1, x_course]  +  γ_c·[1, x_member]

- `g`: the global logistic regression over every feature (scikit-learn, L2);
- `β_m`: per-member coefficients on the course features (and a member bias);
- `γ_c`: per-course coefficients on the member features (and a course bias).

The random effects are fitted by coordinate descent: fit the global model, then alternately
each member's and each course's ridge-penalised logistic regression on its own examples with
everything else as a fixed offset. The ridge pulls every effect toward zero, so an entity with
few examples stays close to the global model, and one never seen has no effect at all.

All per-entity fits of one kind run together as one batched Newton solve (one small k × k
system per entity), so the cost is linear in the examples, not in the number of entities.
Features are standardised with the training mean and deviation; the stored model applies the
same transform at scoring time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from recommendations.engine.sparse_ops import FloatArray, IntArray

__all__ = [
    "RankerModel",
    "day_of_week_features",
    "entity_logistic_fit",
    "grouped_auc",
    "hashed_one_hot",
    "pooled_auc",
    "ranker_fit",
    "ranker_scores",
]

_HASH_MULTIPLIER = 2_654_435_761  # Knuth's multiplicative hash: stable across processes


def hashed_one_hot(values: IntArray, *, buckets: int) -> FloatArray:
    """(n × buckets) indicator of each id's hash bucket; a row of zeros for -1 ("none")."""
    values = np.asarray(values, dtype=np.int64)
    out = np.zeros((values.size, buckets))
    known = values >= 0
    bucket = (values[known] * _HASH_MULTIPLIER) % (1 << 32) % buckets
    out[np.flatnonzero(known), bucket] = 1.0
    return out


def day_of_week_features(seconds: FloatArray) -> FloatArray:
    """(n × 2) position on the weekly circle (sin, cos), from epoch seconds (UTC)."""
    # 1970-01-01 was a Thursday: day 0 of this cycle is Thursday, which is fine for a circle.
    angle = 2 * math.pi * ((np.asarray(seconds, dtype=np.float64) / 86400.0) % 7) / 7
    return np.column_stack([np.sin(angle), np.cos(angle)])


def _sigmoid(z: FloatArray) -> FloatArray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def entity_logistic_fit(
    features: FloatArray,
    labels: FloatArray,
    offset: FloatArray,
    entity: IntArray,
    *,
    n_entities: int,
    l2: float,
    iterations: int = 8,
) -> FloatArray:
    """Per-entity ridge logistic regressions with a fixed offset, all solved at once.

    For each entity e: minimise Σ_{i∈e} logloss(y_i, offset_i + b_e·[1, x_i]) + l2/2·‖b_e‖²
    by Newton's method. The intercept is penalised too, so an entity without examples gets
    b_e = 0 exactly. Returns (n_entities × (1 + features)); -1 in `entity` means "none" (the
    example is skipped).
    """
    if l2 <= 0:
        raise ValueError("l2 must be positive (it is what keeps sparse entities near zero)")
    keep = np.asarray(entity) >= 0
    # Only entities with examples are solved for (the others' coefficients are zero exactly),
    # with each one's examples contiguous, so its Hessian is one small matrix product.
    present, owner = np.unique(np.asarray(entity, dtype=np.int64)[keep], return_inverse=True)
    if present.size and present[-1] >= n_entities:
        raise ValueError(f"entity {present[-1]} out of range for {n_entities} entities")
    order = np.argsort(owner, kind="stable")
    features = np.asarray(features, dtype=np.float64)[keep][order]
    design = np.column_stack([np.ones(order.size), features])
    coefs = np.zeros((n_entities, design.shape[1]))
    if present.size:
        coefs[present] = _entity_newton(
            design,
            np.asarray(labels, dtype=np.float64)[keep][order],
            np.asarray(offset, dtype=np.float64)[keep][order],
            owner[order],
            l2=l2,
            iterations=iterations,
        )
    return coefs


def _entity_newton(
    design: FloatArray,
    y: FloatArray,
    base: FloatArray,
    owner: IntArray,
    *,
    l2: float,
    iterations: int,
) -> FloatArray:
    """Newton's method for `entity_logistic_fit`; `owner` is sorted and names every entity
    0..m-1 at least once."""
    n_entities = int(owner[-1]) + 1
    k = design.shape[1]
    starts = np.searchsorted(owner, np.arange(n_entities + 1))
    bounds = starts.tolist()
    coefs = np.zeros((n_entities, k))
    eye = np.eye(k)
    for _ in range(iterations):
        p = _sigmoid(base + np.einsum("ij,ij->i", design, coefs[owner]))
        gradient = np.add.reduceat(design * (y - p)[:, None], starts[:-1], axis=0)
        weighted = design * (p * (1.0 - p))[:, None]
        hessian = np.empty((n_entities, k, k))
        # One BLAS product per entity: summing per-example outer products instead moves
        # examples × k² numbers through memory each iteration, several times slower.
        for e in range(n_entities):
            hessian[e] = design[bounds[e] : bounds[e + 1]].T @ weighted[bounds[e] : bounds[e + 1]]
        gradient -= l2 * coefs
        step = np.linalg.solve(hessian + l2 * eye, gradient[:, :, None])[:, :, 0]
        coefs += step
        if np.max(np.abs(step), initial=0.0) < 1e-8:
            break
    return coefs


@dataclass(frozen=True)
class RankerModel:
    """A fitted ranker. Entities are indices; member/course effects are zero rows when unseen."""

    mean: FloatArray
    scale: FloatArray
    coef: FloatArray
    intercept: float
    course_columns: IntArray  # features the per-member effects use
    member_columns: IntArray  # features the per-course effects use
    member_effects: FloatArray  # n_members × (1 + len(course_columns))
    course_effects: FloatArray  # n_courses × (1 + len(member_columns))

    def standardise(self, features: FloatArray) -> FloatArray:
        return (np.asarray(features, dtype=np.float64) - self.mean) / self.scale


def _effect(effects: FloatArray, index: IntArray, columns: FloatArray) -> FloatArray:
    index = np.asarray(index, dtype=np.int64)
    known = (index >= 0) & (index < effects.shape[0])
    out = np.zeros(index.size)
    if known.any():
        rows = effects[index[known]]
        out[known] = rows[:, 0] + np.einsum("ij,ij->i", columns[known], rows[:, 1:])
    return out


def ranker_scores(
    model: RankerModel,
    features: FloatArray,
    member: IntArray,
    course: IntArray,
    *,
    mixed: bool = True,
) -> FloatArray:
    """Logits: the global model, plus member and course effects when `mixed`."""
    z = model.standardise(features)
    logits = z @ model.coef + model.intercept
    if mixed:
        logits = logits + _effect(model.member_effects, member, z[:, model.course_columns])
        logits = logits + _effect(model.course_effects, course, z[:, model.member_columns])
    return logits


def ranker_fit(
    features: FloatArray,
    labels: FloatArray,
    member: IntArray,
    course: IntArray,
    *,
    n_members: int,
    n_courses: int,
    course_columns: IntArray,
    member_columns: IntArray,
    c: float = 1.0,
    l2_member: float = 10.0,
    l2_course: float = 10.0,
    rounds: int = 3,
    seed: int = 0,
) -> RankerModel:
    """Fit the global model, then `rounds` of per-member / per-course coordinate descent."""
    features = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if np.unique(y).size < 2:
        raise ValueError("the ranker needs both clicked and ignored impressions")
    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale[scale == 0] = 1.0
    z = (features - mean) / scale
    glm = LogisticRegression(C=c, max_iter=500, random_state=seed).fit(z, y.astype(np.int64))
    coef = glm.coef_[0].astype(np.float64)
    intercept = float(glm.intercept_[0])
    course_columns = np.asarray(course_columns, dtype=np.int64)
    member_columns = np.asarray(member_columns, dtype=np.int64)
    base = z @ coef + intercept
    member_effects = np.zeros((n_members, 1 + course_columns.size))
    course_effects = np.zeros((n_courses, 1 + member_columns.size))
    by_course = np.zeros(y.size)
    for _ in range(rounds):
        member_effects = entity_logistic_fit(
            z[:, course_columns], y, base + by_course, member, n_entities=n_members, l2=l2_member
        )
        by_member = _effect(member_effects, member, z[:, course_columns])
        course_effects = entity_logistic_fit(
            z[:, member_columns], y, base + by_member, course, n_entities=n_courses, l2=l2_course
        )
        by_course = _effect(course_effects, course, z[:, member_columns])
    return RankerModel(
        mean=mean,
        scale=scale,
        coef=coef,
        intercept=intercept,
        course_columns=course_columns,
        member_columns=member_columns,
        member_effects=member_effects,
        course_effects=course_effects,
    )


def pooled_auc(labels: FloatArray, scores: FloatArray) -> float:
    """ROC-AUC over all examples; nan when only one class is present."""
    labels = np.asarray(labels)
    if np.unique(labels).size < 2:
        return math.nan
    return float(roc_auc_score(labels, scores))


def grouped_auc(labels: FloatArray, scores: FloatArray, groups: IntArray) -> float:
    """AUC counted only over (clicked, ignored) pairs inside the same group, ties as half.

    With groups = one carousel of one page view this measures exactly what re-ordering inside
    a carousel can change. Equals the pooled AUC when there is a single group; nan when no
    group holds both classes.
    """
    y = np.asarray(labels, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    g = np.asarray(groups, dtype=np.int64)
    if y.size == 0:
        return math.nan
    order = np.lexsort((s, g))
    y, s, g = y[order], s[order], g[order]
    n = y.size
    # Average rank within each (group, score) tie block, then rank inside the group.
    new_block = np.r_[True, (g[1:] != g[:-1]) | (s[1:] != s[:-1])]
    block = np.cumsum(new_block) - 1
    starts = np.flatnonzero(new_block)
    ends = np.r_[starts[1:], n]
    average = ((starts + ends - 1) / 2.0)[block]
    group_start = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    group_of = np.cumsum(np.r_[True, g[1:] != g[:-1]]) - 1
    rank = average - group_start[group_of] + 1  # 1-based rank inside the group
    n_groups = group_start.size
    positives = np.bincount(group_of, weights=y, minlength=n_groups)
    sizes = np.bincount(group_of, minlength=n_groups).astype(np.float64)
    negatives = sizes - positives
    rank_sum = np.bincount(group_of, weights=rank * y, minlength=n_groups)
    # Mann–Whitney U per group: pairs where the positive outranks the negative.
    wins = rank_sum - positives * (positives + 1) / 2.0
    pairs = positives * negatives
    usable = pairs > 0
    if not usable.any():
        return math.nan
    return float(wins[usable].sum() / pairs[usable].sum())
