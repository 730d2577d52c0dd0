import numpy as np
import pytest
import scipy.sparse as sp

from recommendations.engine import (
    because_you_watched,
    course_similarity_by_skills,
    most_recent_course,
    similar_course_lists,
    similar_courses_decode,
    similar_courses_encode,
)

COURSE_SKILL = sp.csr_array(np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [1, 1, 0]], dtype=float))
R = 1 / np.sqrt(2)


def test_similarity_is_cosine_symmetric_with_zero_diagonal():
    similarity = course_similarity_by_skills(COURSE_SKILL, np.ones(3))
    expected = [[0, R, 0, 1], [R, 0, 0, R], [0, 0, 0, 0], [1, R, 0, 0]]
    np.testing.assert_allclose(similarity.toarray(), expected)
    np.testing.assert_allclose(similarity.toarray(), similarity.toarray().T)
    assert similarity.diagonal().tolist() == [0, 0, 0, 0]


def test_similarity_weights_skills_by_idf():
    similarity = course_similarity_by_skills(COURSE_SKILL, np.array([3.0, 1.0, 1.0]))
    # c0 = (3, 1, 0), c1 = (3, 0, 0): cosine 9 / (sqrt(10) · 3).
    assert similarity[0, 1] == pytest.approx(3 / np.sqrt(10))


def test_similarity_keeps_top_k_per_row_with_ties_to_the_lower_index():
    similarity = course_similarity_by_skills(COURSE_SKILL, np.ones(3), top_k=1, block_size=3)
    np.testing.assert_array_equal(np.diff(similarity.indptr), [1, 1, 0, 1])
    expected = [[0, 0, 0, 1], [R, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0]]
    np.testing.assert_allclose(similarity.toarray(), expected)


def test_similarity_block_size_does_not_change_the_result():
    whole = course_similarity_by_skills(COURSE_SKILL, np.ones(3))
    blocked = course_similarity_by_skills(COURSE_SKILL, np.ones(3), block_size=1)
    np.testing.assert_allclose(whole.toarray(), blocked.toarray())


def test_similarity_of_no_courses():
    assert course_similarity_by_skills(sp.csr_array((0, 3)), np.ones(3)).shape == (0, 0)


def test_because_you_watched_takes_the_anchor_row_and_drops_engaged_courses():
    similarity = course_similarity_by_skills(COURSE_SKILL, np.ones(3))
    engaged = sp.csr_array(np.array([[1, 0, 0, 1], [0, 0, 0, 0], [0, 0, 1, 0]], dtype=float))
    scores = because_you_watched(similarity, anchor_of_member=[0, -1, 2], exclude=engaged)
    np.testing.assert_allclose(scores.toarray(), [[0, R, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    assert scores.nnz == 1


def test_most_recent_course_breaks_time_ties_by_input_order():
    anchor = most_recent_course(
        np.array([0, 0, 1, 0]), np.array([5, 6, 7, 8]), np.array([1, 3, 2, 3]), n_members=3
    )
    np.testing.assert_array_equal(anchor, [8, 7, -1])


def test_most_recent_course_with_datetime64_and_no_events():
    times = np.array(["2024-01-02", "2024-01-01"], dtype="datetime64[s]")
    np.testing.assert_array_equal(
        most_recent_course(np.array([0, 0]), np.array([1, 2]), times, n_members=1), [1]
    )
    empty = np.array([], dtype=int)
    np.testing.assert_array_equal(
        most_recent_course(empty, empty, np.array([]), n_members=2), [-1, -1]
    )


def test_similar_course_lists_are_best_first_without_the_course_itself():
    # Row 0 scores itself (a stored diagonal), ties 2 and 3, and a negative; row 1 is empty.
    similarity = sp.csr_array(
        np.array(
            [
                [0.9, 0.2, 0.5, 0.5, -0.1],
                [0.0, 0.0, 0.0, 0.0, 0.0],
                [0.3, 0.0, 0.0, 0.0, 0.7],
                [0.0, 0.0, 0.0, 0.0, 0.0],
                [0.0, 0.0, 0.0, 0.0, 0.0],
            ]
        )
    )

    records, bounds = similar_course_lists(similarity, k=2)

    assert bounds.tolist() == [0, 2, 2, 4, 4, 4]
    assert records["course"].tolist() == [2, 3, 4, 0]
    np.testing.assert_allclose(records["score"], [0.5, 0.5, 0.7, 0.3])
    decoded = similar_courses_decode(similar_courses_encode(records))
    assert decoded.tolist() == records.tolist()
    assert len(similar_courses_encode(records)) == 8 * 4


def test_similar_course_lists_of_outside_queries_leave_out_only_their_own_column():
    scores = sp.csr_array(np.array([[0.4, 0.9, 0.1], [0.4, 0.9, 0.1]]))

    records, bounds = similar_course_lists(scores, k=5, own_columns=np.array([1, -1]))

    assert bounds.tolist() == [0, 2, 5]
    assert records["course"].tolist() == [0, 2, 1, 0, 2]
