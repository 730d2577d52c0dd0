"""Queueing a refresh never fails a saved write, and one member has at most one pending."""

import logging
import uuid

import pytest
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Task
from django_q.monitor import save_task
from django_q.signing import SignedPackage

from catalog.services import course_tagging_enqueue
from members.models import Enrolment
from members.services import bookmark_toggle, enrolment_start, enrolment_watch
from recommendations import refresh_queue, tasks
from recommendations.models import FeedbackEvent
from recommendations.refresh_queue import member_refresh_request, member_refresh_run
from tests.factories import CourseFactory, MemberFactory
from tests.helpers import token_client
from tests.recommendations.conftest import DownBroker

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down(monkeypatch):
    broker = DownBroker()
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(refresh_queue, "_task_broker", lambda: broker)
    monkeypatch.setattr("django_q.tasks.get_broker", lambda *_: broker)
    return broker


def test_an_enrolment_is_saved_and_answered_when_the_broker_is_down(
    member_client, member, broker_down, caplog, django_capture_on_commit_callbacks
):
    course = CourseFactory()
    with (
        caplog.at_level(logging.ERROR, logger="core.tasks"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = member_client.post(f"/learning/{course.slug}/enrol/")
    assert response.status_code == 302
    assert Enrolment.objects.filter(member=member, course=course).exists()
    [record] = [r for r in caplog.records if r.name == "core.tasks"]
    assert "recommendations.tasks.member_refresh" in record.getMessage()
    assert f"member {member.pk}'s recommendations row is refreshed by their next activity" in (
        record.getMessage()
    )
    assert record.exc_info[0] is ConnectionError


def test_an_event_batch_is_saved_and_answered_when_the_broker_is_down(
    member, broker_down, caplog, django_capture_on_commit_callbacks
):
    course = CourseFactory()
    events = [
        {"event_id": str(uuid.uuid4()), "type": "enrol", "course_id": course.pk},
        {"event_id": str(uuid.uuid4()), "type": "bookmark", "course_id": course.pk},
    ]
    with (
        caplog.at_level(logging.ERROR, logger="core.tasks"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = token_client(member.user).post(
            "/api/v1/events/", {"events": events}, format="json"
        )
    assert response.status_code == 200
    assert response.json()["accepted"] == 2
    assert FeedbackEvent.objects.filter(member=member).count() == 2
    assert any(f"member {member.pk}'s" in r.getMessage() for r in caplog.records)


def test_a_tagging_run_that_cannot_be_queued_is_logged(
    broker_down, caplog, django_capture_on_commit_callbacks
):
    with (
        caplog.at_level(logging.ERROR, logger="core.tasks"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        course_tagging_enqueue()
    [record] = [r for r in caplog.records if r.name == "core.tasks"]
    assert "catalog.tasks.courses_tag" in record.getMessage()
    assert "tag_courses" in record.getMessage()


def test_a_refused_refresh_is_asked_for_again_by_the_next_activity(monkeypatch, queued):
    member = MemberFactory()
    monkeypatch.setattr(refresh_queue, "_task_broker", lambda: DownBroker())
    assert member_refresh_request(member_id=member.pk) is False
    monkeypatch.setattr(refresh_queue, "_task_broker", lambda: queued)
    assert member_refresh_request(member_id=member.pk) is True
    assert len(queued.packs) == 1


# Committed for real: inside a test's transaction, the first announcement would stay in the
# connection's on-commit list and hide the next ones (see members/signals.py).
@pytest.mark.django_db(transaction=True)
def test_ten_activity_events_in_a_row_queue_one_refresh(queued):
    member, other = MemberFactory(), MemberFactory()
    course = CourseFactory(duration_minutes=600)
    enrolment_start(member=member, course=course)
    for _ in range(8):
        enrolment_watch(member=member, course=course, seconds=60)
    bookmark_toggle(member=member, course=course)
    assert len(queued.packs) == 1
    # Another member's refresh is theirs.
    enrolment_start(member=other, course=course)
    assert len(queued.packs) == 2

    # Once the task has run, the next activity queues a new one.
    assert tasks.member_refresh(member.pk) is False  # no learned run: nothing to rewrite
    bookmark_toggle(member=member, course=course)
    assert len(queued.packs) == 3


def test_a_refresh_requested_while_one_runs_runs_after_it(queued):
    member = MemberFactory()
    assert member_refresh_request(member_id=member.pk) is True
    passes = []

    def refresh() -> bool:
        passes.append(len(passes))
        if len(passes) == 1:
            # The member enrols while the first pass reads their activity.
            assert member_refresh_request(member_id=member.pk) is False
            assert member_refresh_request(member_id=member.pk) is False
        return True

    assert member_refresh_run(member_id=member.pk, refresh=refresh) is True
    # One more pass folded both requests in; no second task ran beside the first.
    assert passes == [0, 1]
    assert len(queued.packs) == 1
    # Nothing is pending any more: the next request queues.
    assert member_refresh_request(member_id=member.pk) is True
    assert len(queued.packs) == 2


def test_a_member_who_never_stops_is_handed_to_a_new_task(queued):
    member = MemberFactory()
    member_refresh_request(member_id=member.pk)

    def refresh() -> bool:
        member_refresh_request(member_id=member.pk)
        return True

    member_refresh_run(member_id=member.pk, refresh=refresh)
    assert len(queued.packs) == 2


def test_a_failed_refresh_lets_the_next_activity_queue_again(queued):
    member = MemberFactory()
    member_refresh_request(member_id=member.pk)

    def refresh() -> bool:
        raise RuntimeError("artifact unreadable")

    with pytest.raises(RuntimeError):
        member_refresh_run(member_id=member.pk, refresh=refresh)
    assert member_refresh_request(member_id=member.pk) is True
    assert len(queued.packs) == 2


def test_a_failing_cache_still_queues(queued, monkeypatch, caplog):
    member = MemberFactory()

    def down(*_args, **_kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(refresh_queue.cache, "add", down)
    with caplog.at_level(logging.ERROR, logger="recommendations.refresh_queue"):
        assert member_refresh_request(member_id=member.pk) is True
    assert len(queued.packs) == 1
    assert f"refresh of member {member.pk}: the cache failed" in caplog.text


def test_a_refresh_is_pending_from_its_request_until_it_has_run(queued):
    member, other = MemberFactory(), MemberFactory()
    assert refresh_queue.member_refresh_pending(member_id=member.pk) is False
    member_refresh_request(member_id=member.pk)
    assert refresh_queue.member_refresh_pending(member_id=member.pk) is True
    assert refresh_queue.member_refresh_pending(member_id=other.pk) is False
    member_refresh_run(member_id=member.pk, refresh=lambda: True)
    assert refresh_queue.member_refresh_pending(member_id=member.pk) is False


def test_forgotten_refreshes_are_no_longer_pending_and_queue_again(queued):
    """For tasks known to be lost (the load test's worker stopped with tasks queued): the
    members' next activity queues at once; other members' pending refreshes stand."""
    first, second, other = MemberFactory(), MemberFactory(), MemberFactory()
    for member in (first, second, other):
        assert member_refresh_request(member_id=member.pk) is True
    assert member_refresh_request(member_id=first.pk) is False  # pending: only counted
    refresh_queue.member_refresh_forget(member_ids=[first.pk, second.pk])
    assert refresh_queue.member_refresh_pending(member_id=first.pk) is False
    assert refresh_queue.member_refresh_pending(member_id=second.pk) is False
    assert refresh_queue.member_refresh_pending(member_id=other.pk) is True
    assert member_refresh_request(member_id=first.pk) is True
    assert member_refresh_request(member_id=other.pk) is False
    assert len(queued.packs) == 4


def test_forgetting_with_a_failing_cache_is_logged(monkeypatch, caplog):
    member = MemberFactory()

    def down(*_args, **_kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(refresh_queue.cache, "delete_many", down)
    with caplog.at_level(logging.ERROR, logger=refresh_queue.__name__):
        refresh_queue.member_refresh_forget(member_ids=[member.pk])
    assert "member refresh: cache" in caplog.text
    assert "ConnectionError: cache down" in caplog.text


def test_a_refresh_that_succeeds_is_not_kept_as_a_task_result(queued):
    """One runs for nearly every enrolment: storing each result (and pruning the table to
    django-q2's save limit each time) was a third of the worker's time. A failure is kept."""
    member = MemberFactory()
    member_refresh_request(member_id=member.pk)
    [pack] = queued.packs
    task = SignedPackage.loads(pack)
    assert task["func"] == refresh_queue.TASK
    assert task["save"] is False
    # As the cluster's monitor stores a result; "sync" keeps the test's database connection
    # open (the monitor closes its old connections first).
    stopped = {"stopped": timezone.now(), "sync": True}
    save_task({**task, **stopped, "success": True, "result": True}, queued)
    assert not Task.objects.exists()
    save_task({**task, **stopped, "success": False, "result": "boom"}, queued)
    assert Task.objects.get().success is False


def test_a_failing_cache_says_nothing_is_pending(monkeypatch):
    member = MemberFactory()

    def down(*_args, **_kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(refresh_queue.cache, "get", down)
    assert refresh_queue.member_refresh_pending(member_id=member.pk) is False
