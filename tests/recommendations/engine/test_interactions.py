import numpy as np
import pytest
import scipy.sparse as sp

from recommendations.engine.interactions import (
    BOOKMARK_WEIGHT,
    DISMISS_WEIGHT,
    ENROL_WEIGHT,
    FINISH_WEIGHT,
    holdout_split,
    interaction_matrix,
    watch_weight,
)


def test_default_weights_are_ordered():
    assert ENROL_WEIGHT < BOOKMARK_WEIGHT < watch_weight(1.0) < FINISH_WEIGHT
    assert DISMISS_WEIGHT < 0
    np.testing.assert_allclose(watch_weight([-1, 0.5, 2]), [0, 1.5, 3])


def test_interaction_matrix_sums_weights_and_drops_dismissed_pairs():
    members = [0, 0, 0, 1, 1, 1, 2]
    courses = [0, 0, 1, 1, 1, 2, 0]
    weights = [1.0, 5.0, 2.0, 9.0, DISMISS_WEIGHT, 1.0, DISMISS_WEIGHT]
    matrix = interaction_matrix(members, courses, weights, n_members=4, n_courses=3)
    assert isinstance(matrix, sp.csr_array)
    assert matrix.shape == (4, 3) and matrix.dtype == np.float64
    expected = [[6, 2, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]]
    np.testing.assert_allclose(matrix.toarray(), expected)
    # The dismissed pair (1, 1) has no entry at all, not even a stored zero.
    assert matrix.nnz == 3 and (matrix.data > 0).all()


def test_interaction_matrix_of_no_events():
    matrix = interaction_matrix([], [], [], n_members=2, n_courses=3)
    assert matrix.shape == (2, 3) and matrix.nnz == 0


def test_interaction_matrix_rejects_mismatched_arrays():
    with pytest.raises(ValueError):
        interaction_matrix([0], [0, 1], [1.0], n_members=1, n_courses=2)


def _matrix_with_counts(counts, n_courses=20, seed=0):
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for member, count in enumerate(counts):
        rows += [member] * count
        cols += sorted(rng.choice(n_courses, count, replace=False).tolist())
    values = rng.integers(1, 9, len(rows)).astype(float)
    return sp.csr_array((values, (rows, cols)), shape=(len(counts), n_courses))


def test_holdout_split_properties():
    matrix = _matrix_with_counts([10, 5, 3, 2, 1, 0, 20])
    train, test = holdout_split(matrix, test_fraction=0.2, min_interactions=3, seed=7)
    # Per member: round(0.2·n), at least one, members below the minimum keep everything.
    np.testing.assert_array_equal(np.diff(test.indptr), [2, 1, 1, 0, 0, 0, 4])
    np.testing.assert_array_equal(np.diff(train.indptr), [8, 4, 2, 2, 1, 0, 16])
    # No overlap, and the union is exactly the input (values included).
    assert train.multiply(test).nnz == 0
    np.testing.assert_array_equal((train + test).toarray(), matrix.toarray())


def test_holdout_split_is_deterministic_per_seed():
    matrix = _matrix_with_counts([10] * 30)
    first = holdout_split(matrix, seed=1)[1]
    again = holdout_split(matrix, seed=1)[1]
    other = holdout_split(matrix, seed=2)[1]
    np.testing.assert_array_equal(first.toarray(), again.toarray())
    assert (first != other).nnz > 0


def test_holdout_split_by_time_holds_out_the_most_recent():
    matrix = _matrix_with_counts([10, 6, 2])
    rng = np.random.default_rng(3)
    times = matrix.copy()
    times.data = rng.permutation(matrix.nnz).astype(float) + 1_700_000_000
    # Pass the times as COO with shuffled entries: the split must align them by (row, col).
    coo = times.tocoo()
    order = rng.permutation(coo.nnz)
    shuffled = sp.coo_array((coo.data[order], (coo.row[order], coo.col[order])), shape=coo.shape)
    train, test = holdout_split(matrix, test_fraction=0.3, seed=0, by_time=shuffled)
    np.testing.assert_array_equal(np.diff(test.indptr), [3, 2, 0])
    dense_times = times.toarray()
    for member in range(2):
        test_times = dense_times[member, test[[member]].indices]
        train_times = dense_times[member, train[[member]].indices]
        assert test_times.min() > train_times.max()


def test_holdout_split_holds_out_at_least_one_and_rejects_a_full_fraction():
    matrix = _matrix_with_counts([4, 4])
    _, test = holdout_split(matrix, test_fraction=0.0, min_interactions=3, seed=0)
    # A qualifying member always gives at least one interaction to test.
    np.testing.assert_array_equal(np.diff(test.indptr), [1, 1])
    with pytest.raises(ValueError):
        holdout_split(matrix, test_fraction=1.0, seed=0)


def test_holdout_split_reads_a_canonical_matrix_in_place_and_gives_the_same_split():
    # A retrain's matrix is read, not copied; a matrix needing canonicalisation (here as
    # unsorted coordinates, with the times likewise) splits the same way and stays as it was.
    matrix = _matrix_with_counts([10, 6, 0, 4])
    times = matrix.copy()
    times.data = np.arange(matrix.nnz, dtype=float)
    before = matrix.copy()
    train, test = holdout_split(matrix, seed=4, by_time=times, n_last=2)
    coo = matrix.tocoo()
    order = np.random.default_rng(0).permutation(coo.nnz)
    shuffled = sp.coo_array((coo.data[order], (coo.row[order], coo.col[order])), shape=coo.shape)
    again_train, again_test = holdout_split(shuffled, seed=4, by_time=times, n_last=2)
    for ours, theirs in ((train, again_train), (test, again_test)):
        assert ours.has_canonical_format
        np.testing.assert_array_equal(ours.indptr, theirs.indptr)
        np.testing.assert_array_equal(ours.indices, theirs.indices)
        np.testing.assert_array_equal(ours.data, theirs.data)
    np.testing.assert_array_equal(np.diff(test.indptr), [2, 2, 0, 2])
    np.testing.assert_array_equal(matrix.data, before.data)
    np.testing.assert_array_equal(matrix.indices, before.indices)
