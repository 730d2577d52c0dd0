import numpy as np
import pytest

from recommendations.engine import (
    entity_logistic_fit,
    exploration_slots,
    grouped_auc,
    hashed_one_hot,
    pooled_auc,
    ranker_fit,
    ranker_scores,
)


def test_hashed_one_hot_is_stable_and_empty_for_none():
    encoded = hashed_one_hot(np.array([3, -1, 3, 7]), buckets=8)
    assert encoded.shape == (4, 8)
    assert encoded.sum(axis=1).tolist() == [1.0, 0.0, 1.0, 1.0]
    assert np.array_equal(encoded[0], encoded[2])
    # Knuth's multiplicative hash: 3 · 2654435761 mod 2³² mod 8.
    assert int(np.argmax(encoded[0])) == (3 * 2654435761) % (1 << 32) % 8


def test_grouped_auc_counts_pairs_inside_groups_only():
    labels = np.array([1, 0, 0, 1, 0, 1])
    scores = np.array([0.9, 0.5, 0.9, 0.1, 0.2, 0.3])
    groups = np.array([0, 0, 0, 1, 1, 1])
    # Group 0: positive 0.9 vs 0.5 (win) and 0.9 (tie: half). Group 1: positive 0.1 vs 0.2
    # (loss), positive 0.3 vs 0.2 (win). (1 + 0.5 + 0 + 1) / 4.
    assert grouped_auc(labels, scores, groups) == pytest.approx(0.625)
    # One group: the ordinary ROC-AUC.
    assert grouped_auc(labels, scores, np.zeros(6)) == pytest.approx(pooled_auc(labels, scores))


def test_grouped_auc_without_mixed_group_is_nan():
    assert np.isnan(grouped_auc(np.array([1, 0]), np.array([0.1, 0.2]), np.array([0, 1])))
    assert np.isnan(pooled_auc(np.array([1, 1]), np.array([0.1, 0.2])))


def test_entity_effects_are_zero_without_examples_and_shrink_with_ridge():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    entity = np.repeat([0, 1], 200)
    labels = (rng.random(400) < np.where(entity == 0, 0.8, 0.2)).astype(float)
    loose = entity_logistic_fit(x, labels, np.zeros(400), entity, n_entities=3, l2=0.01)
    tight = entity_logistic_fit(x, labels, np.zeros(400), entity, n_entities=3, l2=1e4)
    assert np.array_equal(loose[2], np.zeros(3))
    assert loose[0, 0] > 1.0 > -1.0 > loose[1, 0]  # logit(0.8) ≈ 1.39, logit(0.2) ≈ −1.39
    assert np.abs(tight).max() < 0.05
    with pytest.raises(ValueError):
        entity_logistic_fit(x, labels, np.zeros(400), entity, n_entities=3, l2=0.0)


def test_entity_fit_solves_only_entities_with_examples_and_places_them_by_id():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 2))
    offset = rng.normal(size=600) * 0.3
    dense = np.repeat([0, 1, 2], 200)
    labels = (rng.random(600) < np.array([0.7, 0.4, 0.1])[dense]).astype(float)
    compact = entity_logistic_fit(x, labels, offset, dense, n_entities=3, l2=1.0)
    # The same examples under ids 2, 7 and 9 of 12, plus rows of no entity (-1), which are
    # skipped: the same coefficients, at those ids; zero everywhere else.
    sparse_ids = np.array([2, 7, 9])[dense]
    spread = entity_logistic_fit(
        np.vstack([x, x[:50]]),
        np.concatenate([labels, np.ones(50)]),
        np.concatenate([offset, np.zeros(50)]),
        np.concatenate([sparse_ids, -np.ones(50, dtype=np.int64)]),
        n_entities=12,
        l2=1.0,
    )
    assert spread.shape == (12, 3)
    assert np.array_equal(spread[[2, 7, 9]], compact)
    assert np.array_equal(np.delete(spread, [2, 7, 9], axis=0), np.zeros((9, 3)))
    none = entity_logistic_fit(x, labels, offset, -np.ones(600, dtype=np.int64), n_entities=4, l2=1)
    assert np.array_equal(none, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="entity 12 out of range for 12 entities"):
        entity_logistic_fit(x, labels, offset, np.array([0, 12])[dense % 2], n_entities=12, l2=1.0)


def test_mixed_model_beats_global_when_courses_differ_beyond_features():
    rng = np.random.default_rng(1)
    n, n_members, n_courses = 20_000, 100, 60
    features = rng.normal(size=(n, 4))
    member = rng.integers(n_members, size=n)
    course = rng.integers(n_courses, size=n)
    appeal = rng.normal(scale=1.5, size=n_courses)
    logit = -1.5 + 0.8 * features[:, 0] + appeal[course]
    labels = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    train, test = slice(0, 15_000), slice(15_000, n)
    model = ranker_fit(
        features[train],
        labels[train],
        member[train],
        course[train],
        n_members=n_members,
        n_courses=n_courses,
        course_columns=[0, 1],
        member_columns=[2, 3],
    )
    global_auc = pooled_auc(
        labels[test], ranker_scores(model, features[test], member[test], course[test], mixed=False)
    )
    mixed_auc = pooled_auc(
        labels[test], ranker_scores(model, features[test], member[test], course[test])
    )
    assert mixed_auc > global_auc + 0.05
    # An unseen member and course score with the global model alone.
    unseen = ranker_scores(model, features[:3], np.array([-1] * 3), np.array([-1] * 3))
    assert np.allclose(
        unseen, ranker_scores(model, features[:3], member[:3], course[:3], mixed=False)
    )


def test_ranker_refuses_a_single_class():
    with pytest.raises(ValueError, match="both"):
        ranker_fit(
            np.ones((4, 2)),
            np.zeros(4),
            np.zeros(4, dtype=int),
            np.zeros(4, dtype=int),
            n_members=1,
            n_courses=1,
            course_columns=[0],
            member_columns=[1],
        )


def test_exploration_slots():
    rng = np.random.default_rng(0)
    assert exploration_slots(10, share=0.0, rng=rng).tolist() == []
    assert exploration_slots(4, share=1.0, rng=rng).tolist() == [0, 1, 2, 3]
    picked = exploration_slots(10_000, share=0.05, rng=np.random.default_rng(3))
    assert 400 < picked.size < 600
    with pytest.raises(ValueError):
        exploration_slots(3, share=1.5, rng=rng)
