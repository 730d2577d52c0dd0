"""Implicit-feedback ALS (Hu, Koren & Volinsky 2008) through ``implicit``'s CPU model.

Confidence: this module uses the paper's ``c_ui = 1 + alpha · r_ui`` with preference ``p_ui = 1``
for every stored ``r_ui > 0`` (and ``c = 1, p = 0`` elsewhere). implicit 0.7 instead takes the
matrix values *as* the confidence and only multiplies them by its own ``alpha`` (its solver
uses ``c − 1`` for the weight and ``c`` for the target), so :func:`als_fit` passes
``1 + alpha · r`` itself and builds the implicit model with ``alpha=1``.

Fitting runs on the CPU model with a fixed ``random_state`` and BLAS limited to one thread
(``threadpool_limits(1, "blas")``; implicit's own threads still parallelise over members):
the same matrix and seed give the same factors. Factors of members and courses without any
interaction are set to exactly 0 after fitting, so they score 0 and have no similar courses.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from threadpoolctl import threadpool_limits

from recommendations.engine.metrics import ScoreFn, top_k_indices
from recommendations.engine.sparse_ops import IntArray, Sparse, as_csr, row_ids

__all__ = [
    "AlsModel",
    "als_confidence",
    "als_fit",
    "als_fold_in",
    "als_recommend",
    "als_scorer",
    "als_similar_courses",
]

Float32Array = NDArray[np.float32]


@dataclass(frozen=True, eq=False)
class AlsModel:
    """Fitted factors: ``user_factors`` (members × f) and ``item_factors`` (courses × f), float32.

    A member's score for a course is ``user_factors[m] @ item_factors[c]``. Plain numpy, so it
    saves with ``np.savez`` and loads without implicit.
    """

    user_factors: Float32Array
    item_factors: Float32Array

    @property
    def factors(self) -> int:
        return int(self.item_factors.shape[1])

    @functools.cached_property
    def item_gram(self) -> NDArray[np.float64]:
        """``YᵀY`` (f × f, float64), cached for fold-ins."""
        items = self.item_factors.astype(np.float64)
        # One BLAS thread: a threaded GEMM on a busy 2-core worker is erratic (~100 ms).
        with threadpool_limits(1, "blas"):
            return items.T @ items


def als_confidence(matrix: Sparse, *, alpha: float) -> sp.csr_matrix:
    """``1 + alpha · r`` on the positive stored entries, as implicit's float32 ``csr_matrix``.

    Non-positive entries are dropped (dismissals are not preferences).
    """
    csr = as_csr(matrix)
    csr.data[csr.data < 0] = 0.0
    csr.eliminate_zeros()
    confidence = sp.csr_matrix(
        (1.0 + alpha * csr.data, csr.indices, csr.indptr), shape=csr.shape, dtype=np.float32
    )
    return confidence


def als_fit(
    matrix: Sparse,
    *,
    factors: int = 64,
    regularization: float = 0.05,
    alpha: float = 15.0,
    iterations: int = 15,
    seed: int = 0,
    num_threads: int = 0,
    warm_start: AlsModel | None = None,
    callback=None,
) -> AlsModel:
    """Fit ALS on a (members × courses) interaction matrix (weights ≥ 0; see module docstring).

    ``num_threads=0`` lets implicit use every core; results do not depend on it.
    ``warm_start`` (a model of the same shape and factors) starts from its factors instead of
    random ones: a refit on a little more data then needs only a few ``iterations``.
    ``callback(iteration, user_factors, item_factors)`` runs after each iteration (a search
    prunes a poor trial from it by raising).
    """
    from implicit.cpu.als import AlternatingLeastSquares

    confidence = als_confidence(matrix, alpha=alpha)
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(
            factors=factors,
            regularization=regularization,
            alpha=1.0,
            dtype=np.float32,
            iterations=iterations,
            num_threads=num_threads,
            random_state=seed,
        )
        if (
            warm_start is not None
            and warm_start.user_factors.shape == (confidence.shape[0], factors)
            and warm_start.item_factors.shape == (confidence.shape[1], factors)
        ):
            model.user_factors = warm_start.user_factors.copy()
            model.item_factors = warm_start.item_factors.copy()
        if callback is not None:
            model.fit_callback = lambda iteration, _elapsed, _loss: callback(
                iteration, model.user_factors, model.item_factors
            )
        model.fit(confidence, show_progress=False)
    user_factors = np.ascontiguousarray(model.user_factors, dtype=np.float32)
    item_factors = np.ascontiguousarray(model.item_factors, dtype=np.float32)
    user_factors[np.diff(confidence.indptr) == 0] = 0.0
    item_factors[np.bincount(confidence.indices, minlength=confidence.shape[1]) == 0] = 0.0
    return AlsModel(user_factors=user_factors, item_factors=item_factors)


def als_scorer(model: AlsModel) -> ScoreFn:
    """Score function for :func:`evaluate_scorer`: ``U[members] @ Vᵀ``."""

    def score(members: IntArray) -> Float32Array:
        with threadpool_limits(1, "blas"):
            return model.user_factors[members] @ model.item_factors.T

    return score


def als_recommend(
    model: AlsModel,
    matrix: Sparse,
    *,
    members: ArrayLike,
    n: int,
    exclude_seen: bool = True,
    batch_size: int = 256,
    num_threads: int = 0,
) -> tuple[IntArray, Float32Array]:
    """Top-n courses for each of ``members``: (course indices, scores), each (members × n).

    ``matrix`` is the full (members × courses) interaction matrix; with ``exclude_seen`` the
    courses a member has an entry for are left out. Rows with fewer than n eligible courses
    are padded with index -1 and score ``-inf``. Equal scores go to the lower course index.

    Members are scored ``batch_size`` at a time (``U[batch] @ Vᵀ``, mask, ``argpartition``)
    on ``num_threads`` threads (0: one per core); the result does not depend on either.
    Small batches keep the score block in cache, which is what makes this faster than
    implicit's own ``recommend`` here (see README).
    """
    members = np.asarray(members, dtype=np.int64)
    csr = as_csr(matrix) if exclude_seen else None
    idx = np.full((members.size, n), -1, dtype=np.int64)
    scores = np.full((members.size, n), -np.inf, dtype=np.float32)
    items_t = np.ascontiguousarray(model.item_factors.T)

    def run(start: int) -> None:
        batch = members[start : start + batch_size]
        block = model.user_factors[batch] @ items_t
        if csr is not None:
            seen = csr[batch]
            block[row_ids(seen), seen.indices] = -np.inf
        top_idx, top_scores = top_k_indices(block, k=n)
        idx[start : start + batch.size] = top_idx
        scores[start : start + batch.size] = top_scores

    threads = num_threads or os.cpu_count() or 1
    with threadpool_limits(1, "blas"):
        starts = range(0, members.size, batch_size)
        if threads == 1 or len(starts) <= 1:
            for start in starts:
                run(start)
        else:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                # list() re-raises the first exception of any batch.
                list(pool.map(run, starts))
    return idx, scores


def als_fold_in(
    model: AlsModel,
    member_row: Sparse,
    *,
    regularization: float,
    alpha: float,
) -> Float32Array:
    """One member's factors from the fixed item factors: an exact ALS user half-step.

    With ``Y`` the item factors, ``S`` the member's courses with ``r > 0`` and
    ``c = 1 + alpha · r``::

        x = (YᵀY + λI + Σ_{i∈S} (c_i − 1) y_i y_iᵀ)⁻¹ Σ_{i∈S} c_i y_i

    Use the ``regularization`` and ``alpha`` the model was fitted with. A member without
    positive entries gets the zero vector.
    """
    row = as_csr(member_row)
    if row.shape != (1, model.item_factors.shape[0]):
        raise ValueError("member_row must be 1 × courses")
    positive = row.data > 0
    courses, weights = row.indices[positive], row.data[positive]
    if courses.size == 0:
        return np.zeros(model.factors, dtype=np.float32)
    y = model.item_factors[courses].astype(np.float64)
    confidence = 1.0 + alpha * weights
    a = model.item_gram + regularization * np.eye(model.factors)
    a += (y * (confidence - 1.0)[:, None]).T @ y
    b = confidence @ y
    return np.linalg.solve(a, b).astype(np.float32)


def als_similar_courses(
    model: AlsModel, *, top_k: int = 20, block_size: int = 2048
) -> sp.csr_array:
    """Cosine similarity of item factors, each row's ``top_k`` positive values, zero diagonal.

    Shape (courses × courses), float64 ``csr_array``; row i answers "what is most like course
    i". Courses with all-zero factors (no interactions) have empty rows and columns.
    """
    items = model.item_factors.astype(np.float32)
    norms = np.linalg.norm(items, axis=1)
    unit = np.divide(items, norms[:, None], out=np.zeros_like(items), where=norms[:, None] > 0)
    n_courses = unit.shape[0]
    rows_out: list[np.ndarray] = []
    cols_out: list[np.ndarray] = []
    vals_out: list[np.ndarray] = []
    k = min(top_k, max(n_courses - 1, 0))
    if k > 0:
        with threadpool_limits(1, "blas"):
            for start in range(0, n_courses, block_size):
                stop = min(start + block_size, n_courses)
                block = unit[start:stop] @ unit.T
                block[np.arange(stop - start), np.arange(start, stop)] = -np.inf
                cols, vals = top_k_indices(block, k=k)
                keep = (cols >= 0) & (vals > 0)
                rows_out.append(np.nonzero(keep)[0] + start)
                cols_out.append(cols[keep])
                vals_out.append(vals[keep].astype(np.float64))
    if not rows_out:
        return sp.csr_array((n_courses, n_courses))
    return as_csr(
        sp.csr_array(
            (np.concatenate(vals_out), (np.concatenate(rows_out), np.concatenate(cols_out))),
            shape=(n_courses, n_courses),
        ),
        copy=False,
    )
