import numpy as np
import pytest

from recommendations.engine import (
    argmax_reasons,
    best_reason_among_candidates,
    best_reason_per_course,
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


def _reference_best_reason(rows, valid, limit):
    """The dense route: each row cut to its top `limit` valid positive entries (order by
    (-score, course index), keep the first `limit`), then rank_scale + argmax_reasons."""
    stacked = np.zeros((len(rows), valid.size))
    for r, row in enumerate(rows):
        kept = sorted(
            (i for i in range(valid.size) if valid[i] and row[i] > 0), key=lambda i: (-row[i], i)
        )[:limit]
        stacked[r, kept] = row[kept]
    return argmax_reasons(rank_scale(stacked, stacked > 0))


@pytest.mark.parametrize("seed", range(200))
def test_best_reason_per_course_equals_the_dense_rank_scale_and_argmax(seed):
    rng = np.random.default_rng(seed)
    n_courses = int(rng.integers(1, 40))
    n_reasons = int(rng.integers(1, 6))
    # A small value alphabet gives ties within and across reasons; zeros and negatives included.
    alphabet = np.array([-2.0, -0.5, 0.0, 0.0, 0.25, 0.5, 1.0, 1.0, 3.0])
    rows = []
    for _ in range(n_reasons):
        kind = rng.integers(4)
        if kind == 0:  # few positives: fewer than `limit` survive
            row = np.where(rng.random(n_courses) < 0.15, rng.random(n_courses) + 0.1, 0.0)
        elif kind == 1:  # continuous scores, rarely tied
            row = rng.normal(size=n_courses)
        elif kind == 2:  # all zero
            row = np.zeros(n_courses)
        else:  # heavy ties
            row = rng.choice(alphabet, size=n_courses)
        rows.append(row)
    valid = rng.random(n_courses) < 0.8
    limit = int(rng.integers(1, n_courses + 3))

    best, score = best_reason_per_course(rows, valid=valid, limit=limit)
    expected_best, expected_score = _reference_best_reason(rows, valid, limit)

    assert best.dtype == np.int64 and best.shape == (n_courses,)
    assert score.dtype == np.float64 and score.shape == (n_courses,)
    np.testing.assert_array_equal(best, expected_best)
    np.testing.assert_array_equal(score, expected_score)


def test_best_reason_per_course_ties_between_reasons_go_to_the_earlier_reason():
    rows = [np.array([0.0, 5.0, 1.0]), np.array([9.0, 2.0, 3.0])]
    best, score = best_reason_per_course(rows, valid=np.ones(3, dtype=bool), limit=3)
    # Reason 0: course 1 rank 1, course 2 rank 2. Reason 1: 0 rank 1, 2 rank 2, 1 rank 3.
    # Course 2 ranks 2nd under both: the earlier reason wins.
    np.testing.assert_array_equal(best, [1, 0, 0])
    np.testing.assert_array_equal(score, [1.0, 1.0, 0.5])


def test_best_reason_per_course_ties_at_the_cut_go_to_the_lower_course_index():
    row = np.array([1.0, 2.0, 1.0, 1.0, 0.5])
    best, score = best_reason_per_course([row], valid=np.ones(5, dtype=bool), limit=3)
    # Course 1 first; of the three tied at 1.0 only courses 0 and 2 fit under the limit.
    np.testing.assert_array_equal(best, [0, 0, 0, -1, -1])
    np.testing.assert_array_equal(score, [1 / 2, 1.0, 1 / 3, 0.0, 0.0])


def test_best_reason_per_course_cut_keeps_a_later_reasons_course_dropped_by_an_earlier_one():
    rows = [np.array([3.0, 2.0, 1.0]), np.array([0.0, 0.0, 1.0])]
    best, score = best_reason_per_course(rows, valid=np.ones(3, dtype=bool), limit=2)
    np.testing.assert_array_equal(best, [0, 0, 1])
    np.testing.assert_array_equal(score, [1.0, 1 / 2, 1.0])


def test_best_reason_per_course_invalid_and_non_positive_courses_get_minus_one_and_zero():
    row = np.array([5.0, 0.0, -3.0, 4.0, np.nan, 1.0])
    valid = np.array([False, True, True, True, True, True])
    best, score = best_reason_per_course([row], valid=valid, limit=10)
    # Course 0 scores highest but is invalid: course 3 ranks first.
    np.testing.assert_array_equal(best, [-1, -1, -1, 0, -1, 0])
    np.testing.assert_array_equal(score, [0.0, 0.0, 0.0, 1.0, 0.0, 1 / 2])


def test_best_reason_per_course_without_reasons_is_all_minus_one_and_zero():
    best, score = best_reason_per_course([], valid=np.ones(4, dtype=bool), limit=5)
    assert best.dtype == np.int64
    np.testing.assert_array_equal(best, [-1, -1, -1, -1])
    np.testing.assert_array_equal(score, [0.0, 0.0, 0.0, 0.0])


def test_best_reason_per_course_without_courses():
    best, score = best_reason_per_course(
        [np.zeros(0), np.zeros(0)], valid=np.zeros(0, dtype=bool), limit=3
    )
    assert best.shape == (0,) and score.shape == (0,)


def test_best_reason_per_course_rejects_a_row_of_the_wrong_shape():
    valid = np.ones(3, dtype=bool)
    with pytest.raises(ValueError, match=r"reason 1 has shape \(2,\), expected \(3,\)"):
        best_reason_per_course([np.ones(3), np.ones(2)], valid=valid, limit=2)
    with pytest.raises(ValueError, match=r"reason 0 has shape \(1, 3\)"):
        best_reason_per_course([np.ones((1, 3))], valid=valid, limit=2)


def test_best_reason_per_course_skips_non_finite_scores_like_rank_scale():
    reasons, scores = best_reason_per_course(
        [np.array([np.inf, 1.0, np.nan])], valid=np.ones(3, dtype=bool), limit=5
    )
    np.testing.assert_array_equal(reasons, [-1, 0, -1])
    np.testing.assert_array_equal(scores, [0.0, 1.0, 0.0])


@pytest.mark.parametrize("limit", [0, -1])
def test_best_reason_per_course_refuses_a_limit_below_one(limit):
    with pytest.raises(ValueError, match="limit must be at least 1"):
        best_reason_per_course([np.ones(2)], valid=np.ones(2, dtype=bool), limit=limit)


def test_best_reason_per_course_refuses_a_mask_that_is_not_one_flag_per_course():
    with pytest.raises(ValueError, match="one flag per course"):
        best_reason_per_course([np.ones(2)], valid=np.ones((1, 2), dtype=bool), limit=1)


@pytest.mark.parametrize("seed", range(200))
def test_best_reason_among_candidates_equals_the_dense_rows_in_any_candidate_order(seed):
    rng = np.random.default_rng(seed)
    n_courses = int(rng.integers(1, 40))
    alphabet = np.array([-1.0, 0.0, 0.25, 0.5, 1.0, 1.0, 3.0, np.nan])
    rows, candidates = [], []
    for _ in range(int(rng.integers(1, 6))):
        # Some courses are candidates (a few with a stored 0 or a negative score), the rest 0.
        row = np.zeros(n_courses)
        picked = rng.permutation(n_courses)[: int(rng.integers(0, n_courses + 1))]
        row[picked] = rng.choice(alphabet, size=picked.size)
        rows.append(row)
        candidates.append((picked, row[picked]))
    valid = rng.random(n_courses) < 0.8
    limit = int(rng.integers(1, n_courses + 3))

    best, score = best_reason_among_candidates(candidates, valid=valid, limit=limit)
    expected_best, expected_score = best_reason_per_course(rows, valid=valid, limit=limit)

    np.testing.assert_array_equal(best, expected_best)
    np.testing.assert_array_equal(score, expected_score)


def test_best_reason_among_candidates_ties_at_the_cut_go_to_the_lower_course_index():
    # Listed highest index first: the cut still keeps courses 0 and 2 of the three tied.
    candidates = [(np.array([4, 3, 2, 1, 0]), np.array([0.5, 1.0, 1.0, 2.0, 1.0]))]
    best, score = best_reason_among_candidates(candidates, valid=np.ones(5, dtype=bool), limit=3)
    np.testing.assert_array_equal(best, [0, 0, 0, -1, -1])
    np.testing.assert_array_equal(score, [1 / 2, 1.0, 1 / 3, 0.0, 0.0])


def test_best_reason_among_candidates_refuses_mismatched_or_out_of_range_candidates():
    valid = np.ones(3, dtype=bool)
    with pytest.raises(ValueError, match=r"reason 0 has \(2,\) courses for \(3,\) scores"):
        best_reason_among_candidates([(np.array([0, 1]), np.ones(3))], valid=valid, limit=2)
    with pytest.raises(ValueError, match=r"reason 1 names a course outside 0\.\.2"):
        best_reason_among_candidates(
            [(np.array([0]), np.ones(1)), (np.array([3]), np.ones(1))], valid=valid, limit=2
        )
    with pytest.raises(ValueError, match="names a course outside"):
        best_reason_among_candidates([(np.array([-1]), np.ones(1))], valid=valid, limit=2)
    with pytest.raises(ValueError, match="limit must be at least 1"):
        best_reason_among_candidates([], valid=valid, limit=0)
