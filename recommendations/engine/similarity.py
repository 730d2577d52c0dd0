"""Course-to-course similarity by skills and "Because you watched <course>" scores."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from recommendations.engine.sparse_ops import (
    IntArray,
    Sparse,
    as_csr,
    l2_normalize_rows,
    presence,
    scale_columns,
    select_rows,
    top_k_per_row,
)

__all__ = ["because_you_watched", "course_similarity_by_skills", "most_recent_course"]


def course_similarity_by_skills(
    course_skill: Sparse,
    idf: ArrayLike,
    *,
    top_k: int | None = None,
    block_size: int = 2048,
) -> sp.csr_array:
    """Cosine similarity of IDF-weighted course skill vectors, shape (courses × courses).

    The diagonal is zero (a course is not its own recommendation). Without ``top_k`` the matrix
    is symmetric. With ``top_k`` each row keeps only its k most similar courses (ties: lower
    course index), which keeps it sparse but no longer symmetric: row i answers "what is most
    like course i". Rows are computed ``block_size`` at a time to bound peak memory.
    """
    weighted = l2_normalize_rows(scale_columns(course_skill, idf))
    transposed = weighted.T.tocsr()
    n_courses = weighted.shape[0]
    blocks = []
    for start in range(0, n_courses, block_size):
        stop = min(start + block_size, n_courses)
        block = as_csr(weighted[start:stop] @ transposed, copy=False)
        # Drop the self-similarity entries, which sit at column start + local row.
        rows = np.repeat(np.arange(stop - start), np.diff(block.indptr))
        block.data[block.indices == rows + start] = 0.0
        block.eliminate_zeros()
        blocks.append(block if top_k is None else top_k_per_row(block, k=top_k))
    if not blocks:
        return sp.csr_array((n_courses, n_courses))
    return as_csr(sp.vstack(blocks, format="csr"))


def most_recent_course(
    event_member: ArrayLike,
    event_course: ArrayLike,
    event_time: ArrayLike,
    *,
    n_members: int,
) -> IntArray:
    """Course of each member's latest event, shape (members,), -1 for members without events.

    Times are any orderable numbers (seconds, ``datetime64``); equal times go to the event that
    comes later in the input, so pass events in insertion order.
    """
    members = np.asarray(event_member, dtype=np.int64)
    courses = np.asarray(event_course, dtype=np.int64)
    times = np.asarray(event_time)
    anchor = np.full(n_members, -1, dtype=np.int64)
    if members.size == 0:
        return anchor
    order = np.lexsort((np.arange(members.size), times, members))
    last = order[np.r_[members[order][1:] != members[order][:-1], True]]
    anchor[members[last]] = courses[last]
    return anchor


def because_you_watched(
    similarity: Sparse,
    *,
    anchor_of_member: ArrayLike,
    exclude: Sparse | None = None,
) -> sp.csr_array:
    """Scores of courses similar to each member's anchor course, shape (members × courses).

    Row i is ``similarity[anchor_of_member[i]]``, empty where the anchor is -1. ``exclude``
    (members × courses), typically the member's interactions, removes courses the member has
    already engaged with (any non-zero entry).
    """
    scores = select_rows(similarity, anchor_of_member)
    if exclude is not None:
        scores = scores - scores.multiply(presence(exclude))
    return as_csr(scores)
