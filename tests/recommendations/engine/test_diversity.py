import numpy as np
import scipy.sparse as sp

from recommendations.engine import round_robin_by_bucket, skill_set_bucket_ids


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
