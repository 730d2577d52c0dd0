"""Offline ranking metrics for top-k recommendations, and a batched evaluator.

Inputs for the metric functions, for the evaluated members only:

- ``recommended``: int array (members × k), row i the course indices recommended to member i,
  best first, already-seen courses excluded; ``-1`` pads rows with fewer than k courses.
- ``relevant``: sparse (members × courses), the held-out courses (any non-zero entry counts).

Rows without a relevant course are skipped: every metric is a mean over members with at least
one relevant course (0.0 when there are none). Relevance is binary.

- ``hit_rate_at_k``: share of members with at least one relevant course in their top k.
- ``precision_at_k``: hits / k.
- ``recall_at_k``: hits / |relevant|.
- ``ndcg_at_k``: ``DCG / IDCG`` with ``DCG = Σ_{hit at rank r (1-based)} 1 / log2(r + 1)`` and
  IDCG the DCG of ``min(k, |relevant|)`` hits at the top.
- ``map_at_k``: mean of ``AP@k = Σ_{hit at rank r} precision@r / min(k, |relevant|)``.
- ``catalog_coverage``: distinct courses in anyone's top k / number of courses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from recommendations.engine.popularity import popularity_scores
from recommendations.engine.sparse_ops import IntArray, Sparse, as_csr, row_ids, select_rows

__all__ = [
    "ScoreFn",
    "catalog_coverage",
    "evaluate_scorer",
    "hit_rate_at_k",
    "map_at_k",
    "ndcg_at_k",
    "popularity_scorer",
    "precision_at_k",
    "recall_at_k",
    "top_k_indices",
]

#: Scores for a batch of members: ``score_fn(members) -> (len(members) × courses)`` floats.
ScoreFn: TypeAlias = Callable[[IntArray], NDArray[np.floating[Any]]]


def _prepare(
    recommended: ArrayLike, relevant: Sparse, k: int | None
) -> tuple[NDArray[np.bool_], IntArray, int]:
    """(hits (members × k) for members with relevant courses, their |relevant|, k)."""
    recs = np.asarray(recommended, dtype=np.int64)
    if recs.ndim != 2:
        raise ValueError("recommended must be a 2-d array (members × k)")
    rel = as_csr(relevant)
    if rel.shape[0] != recs.shape[0]:
        raise ValueError("recommended and relevant must have one row per member")
    k = recs.shape[1] if k is None else k
    if not 0 < k <= recs.shape[1]:
        raise ValueError(f"k must be in 1..{recs.shape[1]}")
    recs = recs[:, :k]
    n_courses = rel.shape[1]
    # Relevant entries as sorted keys row · courses + course (canonical CSR is sorted that way).
    rel_rows = np.repeat(np.arange(rel.shape[0], dtype=np.int64), np.diff(rel.indptr))
    rel_keys = rel_rows * n_courses + rel.indices
    valid = (recs >= 0) & (recs < n_courses)
    keys = np.arange(recs.shape[0], dtype=np.int64)[:, None] * n_courses + np.where(valid, recs, 0)
    if rel_keys.size:
        pos = np.minimum(np.searchsorted(rel_keys, keys), rel_keys.size - 1)
        hits = valid & (rel_keys[pos] == keys)
    else:
        hits = np.zeros_like(valid)
    n_relevant = np.diff(rel.indptr).astype(np.int64)
    evaluated = n_relevant > 0
    return hits[evaluated], n_relevant[evaluated], k


def _mean(values: NDArray[np.float64]) -> float:
    return float(values.mean()) if values.size else 0.0


def hit_rate_at_k(recommended: ArrayLike, relevant: Sparse, *, k: int | None = None) -> float:
    """Share of members with at least one relevant course among their first k."""
    hits, _, _ = _prepare(recommended, relevant, k)
    return _mean(hits.any(axis=1).astype(np.float64))


def precision_at_k(recommended: ArrayLike, relevant: Sparse, *, k: int | None = None) -> float:
    """Mean of (relevant courses among the first k) / k."""
    hits, _, k = _prepare(recommended, relevant, k)
    return _mean(hits.sum(axis=1) / k)


def recall_at_k(recommended: ArrayLike, relevant: Sparse, *, k: int | None = None) -> float:
    """Mean of (relevant courses among the first k) / |relevant|."""
    hits, n_relevant, _ = _prepare(recommended, relevant, k)
    return _mean(hits.sum(axis=1) / n_relevant)


def ndcg_at_k(recommended: ArrayLike, relevant: Sparse, *, k: int | None = None) -> float:
    """Mean normalised discounted cumulative gain at k (binary relevance)."""
    hits, n_relevant, k = _prepare(recommended, relevant, k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = hits @ discounts
    ideal = np.cumsum(discounts)[np.minimum(n_relevant, k) - 1]
    return _mean(dcg / ideal)


def map_at_k(recommended: ArrayLike, relevant: Sparse, *, k: int | None = None) -> float:
    """Mean average precision at k, each AP normalised by ``min(k, |relevant|)``."""
    hits, n_relevant, k = _prepare(recommended, relevant, k)
    precision_at_rank = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    average_precision = (precision_at_rank * hits).sum(axis=1) / np.minimum(n_relevant, k)
    return _mean(average_precision)


def catalog_coverage(recommended: ArrayLike, *, n_courses: int) -> float:
    """Share of the catalogue appearing in at least one member's recommendations."""
    recs = np.asarray(recommended, dtype=np.int64).ravel()
    recs = recs[(recs >= 0) & (recs < n_courses)]
    return float(np.unique(recs).size / n_courses) if n_courses else 0.0


def top_k_indices(scores: NDArray[np.floating[Any]], *, k: int) -> tuple[IntArray, NDArray]:
    """Column indices and values of each row's k largest scores, best first.

    ``-inf`` and NaN mark excluded courses: where a row has fewer than k others, the tail is
    padded with index -1 and score ``-inf``. Equal scores are ordered by lower index among the
    chosen ones (which of several equal scores at the k-th place is chosen is unspecified but
    deterministic).
    """
    scores = np.asarray(scores)
    n_rows, n_cols = scores.shape
    k_eff = min(k, n_cols)
    if k_eff <= 0:
        return np.full((n_rows, k), -1, dtype=np.int64), np.full((n_rows, k), -np.inf)
    if np.isnan(scores).any():
        scores = np.where(np.isnan(scores), -np.inf, scores)
    if k_eff < n_cols:
        # Selecting the largest directly (kth from the end) avoids negating a copy.
        part = np.argpartition(scores, n_cols - k_eff, axis=1)[:, n_cols - k_eff :]
    else:
        part = np.broadcast_to(np.arange(n_cols), (n_rows, n_cols))
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)
    idx = np.take_along_axis(part, order, axis=1).astype(np.int64)
    top = np.take_along_axis(part_scores, order, axis=1)
    idx[np.isneginf(top)] = -1
    if k_eff < k:
        idx = np.pad(idx, ((0, 0), (0, k - k_eff)), constant_values=-1)
        top = np.pad(top, ((0, 0), (0, k - k_eff)), constant_values=-np.inf)
    return idx, top


def evaluate_scorer(
    score_fn: ScoreFn,
    train: Sparse,
    test: Sparse,
    *,
    k: int = 10,
    batch_size: int = 512,
    members: ArrayLike | None = None,
) -> dict[str, float]:
    """All metrics at k for ``score_fn`` on the members with at least one test course.

    A ``score_fn`` with a ``top_k(members, seen, k=k) -> (indices, scores)`` method (the
    item-item families) ranks each batch itself. Members (default: every row of ``test`` with
    an entry; pass ``members`` to evaluate a subset) are scored ``batch_size`` at a time;
    their train courses are masked out before the
    top k is taken. Returns ``hit_rate``, ``precision``, ``recall``, ``ndcg``, ``map``,
    ``catalog_coverage``, ``k`` and ``members_evaluated``.
    """
    train_csr = as_csr(train)
    test_csr = as_csr(test)
    if train_csr.shape != test_csr.shape:
        raise ValueError("train and test must have the same shape")
    n_courses = test_csr.shape[1]
    if members is None:
        evaluated = np.flatnonzero(np.diff(test_csr.indptr) > 0)
    else:
        evaluated = np.asarray(members, dtype=np.int64)
        evaluated = evaluated[np.diff(test_csr.indptr)[evaluated] > 0]
    recommended = np.full((evaluated.size, k), -1, dtype=np.int64)
    for start in range(0, evaluated.size, batch_size):
        batch = evaluated[start : start + batch_size]
        seen = train_csr[batch]
        if isinstance(score_fn, GlobalScorer):
            recommended[start : start + batch.size] = _global_top_k(score_fn, seen, k=k)
            continue
        if hasattr(score_fn, "top_k"):
            # Sparse scorers rank their few positive scores themselves (a dense argpartition
            # of a row that is mostly equal zeros is its slow case).
            recommended[start : start + batch.size], _ = score_fn.top_k(batch, seen, k=k)
            continue
        scores = np.array(score_fn(batch), dtype=np.float32, copy=True)
        rows = np.repeat(np.arange(batch.size), np.diff(seen.indptr))
        scores[rows, seen.indices] = -np.inf
        recommended[start : start + batch.size], _ = top_k_indices(scores, k=k)
    relevant = select_rows(test_csr, evaluated)
    return {
        "hit_rate": hit_rate_at_k(recommended, relevant),
        "precision": precision_at_k(recommended, relevant),
        "recall": recall_at_k(recommended, relevant),
        "ndcg": ndcg_at_k(recommended, relevant),
        "map": map_at_k(recommended, relevant),
        "catalog_coverage": catalog_coverage(recommended, n_courses=n_courses),
        "k": k,
        "members_evaluated": int(evaluated.size),
    }


class GlobalScorer:
    """A scorer that gives every member the same scores (a ``ScoreFn``).

    :func:`evaluate_scorer` ranks the courses once for it and walks that order per member,
    skipping their train courses, instead of sorting a full score row per member.
    """

    def __init__(self, scores: NDArray[np.floating[Any]]) -> None:
        self.scores = np.asarray(scores, dtype=np.float32)

    def __call__(self, members: IntArray) -> NDArray[np.float32]:
        return np.broadcast_to(self.scores, (len(members), self.scores.size))


def popularity_scorer(train: Sparse) -> GlobalScorer:
    """Baseline scorer: every member gets each course's count of members in ``train``."""
    return GlobalScorer(popularity_scores(train))


def _global_top_k(scorer: GlobalScorer, seen: sp.csr_array, *, k: int) -> IntArray:
    """Each row's k best unseen courses under one shared order (ties: lower index first)."""
    n_rows, n_courses = seen.shape
    order = np.argsort(-scorer.scores, kind="stable")
    excluded = np.isneginf(scorer.scores[order]) | np.isnan(scorer.scores[order])
    order = order[~excluded]
    rank_of = np.full(n_courses, np.iinfo(np.int64).max, dtype=np.int64)
    rank_of[order] = np.arange(order.size)
    # A member's k best unseen courses lie within the first k + (their seen count) of the order.
    width = min(order.size, k + int(np.diff(seen.indptr).max(initial=0)))
    window = order[:width]
    blocked = np.zeros((n_rows, width), dtype=bool)
    ranks = rank_of[seen.indices]
    inside = ranks < width
    blocked[row_ids(seen)[inside], ranks[inside]] = True
    # A stable sort of the blocked flags lists each row's unblocked positions first, in order.
    first = np.argsort(blocked, axis=1, kind="stable")[:, :k]
    recommended = np.where(np.take_along_axis(blocked, first, axis=1), -1, window[first])
    if recommended.shape[1] < k:
        recommended = np.pad(
            recommended, ((0, 0), (0, k - recommended.shape[1])), constant_values=-1
        )
    return recommended.astype(np.int64)
