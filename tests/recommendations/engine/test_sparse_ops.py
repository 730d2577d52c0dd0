import numpy as np
import pytest
import scipy.sparse as sp

from recommendations.engine import (
    as_csr,
    group_matrix,
    l2_normalize_rows,
    row_argmax,
    select_rows,
    sparse_column,
    sparse_row,
    top_k_per_row,
)


@pytest.mark.parametrize("kind", [sp.csr_matrix, sp.csr_array])
def test_as_csr_canonicalises_without_touching_the_input(kind):
    # A stored zero and a duplicate entry at (1, 1).
    data, indices, indptr = np.array([0.0, 2.0, 1.0]), np.array([0, 1, 1]), np.array([0, 1, 3])
    source = kind((data, indices, indptr), shape=(2, 2))
    out = as_csr(source)
    assert isinstance(out, sp.csr_array)
    assert out.nnz == 1 and out[1, 1] == 3.0
    assert source.nnz == 3
    np.testing.assert_array_equal(source.data, [0.0, 2.0, 1.0])


def test_l2_normalize_rows_keeps_empty_rows_empty_including_trailing_ones():
    out = l2_normalize_rows(sp.csr_array(np.array([[3.0, 4.0], [0, 0], [0, 0]])))
    np.testing.assert_allclose(out.toarray(), [[0.6, 0.8], [0, 0], [0, 0]])


def test_group_matrix_skips_minus_one():
    np.testing.assert_array_equal(
        group_matrix(np.array([1, -1, 0, 1]), n_groups=2).toarray(), [[0, 0, 1, 0], [1, 0, 0, 1]]
    )


def test_select_rows_with_minus_one_gives_empty_rows():
    matrix = sp.csr_array(np.array([[1.0, 0], [0, 2.0]]))
    np.testing.assert_array_equal(
        select_rows(matrix, [1, -1, 1]).toarray(), [[0, 2], [0, 0], [0, 2]]
    )


def test_select_rows_reads_a_matrix_that_is_not_canonical_as_its_canonical_form():
    # Row 0: column 2 stored twice (1 + 2), an explicit zero at column 0, columns out of order;
    # row 1: only an explicit zero.
    matrix = sp.csr_array(
        (np.array([2.0, 0.0, 1.0, 2.0, 0.0]), np.array([2, 0, 1, 2, 1]), np.array([0, 4, 5])),
        shape=(2, 3),
    )
    matrix.has_sorted_indices = False
    data, indices, indptr = matrix.data.copy(), matrix.indices.copy(), matrix.indptr.copy()
    picked = select_rows(matrix, [0, -1, 1, 0])
    expected = select_rows(as_csr(matrix), [0, -1, 1, 0])
    assert picked.has_canonical_format and expected.has_canonical_format
    for result in (picked, expected):
        np.testing.assert_array_equal(result.indptr, [0, 2, 2, 2, 4])
        np.testing.assert_array_equal(result.indices, [1, 2, 1, 2])
        np.testing.assert_array_equal(result.data, [1.0, 4.0, 1.0, 4.0])
    # Read, never changed.
    np.testing.assert_array_equal(matrix.data, data)
    np.testing.assert_array_equal(matrix.indices, indices)
    np.testing.assert_array_equal(matrix.indptr, indptr)


def test_select_rows_of_another_type_or_dtype():
    dense = np.array([[1, 0], [0, 2]], dtype=np.int64)
    for matrix in (dense, sp.csr_array(dense), sp.csr_matrix(dense.astype(np.float64))):
        picked = select_rows(matrix, [1, 0])
        assert isinstance(picked, sp.csr_array) and picked.dtype == np.float64
        np.testing.assert_array_equal(picked.toarray(), [[0, 2], [1, 0]])


def test_row_argmax_ignores_non_positive_entries():
    matrix = sp.csr_array(np.array([[0, -1.0, 0], [2.0, 0, 2.0], [0, 0, 0]]))
    column, value = row_argmax(matrix)
    np.testing.assert_array_equal(column, [-1, 0, -1])
    np.testing.assert_array_equal(value, [0, 2, 0])


def test_top_k_per_row():
    matrix = sp.csr_array(np.array([[1.0, 3.0, 2.0, 3.0], [0, 0, 0, 0], [5.0, 0, 0, 0]]))
    np.testing.assert_array_equal(
        top_k_per_row(matrix, k=2).toarray(), [[0, 3, 0, 3], [0, 0, 0, 0], [5, 0, 0, 0]]
    )
    assert top_k_per_row(matrix, k=0).nnz == 0


def _random_with_empty_rows_and_columns() -> sp.csr_array:
    rng = np.random.default_rng(7)
    dense = np.where(rng.random((6, 5)) < 0.4, rng.normal(size=(6, 5)), 0.0)
    dense[[0, 3, 5], :] = 0.0  # empty rows, the last one included
    dense[:, [1, 4]] = 0.0  # empty columns, the last one included
    return sp.csr_array(dense)


def _densified(length: int, entries: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    indices, values = entries
    assert indices.dtype == np.int64 and values.dtype == np.float64
    assert np.all(np.diff(indices) > 0), "indices ascending and distinct"
    vector = np.zeros(length)
    vector[indices] = values
    return vector


def test_sparse_row_equals_slicing_every_row_including_empty_ones():
    matrix = _random_with_empty_rows_and_columns()
    assert matrix.nnz > 0
    for i in range(matrix.shape[0]):
        row = _densified(matrix.shape[1], sparse_row(matrix, i))
        np.testing.assert_array_equal(row, matrix[[i], :].toarray()[0])
    indices, values = sparse_row(matrix, 3)
    assert indices.size == 0 and values.size == 0


def test_sparse_column_equals_slicing_every_column_including_empty_ones():
    matrix = _random_with_empty_rows_and_columns().tocsc()
    for j in range(matrix.shape[1]):
        column = _densified(matrix.shape[0], sparse_column(matrix, j))
        np.testing.assert_array_equal(column, matrix[:, [j]].toarray()[:, 0])
    indices, values = sparse_column(matrix, 4)
    assert indices.size == 0 and values.size == 0


def test_sparse_row_and_column_add_up_duplicates_of_an_unsummed_matrix():
    # Row 0 holds (0, 2) twice and an explicit zero; row 1 is empty; row 2 holds (2, 0) twice.
    data = np.array([1.5, 2.0, 0.0, 0.25, 4.0, -1.0])
    indices = np.array([2, 2, 1, 0, 0, 0])
    indptr = np.array([0, 4, 4, 6])
    csr = sp.csr_array((data, indices, indptr), shape=(3, 3))
    assert not csr.has_canonical_format
    row_indices, row_values = sparse_row(csr, 0)
    np.testing.assert_array_equal(row_indices, [0, 1, 2])
    np.testing.assert_array_equal(row_values, [0.25, 0.0, 3.5])
    assert sparse_row(csr, 1)[0].size == 0
    np.testing.assert_array_equal(sparse_row(csr, 2)[0], [0])
    np.testing.assert_array_equal(sparse_row(csr, 2)[1], [3.0])
    for i in range(3):
        np.testing.assert_array_equal(_densified(3, sparse_row(csr, i)), csr.toarray()[i])

    # The same entries as an unsummed CSC (columns play the part of rows).
    csc = sp.csc_array((data, indices, indptr), shape=(3, 3))
    assert not csc.has_canonical_format
    for j in range(3):
        np.testing.assert_array_equal(_densified(3, sparse_column(csc, j)), csc.toarray()[:, j])


def test_sparse_row_and_column_reject_out_of_range_indices():
    matrix = _random_with_empty_rows_and_columns()
    for index in (-1, 6):
        with pytest.raises(IndexError, match=rf"index {index} out of range for 6"):
            sparse_row(matrix, index)
    for index in (-1, 5):
        with pytest.raises(IndexError, match=rf"index {index} out of range for 5"):
            sparse_column(matrix.tocsc(), index)
    with pytest.raises(IndexError):
        sparse_row(sp.csr_array((0, 3)), 0)


def test_sparse_row_of_a_matrix_without_columns():
    indices, values = sparse_row(sp.csr_array((2, 0)), 1)
    assert indices.size == 0 and values.size == 0


def _top_k_by_sorting(matrix: sp.csr_array, k: int) -> np.ndarray:
    """The definition, row by row: the k largest, ties to the lower column."""
    dense = matrix.toarray()
    out = np.zeros_like(dense)
    for r in range(dense.shape[0]):
        columns = np.flatnonzero(dense[r])
        best = columns[np.lexsort((columns, -dense[r, columns]))][:k]
        out[r, best] = dense[r, best]
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [0, 1, 3, 7, 40])
def test_top_k_per_row_matches_the_definition_with_ties_and_varied_row_lengths(seed, k):
    rng = np.random.default_rng(seed)
    density = rng.uniform(0.05, 0.9, size=(60, 1))
    mask = rng.random((60, 50)) < density  # rows of many different lengths
    values = rng.integers(1, 5, size=(60, 50)).astype(float)  # few values: many ties
    matrix = sp.csr_array(np.where(mask, values, 0.0))
    result = top_k_per_row(matrix, k=k)
    np.testing.assert_array_equal(result.toarray(), _top_k_by_sorting(matrix, k))
    assert result.has_canonical_format
