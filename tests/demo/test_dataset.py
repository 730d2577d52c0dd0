"""The in-memory demo generator: shape, determinism, and hidden-preference signal."""

import datetime as dt
import re

import numpy as np
import pytest
import scipy.sparse as sp

from demo.dataset import demo_dataset_build
from demo.dataset.activity import FOLLOW_ON, NOISE, demo_relevance
from demo.dataset.taxonomy import INDUSTRIES_BY_MAJOR_GROUP
from demo.dataset.types import NO_TIME

NOW = dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC)
NOW_S = int(NOW.timestamp())


@pytest.fixture(scope="module")
def dataset():
    return demo_dataset_build(members=800, courses=300, interactions=12_000, seed=7, now=NOW)


def _fingerprint(data):
    return (
        [
            (c.title, c.description, c.level, c.duration_minutes, c.published_at)
            for c in data.courses
        ],
        [tuple(c.tags) for c in data.courses],
        data.members.title.tolist(),
        data.members.profile_skill.tolist(),
        data.members.followed_skill.tolist(),
        data.interactions.member.tolist(),
        data.interactions.course.tolist(),
        data.interactions.enrolled_at.tolist(),
    )


def test_same_seed_same_dataset_other_seed_differs():
    first = demo_dataset_build(members=150, courses=80, interactions=1500, seed=3, now=NOW)
    again = demo_dataset_build(members=150, courses=80, interactions=1500, seed=3, now=NOW)
    other = demo_dataset_build(members=150, courses=80, interactions=1500, seed=4, now=NOW)
    assert _fingerprint(first) == _fingerprint(again)
    assert _fingerprint(first) != _fingerprint(other)
    assert (first.preferences.skill_preference != again.preferences.skill_preference).nnz == 0


def test_sizes_and_uniqueness(dataset):
    assert len(dataset.courses) == 300
    assert len(dataset.members) == 800
    assert len(dataset.interactions) == 12_000
    pairs = dataset.interactions.member.astype(np.int64) * 300 + dataset.interactions.course
    assert len(np.unique(pairs)) == 12_000
    assert len({c.slug for c in dataset.courses}) == 300
    assert len({c.title.lower() for c in dataset.courses}) == 300
    assert len({s.slug for s in dataset.skills}) == len(dataset.skills)


def test_courses_text_mentions_their_skills(dataset):
    for course in dataset.courses:
        text = f"{course.title} {course.description}".lower()
        for tag in course.tags:
            skill = dataset.skills[tag.skill]
            assert any(name.lower() in text for name in (skill.name, *skill.synonyms)), (
                course.title,
                skill.name,
            )
        assert 1 <= len(course.skills) <= 4
        assert course.level in {"beginner", "intermediate", "advanced"}
        assert 10 <= course.duration_minutes <= 600
        assert course.published_at <= NOW_S


def test_course_skills_mostly_co_occur(dataset):
    pairs = [(c.skills[0], s) for c in dataset.courses for s in c.skills[1:]]
    related = sum(s in dataset.skills[p].related for p, s in pairs)
    assert related / len(pairs) > 0.6


def test_tags_approved_pending_and_pending_only(dataset):
    tags = [t for c in dataset.courses for t in c.tags]
    approved = [t for t in tags if t.status == "approved"]
    pending = [t for t in tags if t.status == "pending"]
    assert all(t.source == "taxonomist" and t.confidence == 1.0 for t in approved)
    assert all(t.source == "tagger" and 0.4 <= t.confidence <= 0.95 for t in pending)
    assert 0.05 < len(pending) / len(approved) < 0.3
    pending_only = [c for c in dataset.courses if all(t.status == "pending" for t in c.tags)]
    assert pending_only
    # Awaiting review means newly published.
    assert all(NOW_S - c.published_at < 45 * 86400 for c in pending_only)


def test_new_courses_exist_and_catalog_spans_three_years(dataset):
    ages = np.array([(NOW_S - c.published_at) / 86400 for c in dataset.courses])
    assert ages.max() > 2 * 365
    assert ages.max() <= 3 * 365 + 1
    assert 0.03 < (ages < 30).mean() < 0.2
    assert (ages < 365).mean() > (ages > 2 * 365).mean()


def test_title_templates_vary(dataset):
    shapes = {re.sub(r"[A-Z][\w.#+/-]*", "X", c.title)[:12] for c in dataset.courses}
    assert len(shapes) >= 10
    assert any(" for " in c.title and c.title.endswith("s") for c in dataset.courses)


def test_members_profile_skills_come_from_their_title(dataset):
    m = dataset.members
    for member, skill in zip(m.profile_member.tolist(), m.profile_skill.tolist(), strict=True):
        assert skill in dataset.titles[m.title[member]].skills
    assert ((m.profile_weight > 0) & (m.profile_weight <= 1)).all()
    pairs = m.profile_member.astype(np.int64) * 10_000 + m.profile_skill
    assert len(np.unique(pairs)) == len(pairs)


def test_members_titles_are_skewed_and_industries_follow_mapping(dataset):
    m = dataset.members
    counts = np.bincount(m.title, minlength=len(dataset.titles))
    assert counts.max() > 10 * np.median(counts[counts > 0])
    for t, i in zip(m.title.tolist(), m.industry.tolist(), strict=True):
        group = dataset.titles[t].onet_code[:2]
        assert dataset.industries[i] in INDUSTRIES_BY_MAJOR_GROUP[group]
    assert 12 <= len(dataset.industries) <= 16


def test_followed_skills_and_onboarding(dataset):
    m = dataset.members
    followers = np.unique(m.followed_member)
    assert 0.7 < len(followers) / len(m) < 0.9
    onboarded = m.onboarded_at != NO_TIME
    assert set(np.flatnonzero(onboarded).tolist()) == set(followers.tolist())
    assert (m.onboarded_at[onboarded] >= m.joined_at[onboarded]).all()
    # Followed skills are skills the member (secretly) wants.
    prefs = dataset.preferences.skill_preference
    wanted = np.asarray(prefs[m.followed_member, m.followed_skill]).ravel()
    assert (wanted > 0).all()


def test_interaction_times_and_progress_are_consistent(dataset):
    a = dataset.interactions
    published = np.array([c.published_at for c in dataset.courses])[a.course]
    duration = np.array([c.duration_minutes for c in dataset.courses])[a.course] * 60
    assert (a.enrolled_at >= published).all()
    assert (a.enrolled_at >= dataset.members.joined_at[a.member]).all()
    assert (a.enrolled_at <= NOW_S).all()
    assert (a.enrolled_at >= NOW_S - 271 * 86400).all()
    done = a.completed_at != NO_TIME
    assert ((a.progress_percent == 100) == done).all()
    assert (a.completed_at[done] >= a.enrolled_at[done]).all()
    assert (a.completed_at[done] <= NOW_S).all()
    assert ((a.progress_percent[~done] >= 1) & (a.progress_percent[~done] <= 99)).all()
    assert (a.watched_seconds <= duration * 1.2 + 1).all()
    assert (a.watched_seconds[done] >= duration[done] * 0.95 - 1).all()
    assert (a.last_watched_at >= a.enrolled_at).all()
    assert 0.2 < done.mean() < 0.6
    bookmarked = a.bookmarked_at != NO_TIME
    assert 0.05 < bookmarked.mean() < 0.3
    # Recent months are busier than the oldest ones.
    age_days = (NOW_S - a.enrolled_at) / 86400
    assert (age_days < 90).sum() > 2 * (age_days > 180).sum()


def test_course_popularity_is_skewed(dataset):
    counts = np.sort(np.bincount(dataset.interactions.course, minlength=300))[::-1]
    # The top tenth of the catalog draws well over a tenth of the activity. (Learners who stay
    # on a subject spread over its courses, so the head is less steep than popularity alone.)
    assert counts[:30].sum() > 0.2 * counts.sum()
    assert counts[0] > 4 * np.median(counts)


def test_interactions_follow_hidden_skill_preferences(dataset):
    prefs = dataset.preferences.skill_preference
    a = dataset.interactions
    course_skills = [set(c.skills) for c in dataset.courses]
    wanted = [set(prefs[m].indices.tolist()) for m in range(len(dataset.members))]
    hits = np.mean(
        [bool(course_skills[c] & wanted[m]) for m, c in zip(a.member, a.course, strict=True)]
    )
    rng = np.random.default_rng(0)
    random_courses = rng.integers(len(dataset.courses), size=len(a))
    chance = np.mean(
        [bool(course_skills[c] & wanted[m]) for m, c in zip(a.member, random_courses, strict=True)]
    )
    assert hits > 2 * chance


def test_interactions_carry_taste_signal_beyond_skills(dataset):
    prefs = dataset.preferences
    a = dataset.interactions
    taste = prefs.cluster_courses.toarray()
    n_clusters = taste.shape[0]
    # The courses members take weigh more in their own cluster's taste than in the others'.
    own = taste[prefs.cluster[a.member], a.course].mean()
    others = np.mean(
        [
            taste[(prefs.cluster[a.member] + k) % n_clusters, a.course].mean()
            for k in range(1, n_clusters)
        ]
    )
    assert own > 1.5 * others


def _subjects(dataset, course):
    """A course's categories, and the skills related to the ones it teaches."""
    skills = dataset.skills
    teaches = dataset.courses[course].skills
    return {skills[s].category for s in teaches}, {r for s in teaches for r in skills[s].related}


def test_follow_ons_stay_on_a_subject_the_member_took(dataset):
    a = dataset.interactions
    courses_of: dict[int, list[int]] = {}
    for m, c in zip(a.member.tolist(), a.course.tolist(), strict=True):
        courses_of.setdefault(m, []).append(c)

    def closeness(m, c):
        """2: shares a skill or a related one with another course of the member; 1: only a
        category; 0: neither."""
        categories, _ = _subjects(dataset, c)
        taught = set(dataset.courses[c].skills)
        best = 0
        for other in courses_of[m]:
            if other == c:
                continue
            other_categories, other_related = _subjects(dataset, other)
            if taught & (set(dataset.courses[other].skills) | other_related):
                return 2
            if categories & other_categories:
                best = 1
        return best

    follow_ons = np.flatnonzero(a.mode == FOLLOW_ON)
    assert 0.25 < len(follow_ons) / len(a) < 0.5
    assert 0.02 < (a.mode == NOISE).mean() < 0.1
    near = np.array([closeness(a.member[i], a.course[i]) for i in follow_ons])
    anywhere = np.random.default_rng(0).integers(300, size=len(follow_ons))
    chance = np.array(
        [closeness(a.member[i], c) for i, c in zip(follow_ons, anywhere, strict=True)]
    )
    # Every follow-on is on a subject of another course the member took, and nearly always on
    # its skills or related ones; a course drawn at random for the same member is off those
    # skills several times as often.
    assert (near > 0).all()
    assert (near == 2).mean() > 0.85
    assert (near < 2).mean() < (chance < 2).mean() / 3


def test_courses_taken_together_are_on_the_same_subject(dataset):
    """What the course page's "Similar courses" learns: each course's five nearest courses by
    the members who took both (cosine) mostly share a category with it."""
    a = dataset.interactions
    taken = sp.csr_matrix((np.ones(len(a)), (a.member, a.course)), shape=(800, 300))
    counts = np.asarray(taken.sum(axis=0)).ravel()
    similarity = (taken.T @ taken).toarray() / np.sqrt(np.outer(counts, counts))
    np.fill_diagonal(similarity, -1)
    nearest = np.argsort(-similarity, axis=1, kind="stable")[:, :5]
    categories = [_subjects(dataset, c)[0] for c in range(300)]
    shared = np.mean([bool(categories[c] & categories[n]) for c in range(300) for n in nearest[c]])
    pairs = np.random.default_rng(0).integers(300, size=(3000, 2))
    chance = np.mean([bool(categories[c] & categories[n]) for c, n in pairs if c != n])
    assert shared > 0.6
    assert shared > 4 * chance


def test_relevance_is_the_generating_distribution(dataset):
    one = demo_relevance(dataset=dataset, members=5)
    many = demo_relevance(dataset=dataset, members=[5, 6])
    assert one.shape == (300,)
    np.testing.assert_allclose(many[0], one)
    np.testing.assert_allclose(many.sum(axis=1), 1.0)
    # Members take the courses the truth ranks high: their courses' relevance beats the average.
    a = dataset.interactions
    relevance = demo_relevance(dataset=dataset, members=np.arange(len(dataset.members)))
    taken = relevance[a.member, a.course].mean()
    assert taken > 3 * relevance.mean()


def test_rejects_impossible_sizes():
    with pytest.raises(ValueError):
        demo_dataset_build(members=10, courses=10, interactions=80, seed=0, now=NOW)
