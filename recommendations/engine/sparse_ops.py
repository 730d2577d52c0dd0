"""Sparse-matrix building blocks shared by the engine modules.

Every function takes anything ``scipy.sparse`` can convert (``csr_matrix``, ``csr_array``, COO...)
and returns a canonical ``csr_array``: sorted indices, no duplicates, no explicit zeros. The
modules rely on that canonical form to compute per-row statistics straight from ``indptr``.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

Sparse: TypeAlias = sp.sparray | sp.spmatrix
FloatArray: TypeAlias = NDArray[np.float64]
IntArray: TypeAlias = NDArray[np.int64]
BoolArray: TypeAlias = NDArray[np.bool_]

__all__ = [
    "BoolArray",
    "FloatArray",
    "IntArray",
    "Sparse",
    "as_csr",
    "group_matrix",
    "l2_normalize_rows",
    "presence",
    "row_argmax",
    "row_ids",
    "scale_columns",
    "scale_rows",
    "select_rows",
    "sparse_column",
    "sparse_row",
    "sparse_top_k_sorted",
    "top_k_per_row",
]


def as_csr(matrix: Sparse, *, copy: bool = True) -> sp.csr_array:
    """Return ``matrix`` as a canonical float64 ``csr_array``.

    With ``copy`` (default) the input is never modified; ``copy=False`` canonicalises a matrix
    the caller owns (e.g. a fresh product) in place when it already is a float64 ``csr_array``.
    """
    out = sp.csr_array(matrix, dtype=np.float64, copy=copy)
    out.sum_duplicates()
    out.eliminate_zeros()
    out.sort_indices()
    return out


def row_ids(matrix: sp.csr_array) -> IntArray:
    """Row index of every stored entry of a CSR matrix, shape (nnz,)."""
    return np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))


def presence(matrix: Sparse) -> sp.csr_array:
    """Binary (0/1) version of ``matrix``: 1 wherever the entry is non-zero."""
    out = as_csr(matrix)
    out.data[:] = 1.0
    return out


def scale_rows(matrix: Sparse, factors: ArrayLike) -> sp.csr_array:
    """``diag(factors) @ matrix`` for factors of shape (rows,)."""
    out = as_csr(matrix)
    factors = np.asarray(factors, dtype=np.float64)
    out.data *= np.repeat(factors, np.diff(out.indptr))
    out.eliminate_zeros()
    return out


def scale_columns(matrix: Sparse, factors: ArrayLike) -> sp.csr_array:
    """``matrix @ diag(factors)`` for factors of shape (columns,)."""
    out = as_csr(matrix)
    factors = np.asarray(factors, dtype=np.float64)
    out.data *= factors[out.indices]
    out.eliminate_zeros()
    return out


def l2_normalize_rows(matrix: Sparse) -> sp.csr_array:
    """Scale every row to unit Euclidean norm; all-zero rows stay empty."""
    out = as_csr(matrix)
    squared = np.bincount(row_ids(out), weights=out.data**2, minlength=out.shape[0])
    norms = np.sqrt(squared)
    inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return scale_rows(out, inverse)


def group_matrix(group_of_row: ArrayLike, *, n_groups: int) -> sp.csr_array:
    """Assignment matrix (groups × rows) with a 1 where row r belongs to group g.

    ``group_of_row`` holds a group index per row, or -1 for rows in no group. Multiplying it
    with a (rows × columns) matrix sums the rows of each group.
    """
    groups = np.asarray(group_of_row, dtype=np.int64)
    if groups.size and groups.max() >= n_groups:
        raise ValueError(f"group index {groups.max()} out of range for n_groups={n_groups}")
    rows = np.flatnonzero(groups >= 0)
    return sp.csr_array((np.ones(rows.size), (groups[rows], rows)), shape=(n_groups, groups.size))


def select_rows(matrix: Sparse, index: ArrayLike) -> sp.csr_array:
    """Rows ``matrix[index[i]]`` stacked, with an empty row wherever ``index[i]`` is -1."""
    # A float64 csr_array is read as it is, not copied: the product below sums duplicates and
    # drops zeros, and its result is made canonical. Copying a model's similarity matrix to
    # pick one member's anchor row was a quarter of a member's refresh (2 ms for 200,000
    # entries, against 0.4 ms for the rest of this function).
    source = (
        matrix
        if isinstance(matrix, sp.csr_array) and matrix.dtype == np.float64
        else as_csr(matrix)
    )
    index = np.asarray(index, dtype=np.int64)
    picked = np.flatnonzero(index >= 0)
    # A (len(index) × rows) selection matrix keeps the -1 rows empty without a Python loop.
    selector = sp.csr_array(
        (np.ones(picked.size), (picked, index[picked])), shape=(index.size, source.shape[0])
    )
    return as_csr(selector @ source)


def row_argmax(matrix: Sparse) -> tuple[IntArray, FloatArray]:
    """Column and value of the largest positive stored entry of each row.

    Ties go to the lower column index. Rows without a positive entry give column -1, value 0.
    """
    csr = as_csr(matrix)
    csr.data[csr.data < 0] = 0.0
    csr.eliminate_zeros()
    top = top_k_per_row(csr, k=1)
    best_col = np.full(csr.shape[0], -1, dtype=np.int64)
    best_val = np.zeros(csr.shape[0])
    held = np.diff(top.indptr) > 0
    best_col[held] = top.indices
    best_val[held] = top.data
    return best_col, best_val


def top_k_per_row(matrix: Sparse, *, k: int) -> sp.csr_array:
    """Keep the ``k`` largest stored entries of each row (ties: lower column index first)."""
    if k < 0:
        raise ValueError("k must be non-negative")
    csr = as_csr(matrix)
    lengths = np.diff(csr.indptr)
    long_rows = np.flatnonzero(lengths > k)
    if long_rows.size == 0:
        return csr
    keep = np.ones(csr.nnz, dtype=bool)
    if k == 0:
        keep[:] = False
    else:
        # Rows too long, in buckets of similar length (powers of two), each a dense (rows ×
        # longest) block padded with -inf: per row the k-th largest value by partition, then
        # the entries above it and, of those equal to it, the first in column order (columns
        # ascend within a canonical row). Linear in the entries, where sorting every entry by
        # (row, value) is not; padding at most doubles a bucket.
        buckets = np.ceil(np.log2(lengths[long_rows])).astype(np.int64)
        for bucket in np.unique(buckets):
            rows = long_rows[buckets == bucket]
            row_lengths = lengths[rows][:, None]
            offsets = np.arange(row_lengths.max())
            real = offsets < row_lengths
            positions = np.where(real, csr.indptr[rows][:, None] + offsets, 0)
            values = np.where(real, csr.data[positions], -np.inf)
            kth = -np.partition(-values, k - 1, axis=1)[:, k - 1 : k]
            above = values > kth
            tied = values == kth
            room = k - above.sum(axis=1, keepdims=True)
            kept = above | (tied & (np.cumsum(tied, axis=1) <= room))
            keep[positions[real & ~kept]] = False
    indptr = np.concatenate(([0], np.cumsum(np.minimum(lengths, k))))
    return sp.csr_array((csr.data[keep], csr.indices[keep], indptr), shape=csr.shape)


def sparse_top_k_sorted(matrix: Sparse, *, k: int) -> tuple[IntArray, FloatArray]:
    """Each row's ``k`` largest stored entries, best first (ties: lower column first), as dense
    (rows × k) column indices and values, padded with -1 / ``-inf``."""
    top = top_k_per_row(matrix, k=k)
    n_rows = top.shape[0]
    lengths = np.diff(top.indptr)
    offsets = np.arange(k)
    real = offsets < lengths[:, None]
    positions = np.where(real, top.indptr[:-1, None] + offsets, 0)
    values = np.where(real, top.data[positions] if top.nnz else 0.0, -np.inf)
    columns = np.where(real, top.indices[positions] if top.nnz else 0, -1).astype(np.int64)
    # Entries ascend by column within a row, so a stable sort by value keeps ties in that order.
    order = np.argsort(-values, axis=1, kind="stable")
    return (
        np.take_along_axis(columns, order, axis=1).reshape(n_rows, k),
        np.take_along_axis(values, order, axis=1).reshape(n_rows, k),
    )


def sparse_row(matrix: sp.csr_array, row: int) -> tuple[IntArray, FloatArray]:
    """Row ``row`` of a CSR matrix as (column indices ascending, values), read straight from its
    arrays: one row's entries for a hot path, where slicing builds intermediate matrices and a
    dense row costs the full width. Stored zeros stay (they score as "no signal" downstream)."""
    return _sparse_slice(matrix, row)


def sparse_column(matrix: sp.csc_array, column: int) -> tuple[IntArray, FloatArray]:
    """Column ``column`` of a CSC matrix as (row indices ascending, values) (see
    :func:`sparse_row`)."""
    return _sparse_slice(matrix, column)


def _sparse_slice(matrix: sp.csr_array | sp.csc_array, index: int) -> tuple[IntArray, FloatArray]:
    if not 0 <= index < matrix.indptr.size - 1:
        raise IndexError(f"index {index} out of range for {matrix.indptr.size - 1}")
    start, end = matrix.indptr[index], matrix.indptr[index + 1]
    indices = matrix.indices[start:end].astype(np.int64)
    values = matrix.data[start:end].astype(np.float64)
    # scipy caches the flag on the matrix, so a snapshot's matrices pay for the check once.
    if matrix.has_canonical_format:
        return indices, values
    # An unsummed matrix: duplicates add up, as toarray() does.
    unique, inverse = np.unique(indices, return_inverse=True)
    summed = np.bincount(inverse.ravel(), weights=values, minlength=unique.size)
    return unique, summed.astype(np.float64, copy=False)  # an empty bincount is integer
