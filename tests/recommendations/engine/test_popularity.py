import numpy as np
import pytest
import scipy.sparse as sp

from recommendations.engine import (
    cohort_popularity_scores,
    cohort_trending_scores,
    popularity_scores,
    recency_scores,
    trending_scores,
)

DAY = 86_400.0
NOW = 10 * DAY

# member, course, time: m0/c0 now (1), m1/c0 2 days ago (0.5) and 4 days ago (ignored: same
# member and course, older), m2/c1 4 days ago (0.25), m0/c1 in the future (1), m3/c2 now (1).
EVENT_MEMBER = np.array([0, 1, 1, 2, 0, 3])
EVENT_COURSE = np.array([0, 0, 0, 1, 1, 2])
EVENT_TIME = np.array([NOW, NOW - 2 * DAY, NOW - 4 * DAY, NOW - 4 * DAY, NOW + DAY, NOW])


def test_popularity_counts_distinct_members_with_positive_interactions():
    interactions = sp.csr_array(np.array([[2, 0, -1], [1, 1, 0], [0, 3, 0]], dtype=float))
    np.testing.assert_array_equal(popularity_scores(interactions), [2, 2, 0])


def test_cohort_popularity_and_small_cohort_zeroing():
    interactions = sp.csr_array(np.array([[2, 0, -1], [1, 1, 0], [0, 3, 0]], dtype=float))
    counts = cohort_popularity_scores(
        interactions, np.array([0, 0, 1]), n_cohorts=2, min_cohort_size=2
    )
    np.testing.assert_array_equal(counts.toarray(), [[2, 1, 0], [0, 0, 0]])


def test_trending_decays_by_half_life_and_counts_each_member_once_per_course():
    scores = trending_scores(
        EVENT_MEMBER, EVENT_COURSE, EVENT_TIME, now=NOW, half_life_days=2, n_courses=4
    )
    np.testing.assert_allclose(scores, [1.5, 1.25, 1.0, 0.0])


def test_trending_accepts_datetime64():
    epoch = np.datetime64("2024-01-01T00:00:00", "s")
    times = epoch + (EVENT_TIME - NOW).astype("timedelta64[s]")
    scores = trending_scores(
        EVENT_MEMBER, EVENT_COURSE, times, now=epoch, half_life_days=2, n_courses=4
    )
    np.testing.assert_allclose(scores, [1.5, 1.25, 1.0, 0.0])


def test_trending_without_events():
    empty = np.array([], dtype=int)
    scores = trending_scores(empty, empty, np.array([]), now=NOW, half_life_days=1, n_courses=2)
    np.testing.assert_array_equal(scores, [0, 0])


def test_cohort_trending_per_cohort_with_small_cohorts_zeroed():
    cohort_of_member = np.array([0, 0, 1, -1])
    kwargs = {"now": NOW, "half_life_days": 2, "n_courses": 3, "n_cohorts": 3}
    strict = cohort_trending_scores(
        EVENT_MEMBER, EVENT_COURSE, EVENT_TIME, cohort_of_member, min_cohort_size=2, **kwargs
    )
    np.testing.assert_allclose(strict.toarray(), [[1.5, 1.0, 0], [0, 0, 0], [0, 0, 0]])
    lenient = cohort_trending_scores(
        EVENT_MEMBER, EVENT_COURSE, EVENT_TIME, cohort_of_member, min_cohort_size=1, **kwargs
    )
    np.testing.assert_allclose(lenient.toarray(), [[1.5, 1.0, 0], [0, 0.25, 0], [0, 0, 0]])


def test_recency_halves_every_half_life_and_unknown_scores_zero():
    published = np.array([NOW, NOW - 3 * DAY, np.nan, NOW + 5 * DAY, NOW - 6 * DAY])
    np.testing.assert_allclose(
        recency_scores(published, now=NOW, half_life_days=3), [1, 0.5, 0, 1, 0.25]
    )


def test_recency_with_datetime64_and_nat():
    now = np.datetime64("2024-06-01T00:00:00")
    published = np.array(["2024-05-31T00:00:00", "NaT"], dtype="datetime64[s]")
    np.testing.assert_allclose(recency_scores(published, now=now, half_life_days=1), [0.5, 0])


def test_half_life_must_be_positive():
    with pytest.raises(ValueError):
        recency_scores(np.array([0.0]), now=0.0, half_life_days=0)
