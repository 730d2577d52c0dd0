"""Learned candidate lists per member, and similar courses per course, packed as compact
fixed-size records.

A member's precomputed row is an array of :data:`CANDIDATE` records, one per (course, family):
the course index is translated to a database id by the caller, ``anchor`` is the course that
explains a "Because you watched" pick (-1 otherwise), ``score`` is the family's raw score
(rank scaling happens when the page is served, together with the live reasons).

A course's similar courses are an array of :data:`SIMILAR_COURSE` records, best first
(:func:`similar_course_lists`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from recommendations.engine.families import LearnedModel, model_recommend
from recommendations.engine.similarity import because_you_watched
from recommendations.engine.sparse_ops import (
    Sparse,
    as_csr,
    presence,
    row_ids,
    sparse_top_k_sorted,
    top_k_per_row,
)
from recommendations.engine.text import text_profile_scores

__all__ = [
    "CANDIDATE",
    "FAMILY_ALS",
    "FAMILY_TEXT",
    "FAMILY_WATCHED",
    "SIMILAR_COURSE",
    "candidates_decode",
    "candidates_encode",
    "learned_candidates",
    "similar_course_lists",
    "similar_courses_decode",
    "similar_courses_encode",
]

CANDIDATE = np.dtype([("course", "<i4"), ("anchor", "<i4"), ("score", "<f4"), ("family", "u1")])
FAMILY_ALS, FAMILY_WATCHED, FAMILY_TEXT = 0, 1, 2
SIMILAR_COURSE = np.dtype([("course", "<i4"), ("score", "<f4")])


def candidates_encode(records: NDArray) -> bytes:
    return np.ascontiguousarray(records, dtype=CANDIDATE).tobytes()


def candidates_decode(payload: bytes | memoryview) -> NDArray:
    return np.frombuffer(bytes(payload), dtype=CANDIDATE)


def similar_courses_encode(records: NDArray) -> bytes:
    return np.ascontiguousarray(records, dtype=SIMILAR_COURSE).tobytes()


def similar_courses_decode(payload: bytes | memoryview) -> NDArray:
    return np.frombuffer(bytes(payload), dtype=SIMILAR_COURSE)


def similar_course_lists(
    similarity: Sparse, *, k: int, own_columns: ArrayLike | None = None
) -> tuple[NDArray, NDArray[np.int64]]:
    """Each row's ``k`` most similar courses, best first (ties: lower index), as
    :data:`SIMILAR_COURSE` records grouped by row: row i's are ``records[bounds[i]:bounds[i+1]]``.

    Only positive scores count, and a course is never its own neighbour: row i is course i
    (a square matrix) unless ``own_columns`` (rows,) names each row's own course (-1: none,
    a course compared with the others from outside them).
    """
    csr = as_csr(similarity)
    rows = row_ids(csr)
    own = np.arange(csr.shape[0]) if own_columns is None else np.asarray(own_columns, np.int64)
    keep = (csr.data > 0) & (csr.indices != own[rows])
    indptr = np.concatenate(([0], np.cumsum(np.bincount(rows[keep], minlength=csr.shape[0]))))
    kept = sp.csr_array((csr.data[keep], csr.indices[keep], indptr), shape=csr.shape)
    top, scores = sparse_top_k_sorted(kept, k=k)
    valid = top >= 0
    records = np.empty(int(valid.sum()), dtype=SIMILAR_COURSE)
    records["course"] = top[valid]
    records["score"] = scores[valid]
    bounds = np.concatenate(([0], np.cumsum(valid.sum(axis=1)))).astype(np.int64)
    return records, bounds


def _records(rows: NDArray, courses: NDArray, anchors: NDArray, scores: NDArray, family: int):
    return rows, courses, anchors, scores.astype(np.float32), np.full(rows.size, family, np.uint8)


def learned_candidates(
    *,
    model: LearnedModel,
    user_vectors: NDArray[np.float32] | None,
    interactions: Sparse,
    anchors: ArrayLike,
    item_similarity: Sparse,
    text_similarity: Sparse,
    cold_courses: ArrayLike,
    n_personal: int,
    n_similar: int,
    n_text: int,
) -> tuple[NDArray, NDArray[np.int64]]:
    """Candidate records of a batch of members, grouped by member (positions index courses).

    Returns ``(records, bounds)``: member i's records are ``records[bounds[i]:bounds[i + 1]]``.
    ``model`` is the run's family: its personal picks are the *als* records (the family's
    top courses per member; ALS scores ``user_vectors`` (b × f), the members' factors, fitted or
    folded in, the item-item families their rows of ``interactions``); only positive scores
    count. ``interactions`` (b × c) are the members' current weighted interactions, whose
    courses are never candidates; ``anchors`` (b,) each member's most recent course or -1;
    ``item_similarity`` and ``text_similarity`` (c × c) top-k similarity matrices;
    ``cold_courses`` (c,) bool marks courses with too little activity for ALS, the only ones
    the text family proposes (that is what it is for: new courses nobody has touched yet).
    """
    seen = presence(as_csr(interactions))
    n_members = seen.shape[0]
    anchors = np.asarray(anchors, dtype=np.int64)
    parts = []

    top, top_scores = model_recommend(
        model, as_csr(interactions), n=n_personal, user_vectors=user_vectors
    )
    keep = (top >= 0) & (top_scores > 0)
    rows = np.broadcast_to(np.arange(n_members)[:, None], top.shape)[keep]
    parts.append(_records(rows, top[keep], np.full(rows.size, -1), top_scores[keep], FAMILY_ALS))

    similar = top_k_per_row(
        because_you_watched(item_similarity, anchor_of_member=anchors, exclude=seen), k=n_similar
    )
    rows = row_ids(similar)
    parts.append(_records(rows, similar.indices, anchors[rows], similar.data, FAMILY_WATCHED))

    cold = np.asarray(cold_courses, dtype=bool)
    text = text_profile_scores(interactions, text_similarity)
    text = as_csr(text.multiply(sp.csr_array(cold[None, :].astype(np.float64))))
    text = top_k_per_row(text, k=n_text)
    rows = row_ids(text)
    parts.append(_records(rows, text.indices, np.full(rows.size, -1), text.data, FAMILY_TEXT))

    member = np.concatenate([p[0] for p in parts]).astype(np.int64)
    order = np.argsort(member, kind="stable")
    records = np.empty(member.size, dtype=CANDIDATE)
    for field, index in (("course", 1), ("anchor", 2), ("score", 3), ("family", 4)):
        records[field] = np.concatenate([p[index] for p in parts])[order]
    bounds = np.searchsorted(member[order], np.arange(n_members + 1))
    return records, bounds
