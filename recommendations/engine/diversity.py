"""Diversity: keep near-duplicate courses (same skills) apart at the top of a list.

Courses are grouped into buckets (by default, identical skill sets); the final list takes one
course from each bucket in turn, buckets ordered by their best-scored course.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from recommendations.engine.sparse_ops import IntArray, Sparse, as_csr

__all__ = ["round_robin_by_bucket", "skill_set_bucket_ids"]


def _dense_ids(keys: Sequence[Hashable] | ArrayLike) -> IntArray:
    """Integer id per key, numbered by first occurrence."""
    # A carousel's few dozen keys number faster through a dict than through np.unique's sorts.
    if isinstance(keys, np.ndarray) and keys.dtype.kind in "iub" and keys.size > 256:
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        renumber = np.empty(first.size, dtype=np.int64)
        renumber[np.argsort(first, kind="stable")] = np.arange(first.size)
        return renumber[inverse.ravel()]
    if isinstance(keys, np.ndarray):
        keys = keys.tolist()
    seen: dict[Hashable, int] = {}
    return np.fromiter((seen.setdefault(key, len(seen)) for key in keys), dtype=np.int64)


def round_robin_by_bucket(
    ranked_items: ArrayLike,
    *,
    bucket_key: Sequence[Hashable] | ArrayLike,
    recency: ArrayLike,
) -> IntArray:
    """Reorder a score-ranked list so that items of the same bucket are spread out.

    ``ranked_items`` (n,) are course indices, best score first; ``bucket_key`` (n,) is a bucket
    per item (an int id, or any hashable such as a frozenset of skill indices); ``recency`` (n,)
    is larger for newer courses. Buckets are ordered by the score rank of their best item; within
    a bucket, items go newest first (ties by score rank). The result takes the first item of every
    bucket, then the second of every bucket that has one, and so on, so two items of one bucket
    are adjacent only once every other bucket has run out.
    """
    items = np.asarray(ranked_items)
    recency = np.asarray(recency, dtype=np.float64)
    bucket = _dense_ids(bucket_key)  # numbered by first occurrence = by best item's rank
    if not (items.shape[0] == bucket.size == recency.size):
        raise ValueError("ranked_items, bucket_key and recency must have the same length")
    if items.size == 0:
        return items.copy()
    score_rank = np.arange(items.size)
    by_bucket = np.lexsort((score_rank, -recency, bucket))
    # Position of each item within its bucket once the bucket is sorted newest first.
    sizes = np.bincount(bucket)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    turn = np.empty(items.size, dtype=np.int64)
    turn[by_bucket] = np.arange(items.size) - starts[bucket[by_bucket]]
    return items[np.lexsort((bucket, turn))]


def skill_set_bucket_ids(course_skill: Sparse, *, untagged_alone: bool = True) -> IntArray:
    """Bucket id per course (courses,), equal for courses with exactly the same skill set.

    ``course_skill`` is (courses × skills); only which entries are non-zero matters. Ids are
    numbered by first occurrence. With ``untagged_alone`` (default) every course without skills
    gets its own bucket: having no tags is no evidence that two courses are alike.
    """
    csr = as_csr(course_skill)
    n_courses = csr.shape[0]
    counts = np.diff(csr.indptr)
    width = int(counts.max()) if n_courses else 0
    # One padded row per course: its skill count, then its sorted skill indices, then -1s.
    padded = np.full((n_courses, width + 1), -1, dtype=np.int64)
    padded[:, 0] = counts
    rows = np.repeat(np.arange(n_courses), counts)
    padded[rows, 1 + np.arange(csr.nnz) - csr.indptr[rows]] = csr.indices
    if untagged_alone:
        untagged = counts == 0
        # Stand-in skill ids beyond the real ones make each untagged row unique.
        padded[untagged, 0] = -1
        if width == 0:
            padded = np.hstack([padded, np.full((n_courses, 1), -1, dtype=np.int64)])
        padded[untagged, 1] = np.arange(int(untagged.sum()))
    if n_courses == 0:
        return np.zeros(0, dtype=np.int64)
    _, inverse = np.unique(padded, axis=0, return_inverse=True)
    return _dense_ids(inverse.ravel().astype(np.int64))
