"""People to learn with: member-to-member similarity, in blocks of rows, never members × members.

Members are the items and courses (or skills, titles, courses in progress) the "users": a
member's similarity to a candidate is the dot product of their feature rows, computed for a
block of query rows against the candidates' rows with one sparse product, cut to each row's top
k, and the block dropped before the next. Memory is bounded by `max_block_entries` (the
product's entries per block, estimated from the features before multiplying); time follows the
entries the products really have, which candidate restriction (only discoverable members) keeps
small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommendations.engine.sparse_ops import (
    FloatArray,
    IntArray,
    Sparse,
    as_csr,
    l2_normalize_rows,
    presence,
    scale_columns,
    sparse_top_k_sorted,
    top_k_per_row,
)

__all__ = [
    "RuleWeights",
    "co_enrolment_vectors",
    "member_neighbours",
    "neighbours_merge",
    "people_hit_rate",
    "rule_feature_vectors",
]


@dataclass(frozen=True)
class RuleWeights:
    """What each shared trait adds to the rule-based score: a followed skill adds its IDF, the
    same occupation `title`, the same industry `industry`, each course both have in progress
    `course`."""

    title: float = 1.0
    industry: float = 0.3
    course: float = 1.5


def co_enrolment_vectors(interactions: Sparse, *, rows: IntArray | None = None) -> sp.csr_array:
    """Members × courses rows whose dot product is the cosine of IDF-weighted co-enrolment:
    presence of each interaction times `log(1 + M / n_c)` (M members, n_c members with the
    course), L2-normalised. Sharing a course few take says more than sharing a popular one.

    With `rows`, only those members' rows (in that order), the IDF still counting every member:
    the people stage needs the discoverable members' rows only."""
    matrix = presence(interactions)
    takers = np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float64)
    idf = np.where(takers > 0, np.log1p(matrix.shape[0] / np.maximum(takers, 1.0)), 0.0)
    if rows is not None:
        matrix = matrix[np.asarray(rows, dtype=np.int64)]
    return l2_normalize_rows(scale_columns(matrix, idf))


def rule_feature_vectors(
    *,
    followed: Sparse,
    skill_idf: FloatArray,
    title: IntArray,
    industry: IntArray,
    in_progress: Sparse,
    n_titles: int,
    n_industries: int,
    weights: RuleWeights,
) -> sp.csr_array:
    """Rows whose dot product is the rule-based score of two members:
    `Σ_shared followed skills idf(s) + title·[same title] + industry·[same industry]
    + course·|courses both have in progress|`.

    `followed` (members × skills) and `in_progress` (members × courses) are read as presence;
    `title` and `industry` hold a position per member, -1 for none. Each block carries the
    square root of its weight, so the product of two rows gives the weight itself.
    """
    n_members = len(title)

    def one_hot(codes: IntArray, n_codes: int, weight: float) -> sp.csr_array:
        codes = np.asarray(codes, dtype=np.int64)
        rows = np.flatnonzero(codes >= 0)
        return sp.csr_array(
            (np.full(rows.size, np.sqrt(weight)), (rows, codes[rows])),
            shape=(n_members, n_codes),
        )

    blocks = [
        scale_columns(presence(followed), np.sqrt(np.asarray(skill_idf, dtype=np.float64))),
        one_hot(title, n_titles, weights.title),
        one_hot(industry, n_industries, weights.industry),
        presence(in_progress) * np.sqrt(weights.course),
    ]
    return as_csr(sp.hstack(blocks, format="csr"), copy=False)


def member_neighbours(
    query: Sparse,
    candidates: Sparse,
    *,
    query_members: IntArray,
    candidate_members: IntArray,
    k: int,
    max_block_entries: int = 4_000_000,
    max_candidates_per_feature: int | None = None,
) -> tuple[IntArray, FloatArray]:
    """Each query row's `k` best candidates by dot product, best first (ties: lower candidate
    row first), as (query rows × k) candidate row indices and scores, padded -1 / -inf.

    `query_members` and `candidate_members` name the member of each row (any ids, same space),
    so a member is never their own neighbour. Only positive scores count. Rows go in blocks
    whose product has at most about `max_block_entries` entries (each row's bound: the sum,
    over its features, of the candidates holding that feature), at least one row a block.

    `max_candidates_per_feature` bounds the time: a feature (a popular course, a common skill
    or industry) held by more candidates keeps only that many of them, those with the largest
    values, ties broken by a fixed hash of the candidate's member id (so not by id order). The
    others still meet the query through their rarer features, which weigh more anyway. Scores
    then carry a relative error below 1e-6 from the tie-break.
    """
    query = as_csr(query)
    candidates_t = as_csr(candidates).T.tocsr()
    candidate_members = np.asarray(candidate_members, dtype=np.int64)
    if max_candidates_per_feature is not None:
        jitter = (candidate_members[candidates_t.indices] * 2654435761 % 2**32) / 2**32
        candidates_t.data *= 1.0 + 1e-7 * jitter
        candidates_t = top_k_per_row(candidates_t, k=max_candidates_per_feature)
    query_members = np.asarray(query_members, dtype=np.int64)
    n_query = query.shape[0]
    neighbours = np.full((n_query, k), -1, dtype=np.int64)
    scores = np.full((n_query, k), -np.inf)
    if n_query == 0 or k == 0 or candidates_t.shape[1] == 0:
        return neighbours, scores
    holders = np.diff(candidates_t.indptr).astype(np.int64)  # candidates per feature
    row_bound = np.add.reduceat(
        np.concatenate([holders[query.indices], [0]]),
        np.minimum(query.indptr[:-1], query.nnz),
    )
    row_bound[np.diff(query.indptr) == 0] = 0
    start = 0
    cumulative = np.cumsum(row_bound)
    while start < n_query:
        before = cumulative[start - 1] if start else 0
        stop = int(np.searchsorted(cumulative, before + max_block_entries, side="right"))
        stop = min(max(stop, start + 1), n_query)
        block = as_csr(query[start:stop] @ candidates_t, copy=False)
        rows = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
        self_pair = candidate_members[block.indices] == query_members[start + rows]
        block.data[self_pair | (block.data <= 0)] = 0.0
        block.eliminate_zeros()
        columns, values = sparse_top_k_sorted(block, k=k)
        neighbours[start:stop] = columns
        scores[start:stop] = values
        start = stop
    return neighbours, scores


def neighbours_merge(
    first: IntArray,
    first_scores: FloatArray,
    second: IntArray,
    second_scores: FloatArray,
    *,
    k: int,
) -> tuple[IntArray, FloatArray, IntArray]:
    """Per row, `first`'s neighbours, then `second`'s not already there, up to `k` (-1 pads),
    each with its score from the list it came from (-inf pads).

    Returns (neighbours, scores, source): source 0 where the neighbour came from `first`, 1
    from `second`, -1 on padding. The learned neighbours first, the rule-based ones filling
    in. Whole-array: a neighbour repeating an earlier one of its row is dropped (found by a
    stable sort of each row), and each row's first `k` kept entries are taken in order.
    """
    both = np.hstack([np.asarray(first, np.int64), np.asarray(second, np.int64)])
    both_scores = np.hstack([np.asarray(first_scores, np.float64), second_scores])
    origin = np.repeat(np.array([0, 1]), [first.shape[1], second.shape[1]])
    n_rows, width = both.shape
    merged = np.full((n_rows, k), -1, dtype=np.int64)
    scores = np.full((n_rows, k), -np.inf)
    source = np.full((n_rows, k), -1, dtype=np.int64)
    if n_rows == 0 or width == 0 or k == 0:
        return merged, scores, source
    # Equal neighbours end up side by side, the earliest first (stable); the later ones repeat.
    by_value = np.argsort(both, axis=1, kind="stable")
    ordered = np.take_along_axis(both, by_value, axis=1)
    repeat = np.zeros_like(ordered, dtype=bool)
    repeat[:, 1:] = ordered[:, 1:] == ordered[:, :-1]
    keep = np.empty_like(repeat)
    np.put_along_axis(keep, by_value, ~repeat, axis=1)
    keep &= both >= 0
    # Kept entries first, in their order; then the first k of them per row.
    taken = np.argsort(~keep, axis=1, kind="stable")[:, : min(k, width)]
    real = np.take_along_axis(keep, taken, axis=1)
    columns = taken.shape[1]
    merged[:, :columns] = np.where(real, np.take_along_axis(both, taken, axis=1), -1)
    scores[:, :columns] = np.where(real, np.take_along_axis(both_scores, taken, axis=1), -np.inf)
    source[:, :columns] = np.where(real, origin[taken], -1)
    return merged, scores, source


def people_hit_rate(
    neighbours: IntArray, *, held_out: IntArray, candidate_courses: Sparse
) -> float:
    """Share of query rows with at least one neighbour who has the row's held-out course:
    "do the suggested people take what this member went on to take". `neighbours` are
    candidate rows (-1 pads), `held_out` a course per query row (-1: the row is skipped),
    `candidate_courses` (candidates × courses) any non-zero. 0.0 when no row counts."""
    neighbours = np.asarray(neighbours, dtype=np.int64)
    held_out = np.asarray(held_out, dtype=np.int64)
    counted = held_out >= 0
    if not counted.any():
        return 0.0
    courses = as_csr(candidate_courses)
    n_courses = courses.shape[1]
    # Every (candidate, course) pair as one sorted key; a hit is a key found.
    keys = np.repeat(np.arange(courses.shape[0], dtype=np.int64), np.diff(courses.indptr))
    keys = keys * n_courses + courses.indices
    wanted = neighbours * n_courses + held_out[:, None]
    found = np.searchsorted(keys, wanted)
    present = keys[np.minimum(found, keys.size - 1)] == wanted if keys.size else False
    hit = (neighbours >= 0) & present
    return float(np.any(hit, axis=1)[counted].mean())
