"""The per-day course counts and per-reason counts behind impression discounting and the
carousel click-through order: kept by every writer of impressions and clicks, equal to what the
events say."""

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from recommendations.data import ShownCourse
from recommendations.feedback.services import (
    FeedbackDelta,
    click_log,
    feedback_counts_add,
    feedback_counts_rebuild,
    impressions_log,
)
from recommendations.models import CourseFeedbackDay, PageView, ReasonFeedback
from tests.factories import CourseFactory, MemberFactory
from tests.helpers import feedback_counts_read, shown_cards

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


def _card(course, reason: str, carousel: int, position: int) -> ShownCourse:
    return ShownCourse(course.pk, reason, f"{reason}:1", "rules", carousel, position)


def test_deltas_are_summed_per_course_day_and_per_reason_and_added_to_stored_counts():
    member = MemberFactory()
    sql, python = CourseFactory(), CourseFactory()
    day = NOW.date()
    feedback_counts_add(
        deltas=[
            FeedbackDelta(member.pk, sql.pk, "follow", day, impressions=1),
            FeedbackDelta(member.pk, sql.pk, "popular", day, impressions=1),
            FeedbackDelta(member.pk, python.pk, "follow", day, impressions=1, clicks=1),
        ]
    )
    feedback_counts_add(
        deltas=[
            FeedbackDelta(member.pk, sql.pk, "follow", day, clicks=1),
            FeedbackDelta(member.pk, sql.pk, "follow", day + dt.timedelta(days=1), impressions=2),
        ]
    )
    assert feedback_counts_read() == {
        "course_days": sorted(
            [
                (member.pk, sql.pk, day, 2, 1),
                (member.pk, sql.pk, day + dt.timedelta(days=1), 2, 0),
                (member.pk, python.pk, day, 1, 1),
            ]
        ),
        "reasons": sorted([(member.pk, "follow", 4, 2), (member.pk, "popular", 1, 0)]),
    }


def test_no_deltas_write_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        feedback_counts_add(deltas=[])
    assert not CourseFeedbackDay.objects.exists()
    assert not ReasonFeedback.objects.exists()


def test_impressions_and_clicks_keep_the_counts_equal_to_the_events():
    member, other = MemberFactory(), MemberFactory()
    sql, python = CourseFactory(), CourseFactory()
    page = uuid.uuid4()
    shown = [_card(sql, "follow", 0, 0), _card(python, "popular", 1, 0)]
    impressions_log(member=member, page_view_id=page, shown=shown, now=NOW)
    impressions_log(member=member, page_view_id=uuid.uuid4(), shown=shown[:1], now=NOW)
    impressions_log(member=other, page_view_id=uuid.uuid4(), shown=shown[1:], now=NOW)
    click_log(member=member, page_view_id=page, course=python, now=NOW)
    # A click without a matching impression is not logged, so it counts nowhere either.
    assert click_log(member=other, page_view_id=page, course=sql, now=NOW) is None

    stored = feedback_counts_read()
    assert stored == {
        "course_days": sorted(
            [
                (member.pk, sql.pk, NOW.date(), 2, 0),
                (member.pk, python.pk, NOW.date(), 1, 1),
                (other.pk, python.pk, NOW.date(), 1, 0),
            ]
        ),
        "reasons": sorted(
            [
                (member.pk, "follow", 2, 0),
                (member.pk, "popular", 1, 1),
                (other.pk, "popular", 1, 0),
            ]
        ),
    }
    feedback_counts_rebuild()
    assert feedback_counts_read() == stored


def test_impressions_of_courses_deleted_since_the_page_was_composed_are_left_out():
    member = MemberFactory()
    kept, deleted = CourseFactory(), CourseFactory()
    shown = [_card(deleted, "follow", 0, 0), _card(kept, "follow", 0, 1), _card(kept, "new", 1, 0)]
    deleted_id = deleted.pk
    deleted.delete()

    assert impressions_log(member=member, page_view_id=uuid.uuid4(), shown=shown, now=NOW) == 2

    # The page view keeps what it showed; only the courses that exist are counted.
    assert [card[1:3] for card in shown_cards(member=member)] == [
        (deleted_id, "follow"),
        (kept.pk, "follow"),
        (kept.pk, "new"),
    ]
    stored = feedback_counts_read()
    assert stored == {
        "course_days": [(member.pk, kept.pk, NOW.date(), 2, 0)],
        "reasons": sorted([(member.pk, "follow", 1, 0), (member.pk, "new", 1, 0)]),
    }
    feedback_counts_rebuild()
    assert feedback_counts_read() == stored


def test_impressions_of_a_member_deleted_meanwhile_store_nothing():
    member, course = MemberFactory(), CourseFactory()
    member.user.delete()  # the member goes with its user

    logged = impressions_log(
        member=member, page_view_id=uuid.uuid4(), shown=[_card(course, "new", 0, 0)], now=NOW
    )

    assert logged == 0
    assert not PageView.objects.exists()
    assert feedback_counts_read() == {"course_days": [], "reasons": []}


def test_deleting_a_course_or_a_member_deletes_their_page_views_events_and_counts():
    # The tables have no foreign-key constraints in the database: the ORM's cascade does this.
    member, other = MemberFactory(), MemberFactory()
    gone, stays = CourseFactory(), CourseFactory()
    gone_id = gone.pk
    for who in (member, other):
        impressions_log(
            member=who,
            page_view_id=uuid.uuid4(),
            shown=[_card(gone, "follow", 0, 0), _card(stays, "new", 1, 0)],
            now=NOW,
        )

    gone.delete()
    member.user.delete()

    # The other member's page view still says what it showed.
    assert [card[1] for card in shown_cards()] == [gone_id, stays.pk]
    assert list(PageView.objects.values_list("member_id", flat=True)) == [other.pk]
    assert feedback_counts_read() == {
        "course_days": [(other.pk, stays.pk, NOW.date(), 1, 0)],
        "reasons": sorted([(other.pk, "follow", 1, 0), (other.pk, "new", 1, 0)]),
    }


def test_rebuild_for_some_members_recounts_only_theirs():
    member, other = MemberFactory(), MemberFactory()
    course = CourseFactory()
    for who in (member, other):
        impressions_log(
            member=who, page_view_id=uuid.uuid4(), shown=[_card(course, "new", 0, 0)], now=NOW
        )
    PageView.objects.filter(member=member).delete()
    PageView.objects.filter(member=other).delete()

    feedback_counts_rebuild(member_ids=[member.pk])

    assert feedback_counts_read() == {
        "course_days": [(other.pk, course.pk, NOW.date(), 1, 0)],
        "reasons": [(other.pk, "new", 1, 0)],
    }


def test_counts_are_kept_per_day_in_the_sites_time_zone():
    member, course = MemberFactory(), CourseFactory()
    late = dt.datetime(2026, 3, 10, 23, 59, tzinfo=dt.UTC)
    for moment in (late, late + dt.timedelta(minutes=2)):
        impressions_log(
            member=member,
            page_view_id=uuid.uuid4(),
            shown=[_card(course, "new", 0, 0)],
            now=moment,
        )
    assert list(CourseFeedbackDay.objects.order_by("day").values_list("day", "impressions")) == [
        (dt.date(2026, 3, 10), 1),
        (dt.date(2026, 3, 11), 1),
    ]
    assert timezone.get_current_timezone_name() == "UTC"


def test_thousands_of_deltas_in_one_call_are_all_counted():
    member, course = MemberFactory(), CourseFactory()
    first = NOW.date()
    days = [first + dt.timedelta(days=offset) for offset in range(2500)]
    feedback_counts_add(
        deltas=[FeedbackDelta(member.pk, course.pk, "new", day, impressions=2) for day in days]
    )
    assert CourseFeedbackDay.objects.count() == 2500
    assert sorted(CourseFeedbackDay.objects.values_list("day", flat=True)) == days
    assert set(CourseFeedbackDay.objects.values_list("impressions", flat=True)) == {2}
    assert list(ReasonFeedback.objects.values_list("reason", "impressions", "clicks")) == [
        ("new", 5000, 0)
    ]


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's commit setting")
def test_the_impressions_transaction_does_not_wait_for_its_wal_flush():
    member, course = MemberFactory(), CourseFactory()
    assert _synchronous_commit() == "on"

    impressions_log(
        member=member, page_view_id=uuid.uuid4(), shown=[_card(course, "new", 0, 0)], now=NOW
    )

    # The test's transaction is the one the statement ran in.
    assert _synchronous_commit() == "off"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's commit setting")
@pytest.mark.django_db(transaction=True)
def test_alone_the_impressions_statement_is_its_own_transaction_and_leaves_the_session_as_it_was():
    member, course = MemberFactory(), CourseFactory()

    logged = impressions_log(
        member=member, page_view_id=uuid.uuid4(), shown=[_card(course, "new", 0, 0)], now=NOW
    )

    assert logged == 1
    assert connection.get_autocommit()
    # Committed, and the next transaction on the connection (a click) waits for its flush.
    assert _synchronous_commit() == "on"
    assert [card[1] for card in shown_cards(member=member)] == [course.pk]
    assert feedback_counts_read()["course_days"] == [(member.pk, course.pk, NOW.date(), 1, 0)]


def test_the_counts_lock_of_a_member_deleted_meanwhile_raises_does_not_exist():
    from django.db import transaction

    from members.models import Member
    from recommendations.feedback.services import member_counts_lock

    member = MemberFactory()
    with transaction.atomic():
        member_counts_lock(member_id=member.pk)  # their row, locked until the block ends
    gone = member.pk
    member.delete()
    with pytest.raises(Member.DoesNotExist), transaction.atomic():
        member_counts_lock(member_id=gone)
