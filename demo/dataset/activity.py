"""Activity: each member's enrolments, progress, completions, bookmarks and dismissals, drawn
from the hidden preference mixture; and `demo_relevance`, that mixture's exact probabilities."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from demo.dataset.common import CsrSampler, row_normalize
from demo.dataset.types import NO_TIME, DemoCourse, DemoDataset, DemoInteractions, DemoPreferences

# Interaction mixture, in `DemoInteractions.mode` order: a course teaching a skill the member
# wants; a follow-on to a course they took (same, related or same-category skill); a course
# their taste cluster favours; a popular course; any course at all (noise). Mostly topical, as
# real learners are: what they want, then more of the same subject.
MIXTURE = (0.42, 0.38, 0.06, 0.1, 0.04)


SKILL, FOLLOW_ON, TASTE, POPULAR, NOISE = range(5)


_COMPLETION_BY_MODE = (0.5, 0.5, 0.42, 0.22, 0.15)


_BOOKMARK_BY_MODE = (0.12, 0.14, 0.2, 0.06, 0.04)

# Enrolments are drawn in about this many rounds, so that later rounds follow on from the
# courses members took in earlier ones.
_ROUNDS = 16


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
    drawn again keeps its first draw. A follow-on starts from a course the member took in an
    earlier round; a member with none yet draws by skill instead (and is counted so).
    """
    activity = rng.lognormal(0.0, 0.9, size=n_members)
    activity /= activity.sum()
    wants = CsrSampler(preferences.skill_preference)
    teaching = CsrSampler(preferences.skill_courses)
    follow_on = CsrSampler(preferences.follow_on_skills)
    taste = CsrSampler(preferences.cluster_courses)
    popular = CsrSampler(sp.csr_matrix(preferences.popularity[None, :]))
    round_size = max(count // _ROUNDS, 256)
    # Pairs (member * n_courses + course) accepted so far: in draw order, and sorted (so by
    # member, each member's from `taken_start[member]` on).
    accepted_pairs = np.empty(0, dtype=np.int64)
    accepted_modes = np.empty(0, dtype=np.int8)
    taken = np.empty(0, dtype=np.int64)
    taken_count = np.zeros(n_members, dtype=np.int64)
    for _round in range(40 * _ROUNDS):
        missing = count - len(accepted_pairs)
        if missing <= 0:
            break
        size = min(int(missing * 1.3) + 256, round_size)
        member = rng.choice(n_members, size=size, p=activity)
        mode = rng.choice(len(preferences.mixture), size=size, p=preferences.mixture)
        mode = mode.astype(np.int8)
        mode[(mode == FOLLOW_ON) & (taken_count[member] == 0)] = SKILL
        course = np.empty(size, dtype=np.int64)
        by_skill = mode == SKILL
        course[by_skill] = teaching.sample(rng, wants.sample(rng, member[by_skill]))
        follow = mode == FOLLOW_ON
        taken_start = np.cumsum(taken_count) - taken_count
        pick = (rng.random(int(follow.sum())) * taken_count[member[follow]]).astype(np.int64)
        earlier = taken[taken_start[member[follow]] + pick] % n_courses
        course[follow] = teaching.sample(rng, follow_on.sample(rng, earlier))
        by_taste = mode == TASTE
        course[by_taste] = taste.sample(rng, preferences.cluster[member[by_taste]])
        by_popularity = mode == POPULAR
        course[by_popularity] = popular.sample(
            rng, np.zeros(int(by_popularity.sum()), dtype=np.int64)
        )
        noise = mode == NOISE
        course[noise] = rng.integers(n_courses, size=int(noise.sum()))
        pairs = member.astype(np.int64) * n_courses + course
        distinct, first = np.unique(pairs, return_index=True)
        new = ~_sorted_contains(taken, distinct)
        fresh = np.sort(first[new])
        accepted_pairs = np.concatenate([accepted_pairs, pairs[fresh]])
        accepted_modes = np.concatenate([accepted_modes, mode[fresh]])
        # Two sorted runs: a stable sort merges them in linear time.
        taken = np.sort(np.concatenate([taken, distinct[new]]), kind="stable")
        taken_count += np.bincount(distinct[new] // n_courses, minlength=n_members)
    if len(accepted_pairs) < count:
        raise RuntimeError("could not draw enough distinct (member, course) pairs")
    pairs, mode = accepted_pairs[:count], accepted_modes[:count]
    member = (pairs // n_courses).astype(np.int32)
    course = (pairs % n_courses).astype(np.int32)
    return member, course, mode


def _sorted_contains(sorted_values: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Whether each of `values` (sorted, which keeps the search fast) is in `sorted_values`."""
    if not len(sorted_values):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_values, values), len(sorted_values) - 1)
    return sorted_values[at] == values


def demo_relevance(*, dataset: DemoDataset, members: np.ndarray | list[int] | int) -> np.ndarray:
    """True relevance of every course for the given members (rows sum to 1).

    The probability that a member's next course, under the hidden preferences, is each course:
    the same mixture the interactions were drawn from (before removing courses already taken),
    following on from any of the member's courses in the dataset, equally likely (a member who
    took none draws that part by skill, as the generator does). One member gives a vector,
    several give a (members x courses) matrix.
    """
    prefs = dataset.preferences
    single = np.isscalar(members)
    rows = np.atleast_1d(np.asarray(members, dtype=np.int64))
    n_courses = len(dataset.courses)
    by_skill = (prefs.skill_preference[rows] @ prefs.skill_courses).toarray()
    a = dataset.interactions
    history = sp.csr_matrix(
        (np.ones(len(a)), (a.member, a.course)), shape=(len(dataset.members), n_courses)
    )[rows]
    by_follow_on = (row_normalize(history) @ prefs.follow_on_skills @ prefs.skill_courses).toarray()
    no_history = np.diff(history.indptr) == 0
    by_follow_on[no_history] = by_skill[no_history]
    by_taste = prefs.cluster_courses[prefs.cluster[rows]].toarray()
    w_skill, w_follow_on, w_taste, w_popular, w_noise = prefs.mixture
    relevance = (
        w_skill * by_skill
        + w_follow_on * by_follow_on
        + w_taste * by_taste
        + w_popular * prefs.popularity[None, :]
        + w_noise / n_courses
    )
    return relevance[0] if single else relevance
