import numpy as np
import pytest
import scipy.sparse as sp

from recommendations.engine.als import (
    AlsModel,
    als_confidence,
    als_fit,
    als_fold_in,
    als_recommend,
    als_scorer,
    als_similar_courses,
)
from recommendations.engine.interactions import holdout_split
from recommendations.engine.metrics import evaluate_scorer, popularity_scorer

N_GROUPS, MEMBERS_PER_GROUP, COURSES_PER_GROUP = 3, 60, 20
PARAMS = {"factors": 4, "regularization": 2.0, "alpha": 5.0, "iterations": 15}


def planted(seed=0):
    """Members of group g like courses of group g (Zipf inside the group), plus some noise."""
    rng = np.random.default_rng(seed)
    n_courses = N_GROUPS * COURSES_PER_GROUP
    zipf = 1 / np.arange(1, COURSES_PER_GROUP + 1)
    zipf /= zipf.sum()
    rows, cols = [], []
    for member in range(N_GROUPS * MEMBERS_PER_GROUP):
        group = member // MEMBERS_PER_GROUP
        own = group * COURSES_PER_GROUP + rng.choice(COURSES_PER_GROUP, 8, replace=False, p=zipf)
        noise = rng.choice(n_courses, 1)
        picked = np.unique(np.concatenate([own, noise]))
        rows += [member] * picked.size
        cols += picked.tolist()
    values = rng.choice([1.0, 3.0, 5.0], len(rows))
    matrix = sp.csr_array((values, (rows, cols)), shape=(N_GROUPS * MEMBERS_PER_GROUP, n_courses))
    return matrix


def group_of_course(course):
    return np.asarray(course) // COURSES_PER_GROUP


@pytest.fixture(scope="module")
def data():
    matrix = planted()
    train, test = holdout_split(matrix, test_fraction=0.25, seed=0)
    return matrix, train, test


@pytest.fixture(scope="module")
def model(data):
    return als_fit(data[1], seed=42, **PARAMS)


def test_confidence_is_one_plus_alpha_r_on_positive_entries():
    matrix = sp.csr_array(np.array([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]]))
    confidence = als_confidence(matrix, alpha=10)
    assert isinstance(confidence, sp.csr_matrix) and confidence.dtype == np.float32
    np.testing.assert_allclose(confidence.toarray(), [[21, 0, 0], [0, 11, 0]])


def test_fit_shapes_dtypes_and_determinism(data, model):
    _, train, _ = data
    assert isinstance(model, AlsModel)
    assert model.user_factors.shape == (train.shape[0], 4)
    assert model.item_factors.shape == (train.shape[1], 4)
    assert model.user_factors.dtype == model.item_factors.dtype == np.float32
    again = als_fit(train, seed=42, **PARAMS)
    np.testing.assert_array_equal(again.user_factors, model.user_factors)
    np.testing.assert_array_equal(again.item_factors, model.item_factors)


def test_members_and_courses_without_interactions_get_zero_factors():
    matrix = sp.csr_array(np.array([[1.0, 0, 2.0], [0, 0, 0], [3.0, 0, 1.0]]))
    fitted = als_fit(matrix, factors=4, iterations=3, seed=0)
    assert not fitted.user_factors[1].any()
    assert not fitted.item_factors[1].any()
    assert fitted.item_factors[0].any()


def test_als_beats_popularity_on_the_held_out_split(data, model):
    _, train, test = data
    als = evaluate_scorer(als_scorer(model), train, test, k=10)
    popular = evaluate_scorer(popularity_scorer(train), train, test, k=10)
    assert als["members_evaluated"] == popular["members_evaluated"] == train.shape[0]
    assert als["ndcg"] > popular["ndcg"] + 0.1
    assert als["recall"] > popular["recall"]


def test_recommend_excludes_seen_and_matches_a_brute_force_ranking(data, model):
    _, train, _ = data
    members = np.array([0, 70, 150, 5])
    idx, scores = als_recommend(model, train, members=members, n=5, batch_size=3, num_threads=2)
    assert idx.shape == scores.shape == (4, 5)
    dense = model.user_factors[members] @ model.item_factors.T
    dense[train[members].toarray() > 0] = -np.inf
    expected = np.argsort(-dense, axis=1, kind="stable")[:, :5]
    np.testing.assert_array_equal(idx, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(dense, expected, axis=1), rtol=1e-5)
    assert train[members].toarray()[np.arange(4)[:, None], idx].sum() == 0
    # Recommendations stay within the member's own group.
    assert (group_of_course(idx) == (members // MEMBERS_PER_GROUP)[:, None]).mean() > 0.9
    same, _ = als_recommend(model, train, members=members, n=5, num_threads=1)
    np.testing.assert_array_equal(same, idx)


def test_recommend_pads_when_fewer_courses_are_eligible():
    matrix = sp.csr_array(np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 1.0]]))
    fitted = als_fit(matrix, factors=2, iterations=2, seed=0)
    idx, scores = als_recommend(fitted, matrix, members=np.array([0]), n=2)
    np.testing.assert_array_equal(idx, [[2, -1]])
    assert np.isneginf(scores[0, 1])
    idx, _ = als_recommend(fitted, matrix, members=np.array([0]), n=3, exclude_seen=False)
    assert sorted(idx[0].tolist()) == [0, 1, 2]


def test_fold_in_reproduces_the_fitted_member_and_their_cluster(data, model):
    _, train, _ = data
    for member in (3, 75, 170):
        vector = als_fold_in(
            model,
            train[[member]],
            regularization=PARAMS["regularization"],
            alpha=PARAMS["alpha"],
        )
        fitted = model.user_factors[member]
        cosine = vector @ fitted / (np.linalg.norm(vector) * np.linalg.norm(fitted))
        assert vector.dtype == np.float32 and cosine > 0.9
        scores = model.item_factors @ vector
        scores[train[[member]].indices] = -np.inf
        top = np.argsort(-scores)[:5]
        assert (group_of_course(top) == member // MEMBERS_PER_GROUP).all()


def test_fold_in_of_an_empty_row_is_zero(model):
    empty = sp.csr_array((1, model.item_factors.shape[0]))
    assert not als_fold_in(model, empty, regularization=0.05, alpha=15).any()
    with pytest.raises(ValueError):
        als_fold_in(model, sp.csr_array((1, 3)), regularization=0.05, alpha=15)


def test_similar_courses_stay_in_the_cluster(model):
    similar = als_similar_courses(model, top_k=5, block_size=7)
    n_courses = model.item_factors.shape[0]
    assert similar.shape == (n_courses, n_courses)
    assert not similar.diagonal().any()
    assert (np.diff(similar.indptr) <= 5).all()
    assert (similar.data > 0).all() and (similar.data <= 1 + 1e-6).all()
    rows = np.repeat(np.arange(n_courses), np.diff(similar.indptr))
    assert (group_of_course(rows) == group_of_course(similar.indices)).mean() > 0.9
    whole = als_similar_courses(model, top_k=5)
    np.testing.assert_allclose(whole.toarray(), similar.toarray(), atol=1e-6)
