"""A small site: a handful of members and courses still gets its followed skills' carousels."""

import numpy as np
from django.urls import reverse
from django.utils import timezone

from recommendations.serving.home_page import home_page_for_member
from recommendations.serving.state import snapshot_active
from recommendations.training.runs import training_run_execute
from tests.factories import (
    CourseFactory,
    CourseSkillFactory,
    FollowedSkillFactory,
    MemberFactory,
    MemberSkillFactory,
    SkillFactory,
)
from tests.helpers import token_client


def _tiny_site():
    """Three members, five courses, four skills; each skill held by one or two members."""
    go, rust, sql, excel = (SkillFactory(name=name) for name in ("Go", "Rust", "SQL", "Excel"))
    now = timezone.now()
    courses = {}
    for days, (title, skill) in enumerate(
        [
            ("Go in Practice", go),
            ("Concurrency in Go", go),
            ("Rust for Beginners", rust),
            ("SQL Basics", sql),
            ("Excel Formulas", excel),
        ]
    ):
        course = CourseFactory(title=title, published_at=now - timezone.timedelta(days=days + 1))
        CourseSkillFactory(course=course, skill=skill)
        courses[title] = course
    first, second, third = MemberFactory(), MemberFactory(), MemberFactory()
    MemberSkillFactory(member=second, skill=sql)
    MemberSkillFactory(member=third, skill=sql)
    MemberSkillFactory(member=third, skill=excel)
    return first, {"Go": go, "Rust": rust, "SQL": sql, "Excel": excel}, courses


def test_on_a_tiny_site_every_held_skill_has_an_idf(db):
    _, skills, _ = _tiny_site()
    training_run_execute(trigger="test")
    snapshot = snapshot_active()
    idf = dict(zip(snapshot.skill_ids.tolist(), snapshot.idf.tolist(), strict=True))
    # Three members: the cutoff is one member, not IDF_MIN_MEMBERS (3).
    assert idf[skills["Excel"].pk] == np.log(1 + 3 / 1)
    assert idf[skills["SQL"].pk] == np.log(1 + 3 / 2)
    # Held by nobody at the retrain: no IDF.
    assert idf[skills["Go"].pk] == 0.0


def test_a_followed_skill_gets_its_carousel_on_a_tiny_site(db):
    member, skills, courses = _tiny_site()
    training_run_execute(trigger="test")
    # Followed after the retrain, and held by no one else: too rare for any IDF.
    FollowedSkillFactory(member=member, skill=skills["Go"])
    FollowedSkillFactory(member=member, skill=skills["Rust"])
    page = home_page_for_member(member=member)
    follow = [c for c in page.carousels if c.reason == "follow"]
    titles = {c.label: [card.course.title for card in c.cards] for c in follow}
    # Go's two courses and Rust's one are under the minimum carousel size of 3: folded into
    # one carousel (newest follow first), still shown; round-robin over skill sets inside it.
    assert titles == {
        "Because you follow Rust and Go": [
            "Go in Practice",
            "Rust for Beginners",
            "Concurrency in Go",
        ]
    }
    body = token_client(member.user).get(reverse("api:recommendations")).json()
    assert body["carousels"][0]["reason"] == "follow"
    assert {item["course"]["id"] for item in body["carousels"][0]["courses"]} == {
        courses[title].pk for title in ("Go in Practice", "Concurrency in Go", "Rust for Beginners")
    }
