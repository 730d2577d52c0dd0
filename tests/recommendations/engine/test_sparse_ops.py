import numpy as np
import pytest
import scipy.sparse as sp

from recommendations.engine import (
    as_csr,
    group_matrix,
    l2_normalize_rows,
    row_argmax,
    select_rows,
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
