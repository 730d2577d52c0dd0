import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.models import Member
from members.selectors import member_learning
from tests.factories import BookmarkFactory, CourseFactory, EnrolmentFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
URL = reverse("members:my_learning")


def _day(n: int) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


@pytest.fixture
def learning(member: Member) -> Member:
    """Two courses in progress, two finished, two bookmarks, and another member's activity."""
    EnrolmentFactory(
        member=member,
        course=CourseFactory(title="Started long ago"),
        enrolled_at=_day(0),
        progress_percent=40,
        last_watched_at=_day(1),
    )
    EnrolmentFactory(
        member=member,
        course=CourseFactory(title="Watched yesterday"),
        enrolled_at=_day(2),
        progress_percent=10,
        last_watched_at=_day(9),
    )
    EnrolmentFactory(
        member=member,
        course=CourseFactory(title="Never watched"),
        enrolled_at=_day(5),
    )
    EnrolmentFactory(
        member=member,
        course=CourseFactory(title="Finished first"),
        enrolled_at=_day(0),
        progress_percent=100,
        completed_at=_day(3),
    )
    EnrolmentFactory(
        member=member,
        course=CourseFactory(title="Finished last"),
        enrolled_at=_day(1),
        progress_percent=100,
        completed_at=_day(8),
    )
    BookmarkFactory(member=member, course=CourseFactory(title="Saved early"), created_at=_day(1))
    BookmarkFactory(member=member, course=CourseFactory(title="Saved late"), created_at=_day(6))
    EnrolmentFactory(course=CourseFactory(title="Someone else's"), enrolled_at=_day(1))
    BookmarkFactory(course=CourseFactory(title="Someone else's bookmark"), created_at=_day(1))
    return member


def test_sections_hold_exactly_the_members_courses(learning: Member) -> None:
    result = member_learning(member=learning)

    assert [e.course.title for e in result.in_progress] == [
        "Watched yesterday",
        "Started long ago",
        "Never watched",
    ]
    assert [e.course.title for e in result.finished] == ["Finished last", "Finished first"]
    assert [b.course.title for b in result.bookmarked] == ["Saved late", "Saved early"]


def test_selector_costs_two_queries(learning: Member, django_assert_num_queries) -> None:
    with django_assert_num_queries(2):
        result = member_learning(member=learning)
        # Course titles come with the rows, not with one query each.
        [e.course.title for e in result.in_progress + result.finished]
        [b.course.title for b in result.bookmarked]


def test_empty_sections(member: Member) -> None:
    result = member_learning(member=member)

    assert (result.in_progress, result.finished, result.bookmarked) == ([], [], [])


def test_page_renders_the_three_sections(member_client: Client, learning: Member) -> None:
    response = member_client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    in_progress = html[html.index('id="in-progress"') : html.index('id="finished"')]
    finished = html[html.index('id="finished"') : html.index('id="bookmarked"')]
    bookmarked = html[html.index('id="bookmarked"') :]
    assert in_progress.index("Watched yesterday") < in_progress.index("Started long ago")
    assert 'aria-valuenow="40"' in in_progress
    assert "Finished last" not in in_progress
    assert "Finished on 9 March 2025" in finished
    assert "Finished on 4 March 2025" in finished
    assert "Saved late" in bookmarked and "Saved early" in bookmarked
    assert "Someone else" not in html


def test_page_query_count_does_not_grow_with_courses(member_client: Client, member) -> None:
    EnrolmentFactory(member=member, enrolled_at=T0)
    with CaptureQueriesContext(connection) as few:
        member_client.get(URL)

    for n in range(6):
        EnrolmentFactory(member=member, enrolled_at=_day(n))
        EnrolmentFactory(
            member=member, enrolled_at=_day(n), progress_percent=100, completed_at=_day(n + 1)
        )
        BookmarkFactory(member=member, created_at=_day(n))
    with CaptureQueriesContext(connection) as many:
        member_client.get(URL)

    assert len(many.captured_queries) == len(few.captured_queries)


def test_page_requires_login(client: Client) -> None:
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url == f"{reverse('members:login')}?next={URL}"


def test_courses_unpublished_since_stay_listed_without_their_link(member_client, member):
    gone = CourseFactory(title="Withdrawn Course", slug="withdrawn-course")
    kept = CourseFactory(title="Live Course", slug="live-course")
    EnrolmentFactory(member=member, course=gone, progress_percent=20, last_watched_at=_day(1))
    EnrolmentFactory(member=member, course=kept, progress_percent=20, last_watched_at=_day(2))
    BookmarkFactory(member=member, course=gone)
    gone.published_at = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    gone.save(update_fields=["published_at"])

    learning = member_learning(member=member)
    assert [(e.course.title, e.course_published) for e in learning.in_progress] == [
        ("Live Course", True),
        ("Withdrawn Course", False),
    ]
    assert [(b.course.title, b.course_published) for b in learning.bookmarked] == [
        ("Withdrawn Course", False)
    ]

    html = member_client.get(URL).content.decode()
    assert html.count('Withdrawn Course</span> <span class="muted">(no longer available)') == 2
    assert "/courses/withdrawn-course/" not in html
    assert "/courses/live-course/" in html
