"""Member × course interaction matrix from weighted events, and a per-member holdout split.

Default event weights (the caller maps its event types to these numbers, one weight per event):

==============  ======================================================================
event           weight
==============  ======================================================================
enrol           ``ENROL_WEIGHT`` = 1
bookmark        ``BOOKMARK_WEIGHT`` = 2
watch progress  ``watch_weight(progress)`` = ``WATCH_MAX_WEIGHT`` · progress, up to 3
                (send the latest progress per (member, course) once, not every update)
finish          ``FINISH_WEIGHT`` = 5
dismiss         ``DISMISS_WEIGHT`` = -1 (any negative weight is a dismissal)
==============  ======================================================================

So a member who enrolled, watched 60 % and bookmarked a course has 1 + 1.8 + 2 = 4.8 for it,
and one who finished it 1 + 3 + 5 = 9. An undone dismissal is simply no longer passed in.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from recommendations.engine.sparse_ops import FloatArray, Sparse, as_csr, row_ids

__all__ = [
    "BOOKMARK_WEIGHT",
    "DISMISS_WEIGHT",
    "ENROL_WEIGHT",
    "FINISH_WEIGHT",
    "WATCH_MAX_WEIGHT",
    "holdout_split",
    "interaction_matrix",
    "watch_weight",
]

ENROL_WEIGHT = 1.0
BOOKMARK_WEIGHT = 2.0
WATCH_MAX_WEIGHT = 3.0
FINISH_WEIGHT = 5.0
DISMISS_WEIGHT = -1.0


def watch_weight(progress: ArrayLike) -> FloatArray:
    """Weight of a watch-progress event: ``WATCH_MAX_WEIGHT · progress``, progress in [0, 1]."""
    return WATCH_MAX_WEIGHT * np.clip(np.asarray(progress, dtype=np.float64), 0.0, 1.0)


def interaction_matrix(
    event_member: ArrayLike,
    event_course: ArrayLike,
    event_weight: ArrayLike,
    *,
    n_members: int,
    n_courses: int,
) -> sp.csr_array:
    """Summed event weights per (member, course), shape (members × courses), positives only.

    Events are parallel arrays (member index, course index, weight). A pair with any negative
    event (a dismissal) has no entry at all, whatever its positive events sum to; pairs whose
    weights sum to zero or less have none either. The result is a canonical float64
    ``csr_array`` whose every stored value is > 0, ready for :func:`als_fit`.
    """
    members = np.asarray(event_member)
    courses = np.asarray(event_course)
    weights = np.asarray(event_weight, dtype=np.float64)
    if not (members.size == courses.size == weights.size):
        raise ValueError("event arrays must have the same length")
    negative = weights < 0
    if negative.any():
        # A dismissal outweighs any positive sum: as -inf its pair sums below zero and is
        # dropped below, without a second matrix of dismissed pairs.
        weights = np.where(negative, -np.inf, weights)
    del negative
    # Indices as the smallest integer type the shape allows (scipy's choice), so the
    # coordinates are not copied twice at millions of events.
    summed = sp.coo_array((weights, (members, courses)), shape=(n_members, n_courses)).tocsr()
    summed.sum_duplicates()
    summed.data[summed.data < 0] = 0.0
    summed.eliminate_zeros()
    summed.sort_indices()
    return summed


def holdout_split(
    matrix: Sparse,
    *,
    test_fraction: float = 0.2,
    min_interactions: int = 3,
    seed: int,
    by_time: Sparse | None = None,
    n_last: int | None = None,
) -> tuple[sp.csr_array, sp.csr_array]:
    """Split each member's interactions into (train, test), both of the input's shape.

    A member with at least ``min_interactions`` stored entries puts
    ``round(test_fraction · n)`` of them (at least 1, at most n − 1) into test: the most recent
    ones when ``by_time`` gives a timestamp per entry (a sparse matrix with the same pattern;
    equal times are ordered at random), otherwise a random choice seeded by ``seed``. Members
    below the minimum keep everything in train. ``train + test`` equals the input exactly, and
    no (member, course) is in both. ``n_last`` replaces the fraction by a fixed count per member
    (at most n − 1): with ``by_time`` and ``n_last=1``, leave-last-out.
    """
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError("test_fraction must be in [0, 1)")
    csr = _canonical_read_only(matrix)
    rows = row_ids(csr)
    counts = np.diff(csr.indptr)
    rng = np.random.default_rng(seed)
    tiebreak = rng.random(csr.nnz)
    keys = (tiebreak,) if by_time is None else (tiebreak, _entry_values(by_time, csr, rows))
    # Sort every row's entries by (time,) random key ascending; the last ones go to test.
    order = np.lexsort((*keys, rows))
    del keys, tiebreak  # at 20 M interactions each key is 160 MB: freed before the subsets
    rank = np.empty(csr.nnz, dtype=np.int64)
    rank[order] = np.arange(csr.nnz) - csr.indptr[rows[order]]
    del order
    if n_last is None:
        n_test = np.floor(test_fraction * counts + 0.5).astype(np.int64)
    else:
        n_test = np.full(counts.size, int(n_last), dtype=np.int64)
    n_test = np.clip(n_test, 1, np.maximum(counts - 1, 0))
    n_test[counts < max(min_interactions, 1)] = 0
    in_test = rank >= (counts - n_test)[rows]
    return _subset(csr, rows, ~in_test), _subset(csr, rows, in_test)


def _canonical_read_only(matrix: Sparse) -> sp.csr_array:
    """`matrix` itself when it already is what `as_csr` gives (a retrain's interactions are),
    else `as_csr`'s copy: the split only reads it, and a copy is 240 MB at 20 M interactions."""
    if (
        isinstance(matrix, sp.csr_array)
        and matrix.dtype == np.float64
        and matrix.has_canonical_format
        and not np.any(matrix.data == 0)
    ):
        return matrix
    return as_csr(matrix)


def _entry_values(values: Sparse, pattern: sp.csr_array, rows: np.ndarray) -> FloatArray:
    """Value of ``values`` at every stored entry of ``pattern`` (0 where it has none)."""
    if values.shape != pattern.shape:
        raise ValueError("by_time must have the shape of the interaction matrix")
    csr = sp.csr_array(values, dtype=np.float64)
    if not csr.has_canonical_format:
        # Summing duplicates rewrites the arrays: on a copy, never on the caller's matrix.
        csr = csr.copy()
        csr.sum_duplicates()
    if np.array_equal(csr.indptr, pattern.indptr) and np.array_equal(csr.indices, pattern.indices):
        return csr.data
    return np.asarray(csr[rows, pattern.indices], dtype=np.float64).ravel()


def _subset(csr: sp.csr_array, rows: np.ndarray, keep: np.ndarray) -> sp.csr_array:
    """The entries of canonical `csr` where `keep`, as CSR built directly from its arrays
    (through coordinates it held three more copies of the entries at once)."""
    kept = np.bincount(rows[keep], minlength=csr.shape[0])
    indptr = np.zeros(csr.shape[0] + 1, dtype=csr.indptr.dtype)
    np.cumsum(kept, out=indptr[1:])
    subset = sp.csr_array((csr.data[keep], csr.indices[keep], indptr), shape=csr.shape)
    subset.has_canonical_format = True  # a subset of a canonical matrix, in its order
    return subset
