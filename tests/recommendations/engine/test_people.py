import numpy as np
import pytest
import scipy.sparse as sp

from recommendations.engine.people import (
    RuleWeights,
    co_enrolment_vectors,
    member_neighbours,
    neighbours_merge,
    people_hit_rate,
    rule_feature_vectors,
)


def _dense_neighbours(query, candidates, query_members, candidate_members, k):
    """The same answer from a dense product (the reference; the engine never forms it)."""
    scores = (sp.csr_array(query) @ sp.csr_array(candidates).T).toarray()
    scores[query_members[:, None] == candidate_members[None, :]] = 0.0
    out = np.full((scores.shape[0], k), -1)
    for row in range(scores.shape[0]):
        order = sorted(
            (c for c in range(scores.shape[1]) if scores[row, c] > 0),
            key=lambda c: (-scores[row, c], c),
        )[:k]
        out[row, : len(order)] = order
    return out


@pytest.mark.parametrize("max_block_entries", [1, 7, 10_000])
def test_member_neighbours_equal_the_dense_product_whatever_the_block_size(max_block_entries):
    rng = np.random.default_rng(3)
    matrix = sp.random_array((40, 25), density=0.15, random_state=rng, format="csr")
    vectors = co_enrolment_vectors(matrix)
    candidates = np.array([1, 4, 5, 9, 12, 20, 33, 39])
    neighbours, scores = member_neighbours(
        vectors,
        vectors[candidates],
        query_members=np.arange(40),
        candidate_members=candidates,
        k=3,
        max_block_entries=max_block_entries,
    )
    expected = _dense_neighbours(vectors, vectors[candidates], np.arange(40), candidates, 3)
    np.testing.assert_array_equal(neighbours, expected)
    assert np.all(np.diff(np.where(np.isfinite(scores), scores, -1), axis=1) <= 1e-12)


def test_a_member_is_never_their_own_neighbour_and_zero_scores_never_count():
    matrix = sp.csr_array(np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=float))
    neighbours, scores = member_neighbours(
        matrix,
        matrix,
        query_members=np.array([10, 11, 12]),
        candidate_members=np.array([10, 11, 12]),
        k=2,
    )
    np.testing.assert_array_equal(neighbours, [[1, -1], [0, -1], [-1, -1]])
    assert scores[0, 0] == 2.0 and np.isneginf(scores[2]).all()


def test_co_enrolment_weighs_a_rare_shared_course_above_a_popular_one():
    # Members 0 and 1 share the course everyone takes; 0 and 2 share a course only they take.
    matrix = sp.csr_array(
        np.array([[1, 1, 0], [1, 0, 1], [1, 1, 0], [1, 0, 0], [1, 0, 0]], dtype=float)
    )
    vectors = co_enrolment_vectors(matrix)
    similarity = (vectors @ vectors.T).toarray()
    assert similarity[0, 2] > similarity[0, 1] > 0
    np.testing.assert_allclose(np.diag(similarity), 1.0)


def test_rule_features_give_idf_of_shared_skills_plus_cohort_and_course_weights():
    weights = RuleWeights(title=2.0, industry=0.5, course=3.0)
    followed = sp.csr_array(np.array([[1, 1, 0], [1, 0, 1], [0, 0, 0]], dtype=float))
    in_progress = sp.csr_array(np.array([[1, 0], [1, 0], [0, 1]], dtype=float))
    vectors = rule_feature_vectors(
        followed=followed,
        skill_idf=np.array([0.7, 1.2, 2.0]),
        title=np.array([0, 0, -1]),
        industry=np.array([1, 0, 1]),
        in_progress=in_progress,
        n_titles=1,
        n_industries=2,
        weights=weights,
    )
    scores = (vectors @ vectors.T).toarray()
    assert scores[0, 1] == pytest.approx(0.7 + 2.0 + 3.0)  # SQL, same title, shared course
    assert scores[0, 2] == pytest.approx(0.5)  # the same industry only
    assert scores[1, 2] == pytest.approx(0.0)


def test_neighbours_merge_puts_the_first_list_first_and_fills_without_repeats():
    merged, scores, source = neighbours_merge(
        np.array([[4, 2, -1], [-1, -1, -1]]),
        np.array([[0.9, 0.5, -np.inf], [-np.inf] * 3]),
        np.array([[2, 7, 9], [5, -1, -1]]),
        np.array([[3.0, 2.0, 1.0], [4.0, -np.inf, -np.inf]]),
        k=3,
    )
    np.testing.assert_array_equal(merged, [[4, 2, 7], [5, -1, -1]])
    np.testing.assert_array_equal(scores, [[0.9, 0.5, 2.0], [4.0, -np.inf, -np.inf]])
    np.testing.assert_array_equal(source, [[0, 0, 1], [1, -1, -1]])


def _merge_by_loop(first, first_scores, second, second_scores, k):
    """The merge one row and one pick at a time, scores looked up per pick (the reference)."""
    merged = np.full((first.shape[0], k), -1)
    scores = np.full((first.shape[0], k), -np.inf)
    source = np.full((first.shape[0], k), -1)
    for row in range(first.shape[0]):
        seen, slot = set(), 0
        for origin, picks, values in ((0, first, first_scores), (1, second, second_scores)):
            for pick, value in zip(picks[row], values[row], strict=True):
                if slot == k or pick < 0 or pick in seen:
                    continue
                seen.add(pick)
                merged[row, slot], scores[row, slot], source[row, slot] = pick, value, origin
                slot += 1
    return merged, scores, source


@pytest.mark.parametrize("k", [1, 4, 6, 9])
def test_neighbours_merge_equals_the_row_by_row_merge(k):
    rng = np.random.default_rng(k)
    lists = []
    for _ in range(2):
        # Unique picks per row (as member_neighbours gives), padded -1 at the end.
        picks = np.array([rng.permutation(8)[:6] for _ in range(40)])
        picks[np.arange(6)[None, :] >= rng.integers(0, 7, size=40)[:, None]] = -1
        lists += [picks, np.where(picks >= 0, rng.random(picks.shape), -np.inf)]
    got = neighbours_merge(*lists, k=k)
    for mine, reference in zip(got, _merge_by_loop(*lists, k), strict=True):
        np.testing.assert_array_equal(mine, reference)
    assert (got[2] == 1).any() and (got[2] == 0).any() and (got[0] == -1).any()


def test_co_enrolment_rows_keep_every_members_idf():
    interactions = sp.csr_array(np.array([[1, 1, 0], [1, 0, 1], [0, 1, 1], [1, 0, 0]], dtype=float))
    every = co_enrolment_vectors(interactions)
    some = co_enrolment_vectors(interactions, rows=np.array([2, 0]))
    np.testing.assert_allclose(some.toarray(), every.toarray()[[2, 0]])


def test_people_hit_rate_counts_rows_whose_neighbours_took_the_held_out_course():
    candidate_courses = sp.csr_array(np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float))
    neighbours = np.array([[2, 1], [2, -1], [0, -1], [1, 0]])
    held_out = np.array([1, 0, 2, -1])  # the last row has no held-out course: skipped
    rate = people_hit_rate(neighbours, held_out=held_out, candidate_courses=candidate_courses)
    assert rate == pytest.approx(1 / 3)
    assert (
        people_hit_rate(neighbours, held_out=np.full(4, -1), candidate_courses=candidate_courses)
        == 0.0
    )


def test_a_cap_per_feature_keeps_only_that_many_candidates_of_a_popular_feature():
    # Every candidate holds feature 0 (popular); candidates 5 and 7 also hold feature 1.
    candidates = sp.csr_array(np.array([[1, 0]] * 5 + [[1, 1], [1, 0], [1, 1]], dtype=float))
    query = sp.csr_array(np.array([[1, 0], [0, 1]], dtype=float))
    members = np.arange(100, 108)
    neighbours, scores = member_neighbours(
        query,
        candidates,
        query_members=np.array([1, 2]),
        candidate_members=members,
        k=8,
        max_candidates_per_feature=3,
    )
    assert (neighbours[0] >= 0).sum() == 3  # the popular feature reaches 3 candidates only
    assert sorted(neighbours[1][neighbours[1] >= 0].tolist()) == [5, 7]  # rare: untouched
    np.testing.assert_allclose(scores[1][:2], 1.0, rtol=1e-6)
