"""Model families behind one interface: ALS, item-item kNN (cosine, BM25), EASE, popularity.

A :class:`LearnedModel` scores a member from one of two things:

- ``als``: the member's factor vector (fitted, or folded in from their interactions) against
  the item factors (:mod:`recommendations.engine.als`);
- ``cosine``, ``bm25``, ``ease``: the member's own interaction row times an item × item weight
  matrix ``W`` (``scores = x · W``). A member's newest activity is in their row, so scoring a
  member needs no fitted member state at all: a refresh after an enrolment is one sparse
  product.
- ``popularity``: the same course counts for everyone (the baseline every family must beat).

``W[i, j]`` is how much having taken course i speaks for course j: for kNN the similarity of
the two courses' member vectors (implicit's ``CosineRecommender`` / ``BM25Recommender``, each
course's ``neighbours`` best), for EASE (Steck 2019) the closed-form item-to-item regression
``B = I − P · diag(1 / diag(P))`` with ``P = (XᵀX + λI)⁻¹`` and a zero diagonal, of which each
row keeps its ``EASE_KEEP_PER_ROW`` largest weights (what is stored and served). EASE inverts a
dense courses × courses matrix: :func:`ease_fits` says whether a catalog is small enough.

``binary`` (every family's parameter) fits on presence (1 per member-course pair) instead of the
event-weighted values (see :mod:`recommendations.engine.interactions`); scoring uses the same
transform. "Similar courses" are each row of ``W`` (kNN, EASE) or the cosine of item factors
(ALS), diagonal removed.
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from threadpoolctl import threadpool_limits

from recommendations.engine.als import AlsModel, als_fit, als_fold_in, als_similar_courses
from recommendations.engine.metrics import GlobalScorer, ScoreFn, top_k_indices
from recommendations.engine.popularity import popularity_scores
from recommendations.engine.sparse_ops import (
    IntArray,
    Sparse,
    as_csr,
    presence,
    row_ids,
    sparse_top_k_sorted,
    top_k_per_row,
)

__all__ = [
    "EASE_KEEP_PER_ROW",
    "EASE_MAX_COURSES",
    "FAMILIES",
    "FAMILY_DEFAULTS",
    "ITEM_ITEM_FAMILIES",
    "LearnedModel",
    "ease_fits",
    "ease_weights",
    "knn_weights",
    "model_fit",
    "model_member_scores",
    "model_recommend",
    "model_refit",
    "model_scorer",
    "model_similar_courses",
    "model_user_vectors",
]

FAMILIES = ("als", "cosine", "bm25", "ease", "popularity")
ITEM_ITEM_FAMILIES = ("cosine", "bm25", "ease")

#: Starting parameters of each family (what a search tries first when nothing was stored).
FAMILY_DEFAULTS: dict[str, dict[str, Any]] = {
    "als": {"factors": 64, "regularization": 0.1, "alpha": 10.0, "iterations": 15},
    "cosine": {"neighbours": 100, "binary": True},
    "bm25": {"neighbours": 100, "k1": 1.2, "b": 0.75, "binary": True},
    "ease": {"lambda": 200.0, "binary": True},
    "popularity": {},
}

#: EASE inverts a dense courses × courses matrix (8 bytes · n² twice, O(n³) time): not above.
EASE_MAX_COURSES = 12_000
#: Largest weights kept per row of the EASE matrix (what is stored and scored).
EASE_KEEP_PER_ROW = 200

Float32Array = NDArray[np.float32]


@dataclass(frozen=True, eq=False)
class LearnedModel:
    """A fitted family: ``als`` factors, or an item × item ``weights`` matrix, or
    ``popularity`` counts. ``params`` are the family's fit parameters (JSON-friendly)."""

    family: str
    params: dict[str, Any] = field(default_factory=dict)
    als: AlsModel | None = None
    weights: sp.csr_array | None = None
    popularity: NDArray[np.float64] | None = None

    @property
    def n_courses(self) -> int:
        if self.als is not None:
            return int(self.als.item_factors.shape[0])
        if self.weights is not None:
            return int(self.weights.shape[0])
        return int(self.popularity.size)

    def member_input(self, interactions: Sparse) -> sp.csr_array:
        """The members' rows as this model scores them (positive entries; binary if fit so)."""
        csr = as_csr(interactions)
        csr.data[csr.data < 0] = 0.0
        csr.eliminate_zeros()
        if self.params.get("binary"):
            csr.data[:] = 1.0
        return csr


def ease_fits(n_courses: int, *, max_courses: int = EASE_MAX_COURSES) -> bool:
    """Whether EASE's dense courses × courses inversion is affordable for this catalog."""
    return 0 < n_courses <= max_courses


def _prepared(matrix: Sparse, *, binary: bool) -> sp.csr_array:
    csr = as_csr(matrix)
    csr.data[csr.data < 0] = 0.0
    csr.eliminate_zeros()
    if binary:
        csr.data[:] = 1.0
    return csr


def knn_weights(
    matrix: Sparse,
    *,
    similarity: str = "cosine",
    neighbours: int = 100,
    k1: float = 1.2,
    b: float = 0.75,
    binary: bool = True,
    num_threads: int = 0,
) -> sp.csr_array:
    """Item × item kNN weights through ``implicit.nearest_neighbours`` (each row's
    ``neighbours`` best, self-similarity removed), float32 ``csr_array``."""
    from implicit.nearest_neighbours import BM25Recommender, CosineRecommender

    user_items = sp.csr_matrix(_prepared(matrix, binary=binary), dtype=np.float32)
    if similarity == "cosine":
        model = CosineRecommender(K=int(neighbours) + 1, num_threads=num_threads)
    elif similarity == "bm25":
        model = BM25Recommender(K=int(neighbours) + 1, K1=k1, B=b, num_threads=num_threads)
    else:
        raise ValueError(f"unknown similarity {similarity!r}")
    with threadpool_limits(1, "blas"), warnings.catch_warnings():
        # implicit converts its own COO-weighted matrix to CSR and warns about it.
        warnings.simplefilter("ignore")
        model.fit(user_items, show_progress=False)
    weights = as_csr(sp.csr_array(model.similarity, dtype=np.float32))
    weights.setdiag(0.0)
    weights.eliminate_zeros()
    return top_k_per_row(weights, k=int(neighbours)).astype(np.float32)


def _ease_gram(matrix: Sparse, *, binary: bool) -> NDArray[np.float64]:
    x = _prepared(matrix, binary=binary)
    return (x.T @ x).toarray().astype(np.float64)


def _spd_inverse(matrix: NDArray[np.float64]) -> NDArray[np.float32]:
    """Inverse of a symmetric positive definite matrix through Cholesky (LAPACK potrf/potri),
    in float32 (four times faster than a float64 LU inverse; EASE's ranking does not need
    more), in float64 where float32 is not positive definite enough."""
    from scipy.linalg import lapack

    for dtype, potrf, potri in (
        (np.float32, lapack.spotrf, lapack.spotri),
        (np.float64, lapack.dpotrf, lapack.dpotri),
    ):
        factor, info = potrf(matrix.astype(dtype), lower=True, clean=False, overwrite_a=True)
        if info != 0:
            continue
        inverse, info = potri(factor, lower=True, overwrite_c=True)
        if info != 0:
            continue
        lower = np.tril(inverse)
        result = lower + np.tril(lower, -1).T
        return result.astype(np.float32, copy=False)
    raise np.linalg.LinAlgError("the EASE matrix is not positive definite")


def ease_weights(
    matrix: Sparse | None = None,
    *,
    lam: float = 200.0,
    binary: bool = True,
    keep_per_row: int = EASE_KEEP_PER_ROW,
    gram: NDArray[np.float64] | None = None,
) -> sp.csr_array:
    """EASE's item × item matrix with each row's ``keep_per_row`` largest weights.

    Pass ``gram`` (``XᵀX`` of the prepared matrix) to reuse it across several ``lam``.
    """
    g = _ease_gram(matrix, binary=binary) if gram is None else gram.copy()
    n = g.shape[0]
    if n == 0:
        return sp.csr_array((0, 0), dtype=np.float32)
    empty = np.diag(g) == 0
    g[np.diag_indices(n)] += lam
    p = _spd_inverse(g)
    weights = -p / np.diag(p)[None, :]
    np.fill_diagonal(weights, 0.0)
    weights[empty, :] = 0.0
    weights[:, empty] = 0.0
    k = min(keep_per_row, n - 1)
    if k <= 0:
        return sp.csr_array((n, n), dtype=np.float32)
    weights = weights.astype(np.float32)
    cols = np.argpartition(-weights, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(weights, cols, axis=1)
    keep = vals > 0
    rows = np.broadcast_to(np.arange(n)[:, None], cols.shape)
    return as_csr(
        sp.csr_array((vals[keep], (rows[keep], cols[keep])), shape=(n, n)), copy=False
    ).astype(np.float32)


def model_fit(
    matrix: Sparse,
    family: str,
    params: dict[str, Any] | None = None,
    *,
    seed: int = 0,
    num_threads: int = 0,
    gram: NDArray[np.float64] | None = None,
    warm_start: LearnedModel | None = None,
) -> LearnedModel:
    """Fit ``family`` on a (members × courses) matrix with ``params`` (defaults filled in).

    ``warm_start`` (an ALS model of the same shape) starts ALS from its factors, so a refit
    on slightly more data converges in the iterations given. ``gram`` is EASE's ``XᵀX``.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}")
    params = {**FAMILY_DEFAULTS[family], **(params or {})}
    if family == "als":
        start = warm_start.als if warm_start is not None else None
        als = als_fit(matrix, seed=seed, num_threads=num_threads, warm_start=start, **params)
        return LearnedModel(family=family, params=params, als=als)
    if family in ("cosine", "bm25"):
        weights = knn_weights(matrix, similarity=family, num_threads=num_threads, **params)
        return LearnedModel(family=family, params=params, weights=weights)
    if family == "ease":
        weights = ease_weights(matrix, lam=params["lambda"], binary=params["binary"], gram=gram)
        return LearnedModel(family=family, params=params, weights=weights)
    return LearnedModel(family=family, params=params, popularity=popularity_scores(matrix))


def model_refit(
    matrix: Sparse, trained: LearnedModel, *, seed: int = 0, num_threads: int = 0
) -> LearnedModel:
    """``trained``'s family and parameters fitted again on ``matrix`` (every interaction).

    ALS starts from ``trained``'s factors when the shapes agree (the held-out split keeps them)
    and runs a third of its iterations (at least 3): the held-out interactions move the factors
    they touch, the rest were already converged. The other families fit from scratch (their
    fits are closed-form or a single pass).
    """
    if trained.family == "als":
        iterations = max(3, int(trained.params["iterations"]) // 3)
        als = als_fit(
            matrix,
            seed=seed,
            num_threads=num_threads,
            warm_start=trained.als,
            **{**trained.params, "iterations": iterations},
        )
        return LearnedModel(family="als", params=trained.params, als=als)
    return model_fit(matrix, trained.family, trained.params, seed=seed, num_threads=num_threads)


def model_member_scores(
    model: LearnedModel,
    interactions: Sparse,
    *,
    user_vectors: Float32Array | None = None,
) -> Float32Array:
    """Dense (members × courses) scores of the members whose rows ``interactions`` holds.

    ALS needs ``user_vectors`` (their factors, fitted or folded in); the item-item families
    score the rows themselves; popularity gives every member the same scores.
    """
    n_members = interactions.shape[0]
    if model.family == "als":
        if user_vectors is None:
            raise ValueError("ALS scores need user vectors")
        with threadpool_limits(1, "blas"):
            return np.asarray(user_vectors, dtype=np.float32) @ model.als.item_factors.T
    if model.weights is not None:
        x = model.member_input(interactions).astype(np.float32)
        return np.asarray((x @ model.weights).toarray(), dtype=np.float32)
    return np.broadcast_to(
        model.popularity.astype(np.float32), (n_members, model.popularity.size)
    ).copy()


def model_user_vectors(
    model: LearnedModel, interactions: Sparse, *, fitted_rows: ArrayLike | None = None
) -> Float32Array | None:
    """ALS factors of the members whose rows ``interactions`` holds: the fitted vector where
    ``fitted_rows`` (one per member: a row of ``model.als.user_factors``, or -1) gives one, a
    fold-in of their interactions otherwise. None for the other families (they need none)."""
    if model.family != "als":
        return None
    csr = as_csr(interactions)
    n = csr.shape[0]
    vectors = np.zeros((n, model.als.factors), dtype=np.float32)
    fitted = np.full(n, -1) if fitted_rows is None else np.asarray(fitted_rows, dtype=np.int64)
    use = fitted >= 0
    vectors[use] = model.als.user_factors[fitted[use]]
    active = np.diff(csr.indptr) > 0
    for row in np.flatnonzero(~use & active).tolist():
        vectors[row] = als_fold_in(
            model.als,
            csr[[row]],
            regularization=model.params["regularization"],
            alpha=model.params["alpha"],
        )
    return vectors


def _sparse_scores(model: LearnedModel, interactions: Sparse) -> sp.csr_array:
    """``x · W`` for the item-item families, sparse (positive weights give positive scores)."""
    x = model.member_input(interactions).astype(np.float32)
    return as_csr(x @ model.weights, copy=False)


def _sparse_top_k(
    model: LearnedModel, interactions: Sparse, seen: Sparse, *, k: int
) -> tuple[IntArray, Float32Array]:
    """Each row's k best positive scores outside ``seen``, padded with -1 / ``-inf``.

    The scores are mostly zeros, and a dense argpartition over many equal values is slow: the
    zeros get distinct negative fillers first (ties to the lower course index), so the
    selection is exact and quick, and whatever is not positive is dropped after it.
    """
    scores = _sparse_scores(model, interactions).toarray()
    n_courses = scores.shape[1]
    filler = -1.0 - np.arange(n_courses, dtype=np.float32) / max(n_courses, 1)
    scores = np.where(scores > 0, scores, filler[None, :]).astype(np.float32, copy=False)
    seen_csr = as_csr(seen)
    scores[row_ids(seen_csr), seen_csr.indices] = -np.inf
    idx, values = top_k_indices(scores, k=k)
    drop = ~(values > 0)
    idx[drop] = -1
    values[drop] = -np.inf
    return idx, values.astype(np.float32, copy=False)


class _ItemItemScorer:
    """Dense scores for :func:`evaluate_scorer`, plus the sparse top-k it prefers."""

    def __init__(self, model: LearnedModel, train: Sparse) -> None:
        self.model = model
        self.train = as_csr(train)

    def __call__(self, members: IntArray) -> Float32Array:
        return model_member_scores(self.model, self.train[members])

    def top_k(self, members: IntArray, seen: Sparse, *, k: int) -> tuple[IntArray, Float32Array]:
        return _sparse_top_k(self.model, self.train[members], seen, k=k)


def _int32_csr(matrix: Sparse) -> sp.csr_matrix:
    """float32 ``csr_matrix`` with int32 indices, what implicit's compiled code takes."""
    csr = sp.csr_matrix(matrix, dtype=np.float32)
    return sp.csr_matrix(
        (csr.data, csr.indices.astype(np.int32), csr.indptr.astype(np.int32)), shape=csr.shape
    )


# Above about this many nonzero scores per member (courses held × neighbours per course),
# implicit's scorer is faster; below it a sparse product per block and a linear top-k are: at
# 100,000 members × 20 courses with 9 neighbours, 1.0 s against 7.8 s (implicit's batch
# recommend calls Python per member), at 500 neighbours 140 s against 31 s.
SPARSE_SCORES_PER_MEMBER = 400
SPARSE_BLOCK_MEMBERS = 8192


def _scores_per_member(member_input: sp.csr_array, weights: Sparse) -> float:
    """The nonzero scores a member gets at most, on average: courses held × neighbours."""
    held = member_input.nnz / max(member_input.shape[0], 1)
    neighbours = weights.nnz / max(weights.shape[0], 1)
    return held * neighbours


def _item_item_recommend_sparse(
    model: LearnedModel,
    member_input: sp.csr_array,
    idx: IntArray,
    scores: Float32Array,
    *,
    n: int,
) -> tuple[IntArray, Float32Array]:
    """Top n of ``x · W`` per row without the row's courses, with ``x · W`` kept sparse."""
    weights = sp.csr_array(model.weights, dtype=np.float32)
    x = sp.csr_array(member_input, dtype=np.float32)
    width = min(n, weights.shape[1])
    for start in range(0, x.shape[0], SPARSE_BLOCK_MEMBERS):
        block = x[start : start + SPARSE_BLOCK_MEMBERS]
        product = as_csr(block @ weights, copy=False)
        product = product - product.multiply(presence(block))  # the member's own courses
        product.data[product.data < 0] = 0.0  # only positive scores recommend
        top, values = sparse_top_k_sorted(product, k=width)
        idx[start : start + block.shape[0], :width] = top
        scores[start : start + block.shape[0], :width] = values
    return idx, scores


def _item_item_recommend(
    model: LearnedModel, interactions: sp.csr_array, *, n: int
) -> tuple[IntArray, Float32Array]:
    """Top n of ``x · W`` per row without the row's courses, through implicit's own
    nearest-neighbour scorer (sparse accumulation and a heap per member in compiled code: three
    times faster than a dense block per batch at 10,000 courses).

    The scorer is called here once per member on views of the rows' arrays: implicit's batch
    ``recommend`` slices a scipy row per member first, which cost as much as the scoring
    itself. The scorer holds the interpreter lock, so threads would not help."""
    n_members = interactions.shape[0]
    idx = np.full((n_members, n), -1, dtype=np.int64)
    scores = np.full((n_members, n), -np.inf, dtype=np.float32)
    if n_members == 0 or n == 0:
        return idx, scores
    member_input = model.member_input(interactions)
    if _scores_per_member(member_input, model.weights) <= SPARSE_SCORES_PER_MEMBER:
        return _item_item_recommend_sparse(model, member_input, idx, scores, n=n)
    recommend = _item_item_scorer(model).recommend
    user_items = _int32_csr(member_input)
    indptr, indices, data = user_items.indptr, user_items.indices, user_items.data
    width = min(n, model.weights.shape[0])
    for row in range(n_members):
        # The scorer reads entries indptr[0]..indptr[1] of the whole arrays: a two-element
        # view of indptr is the row, nothing copied. Answers come best first.
        top, values = recommend(
            indptr[row : row + 2], indices, data, K=width, remove_own_likes=True
        )
        positive = values > 0  # only positive scores recommend (EASE has negative weights)
        count = int(np.count_nonzero(positive))
        idx[row, :count] = top[positive]
        scores[row, :count] = values[positive]
    return idx, scores


def _item_item_scorer(model: LearnedModel):
    """implicit's compiled scorer over the model's weights, built once per model (it copies the
    weights: 0.1 s at 10,000 courses × 500 neighbours, which a precompute would pay per batch)."""
    from implicit.nearest_neighbours import NearestNeighboursScorer

    scorer = model.__dict__.get("_scorer")
    if scorer is None:
        scorer = NearestNeighboursScorer(_int32_csr(model.weights))
        # The dataclass is frozen for its fields; the scorer is a cache beside them.
        object.__setattr__(model, "_scorer", scorer)
    return scorer


def model_recommend(
    model: LearnedModel,
    interactions: Sparse,
    *,
    n: int,
    user_vectors: Float32Array | None = None,
    batch_size: int = 256,
    num_threads: int = 0,
) -> tuple[IntArray, Float32Array]:
    """Top-n courses of every member whose row ``interactions`` holds, their courses excluded:
    (course indices, scores), each (members × n), padded with -1 / ``-inf``; ties to the lower
    course index. ALS and popularity score members ``batch_size`` at a time on ``num_threads``
    threads; the item-item families score them as `_item_item_recommend` says."""
    csr = as_csr(interactions)
    if model.weights is not None:
        return _item_item_recommend(model, csr, n=n)
    n_members = csr.shape[0]
    idx = np.full((n_members, n), -1, dtype=np.int64)
    scores = np.full((n_members, n), -np.inf, dtype=np.float32)

    def run(start: int) -> None:
        stop = min(start + batch_size, n_members)
        seen = csr[start:stop]
        vectors = None if user_vectors is None else user_vectors[start:stop]
        block = model_member_scores(model, seen, user_vectors=vectors)
        block[row_ids(seen), seen.indices] = -np.inf
        top_idx, top_scores = top_k_indices(block, k=n)
        idx[start:stop] = top_idx
        scores[start:stop] = top_scores

    threads = num_threads or os.cpu_count() or 1
    starts = range(0, n_members, batch_size)
    with threadpool_limits(1, "blas"):
        if threads == 1 or len(starts) <= 1:
            for start in starts:
                run(start)
        else:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                list(pool.map(run, starts))
    return idx, scores


def model_scorer(model: LearnedModel, train: Sparse) -> ScoreFn:
    """Score function for :func:`evaluate_scorer`: members scored from their ``train`` rows
    (ALS: their fitted factors, the model having been fit on ``train``)."""
    if model.family == "popularity":
        return GlobalScorer(model.popularity)
    if model.weights is not None:
        return _ItemItemScorer(model, train)

    def score(members: IntArray) -> Float32Array:
        with threadpool_limits(1, "blas"):
            return model.als.user_factors[members] @ model.als.item_factors.T

    return score


def model_similar_courses(model: LearnedModel, *, top_k: int = 20) -> sp.csr_array:
    """Each course's ``top_k`` most similar courses with positive scores (zero diagonal), as
    the family sees them; empty for popularity."""
    if model.family == "als":
        return als_similar_courses(model.als, top_k=top_k)
    if model.weights is None:
        n = model.n_courses
        return sp.csr_array((n, n))
    weights = as_csr(model.weights).astype(np.float64)
    weights.setdiag(0.0)
    weights.data[weights.data < 0] = 0.0
    weights.eliminate_zeros()
    return top_k_per_row(weights, k=top_k)
