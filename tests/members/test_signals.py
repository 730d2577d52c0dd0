import uuid

import pytest
from django.db import transaction

from members.services import bookmark_toggle, enrolment_start, enrolment_watch
from members.signals import member_activity_announce
from recommendations.feedback.events import EventInput, events_ingest
from tests.factories import CourseFactory, MemberFactory

pytestmark = pytest.mark.django_db


def test_one_announcement_per_member_per_transaction(announced, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for member_id in (7, 8, 7, 7, 8):
            member_activity_announce(member_id=member_id)
    assert len(callbacks) == 2
    assert announced == [7, 8]


def test_nothing_is_announced_before_commit_or_after_rollback(
    announced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        member_activity_announce(member_id=7)
        assert announced == []
    assert announced == [7]
    announced.clear()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                member_activity_announce(member_id=9)
                raise RuntimeError("refused")
        except RuntimeError:
            pass
    assert callbacks == []
    assert announced == []


def test_a_rolled_back_savepoint_does_not_swallow_a_later_announcement(
    announced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                member_activity_announce(member_id=7)
                raise RuntimeError("refused")
        except RuntimeError:
            pass
        member_activity_announce(member_id=7)
    assert len(callbacks) == 1
    assert announced == [7]


def test_a_change_inside_a_savepoint_after_one_outside_is_announced_once(
    announced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        member_activity_announce(member_id=7)
        with transaction.atomic():
            member_activity_announce(member_id=7)
    assert len(callbacks) == 1
    assert announced == [7]


def test_services_in_one_transaction_announce_the_member_once(
    announced, django_capture_on_commit_callbacks
):
    member, course = MemberFactory(), CourseFactory()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        enrolment_start(member=member, course=course)
        enrolment_watch(member=member, course=course, seconds=120)
        bookmark_toggle(member=member, course=course)
    assert announced == [member.pk]


def test_an_event_batch_announces_its_member_once(announced, django_capture_on_commit_callbacks):
    member, course, other = MemberFactory(), CourseFactory(), CourseFactory()
    events = [
        EventInput(event_id=uuid.uuid4(), kind="enrol", course_id=course.pk),
        EventInput(event_id=uuid.uuid4(), kind="watch", course_id=course.pk, value=30),
        EventInput(event_id=uuid.uuid4(), kind="bookmark", course_id=other.pk),
        EventInput(event_id=uuid.uuid4(), kind="unbookmark", course_id=other.pk),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        results = events_ingest(member=member, events=events)
    assert [result.status for result in results] == ["accepted"] * 4
    assert announced == [member.pk]
