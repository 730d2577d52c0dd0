"""`member_serving_inputs`: what one page view reads of a member, in one statement on
PostgreSQL and through the ORM elsewhere, with the same rows in the same order."""

import dataclasses
import datetime as dt

import pytest
from django.db import connection

from catalog.models import CatalogRevision
from recommendations.models import (
    ComposedPage,
    CourseFeedbackDay,
    Dismissal,
    MemberRecommendations,
    ReasonFeedback,
    TrainingRun,
)
from recommendations.serving import inputs as serving_inputs
from tests.factories import (
    CourseFactory,
    EnrolmentFactory,
    FollowedSkillFactory,
    MemberFactory,
    MemberSkillFactory,
    SkillFactory,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 10)
WINDOW_START = TODAY - dt.timedelta(days=30)
AT = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def rich_member():
    member = MemberFactory()
    other = MemberFactory()
    python, sql, excel, stats = (SkillFactory(name=n) for n in ("Python", "SQL", "Excel", "Stats"))
    # Equal follow times and equal weights: ties go to the lower skill id.
    for skill in (sql, python):
        FollowedSkillFactory(member=member, skill=skill)
    FollowedSkillFactory(member=other, skill=excel)
    for skill, weight in ((excel, 0.5), (stats, 0.9), (python, 0.5)):
        MemberSkillFactory(member=member, skill=skill, weight=weight)
    courses = [CourseFactory(title=f"Course {n}") for n in range(6)]
    for course, days in ((courses[0], 3), (courses[1], 1), (courses[2], 3)):
        EnrolmentFactory(member=member, course=course, enrolled_at=AT - dt.timedelta(days=days))
    # In progress: course 0 (watched half a day ago, so ahead of course 1, enrolled a day ago
    # and never watched); course 2 is finished and not in progress.
    member.enrolments.filter(course=courses[0]).update(
        progress_percent=40, last_watched_at=AT - dt.timedelta(hours=12)
    )
    member.enrolments.filter(course=courses[2]).update(
        progress_percent=100, last_watched_at=AT, completed_at=AT
    )
    EnrolmentFactory(member=other, course=courses[5], enrolled_at=AT)
    Dismissal.objects.create(member=member, course=courses[4])
    Dismissal.objects.create(member=member, course=courses[3])
    Dismissal.objects.create(member=other, course=courses[0])
    days = [
        # Shown 2 + 2 times over two days in the window, never clicked: discounted (4 > 3).
        (member, courses[3], TODAY, 2, 0),
        (member, courses[3], TODAY - dt.timedelta(days=2), 2, 0),
        # Shown 3 times: at the threshold, not discounted.
        (member, courses[4], TODAY, 3, 0),
        # Shown 9 times and clicked once: not discounted.
        (member, courses[5], TODAY, 9, 1),
        # Shown 5 times but only on the window's first excluded day: not discounted.
        (member, courses[2], WINDOW_START, 5, 0),
        # Shown 7 times, one day inside the window: discounted.
        (member, courses[1], WINDOW_START + dt.timedelta(days=1), 7, 0),
        (other, courses[0], TODAY, 8, 0),
    ]
    for who, course, day, impressions, clicks in days:
        CourseFeedbackDay.objects.create(
            member=who, course=course, day=day, impressions=impressions, clicks=clicks
        )
    ReasonFeedback.objects.create(member=member, reason="popular", impressions=10, clicks=2)
    ReasonFeedback.objects.create(member=member, reason="follow", impressions=4, clicks=0)
    ReasonFeedback.objects.create(member=other, reason="new", impressions=1, clicks=1)
    run = TrainingRun.objects.create(status=TrainingRun.Status.SUCCEEDED, started_at=AT)
    MemberRecommendations.objects.create(
        member=member, run=run, computed_at=AT, payload=b"\x01\x02"
    )
    return member, {"python": python, "sql": sql, "excel": excel, "stats": stats}, courses


def _read(member, *, with_learned=True, reader=serving_inputs.member_serving_inputs):
    return reader(
        member_id=member.pk,
        window_start=WINDOW_START,
        discount_threshold=3,
        with_learned=with_learned,
    )


def test_the_inputs_of_one_member_exactly(rich_member):
    member, skills, courses = rich_member
    low, high = sorted((skills["python"], skills["sql"]), key=lambda skill: skill.pk)

    inputs = _read(member)

    assert inputs == serving_inputs.MemberServingInputs(
        followed=[(low.pk, low.name), (high.pk, high.name)],
        profile=[
            (skills["stats"].pk, 0.9, "Stats"),
            *sorted([(skills["excel"].pk, 0.5, "Excel"), (skills["python"].pk, 0.5, "Python")]),
        ],
        enrolled=[
            (courses[1].pk, "Course 1"),
            (courses[0].pk, "Course 0"),
            (courses[2].pk, "Course 2"),
        ],
        dismissed=[courses[3].pk, courses[4].pk],
        learned_payload=b"\x01\x02",
        discounted=[(courses[1].pk, 7), (courses[3].pk, 4)],
        reason_feedback={"follow": (4, 0), "popular": (10, 2)},
        catalog_revision=CatalogRevision.objects.get().revision,
        in_progress=[(courses[0].pk, 40), (courses[1].pk, 0)],
    )


def test_unfinished_courses_of_equal_activity_go_to_the_lower_id():
    member = MemberFactory()
    first, second = CourseFactory(), CourseFactory()
    for course in (second, first):
        EnrolmentFactory(member=member, course=course, enrolled_at=AT)
    assert _read(member).in_progress == [(first.pk, 0), (second.pk, 0)]


def test_the_learned_row_is_read_only_when_asked_for(rich_member):
    member, _, _ = rich_member
    assert _read(member, with_learned=False).learned_payload is None


def test_a_member_with_nothing_yet():
    inputs = _read(MemberFactory())
    assert inputs == serving_inputs.MemberServingInputs(
        followed=[],
        profile=[],
        enrolled=[],
        dismissed=[],
        learned_payload=None,
        discounted=[],
        reason_feedback={},
        catalog_revision=CatalogRevision.objects.get().revision,
        in_progress=[],
    )


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the one-statement path is PostgreSQL's"
)
def test_both_database_paths_agree(rich_member, django_assert_num_queries):
    member, _, _ = rich_member
    with django_assert_num_queries(1):
        single = _read(member, reader=serving_inputs._member_serving_inputs_postgresql)
    assert single == _read(member, reader=serving_inputs._member_serving_inputs_portable)
    assert _read(MemberFactory(), reader=serving_inputs._member_serving_inputs_postgresql) == _read(
        MemberFactory(), reader=serving_inputs._member_serving_inputs_portable
    )


def test_without_a_catalog_revision_row_the_revision_is_none():
    CatalogRevision.objects.all().delete()
    assert _read(MemberFactory()).catalog_revision is None


def test_the_discounted_courses_read_alone_are_those_the_inputs_hold(rich_member):
    member, _, courses = rich_member
    assert serving_inputs.member_discounted_read(
        member_id=member.pk, window_start=WINDOW_START, discount_threshold=3
    ) == [(courses[1].pk, 7), (courses[3].pk, 4)]
    assert (
        serving_inputs.member_discounted_read(
            member_id=MemberFactory().pk, window_start=WINDOW_START, discount_threshold=3
        )
        == []
    )


STEADY = (AT - dt.timedelta(seconds=60), AT)


def _read_steady(member):
    """The inputs of a page view at AT, whose stored page is served whatever the impressions
    if composed in the minute before."""
    return serving_inputs.member_serving_inputs(
        member_id=member.pk,
        window_start=WINDOW_START,
        discount_threshold=3,
        with_learned=True,
        stored_steady_between=STEADY,
    )


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the one-statement path is PostgreSQL's"
)
@pytest.mark.parametrize(
    ("composed_at", "without_impressions", "skipped"),
    [
        (AT - dt.timedelta(seconds=60), b"w", True),  # the window's first instant
        (AT, b"w", True),  # its last
        (AT - dt.timedelta(seconds=61), b"w", False),  # older
        (AT + dt.timedelta(seconds=1), b"w", False),  # composed after the page view's time
        (AT, b"", False),  # stored without the digest that would serve it
        (None, b"", False),  # no stored page
    ],
)
def test_a_stored_page_in_its_steady_window_spares_the_discount_sum(
    rich_member, composed_at, without_impressions, skipped, django_assert_num_queries
):
    member, _, courses = rich_member
    if composed_at is not None:
        ComposedPage.objects.create(
            member=member,
            digest=b"d",
            digest_without_impressions=without_impressions,
            composed_at=composed_at,
            layout=b"[]",
        )

    with django_assert_num_queries(1):
        inputs = _read_steady(member)

    # Everything else is read as without the window.
    assert inputs.discounted == (None if skipped else [(courses[1].pk, 7), (courses[3].pk, 4)])
    assert dataclasses.replace(inputs, discounted=_read(member).discounted) == _read(member)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the one-statement path is PostgreSQL's"
)
def test_a_member_with_nothing_discounted_is_told_from_a_skipped_sum():
    assert _read_steady(MemberFactory()).discounted == []


def test_elsewhere_the_discounted_courses_are_always_read(rich_member):
    member, _, courses = rich_member
    ComposedPage.objects.create(member=member, digest=b"d", composed_at=AT, layout=b"[]")
    inputs = serving_inputs._member_serving_inputs_portable(
        member_id=member.pk, window_start=WINDOW_START, discount_threshold=3, with_learned=True
    )
    assert inputs.discounted == [(courses[1].pk, 7), (courses[3].pk, 4)]
