import numpy as np
import pytest
import scipy.sparse as sp

from recommendations.engine import families
from recommendations.engine.families import (
    LearnedModel,
    ease_fits,
    ease_weights,
    knn_weights,
    model_fit,
    model_member_scores,
    model_recommend,
    model_refit,
    model_scorer,
    model_similar_courses,
    model_user_vectors,
)
from recommendations.engine.interactions import holdout_split
from recommendations.engine.metrics import evaluate_scorer


def _blocks(n_members=120, n_courses=30, seed=0):
    """Three taste groups, each taking courses from its own block of ten."""
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for member in range(n_members):
        group = member % 3
        for course in rng.choice(10, size=5, replace=False):
            rows.append(member)
            cols.append(group * 10 + course)
    matrix = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(n_members, n_courses))
    matrix.sum_duplicates()
    return matrix


def test_ease_weights_are_the_closed_form_with_a_zero_diagonal():
    x = (np.random.default_rng(0).random((40, 12)) < 0.3).astype(np.float64)
    lam = 5.0
    p = np.linalg.inv(x.T @ x + lam * np.eye(12))
    expected = -p / np.diag(p)[None, :]
    np.fill_diagonal(expected, 0.0)
    got = ease_weights(sp.csr_array(x), lam=lam, keep_per_row=11).toarray()
    positive = expected > 0
    np.testing.assert_allclose(got[positive], expected[positive], rtol=1e-4)
    assert not got[~positive].any()


def test_ease_guard_leaves_large_catalogs_out():
    assert ease_fits(8000, max_courses=8192)
    assert not ease_fits(9000, max_courses=8192)
    assert not ease_fits(0)


@pytest.mark.parametrize("similarity", ["cosine", "bm25"])
def test_knn_keeps_each_rows_best_neighbours_without_itself(similarity):
    weights = knn_weights(_blocks(), similarity=similarity, neighbours=4)
    assert weights.shape == (30, 30)
    assert not weights.diagonal().any()
    assert np.diff(weights.indptr).max() <= 4
    # Neighbours come from the course's own taste block.
    rows = np.repeat(np.arange(30), np.diff(weights.indptr))
    assert np.all(rows // 10 == weights.indices // 10)


@pytest.mark.parametrize(
    ("family", "params"),
    [
        ("als", {"factors": 8, "iterations": 10}),
        ("cosine", {"neighbours": 10}),
        ("bm25", {"neighbours": 10}),
        ("ease", {"lambda": 10.0}),
    ],
)
def test_every_family_beats_popularity_and_recommends_unseen_courses(family, params):
    matrix = _blocks()
    train, test = holdout_split(matrix, test_fraction=0.2, seed=1)
    model = model_fit(train, family, params, seed=0)
    learned = evaluate_scorer(model_scorer(model, train), train, test, k=5)
    popular = evaluate_scorer(model_scorer(model_fit(train, "popularity"), train), train, test, k=5)
    assert learned["ndcg"] > popular["ndcg"]

    vectors = model_user_vectors(model, train, fitted_rows=np.arange(train.shape[0]))
    top, scores = model_recommend(model, train, n=5, user_vectors=vectors, batch_size=16)
    assert top.shape == scores.shape == (train.shape[0], 5)
    for member in range(train.shape[0]):
        picked = top[member][top[member] >= 0]
        assert not set(picked.tolist()) & set(train[[member]].indices.tolist())
    # The same top courses as a dense sort of the member scores.
    dense = model_member_scores(
        model, train[:10], user_vectors=None if vectors is None else vectors[:10]
    )
    dense[train[:10].nonzero()] = -np.inf
    for member in range(10):
        valid = top[member] >= 0
        expected = np.sort(dense[member])[::-1][: valid.sum()]
        np.testing.assert_allclose(np.sort(scores[member][valid])[::-1], expected, rtol=1e-5)

    similar = model_similar_courses(model, top_k=3)
    assert not similar.diagonal().any()
    assert np.diff(similar.indptr).max() <= 3


@pytest.mark.parametrize("family", ["als", "cosine", "ease"])
def test_a_refit_on_all_interactions_includes_each_members_newest_one(family):
    matrix = _blocks()
    times = matrix.copy()
    times.data = np.arange(times.nnz, dtype=np.float64)  # later entries are newer
    train, held_out = holdout_split(matrix, seed=0, by_time=times, n_last=1, min_interactions=2)
    params = {"factors": 8, "iterations": 9} if family == "als" else {}
    trained = model_fit(train, family, params, seed=0)
    served = model_refit(matrix, trained, seed=0)
    member = 0
    newest = int(held_out[[member]].indices[0])
    if family == "als":
        before = trained.als.user_factors[member]
        after = served.als.user_factors[member]
        assert not np.allclose(before, after)
        # The served vector scores the newest course like a course the member took.
        assert after @ served.als.item_factors[newest] > before @ trained.als.item_factors[newest]
    else:
        # Item-item models score a member from their own row: the newest course counts.
        with_newest = model_member_scores(served, matrix[[member]])
        without = model_member_scores(served, train[[member]])
        assert not np.allclose(with_newest, without)


def test_als_needs_user_vectors_and_item_item_models_do_not():
    matrix = _blocks()
    als = model_fit(matrix, "als", {"factors": 4, "iterations": 3})
    with pytest.raises(ValueError, match="user vectors"):
        model_member_scores(als, matrix[:2])
    cosine = model_fit(matrix, "cosine", {"neighbours": 5})
    assert model_user_vectors(cosine, matrix[:2]) is None
    assert isinstance(cosine, LearnedModel) and cosine.weights is not None
    # A fold-in (no fitted row) gives a vector close to the fitted one.
    folded = model_user_vectors(als, matrix[:3])
    assert folded.shape == (3, 4)
    assert np.all(np.isfinite(folded))


@pytest.mark.parametrize(("family", "neighbours"), [("cosine", 3), ("bm25", 5), ("cosine", 40)])
def test_the_sparse_and_implicit_item_item_recommends_agree(monkeypatch, family, neighbours):
    rng = np.random.default_rng(3)
    matrix = sp.csr_array((rng.random((300, 60)) < 0.08) * rng.random((300, 60)))
    model = model_fit(matrix, family, {"neighbours": neighbours, "binary": False})
    results = {}
    for path, threshold in (("sparse", float("inf")), ("implicit", -1.0)):
        monkeypatch.setattr(families, "SPARSE_SCORES_PER_MEMBER", threshold)
        results[path] = model_recommend(model, matrix, n=8)
    (sparse_top, sparse_scores), (implicit_top, implicit_scores) = results.values()
    np.testing.assert_array_equal(sparse_top, implicit_top)
    np.testing.assert_allclose(sparse_scores, implicit_scores, rtol=1e-5)
    # Padded rows: members whose neighbours run out, and the member with no courses.
    assert (sparse_top == -1).any()
    assert np.isneginf(sparse_scores[sparse_top == -1]).all()


@pytest.mark.parametrize(("family", "params"), [("bm25", {"neighbours": 30}), ("ease", {})])
def test_the_item_item_recommend_matches_implicits_own_batch_recommend(monkeypatch, family, params):
    # The engine calls implicit's scorer per member on views of the arrays; implicit's batch
    # recommend (slicing a scipy row per member) is the reference, EASE's negative weights
    # and a member with no courses included.
    from implicit.nearest_neighbours import ItemItemRecommender

    rng = np.random.default_rng(5)
    dense = (rng.random((200, 50)) < 0.1) * rng.random((200, 50))
    dense[7] = 0.0
    matrix = sp.csr_array(dense)
    model = model_fit(matrix, family, {**params, "binary": False})
    monkeypatch.setattr(families, "SPARSE_SCORES_PER_MEMBER", -1.0)  # the scorer, not sparse
    top, scores = families._item_item_recommend(model, matrix, n=12)
    reference = ItemItemRecommender(K=1)
    reference.similarity = families._int32_csr(model.weights)
    reference.scorer = families._item_item_scorer(model)
    ids, values = reference.recommend(
        np.arange(200), families._int32_csr(model.member_input(matrix)), N=12
    )
    positive = np.asarray(values) > 0
    np.testing.assert_array_equal(top, np.where(positive, ids, -1))
    np.testing.assert_allclose(scores[positive], np.asarray(values)[positive], rtol=1e-6)
    assert (top[7] == -1).all()
    assert families._item_item_scorer(model) is reference.scorer  # built once per model


def test_the_sparse_item_item_recommend_is_chosen_for_few_scores_per_member():
    matrix = _blocks()
    few = model_fit(matrix, "cosine", {"neighbours": 3})
    many = model_fit(matrix, "cosine", {"neighbours": 29})
    held = few.member_input(matrix)
    assert families._scores_per_member(held, few.weights) == pytest.approx(5 * 3)
    # Only the nine others of a member's taste block are similar at all.
    assert families._scores_per_member(held, many.weights) == pytest.approx(5 * 9)
