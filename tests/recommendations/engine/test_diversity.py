import numpy as np
import scipy.sparse as sp

from recommendations.engine import round_robin_by_bucket, skill_set_bucket_ids
from recommendations.engine.diversity import _dense_ids


def test_round_robin_orders_buckets_by_best_item_and_items_by_recency():
    items = np.array([10, 11, 12, 13, 14, 15])
    buckets = ["A", "A", "B", "C", "B", "A"]
    recency = np.array([1.0, 5.0, 3.0, 2.0, 9.0, 0.0])
    # A = {11, 10, 15} newest first, B = {14, 12}, C = {13}; buckets ordered A, B, C.
    ordered = round_robin_by_bucket(items, bucket_key=buckets, recency=recency)
    np.testing.assert_array_equal(ordered, [11, 14, 13, 10, 12, 15])


def test_near_duplicates_at_the_top_are_never_adjacent():
    items = np.array([0, 1, 2, 3])
    same_skills = frozenset({4, 7})
    buckets = [same_skills, frozenset({4, 7}), frozenset({1}), frozenset()]
    ordered = round_robin_by_bucket(items, bucket_key=buckets, recency=np.zeros(4))
    np.testing.assert_array_equal(ordered, [0, 2, 3, 1])


def test_round_robin_with_int_bucket_ids_and_recency_ties_by_score_rank():
    items = np.array([5, 6, 7, 8])
    ordered = round_robin_by_bucket(
        items, bucket_key=np.array([9, 3, 9, 9]), recency=np.array([1.0, 0.0, 1.0, 2.0])
    )
    # Bucket 9 (best item first) = 8 (newest), then 5 and 7 tied on recency: score order.
    np.testing.assert_array_equal(ordered, [8, 6, 5, 7])


def test_round_robin_empty():
    ordered = round_robin_by_bucket(np.array([], dtype=int), bucket_key=[], recency=np.array([]))
    assert ordered.size == 0


def test_identical_skill_sets_share_a_bucket_and_untagged_courses_stand_alone():
    course_skill = sp.csr_array(
        np.array(
            [
                [0.3, 0, 1, 0],
                [0, 1, 0, 0],
                [0.9, 0, 0.1, 0],  # same set as course 0, different weights
                [0, 0, 0, 0],
                [0, 0, 0, 0],
                [1, 1, 1, 0],
            ]
        )
    )
    np.testing.assert_array_equal(skill_set_bucket_ids(course_skill), [0, 1, 0, 2, 3, 4])
    np.testing.assert_array_equal(
        skill_set_bucket_ids(course_skill, untagged_alone=False), [0, 1, 0, 2, 2, 3]
    )


def test_bucket_ids_edge_cases():
    assert skill_set_bucket_ids(sp.csr_array((0, 5))).size == 0
    np.testing.assert_array_equal(skill_set_bucket_ids(sp.csr_array((3, 2))), [0, 1, 2])
    np.testing.assert_array_equal(
        skill_set_bucket_ids(sp.csr_array((3, 2)), untagged_alone=False), [0, 0, 0]
    )


def test_dense_ids_numbers_int_keys_by_first_occurrence_on_both_paths():
    np.testing.assert_array_equal(_dense_ids(np.array([7, 3, 7, 9])), [0, 1, 0, 2])
    long_keys = np.tile(np.array([7, 3, 7, 9]), 75)  # 300 keys: the np.unique path
    assert long_keys.size > 256
    ids = _dense_ids(long_keys)
    assert ids.dtype == np.int64
    np.testing.assert_array_equal(ids, np.tile([0, 1, 0, 2], 75))
    np.testing.assert_array_equal(ids, _dense_ids(long_keys.tolist()))


def test_dense_ids_agree_between_the_dict_and_np_unique_paths_at_the_size_threshold():
    rng = np.random.default_rng(3)
    for size in (255, 256, 257, 300):
        keys = rng.integers(-5, 40, size=size)
        expected = _dense_ids(keys.tolist())  # the dict path, whatever the size
        np.testing.assert_array_equal(_dense_ids(keys), expected)
        np.testing.assert_array_equal(_dense_ids(keys.astype(np.int32)), expected)


def test_round_robin_orders_the_same_for_a_long_int_array_as_for_a_list_of_the_keys():
    rng = np.random.default_rng(11)
    n = 300
    items = rng.permutation(1000)[:n]
    # Bucket ids whose numeric order differs from their first-occurrence order.
    buckets = rng.choice(np.array([42, 7, 19, 3, 88, 5, 61]), size=n)
    recency = rng.integers(0, 20, size=n).astype(float)  # ties broken by score rank

    from_array = round_robin_by_bucket(items, bucket_key=buckets, recency=recency)
    from_list = round_robin_by_bucket(items, bucket_key=buckets.tolist(), recency=recency)
    np.testing.assert_array_equal(from_array, from_list)
    assert sorted(from_array.tolist()) == sorted(items.tolist())
    # The first round takes one item per bucket, buckets in order of first occurrence.
    bucket_of = dict(zip(items.tolist(), buckets.tolist(), strict=True))
    first_seen = list(dict.fromkeys(buckets.tolist()))
    assert [bucket_of[item] for item in from_array[: len(first_seen)].tolist()] == first_seen

    # The first 100 items take the small (dict) path for both forms.
    small_array = round_robin_by_bucket(
        items[:100], bucket_key=buckets[:100], recency=recency[:100]
    )
    small_list = round_robin_by_bucket(
        items[:100], bucket_key=buckets[:100].tolist(), recency=recency[:100]
    )
    np.testing.assert_array_equal(small_array, small_list)
