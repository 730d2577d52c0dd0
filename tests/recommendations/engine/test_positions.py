import numpy as np
import pytest

from recommendations.engine.positions import DENSE_LOOKUP_FACTOR, positions_of


@pytest.mark.parametrize(
    "sorted_ids",
    [
        np.array([2, 3, 5, 8], dtype=np.int64),  # dense: a lookup table
        np.array([2, 3, 5, 8 + 10**9], dtype=np.int64),  # sparse: a binary search
    ],
    ids=["dense", "sparse"],
)
def test_positions_of_finds_each_id_and_marks_the_absent(sorted_ids):
    wanted = np.array([5, 2, 4, -1, 0, 9, 8, sorted_ids[-1], 3], dtype=np.int64)
    expected = [2, 0, -1, -1, -1, -1, -1 if sorted_ids[-1] != 8 else 3, 3, 1]

    assert positions_of(sorted_ids, wanted).tolist() == expected
    assert positions_of(sorted_ids, wanted).dtype == np.int64


def test_positions_of_takes_lists_and_narrow_integers():
    ids = np.array([10, 20, 30])

    assert positions_of(ids, [30, 10]).tolist() == [2, 0]
    assert positions_of(ids, np.array([20, 11], dtype=np.int32)).tolist() == [1, -1]
    assert positions_of(ids, []).tolist() == []
    assert positions_of(np.array([], dtype=np.int64), [1, 2]).tolist() == [-1, -1]


def test_positions_of_agrees_with_a_binary_search_at_the_lookup_limit():
    rng = np.random.default_rng(0)
    high = DENSE_LOOKUP_FACTOR * 1000 + 1024
    ids = np.unique(rng.integers(0, high + 1, 1000))
    ids[-1] = min(high, DENSE_LOOKUP_FACTOR * ids.size + 1024)
    ids = np.unique(ids)
    wanted = rng.integers(-5, high + 50, 5000)

    searched = np.searchsorted(ids, wanted).clip(0, ids.size - 1)
    expected = np.where(ids[searched] == wanted, searched, -1)
    assert positions_of(ids, wanted).tolist() == expected.tolist()
