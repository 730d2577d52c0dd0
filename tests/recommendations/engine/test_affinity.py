import numpy as np
import pytest
import scipy.sparse as sp

from recommendations.engine import (
    affinity_scores,
    cohort_skill_profiles,
    idf_min_members,
    member_affinity,
    member_cohort_vectors,
    member_skill_vector,
    member_skill_vectors,
    skill_contributions,
    skill_idf,
    top_contributing_skill,
)


def csr(rows: list[list[float]]) -> sp.csr_array:
    return sp.csr_array(np.array(rows, dtype=float))


# Members × skills: m0 {s0, s1}, m1 {s0}, m2 {s0 (weighted), s2}, m3 none; s3 held by nobody.
MEMBER_SKILL = csr([[1, 1, 0, 0], [1, 0, 0, 0], [0.5, 0, 2, 0], [0, 0, 0, 0]])


def test_idf_is_log_one_plus_members_over_holders():
    idf = skill_idf(MEMBER_SKILL, min_members=1)
    np.testing.assert_allclose(idf, [np.log(1 + 4 / 3), np.log(5), np.log(5), 0.0])


def test_idf_gives_exactly_zero_to_skills_held_by_fewer_than_min_members():
    idf = skill_idf(MEMBER_SKILL, min_members=2)
    assert idf[0] == pytest.approx(np.log(7 / 3))
    assert idf[1] == 0.0 and idf[2] == 0.0 and idf[3] == 0.0


@pytest.mark.parametrize(
    ("members", "cutoff"),
    [(0, 1), (3, 1), (999, 1), (1000, 2), (1499, 2), (1500, 3), (2_000_000, 3)],
)
def test_the_rare_skill_cutoff_scales_with_members_up_to_its_cap(members, cutoff):
    assert idf_min_members(members, cap=3, share=0.002) == cutoff


def test_the_rare_skill_cutoff_is_at_least_one_whatever_the_cap():
    assert idf_min_members(10, cap=0, share=0.5) == 1


def test_idf_ignores_explicitly_stored_zeros():
    matrix = sp.csr_array((np.array([0.0, 1.0]), np.array([0, 0]), np.array([0, 1, 2])), (2, 1))
    assert skill_idf(matrix)[0] == pytest.approx(np.log(3))


def test_idf_of_empty_matrix_is_all_zero():
    np.testing.assert_array_equal(skill_idf(sp.csr_array((0, 3))), [0.0, 0.0, 0.0])


def test_cohort_profile_is_share_of_members_holding_each_skill():
    member_skill = csr([[1, 5, 0], [2, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 0]])
    cohort = np.array([0, 0, 1, -1, 0])
    profiles = cohort_skill_profiles(member_skill, cohort, n_cohorts=3, min_cohort_size=1)
    np.testing.assert_allclose(profiles.toarray(), [[2 / 3, 1 / 3, 0], [0, 1, 0], [0, 0, 0]])


def test_cohort_smaller_than_min_size_gets_an_empty_row():
    member_skill = csr([[1, 5, 0], [2, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 0]])
    cohort = np.array([0, 0, 1, -1, 0])
    profiles = cohort_skill_profiles(member_skill, cohort, n_cohorts=3, min_cohort_size=2)
    np.testing.assert_allclose(profiles.toarray(), [[2 / 3, 1 / 3, 0], [0, 0, 0], [0, 0, 0]])
    assert np.diff(profiles.indptr)[1] == 0


def test_member_cohort_vector_falls_back_title_industry_then_title_then_industry():
    title_industry_profiles = csr([[1, 0], [0, 0]])  # cohort 1 too small: empty row
    title_profiles = csr([[0, 1], [0.5, 0.5]])
    industry_profiles = csr([[0.2, 0]])
    title_industry = np.array([0, 1, -1, -1, -1])
    title = np.array([1, 1, -1, -1, 0])
    industry = np.array([0, 0, 0, -1, 0])
    vectors = member_cohort_vectors(
        [
            (title_industry, title_industry_profiles),
            (title, title_profiles),
            (industry, industry_profiles),
        ]
    )
    np.testing.assert_allclose(
        vectors.toarray(),
        [
            [1, 0],  # title+industry cohort wins over title and industry
            [0.5, 0.5],  # empty title+industry row falls through to the title
            [0.2, 0],  # no title at all: industry
            [0, 0],  # nothing known
            [0, 1],  # title beats industry
        ],
    )


def test_member_cohort_vectors_requires_a_level():
    with pytest.raises(ValueError):
        member_cohort_vectors([])


def test_blend_normalises_each_source_then_weights_it():
    followed = csr([[3, 4, 0], [0, 0, 0], [0, 0, 0]])
    profile = csr([[0, 0, 2], [0, 0, 0], [0, 0, 0]])
    cohort = csr([[1, 0, 0], [0, 0, 0], [0, 0, 5]])
    vectors = member_skill_vectors(
        followed=followed, profile=profile, cohort=cohort, weights=(1.0, 0.5, 0.25)
    )
    np.testing.assert_allclose(vectors.toarray(), [[0.6 + 0.25, 0.8, 0.5], [0, 0, 0], [0, 0, 0.25]])
    assert np.diff(vectors.indptr)[1] == 0


def test_blend_does_not_let_a_source_with_many_skills_swamp_the_others():
    followed = csr([[1, 1, 1, 1, 0]])
    profile = csr([[0, 0, 0, 0, 1]])
    empty = sp.csr_array((1, 5))
    vectors = member_skill_vectors(
        followed=followed, profile=profile, cohort=empty, weights=(1.0, 1.0, 1.0)
    ).toarray()
    assert np.linalg.norm(vectors[0, :4]) == pytest.approx(np.linalg.norm(vectors[0, 4:]))


def test_blend_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        member_skill_vectors(
            followed=sp.csr_array((2, 3)), profile=sp.csr_array((2, 4)), cohort=sp.csr_array((2, 3))
        )


MEMBERS = csr([[1, 2, 0], [0, 0, 3]])
COURSES = csr([[1, 1, 0], [0, 0, 1], [0.5, 0, 0]])
IDF = np.array([2.0, 0.5, 1.0])


def test_affinity_is_the_idf_weighted_dot_product():
    scores = affinity_scores(MEMBERS, COURSES, IDF)
    assert isinstance(scores, sp.csr_array)
    # m0·c0 = 1·2·1 + 2·0.5·1 = 3; m0·c2 = 1·2·0.5 = 1; m1·c1 = 3·1·1 = 3.
    np.testing.assert_allclose(scores.toarray(), [[3, 0, 1], [0, 3, 0]])
    np.testing.assert_allclose(
        scores.toarray(), MEMBERS.toarray() @ np.diag(IDF) @ COURSES.toarray().T
    )


def test_affinity_for_members_without_skills_and_empty_inputs():
    scores = affinity_scores(sp.csr_array((2, 3)), COURSES, IDF)
    assert scores.shape == (2, 3) and scores.nnz == 0
    assert affinity_scores(sp.csr_array((0, 3)), COURSES, IDF).shape == (0, 3)
    assert affinity_scores(MEMBERS, sp.csr_array((0, 3)), IDF).shape == (2, 0)


def test_skill_contributions_sum_to_the_affinity():
    members, courses = np.array([0, 0, 1]), np.array([0, 2, 1])
    terms = skill_contributions(MEMBERS, COURSES, IDF, members=members, courses=courses)
    np.testing.assert_allclose(terms.toarray(), [[2, 1, 0], [1, 0, 0], [0, 0, 3]])
    np.testing.assert_allclose(terms.sum(axis=1), [3, 1, 3])


def test_top_contributing_skill_per_pair_with_minus_one_for_no_overlap():
    skill, contribution = top_contributing_skill(
        MEMBERS, COURSES, IDF, members=np.array([0, 1, 0, 1]), courses=np.array([0, 1, 1, 0])
    )
    np.testing.assert_array_equal(skill, [0, 2, -1, -1])
    np.testing.assert_allclose(contribution, [2, 3, 0, 0])


def test_top_contributing_skill_ties_go_to_the_lower_skill_index():
    skill, _ = top_contributing_skill(
        csr([[0, 1, 1]]), csr([[0, 1, 1]]), np.ones(3), members=[0], courses=[0]
    )
    assert skill.tolist() == [1]


def _random_source(rng: np.random.Generator, n_skills: int, density: float) -> np.ndarray:
    return np.where(rng.random(n_skills) < density, rng.random(n_skills) * 3, 0.0)


@pytest.mark.parametrize("seed", range(20))
def test_member_skill_vector_equals_one_row_of_member_skill_vectors(seed):
    rng = np.random.default_rng(seed)
    n_skills = int(rng.integers(1, 12))
    # Density 0 makes some sources empty: they must contribute nothing.
    followed, profile, cohort = (
        _random_source(rng, n_skills, density) for density in rng.choice([0.0, 0.3, 1.0], 3)
    )
    weights = (1.0, 0.6, 0.3) if seed % 2 else (0.7, 1.5, 0.2)

    vector = member_skill_vector(followed=followed, profile=profile, cohort=cohort, weights=weights)
    expected = member_skill_vectors(
        followed=sp.csr_array(followed[None, :]),
        profile=sp.csr_array(profile[None, :]),
        cohort=sp.csr_array(cohort[None, :]),
        weights=weights,
    ).toarray()[0]

    assert vector.shape == (n_skills,)
    np.testing.assert_allclose(vector, expected, rtol=1e-12)


def test_member_skill_vector_by_hand_with_an_empty_source_and_default_weights():
    vector = member_skill_vector(
        followed=np.array([3.0, 4.0, 0.0]), profile=np.zeros(3), cohort=np.array([0.0, 0.0, 5.0])
    )
    np.testing.assert_allclose(vector, [0.6, 0.8, 0.3], rtol=1e-12)
    np.testing.assert_allclose(
        vector,
        member_skill_vectors(
            followed=csr([[3, 4, 0]]), profile=sp.csr_array((1, 3)), cohort=csr([[0, 0, 5]])
        ).toarray()[0],
        rtol=1e-12,
    )


def test_member_skill_vector_of_all_empty_sources_stays_zero():
    empty = np.zeros(4)
    vector = member_skill_vector(followed=empty, profile=empty, cohort=empty)
    np.testing.assert_array_equal(vector, np.zeros(4))
    np.testing.assert_array_equal(
        vector,
        member_skill_vectors(
            followed=sp.csr_array((1, 4)), profile=sp.csr_array((1, 4)), cohort=sp.csr_array((1, 4))
        ).toarray()[0],
    )
    assert member_skill_vector(followed=[], profile=[], cohort=[]).shape == (0,)


def test_member_skill_vector_rejects_sources_of_different_lengths_and_2d_input():
    with pytest.raises(ValueError, match="sources must be vectors of one length"):
        member_skill_vector(followed=np.ones(3), profile=np.ones(4), cohort=np.ones(3))
    with pytest.raises(ValueError, match="sources must be vectors of one length"):
        member_skill_vector(followed=np.ones(3), profile=np.ones(3), cohort=np.ones(2))
    with pytest.raises(ValueError, match="sources must be vectors of one length"):
        member_skill_vector(
            followed=np.ones((1, 3)), profile=np.ones((1, 3)), cohort=np.ones((1, 3))
        )


@pytest.mark.parametrize("member", [0, 1])
def test_member_affinity_equals_one_row_of_affinity_scores(member):
    vector = MEMBERS.toarray()[member]
    affinity = member_affinity(vector, COURSES, IDF)
    assert isinstance(affinity, np.ndarray) and affinity.shape == (3,)
    np.testing.assert_allclose(
        affinity, affinity_scores(MEMBERS[[member], :], COURSES, IDF).toarray()[0], rtol=1e-12
    )


@pytest.mark.parametrize("seed", range(20))
def test_member_affinity_equals_affinity_scores_on_random_inputs(seed):
    rng = np.random.default_rng(seed)
    n_skills, n_courses = int(rng.integers(1, 10)), int(rng.integers(0, 15))
    course_skill = sp.random_array(
        (n_courses, n_skills), density=0.3, format="csr", rng=rng, dtype=np.float64
    )
    idf = np.where(rng.random(n_skills) < 0.2, 0.0, rng.random(n_skills) * 2)
    vector = member_skill_vector(
        followed=_random_source(rng, n_skills, 0.4),
        profile=_random_source(rng, n_skills, 0.4),
        cohort=_random_source(rng, n_skills, 0.0),
    )

    affinity = member_affinity(vector, course_skill, idf)
    expected = affinity_scores(sp.csr_array(vector[None, :]), course_skill, idf).toarray()[0]

    assert affinity.shape == (n_courses,)
    np.testing.assert_allclose(affinity, expected, rtol=1e-12)


def test_member_affinity_of_an_empty_member_or_catalog():
    np.testing.assert_array_equal(member_affinity(np.zeros(3), COURSES, IDF), [0.0, 0.0, 0.0])
    assert member_affinity(np.ones(3), sp.csr_array((0, 3)), IDF).shape == (0,)
