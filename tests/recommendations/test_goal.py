"""Career goals: the gap to the goal role, the path that closes it, the "Toward" carousel."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import Course
from members.models import OccupationSkill
from members.services import enrolment_finish, member_goal_set
from recommendations.models import Dismissal
from recommendations.serving.goal import goal_for_member
from recommendations.serving.home_page import home_page_for_member, home_page_for_visitor
from recommendations.serving.inputs import member_serving_inputs
from recommendations.serving.stored_pages import page_digest
from tests.factories import PASSWORD, JobTitleFactory, MemberSkillFactory
from tests.helpers import new_analyst, recommendations_served, response_close


@pytest.fixture
def scientist(world):
    """The Data Scientist occupation: SQL and Python in demand, Tableau ordinary."""
    title = JobTitleFactory(name="Data Scientist")
    skills = world["skills"]
    for name, weight, hot in [("SQL", 0.6, True), ("Python", 0.9, True), ("Tableau", 0.5, False)]:
        OccupationSkill.objects.create(job_title=title, skill=skills[name], weight=weight, hot=hot)
    return title


@pytest.fixture
def aspirant(world, scientist):
    """A Data Analyst with SQL on their profile who aims to become a Data Scientist."""
    member = new_analyst(world)
    MemberSkillFactory(member=member, skill=world["skills"]["SQL"])
    member_goal_set(member=member, text="data scientist")
    return member


def names(skills):
    return [skill.name for skill in skills]


def test_the_gap_is_the_roles_skills_the_member_lacks_in_demand_first(aspirant, scientist):
    overview = goal_for_member(member=aspirant)
    assert overview.goal_text == "data scientist"
    assert overview.occupation == scientist
    gap = overview.gap
    # Hot technologies first (Python weighs more than SQL), then the ordinary one.
    assert names(gap.skills) == ["Python", "SQL", "Tableau"]
    assert names(gap.covered) == ["SQL"]
    assert gap.covered[0].held_by == "profile"
    assert names(gap.to_learn) == ["Python", "Tableau"]
    assert gap.share_covered == pytest.approx(1 / 3)


def test_followed_skills_and_finished_courses_cover_skills_too(world, aspirant):
    from members.models import FollowedSkill

    FollowedSkill.objects.create(member=aspirant, skill=world["skills"]["Tableau"])
    enrolment_finish(member=aspirant, course=world["courses"]["Learning Python"])
    gap = goal_for_member(member=aspirant).gap
    assert {skill.name: skill.held_by for skill in gap.skills} == {
        "Python": "course",
        "SQL": "profile",
        "Tableau": "followed",
    }
    assert gap.to_learn == []
    assert goal_for_member(member=aspirant).steps == []


def test_the_cohort_of_the_goal_title_weighs_its_skills(world, scientist):
    """Five Data Scientists all holding Tableau lift it above SQL (O*NET 0.6 vs 0.5)."""
    from tests.factories import MemberFactory

    for _ in range(5):
        MemberSkillFactory(member=MemberFactory(title=scientist), skill=world["skills"]["Tableau"])
    member = new_analyst(world)
    member_goal_set(member=member, text="Data Scientist")
    gap = goal_for_member(member=member).gap
    importance = {skill.name: skill.importance for skill in gap.skills}
    assert importance["Tableau"] == pytest.approx(0.5 * (0.5 + 1.0))
    assert importance["Tableau"] > importance["SQL"] / 1.5  # SQL: hot, no cohort share


def test_every_path_step_covers_a_gap_skill_and_the_path_covers_the_gap(world, aspirant):
    steps = goal_for_member(member=aspirant).steps
    assert steps
    gap_names = {"Python", "Tableau"}
    for step in steps:
        assert step.covers and set(step.covers) <= gap_names
    assert set().union(*(step.covers for step in steps)) == gap_names
    # Greedy cover: one course per skill here (no course teaches both).
    assert len(steps) == 2


def test_beginner_before_advanced_within_a_skill(world, aspirant):
    courses = world["courses"]
    # Only an advanced Python course and a beginner one that also teaches Tableau.
    Course.objects.filter(pk__in=[c.pk for c in courses.values()]).update(
        level=Course.Level.INTERMEDIATE
    )
    Course.objects.filter(pk=courses["Python Testing"].pk).update(level=Course.Level.ADVANCED)
    from tests.factories import CourseFactory, CourseSkillFactory

    both = CourseFactory(title="Python Dashboards with Tableau", level=Course.Level.BEGINNER)
    CourseSkillFactory(course=both, skill=world["skills"]["Python"])
    CourseSkillFactory(course=both, skill=world["skills"]["Tableau"])
    steps = goal_for_member(member=aspirant).steps
    # The beginner course covers both gap skills at once: one step.
    assert [step.course.title for step in steps] == ["Python Dashboards with Tableau"]
    assert steps[0].covers == ["Python", "Tableau"]


def test_finishing_a_path_course_ticks_its_skills_off_and_replans(world, aspirant):
    before = goal_for_member(member=aspirant)
    python_step = next(step for step in before.steps if "Python" in step.covers)
    enrolment_finish(member=aspirant, course=python_step.course)
    after = goal_for_member(member=aspirant)
    assert names(after.gap.to_learn) == ["Tableau"]
    assert [skill.held_by for skill in after.gap.skills if skill.name == "Python"] == ["course"]
    assert all(step.covers == ["Tableau"] for step in after.steps)
    assert python_step.course.pk not in [step.course.pk for step in after.steps]


def test_dismissed_courses_are_never_planned(world, aspirant):
    tableau = world["courses"]["Tableau Dashboards"]
    assert tableau.pk in [step.course.pk for step in goal_for_member(member=aspirant).steps]
    Dismissal.objects.create(member=aspirant, course=tableau)
    steps = goal_for_member(member=aspirant).steps
    assert tableau.pk not in [step.course.pk for step in steps]
    # No other course teaches Tableau: the path covers Python only.
    assert all("Tableau" not in step.covers for step in steps)


def test_without_a_goal_there_is_no_gap_and_no_carousel(world):
    member = new_analyst(world, "SQL")
    overview = goal_for_member(member=member)
    assert overview.gap is None and overview.steps == []
    page = home_page_for_member(member=member)
    assert "goal" not in [carousel.reason for carousel in page.carousels]


def test_the_toward_carousel_shows_the_paths_next_steps_with_its_reason(world, aspirant):
    page = home_page_for_member(member=aspirant)
    carousel = next(c for c in page.carousels if c.reason == "goal")
    assert carousel.label == "Toward data scientist"
    assert carousel.key == f"goal:{aspirant.goal_id}"
    planned = [step.course.pk for step in goal_for_member(member=aspirant).steps]
    shown = [card.course.pk for card in carousel.cards]
    assert shown and set(shown) <= set(planned)
    tableau = world["courses"]["Tableau Dashboards"]
    card = next(card for card in carousel.cards if card.course.pk == tableau.pk)
    assert card.explanation == "Toward data scientist: covers Tableau"
    assert card.shown.reason == "goal" and card.shown.reason_key == carousel.key


def test_the_toward_carousel_is_on_the_homepage_and_in_the_api(world, aspirant, client):
    client.login(username=aspirant.user.username, password=PASSWORD)
    response = client.get(reverse("home"))
    assert b"Toward data scientist" in response.content
    response_close(response)
    api = recommendations_served(aspirant)
    goal = next(c for c in api.data["carousels"] if c["reason"] == "goal")
    assert goal["label"] == "Toward data scientist"
    explanations = [card["explanation"] for card in goal["courses"]]
    assert explanations
    assert all(line.startswith("Toward data scientist: covers ") for line in explanations)
    response_close(api)


def test_the_stored_page_digest_changes_with_the_goal(world, aspirant, scientist):
    def digest():
        inputs = member_serving_inputs(
            member_id=aspirant.pk,
            window_start=timezone.localdate(),
            discount_threshold=3,
            with_learned=False,
            goal_id=aspirant.goal_id,
        )
        return page_digest(
            inputs=inputs,
            member=aspirant,
            run_id=1,
            strategy="default",
            variant_id=None,
            max_carousels=None,
            window_start=timezone.localdate(),
        )

    first = digest()
    member_goal_set(member=aspirant, text="Data Scientist")  # same occupation, new label
    assert digest() != first
    second = digest()
    OccupationSkill.objects.filter(job_title=scientist, skill__name="Tableau").update(hot=True)
    assert digest() != second


def test_recency_pages_have_no_goal(world, aspirant):
    page = home_page_for_member(member=aspirant, strategy="recency")
    assert "goal" not in [carousel.reason for carousel in page.carousels]


def test_a_goal_costs_the_homepage_no_statement_on_postgresql(world, scientist, client, settings):
    settings.RECOMMENDATIONS = {**settings.RECOMMENDATIONS, "SNAPSHOT_CHECK_SECONDS": 3600}
    settings.CATALOG_CARD_CACHE = False
    plain = new_analyst(world, "SQL")
    aiming = new_analyst(world, "SQL")
    member_goal_set(member=aiming, text="Data Scientist")
    home_page_for_visitor()  # warm the process's snapshot
    counts = []
    for member in (plain, aiming):
        client.login(username=member.user.username, password=PASSWORD)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("home"))
        response_close(response)
        counts.append(len(captured))
    # The role's skills are a column of the inputs statement on PostgreSQL; elsewhere one ORM
    # query, only for a member with a goal.
    extra = 0 if connection.vendor == "postgresql" else 1
    assert counts[1] == counts[0] + extra


def test_my_goal_page_shows_gap_and_path(world, aspirant, client):
    client.login(username=aspirant.user.username, password=PASSWORD)
    home_page_for_visitor()
    response = client.get(reverse("web:goal"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "data scientist" in content
    assert 'id="goal-share">33%' in content
    assert "Tableau Dashboards" in content and "covers Tableau" in content


def test_my_goal_page_without_a_goal_offers_the_form(world, client):
    member = new_analyst(world)
    client.login(username=member.user.username, password=PASSWORD)
    response = client.get(reverse("web:goal"))
    assert response.status_code == 200
    assert b'id="goal-form"' in response.content
    assert b"Your path" not in response.content


def test_my_goal_page_query_count(world, aspirant, client, settings, django_assert_num_queries):
    settings.RECOMMENDATIONS = {**settings.RECOMMENDATIONS, "SNAPSHOT_CHECK_SECONDS": 3600}
    settings.CATALOG_CARD_CACHE = False
    home_page_for_visitor()
    client.login(username=aspirant.user.username, password=PASSWORD)
    client.get(reverse("web:goal"))
    # Session and user with member; the inputs (one statement on PostgreSQL, nine ORM queries
    # elsewhere); the goal's occupation; the path's cards and their skills; the followed paths
    # (paths, then their steps: none here, so the member's progress is not read).
    expected = 7 if connection.vendor == "postgresql" else 15
    with django_assert_num_queries(expected):
        assert client.get(reverse("web:goal")).status_code == 200


def test_enrolled_then_finished_course_leaves_the_homepage_path(world, aspirant):
    page = home_page_for_member(member=aspirant)
    goal = next(c for c in page.carousels if c.reason == "goal")
    first = goal.cards[0].course
    enrolment_finish(member=aspirant, course=first, now=timezone.now() + dt.timedelta(seconds=1))
    again = home_page_for_member(member=aspirant)
    shown = [card.course.pk for c in again.carousels for card in c.cards if c.reason == "goal"]
    assert first.pk not in shown


def test_goal_paths_evaluate_counts_the_held_out_course_in_the_first_steps(world, aspirant):
    from recommendations.offline.goals import goal_paths_evaluate
    from tests.factories import EnrolmentFactory

    now = timezone.now()
    courses = world["courses"]
    EnrolmentFactory(
        member=aspirant, course=courses["SQL for Beginners"], enrolled_at=now - dt.timedelta(days=2)
    )
    EnrolmentFactory(
        member=aspirant,
        course=courses["Tableau Dashboards"],
        enrolled_at=now - dt.timedelta(days=1),
    )
    new_analyst(world, "SQL")  # no goal: not measured
    report = goal_paths_evaluate(k=2)
    assert report["members"] == 1
    # Tableau Dashboards is the only course teaching Tableau, a gap skill: a step of the path.
    assert report["goal_path"]["hit_rate"] == 1.0
    # The member's skills (SQL) rank SQL courses first.
    assert report["skill_affinity"]["hit_rate"] == 0.0
