"""Activity: each member's enrolments, progress, completions, bookmarks and dismissals, drawn
from the hidden preference mixture; and `demo_relevance`, that mixture's exact probabilities."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from demo.dataset.common import csr_sample
from demo.dataset.types import NO_TIME, DemoCourse, DemoDataset, DemoInteractions, DemoPreferences

# Interaction mixture: a preferred skill's course, a taste-cluster course, a popular course.
MIXTURE = (0.45, 0.45, 0.10)


_COMPLETION_BY_MODE = (0.5, 0.42, 0.22)


_BOOKMARK_BY_MODE = (0.12, 0.2, 0.06)


INTERACTION_WINDOW_DAYS = 270


def interactions_draw(
    *,
    rng: np.random.Generator,
    count: int,
    preferences: DemoPreferences,
    courses: list[DemoCourse],
    joined_at: np.ndarray,
    now_s: int,
) -> DemoInteractions:
    """`count` enrolments with their dates, progress, watch time, completion and bookmark.

    Each is dated after the member joined and the course was published, within the last
    INTERACTION_WINDOW_DAYS, more often recently. Sorted by member, then enrolment date.
    """
    member, course, mode = _interaction_pairs_draw(
        rng=rng,
        count=count,
        preferences=preferences,
        n_members=len(joined_at),
        n_courses=len(courses),
    )
    n = len(member)

    published = np.array([c.published_at for c in courses], dtype=np.int64)[course]
    duration_s = np.array([c.duration_minutes for c in courses], dtype=np.int64)[course] * 60
    earliest = np.maximum.reduce(
        [np.full(n, now_s - INTERACTION_WINDOW_DAYS * 86400), published, joined_at[member]]
    )
    earliest = np.minimum(earliest, now_s - 60)
    # Activity grows towards the present: more recent enrolments are more frequent.
    enrolled = np.ceil(now_s - (now_s - earliest) * rng.random(n) ** 1.5).astype(np.int64)
    remaining = now_s - enrolled

    p_complete = np.array(_COMPLETION_BY_MODE)[mode] * np.clip(1.15 - duration_s / 48_000, 0.4, 1.1)
    completed = rng.random(n) < p_complete
    progress = np.where(
        completed, 100, 1 + np.floor(98 * rng.beta(0.9, 1.6, size=n)).astype(np.int64)
    ).astype(np.int16)
    watched = np.where(
        completed,
        duration_s * rng.uniform(0.95, 1.2, size=n),
        duration_s * progress / 100 * rng.uniform(0.85, 1.1, size=n),
    ).astype(np.int32)
    completed_at = np.where(
        completed,
        np.minimum(now_s, enrolled + np.maximum(duration_s, remaining * rng.beta(1.2, 5, size=n))),
        NO_TIME,
    ).astype(np.int64)
    last_watched = np.where(
        completed, completed_at, enrolled + (remaining * rng.beta(1.0, 3.0, size=n))
    ).astype(np.int64)
    bookmarked = rng.random(n) < np.array(_BOOKMARK_BY_MODE)[mode]
    before = rng.random(n) < 0.5
    bookmark_time = np.where(
        before,
        earliest + (enrolled - earliest) * rng.random(n),
        enrolled + remaining * 0.3 * rng.random(n),
    ).astype(np.int64)
    order = np.lexsort((enrolled, member))
    return DemoInteractions(
        member=member[order],
        course=course[order],
        enrolled_at=enrolled[order],
        progress_percent=progress[order],
        watched_seconds=watched[order],
        last_watched_at=last_watched[order],
        completed_at=completed_at[order],
        bookmarked_at=np.where(bookmarked, bookmark_time, NO_TIME)[order],
        mode=mode[order],
    )


def _interaction_pairs_draw(
    *,
    rng: np.random.Generator,
    count: int,
    preferences: DemoPreferences,
    n_members: int,
    n_courses: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`count` distinct (member, course) pairs and the part of MIXTURE each was drawn from.

    A member by activity (lognormal), a part of the mixture, then a course from that part of the
    hidden preferences. Rounds of draws go on until there are enough distinct pairs; a pair
    drawn again keeps its first draw.
    """
    activity = rng.lognormal(0.0, 0.9, size=n_members)
    activity /= activity.sum()
    global_popularity = sp.csr_matrix(preferences.popularity[None, :])
    accepted_pairs = np.empty(0, dtype=np.int64)
    accepted_modes = np.empty(0, dtype=np.int8)
    for _round in range(60):
        missing = count - len(accepted_pairs)
        if missing <= 0:
            break
        size = int(missing * 1.3) + 256
        member = rng.choice(n_members, size=size, p=activity)
        mode = rng.choice(3, size=size, p=preferences.mixture).astype(np.int8)
        course = np.empty(size, dtype=np.int64)
        by_skill = mode == 0
        skill = csr_sample(rng, preferences.skill_preference, member[by_skill])
        course[by_skill] = csr_sample(rng, preferences.skill_courses, skill)
        by_taste = mode == 1
        course[by_taste] = csr_sample(
            rng, preferences.cluster_courses, preferences.cluster[member[by_taste]]
        )
        by_popularity = mode == 2
        course[by_popularity] = csr_sample(
            rng, global_popularity, np.zeros(int(by_popularity.sum()), dtype=np.int64)
        )
        pairs = member.astype(np.int64) * n_courses + course
        _, first = np.unique(pairs, return_index=True)
        first.sort()
        fresh = first[~np.isin(pairs[first], accepted_pairs)]
        accepted_pairs = np.concatenate([accepted_pairs, pairs[fresh]])
        accepted_modes = np.concatenate([accepted_modes, mode[fresh]])
    if len(accepted_pairs) < count:
        raise RuntimeError("could not draw enough distinct (member, course) pairs")
    pairs, mode = accepted_pairs[:count], accepted_modes[:count]
    member = (pairs // n_courses).astype(np.int32)
    course = (pairs % n_courses).astype(np.int32)
    return member, course, mode


def demo_relevance(*, dataset: DemoDataset, members: np.ndarray | list[int] | int) -> np.ndarray:
    """True relevance of every course for the given members (rows sum to 1).

    The probability that a member's next course, under the hidden preferences, is each course:
    the same mixture the interactions were drawn from (before removing courses already taken).
    One member gives a vector, several give a (members x courses) matrix.
    """
    prefs = dataset.preferences
    single = np.isscalar(members)
    rows = np.atleast_1d(np.asarray(members, dtype=np.int64))
    by_skill = (prefs.skill_preference[rows] @ prefs.skill_courses).toarray()
    by_taste = prefs.cluster_courses[prefs.cluster[rows]].toarray()
    w_skill, w_taste, w_popular = prefs.mixture
    relevance = w_skill * by_skill + w_taste * by_taste + w_popular * prefs.popularity[None, :]
    return relevance[0] if single else relevance
