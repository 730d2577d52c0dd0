import math

import numpy as np
import pytest
import scipy.sparse as sp

from recommendations.engine.metrics import (
    GlobalScorer,
    _global_top_k,
    catalog_coverage,
    evaluate_scorer,
    hit_rate_at_k,
    map_at_k,
    ndcg_at_k,
    popularity_scorer,
    precision_at_k,
    recall_at_k,
    top_k_indices,
)

RECOMMENDED = np.array([[3, 1, 0], [2, 4, -1], [0, 1, 2]])
# Member 0 likes {1, 2}, member 1 likes {4}, member 2 has nothing held out (skipped).
RELEVANT = sp.csr_array(
    (np.ones(3), ([0, 0, 1], [1, 2, 4])),
    shape=(3, 10),
)
L3 = 1 / math.log2(3)


def test_metrics_on_a_hand_computed_example():
    assert hit_rate_at_k(RECOMMENDED, RELEVANT) == pytest.approx(1.0)
    assert precision_at_k(RECOMMENDED, RELEVANT) == pytest.approx((1 / 3 + 1 / 3) / 2)
    assert recall_at_k(RECOMMENDED, RELEVANT) == pytest.approx((1 / 2 + 1) / 2)
    # Member 0: hit at rank 2, ideal has 2 hits; member 1: hit at rank 2, ideal has 1.
    assert ndcg_at_k(RECOMMENDED, RELEVANT) == pytest.approx((L3 / (1 + L3) + L3 / 1) / 2)
    # AP: member 0 = (1/2) / min(3, 2); member 1 = (1/2) / 1.
    assert map_at_k(RECOMMENDED, RELEVANT) == pytest.approx((0.25 + 0.5) / 2)
    assert catalog_coverage(RECOMMENDED, n_courses=10) == pytest.approx(0.5)


def test_metrics_at_a_smaller_k_use_the_first_columns():
    assert hit_rate_at_k(RECOMMENDED, RELEVANT, k=1) == 0.0
    assert ndcg_at_k(RECOMMENDED, RELEVANT, k=1) == 0.0
    assert hit_rate_at_k(RECOMMENDED, RELEVANT, k=2) == 1.0
    with pytest.raises(ValueError):
        precision_at_k(RECOMMENDED, RELEVANT, k=4)


def test_perfect_ranking_scores_one():
    recommended = np.array([[4, 2, 7], [1, 0, 9]])
    relevant = sp.csr_array((np.ones(3), ([0, 0, 1], [2, 4, 1])), shape=(2, 10))
    assert ndcg_at_k(recommended, relevant) == pytest.approx(1.0)
    assert map_at_k(recommended, relevant) == pytest.approx(1.0)
    assert recall_at_k(recommended, relevant) == pytest.approx(1.0)


def test_metrics_without_relevant_members_are_zero():
    empty = sp.csr_array((3, 10))
    assert ndcg_at_k(RECOMMENDED, empty) == 0.0
    assert hit_rate_at_k(RECOMMENDED, empty) == 0.0


def test_top_k_indices_orders_ties_by_index_and_pads():
    scores = np.array([[1.0, 3.0, 3.0, -np.inf], [np.nan, -np.inf, 2.0, -np.inf]])
    idx, top = top_k_indices(scores, k=3)
    np.testing.assert_array_equal(idx, [[1, 2, 0], [2, -1, -1]])
    np.testing.assert_array_equal(top[0], [3.0, 3.0, 1.0])
    assert np.isneginf(top[1, 1:]).all()
    idx, _ = top_k_indices(scores, k=6)
    assert idx.shape == (2, 6) and (idx[:, 4:] == -1).all()


def test_evaluate_scorer_masks_train_items_and_scores_test_members():
    train = sp.csr_array((np.ones(2), ([0, 1], [0, 1])), shape=(3, 4))
    test = sp.csr_array((np.ones(2), ([0, 1], [1, 3])), shape=(3, 4))

    def score(members):
        # Everyone prefers course 0, then 1, 2, 3.
        return np.tile(np.array([4.0, 3.0, 2.0, 1.0]), (len(members), 1))

    metrics = evaluate_scorer(score, train, test, k=1, batch_size=1)
    # Member 0 has seen 0, so gets 1 (a hit); member 1 gets 0 (a miss); member 2 is skipped.
    assert metrics["members_evaluated"] == 2
    assert metrics["hit_rate"] == pytest.approx(0.5)
    assert metrics["ndcg"] == pytest.approx(0.5)
    assert metrics["catalog_coverage"] == pytest.approx(0.5)
    assert set(metrics) == {
        "hit_rate",
        "precision",
        "recall",
        "ndcg",
        "map",
        "catalog_coverage",
        "k",
        "members_evaluated",
    }


def test_popularity_scorer_counts_members():
    train = sp.csr_array(np.array([[1.0, 0, 2.0], [3.0, 0, 0], [1.0, 0, 0]]))
    scores = popularity_scorer(train)(np.array([0, 2]))
    np.testing.assert_array_equal(scores, [[3, 0, 1], [3, 0, 1]])


def test_global_scorer_ranks_like_a_full_score_matrix():
    """The shared-order shortcut recommends exactly what sorting every member's row does."""
    rng = np.random.default_rng(3)
    dense = (rng.random((300, 40)) < 0.3).astype(float)
    train = sp.csr_array(dense * (rng.random(dense.shape) < 0.7))
    test = sp.csr_array(dense - train.toarray())
    # Distinct scores: among equal scores at the k-th place the full sort's pick is unspecified.
    scores = rng.permutation(40).astype(np.float32)
    scores[7] = -np.inf  # never recommended

    def full_rows(members):
        return np.broadcast_to(scores, (len(members), scores.size))

    fast = evaluate_scorer(GlobalScorer(scores), train, test, k=10, batch_size=64)
    slow = evaluate_scorer(full_rows, train, test, k=10, batch_size=64)
    assert fast == slow


def test_global_scorer_pads_when_a_member_has_seen_almost_everything():
    train = sp.csr_array(np.array([[1, 1, 1, 0], [0, 0, 0, 0]], dtype=float))
    seen = train[[0, 1]]
    recommended = _global_top_k(GlobalScorer(np.array([4.0, 3.0, 2.0, 1.0])), seen, k=3)
    assert recommended.tolist() == [[3, -1, -1], [0, 1, 2]]
