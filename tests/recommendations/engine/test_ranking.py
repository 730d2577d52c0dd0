import numpy as np
import pytest

from recommendations.engine import (
    argmax_reasons,
    ctr_with_prior,
    impression_discount,
    order_by_ctr,
    rank_scale,
)


def test_rank_scale_gives_one_over_k_with_ties_by_course_index_and_invalid_zero():
    scores = np.array([0.5, 0.9, 0.5, 0.0, 0.7])
    valid = np.array([True, True, True, True, False])
    np.testing.assert_allclose(rank_scale(scores, valid), [1 / 2, 1, 1 / 3, 0, 0])


def test_rank_scale_ranks_each_reason_row_independently():
    scores = np.array([[3.0, 1.0, 2.0], [0.0, 10.0, np.nan]])
    np.testing.assert_allclose(rank_scale(scores), [[1, 1 / 3, 1 / 2], [0, 1, 0]])


def test_rank_scale_broadcasts_a_per_course_mask_and_ranks_negatives_last():
    scores = np.array([[-1.0, 2.0, -0.5], [1.0, 1.0, 1.0]])
    scaled = rank_scale(scores, valid=np.array([True, True, False]))
    np.testing.assert_allclose(scaled, [[1 / 2, 1, 0], [1, 1 / 2, 0]])


def test_rank_scale_empty():
    assert rank_scale(np.zeros((2, 0))).shape == (2, 0)
    assert rank_scale(np.zeros(0)).shape == (0,)


def test_argmax_reasons_ties_go_to_the_earlier_reason_and_all_zero_is_minus_one():
    scaled = np.array([[1.0, 0.5, 0.0, 0.0], [1.0, 1.0, 0.5, 0.0]])
    best, score = argmax_reasons(scaled)
    np.testing.assert_array_equal(best, [0, 1, 1, -1])
    np.testing.assert_allclose(score, [1, 1, 0.5, 0])


def test_argmax_reasons_over_a_batch_of_members():
    scaled = np.array([[[0.0, 1.0], [1.0, 0.5]], [[0.0, 0.0], [0.0, 0.0]]])
    best, _ = argmax_reasons(scaled)
    np.testing.assert_array_equal(best, [[1, 0], [-1, -1]])


def test_argmax_reasons_without_reasons():
    best, score = argmax_reasons(np.zeros((0, 3)))
    np.testing.assert_array_equal(best, [-1, -1, -1])
    np.testing.assert_array_equal(score, [0, 0, 0])


def test_impression_discount_threshold_decay_and_floor():
    shown = np.array([0, 1, 2, 3, 4, 5, 10])
    discount = impression_discount(shown, threshold=2, decay=0.5, floor=0.2)
    np.testing.assert_allclose(discount, [1, 1, 1, 0.5, 0.25, 0.2, 0.2])


def test_impression_discount_rejects_bad_parameters():
    with pytest.raises(ValueError):
        impression_discount([1], threshold=1, decay=0.0, floor=0.1)
    with pytest.raises(ValueError):
        impression_discount([1], threshold=1, decay=0.5, floor=1.5)


def test_ctr_with_prior_is_beta_smoothed():
    smoothed = ctr_with_prior([0, 1, 5], [0, 10, 10], prior_ctr=0.1, prior_strength=10)
    np.testing.assert_allclose(smoothed, [0.1, 2 / 20, 6 / 20])


def test_a_member_without_impressions_gets_the_prior_order():
    order = order_by_ctr([0, 0, 0], [0, 0, 0], prior_ctr=[0.02, 0.05, 0.03], prior_strength=20)
    assert order == [1, 2, 0]


def test_equal_priors_keep_the_input_order():
    assert order_by_ctr([0, 0, 0], [0, 0, 0], prior_ctr=[0.05, 0.05, 0.01], prior_strength=5) == [
        0,
        1,
        2,
    ]


def test_many_clicks_on_one_reason_move_it_first():
    order = order_by_ctr(
        [8, 0, 0], [10, 10, 10], prior_ctr=np.array([0.02, 0.05, 0.03]), prior_strength=20
    )
    assert order == [0, 1, 2]
