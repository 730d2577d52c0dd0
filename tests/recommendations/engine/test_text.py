import numpy as np
import scipy.sparse as sp

from recommendations.engine.text import (
    course_text,
    text_index_build,
    text_index_query,
    text_profile_scores,
    text_similarity,
)

TEXTS = [
    course_text("Intro to SQL", "Query relational databases with SELECT and joins.", ["SQL"]),
    course_text("Watercolour basics", "Paint landscapes with watercolour.", ["Painting"]),
    course_text("Advanced SQL", "Window functions and joins in relational databases.", ["SQL"]),
    course_text("Public speaking", "Speak with confidence to an audience.", ["Communication"]),
]


def test_text_similarity_ranks_the_course_sharing_words_first():
    similarity = text_similarity(TEXTS, top_k=None)
    assert similarity.shape == (4, 4)
    assert not similarity.diagonal().any()
    np.testing.assert_allclose(similarity.toarray(), similarity.toarray().T)
    assert similarity[[0]].toarray().argmax() == 2
    assert similarity[[2]].toarray().argmax() == 0
    assert similarity[0, 2] > 0.2


def test_text_similarity_keeps_top_k_per_row():
    similarity = text_similarity(TEXTS, top_k=1, block_size=2)
    assert (np.diff(similarity.indptr) <= 1).all()
    assert similarity[0, 2] > 0


def test_text_similarity_of_stop_words_only_is_empty():
    similarity = text_similarity(["the and of", "a an the"], top_k=5)
    assert similarity.shape == (2, 2) and similarity.nnz == 0
    assert text_similarity([], top_k=5).shape == (0, 0)


def test_a_new_course_gets_a_text_profile_score():
    # Course 2 (Advanced SQL) is brand new: no member has touched it.
    member_course = sp.csr_array(np.array([[5.0, 0, 0, 0], [0, 1.0, 0, -1.0]]))
    scores = text_profile_scores(member_course, text_similarity(TEXTS, top_k=3))
    assert scores.shape == (2, 4)
    assert scores[0, 2] > 0
    assert scores[[0]].toarray().argmax() == 2
    # Engaged and dismissed courses are not scored; a dismissal pulls nothing in.
    assert scores[0, 0] == 0 and scores[1, 1] == 0 and scores[1, 3] == 0
    kept = text_profile_scores(member_course, text_similarity(TEXTS), exclude_seen=False)
    assert kept[0, 2] == scores[0, 2]


def test_text_similarity_limited_to_target_columns():
    texts = [
        "sql window functions for analysts",
        "advanced sql window functions",
        "sql for analysts",
        "photoshop layers and masks",
    ]
    full = text_similarity(texts, top_k=None)
    limited = text_similarity(texts, top_k=None, columns=np.array([False, True, False, True]))
    assert set(limited.indices.tolist()) <= {1, 3}
    # The kept entries are exactly the full matrix's entries in those columns.
    expected = full.toarray()
    expected[:, [0, 2]] = 0.0
    np.testing.assert_allclose(limited.toarray(), expected)


def test_a_text_index_compares_new_texts_in_its_own_vocabulary():
    index = text_index_build(
        ["Python for data analysis", "Advanced SQL queries", "Python scripting basics"]
    )
    scores = text_index_query(
        index, ["Python data pipelines", "Watercolour painting", "SQL"], top_k=2
    )
    assert scores.shape == (3, 3)
    # Closest first; words the index never saw ("pipelines", "watercolour") count for nothing.
    first = scores[[0], :].toarray()[0]
    assert first.argmax() == 0 and first[2] > 0 and first[1] == 0
    assert scores[[1], :].nnz == 0
    assert scores[[2], :].indices.tolist() == [1]


def test_a_text_index_of_stop_words_only_matches_nothing():
    index = text_index_build(["the and of", "a an"])
    assert text_index_query(index, ["the"], top_k=5).shape == (1, 2)
    assert text_index_query(index, ["the"], top_k=5).nnz == 0
