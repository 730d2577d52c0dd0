"""A realistic, reproducible demo dataset, built in memory from the vendored O*NET subset.

Django-free: `demo_dataset_build` returns plain Python objects and numpy/scipy arrays;
`demo/seed.py` writes them to the database. The same seed (and `now`) always gives the
same dataset.

Learner behaviour comes from HIDDEN preferences kept in `DemoDataset.preferences`, and is
topical, as real learners are: people study a few subjects and take course after course in them.

- each member has a distribution over skills: mostly skills of their occupation (specific and
  "hot" ones weigh more, their profile skills more still), plus a few personal interests, all
  leaning on one or two subjects (a focus per skill category drawn for each member);
- after a course, a learner goes on with one of its skills, a related skill or another skill
  of its category (`follow_on_skills`);
- each member belongs to a taste cluster: a community around a topic area (two anchor skills,
  their related skills and categories) with three favourite teachers there, which a member's
  profile does not give away, so only collaborative filtering can find it;
- courses have a Zipf-like popularity.

A member's next course is drawn from a mixture (`activity.MIXTURE`): a course teaching a skill
they want (weighted by popularity); a follow-on to a course they already took; a course their
taste cluster favours; a popular course; or, a small minority, any course (noise). Courses taken
by the same learners are therefore mostly on the same or related skills, which is what the
learned "Similar courses" find. `demo_relevance` returns exactly that mixture's probabilities
(following on from any of the member's courses in the dataset), so a simulator can replay
learners and measure how close a recommender gets to the truth.

One module per part: `types` (the dataclasses), `common` (sampling and naming helpers),
`taxonomy` (skills and titles), `courses`, `members`, `activity` (interactions and
`demo_relevance`).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from demo.dataset.activity import MIXTURE, interactions_draw
from demo.dataset.common import epoch
from demo.dataset.courses import course_preferences_draw, courses_draw, teachers_draw
from demo.dataset.members import members_draw
from demo.dataset.taxonomy import skills_build, title_skill_weights, titles_build
from demo.dataset.types import DemoDataset, DemoPreferences
from demo.onet import OnetSubset, onet_subset_read


def demo_dataset_build(
    *,
    members: int = 2000,
    courses: int = 600,
    interactions: int = 40_000,
    seed: int = 0,
    now: dt.datetime | None = None,
    subset: OnetSubset | None = None,
) -> DemoDataset:
    """The whole dataset at these sizes; the same seed and `now` always give the same one.

    `now` defaults to the current hour, `subset` to the vendored O*NET subset. The steps below
    share one random generator and draw from it in this order: reordering them, or the draws
    inside them, changes every dataset built from a given seed.
    """
    _sizes_check(members=members, courses=courses, interactions=interactions)
    if now is None:
        now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    if subset is None:
        subset = onet_subset_read()
    rng = np.random.default_rng(seed)
    now_s = epoch(now)

    categories, skills = skills_build(subset=subset)
    industries, titles = titles_build(subset=subset, skills=skills)
    teachers, teacher_home = teachers_draw(rng=rng, courses=courses, categories=categories)
    course_rows = courses_draw(
        rng=rng,
        courses=courses,
        now_s=now_s,
        categories=categories,
        skills=skills,
        titles=titles,
        teachers=teachers,
        teacher_home=teacher_home,
    )
    popularity, skill_courses, follow_on_skills, cluster_courses = course_preferences_draw(
        rng=rng, course_rows=course_rows, skills=skills
    )
    member_rows, preference, cluster = members_draw(
        rng=rng,
        members=members,
        now_s=now_s,
        skills=skills,
        titles=titles,
        title_skill_weights=title_skill_weights(subset=subset, skills=skills, titles=titles),
        skill_courses=skill_courses,
        n_clusters=cluster_courses.shape[0],
    )
    preferences = DemoPreferences(
        skill_preference=preference,
        cluster=cluster,
        cluster_courses=cluster_courses,
        skill_courses=skill_courses,
        follow_on_skills=follow_on_skills,
        popularity=popularity,
        mixture=MIXTURE,
    )
    interaction_rows = interactions_draw(
        rng=rng,
        count=interactions,
        preferences=preferences,
        courses=course_rows,
        joined_at=member_rows.joined_at,
        now_s=now_s,
    )
    return DemoDataset(
        seed=seed,
        now=now,
        categories=categories,
        skills=skills,
        industries=industries,
        titles=titles,
        teachers=teachers,
        courses=course_rows,
        members=member_rows,
        interactions=interaction_rows,
        preferences=preferences,
    )


def _sizes_check(*, members: int, courses: int, interactions: int) -> None:
    """ValueError unless sizes are positive and the enrolments fit in the (member, course) pairs."""
    if members < 1 or courses < 1 or interactions < 0:
        raise ValueError("members and courses must be positive, interactions non-negative")
    if interactions > 0.5 * members * courses:
        raise ValueError(
            f"{interactions} interactions cannot be spread over {members} members and "
            f"{courses} courses (at most half of all pairs)"
        )


def demo_member_username(*, index: int) -> str:
    """Username of the generated member at `index` (0-based): member000001, member000002..."""
    return f"member{index + 1:06d}"
