"""A click sent while its page's impressions are still being written, by another worker, after
that page's response: it waits for them (PostgreSQL), within a limit."""

import datetime as dt
import threading
import time
import uuid

import pytest
from django.conf import settings
from django.core.signals import request_finished
from django.db import connection, connections
from django.http import HttpRequest, HttpResponseServerError
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recommendations.data import ShownCourse
from recommendations.feedback.events import EventInput, events_ingest
from recommendations.feedback.selectors import shown_course_of_page_view
from recommendations.feedback.services import click_log, impressions_log
from recommendations.models import FeedbackEvent, PageView
from recommendations.serving.inputs import member_serving_inputs
from recommendations.serving.pending import (
    page_view_card,
    page_view_pending_clear,
    page_view_pending_mark,
    page_views_pending_middleware,
    page_views_pending_release,
)
from tests.factories import CourseFactory, MemberFactory
from tests.helpers import page_view_pending

DISPATCH_UID = "recommendations.page_views_pending"
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="only PostgreSQL writes impressions after the response",
)


def _shown(course, position=0):
    return ShownCourse(
        course_id=course.pk,
        reason="popular",
        reason_key="popular",
        strategy="default",
        carousel_position=0,
        position=position,
    )


class _Writer(threading.Thread):
    """Another worker: marks the page pending, then writes its impressions `delay` later (or
    never, for `delay=None`, until told to stop)."""

    def __init__(self, *, member, course, page_view_id, delay):
        super().__init__(daemon=True)
        self.member, self.course, self.page_view_id, self.delay = (
            member,
            course,
            page_view_id,
            delay,
        )
        self.marked, self.stop = threading.Event(), threading.Event()
        self.written_at = None

    def run(self):
        try:
            page_view_pending_mark(self.page_view_id)
            self.marked.set()
            if self.delay is None:
                self.stop.wait(10)
            else:
                time.sleep(self.delay)
                impressions_log(
                    member=self.member, page_view_id=self.page_view_id, shown=[_shown(self.course)]
                )
                self.written_at = time.monotonic()
            page_view_pending_clear(self.page_view_id)
        finally:
            connections.close_all()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_click_waits_for_its_pages_impressions_being_written():
    member, course = MemberFactory(), CourseFactory()
    page_view_id = uuid.uuid4()
    writer = _Writer(member=member, course=course, page_view_id=page_view_id, delay=0.3)
    writer.start()
    assert writer.marked.wait(5)

    click = click_log(member=member, page_view_id=page_view_id, course=course)
    clicked_at = time.monotonic()
    writer.join(5)

    assert click is not None
    assert (click.kind, click.reason_key, click.carousel_position, click.position) == (
        "click",
        "popular",
        0,
        0,
    )
    assert clicked_at >= writer.written_at
    assert FeedbackEvent.objects.filter(page_view_id=page_view_id).count() == 1
    assert PageView.objects.filter(pk=page_view_id).exists()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_an_event_batch_waits_for_the_page_before_locking_what_its_impressions_need():
    """The batch locks its member, and the impressions' commit checks its foreign key to that
    member: waiting for the page while holding that lock would deadlock the two."""
    member, course, other = MemberFactory(), CourseFactory(), CourseFactory()
    page_view_id = uuid.uuid4()
    writer = _Writer(member=member, course=course, page_view_id=page_view_id, delay=0.3)
    writer.start()
    assert writer.marked.wait(5)

    results = events_ingest(
        member=member,
        events=[
            EventInput(event_id=uuid.uuid4(), kind="bookmark", course_id=other.pk),
            EventInput(
                event_id=uuid.uuid4(), kind="click", course_id=course.pk, page_view_id=page_view_id
            ),
            EventInput(
                event_id=uuid.uuid4(), kind="enrol", course_id=course.pk, page_view_id=page_view_id
            ),
        ],
    )
    writer.join(5)

    assert [result.status for result in results] == ["accepted"] * 3
    assert sorted(
        FeedbackEvent.objects.filter(member=member).values_list("kind", "course_id", "reason_key")
    ) == sorted(
        [
            ("bookmark", other.pk, ""),
            ("click", course.pk, "popular"),
            ("enrol", course.pk, ""),
        ]
    )
    assert PageView.objects.filter(pk=page_view_id, member=member).exists()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_wait_is_bounded_and_leaves_the_transaction_usable(settings):
    settings.RECOMMENDATIONS = {**settings.RECOMMENDATIONS, "IMPRESSIONS_WAIT_SECONDS": 0.2}
    member, course = MemberFactory(), CourseFactory()
    page_view_id = uuid.uuid4()
    writer = _Writer(member=member, course=course, page_view_id=page_view_id, delay=None)
    writer.start()
    assert writer.marked.wait(5)
    try:
        from django.db import transaction

        started = time.monotonic()
        with transaction.atomic():
            found = page_view_card(member=member, page_view_id=page_view_id, course_id=course.pk)
            waited = time.monotonic() - started
            # The caller's transaction goes on, with its own lock timeout back.
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('lock_timeout')")
                assert cursor.fetchone() == ("0",)
            assert not PageView.objects.filter(member=member).exists()
    finally:
        writer.stop.set()
        writer.join(5)
    assert found is None
    assert 0.2 <= waited < 2


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_page_view_nobody_is_writing_is_refused_at_once():
    member, course = MemberFactory(), CourseFactory()
    started = time.monotonic()
    assert click_log(member=member, page_view_id=uuid.uuid4(), course=course) is None
    assert time.monotonic() - started < 0.5
    assert not FeedbackEvent.objects.filter(member=member).exists()


@pytest.mark.django_db
def test_a_page_view_already_written_is_found_without_waiting():
    member, course, other = MemberFactory(), CourseFactory(), CourseFactory()
    page_view_id = uuid.uuid4()
    impressions_log(
        member=member, page_view_id=page_view_id, shown=[_shown(course), _shown(other, 1)]
    )
    found = page_view_card(member=member, page_view_id=page_view_id, course_id=other.pk)
    assert (found.course_id, found.position) == (other.pk, 1)
    assert page_view_card(member=member, page_view_id=None, course_id=other.pk) is None
    # Another member's page view is not this member's.
    assert (
        page_view_card(member=MemberFactory(), page_view_id=page_view_id, course_id=other.pk)
        is None
    )


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_dismiss_waits_for_its_pages_impressions_and_records_where_it_was_shown(client):
    member, course = MemberFactory(), CourseFactory()
    page_view_id = uuid.uuid4()
    writer = _Writer(member=member, course=course, page_view_id=page_view_id, delay=0.3)
    writer.start()
    assert writer.marked.wait(5)

    client.force_login(member.user)
    response = client.post(
        reverse("recommendations:dismiss", args=[course.pk]),
        {"page_view_id": str(page_view_id)},
        HTTP_HX_REQUEST="true",
    )
    dismissed_at = time.monotonic()
    writer.join(5)

    assert response.status_code == 200
    assert dismissed_at >= writer.written_at
    dismiss = FeedbackEvent.objects.get(member=member, kind="dismiss")
    assert (dismiss.page_view_id, dismiss.reason_key, dismiss.strategy, dismiss.position) == (
        page_view_id,
        "popular",
        "default",
        0,
    )


@pytest.mark.django_db
def test_where_a_page_view_showed_a_course_is_the_members_own_impression():
    member, other, course = MemberFactory(), MemberFactory(), CourseFactory()
    page_view_id = uuid.uuid4()
    impressions_log(member=member, page_view_id=page_view_id, shown=[_shown(course, position=3)])

    assert shown_course_of_page_view(
        member=member, page_view_id=page_view_id, course_id=course.pk
    ) == ShownCourse(
        course_id=course.pk,
        reason="popular",
        reason_key="popular",
        strategy="default",
        carousel_position=0,
        position=3,
        channel="web",
    )
    # Another member's page view, another course, an unknown or missing page view: nothing.
    assert (
        shown_course_of_page_view(member=other, page_view_id=page_view_id, course_id=course.pk)
        is None
    )
    assert (
        shown_course_of_page_view(
            member=member, page_view_id=page_view_id, course_id=CourseFactory().pk
        )
        is None
    )
    assert (
        shown_course_of_page_view(member=member, page_view_id=uuid.uuid4(), course_id=course.pk)
        is None
    )
    assert shown_course_of_page_view(member=member, page_view_id=None, course_id=course.pk) is None


def _pending_in_thread(action):
    """Runs `action` in a thread of its own (another worker's database session)."""
    errors = []

    def run():
        try:
            action()
        except Exception as error:  # surfaced in the test's thread
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    assert not errors, errors


def _inputs_marking(member_id: int, page_view_id: uuid.UUID) -> None:
    member_serving_inputs(
        member_id=member_id,
        window_start=dt.date(2026, 1, 1),
        discount_threshold=3,
        with_learned=True,
        pending_page_view_id=page_view_id,
    )


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_inputs_statement_marks_the_page_view_and_marking_again_costs_nothing():
    member = MemberFactory()
    page_view_id = uuid.uuid4()
    seen = {}

    def serve():
        _inputs_marking(member.pk, page_view_id)
        seen["after inputs"] = page_view_pending(str(page_view_id))
        with CaptureQueriesContext(connection) as marking:
            page_view_pending_mark(page_view_id)
        seen["mark statements"] = len(marking)
        page_view_pending_clear(page_view_id)
        seen["after clear"] = page_view_pending(str(page_view_id))

    _pending_in_thread(serve)
    assert seen == {"after inputs": True, "mark statements": 0, "after clear": False}


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_request_that_never_hands_its_page_view_over_releases_it_when_it_finishes():
    member = MemberFactory()
    page_view_id = uuid.uuid4()
    seen = {}

    def failed_request():
        _inputs_marking(member.pk, page_view_id)
        seen["before"] = page_view_pending(str(page_view_id))
        # What the handler sends once the (error) response is closed.
        request_finished.send(sender=None)
        seen["after"] = page_view_pending(str(page_view_id))
        # Nothing left to release: the next request sends no statement for it.
        with CaptureQueriesContext(connection) as released:
            page_views_pending_release()
        seen["statements"] = len(released)

    _pending_in_thread(failed_request)
    assert seen == {"before": True, "after": False, "statements": 0}


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_failed_request_releases_its_page_view_when_its_response_is_closed():
    """Before `request_finished`, whose first receiver gives a pooled connection back with any
    session lock still on it: here that receiver is only the closing of the connection."""
    member = MemberFactory()
    page_view_id = uuid.uuid4()
    seen = {}

    def view_failing_after_its_inputs(request):
        _inputs_marking(member.pk, page_view_id)
        return HttpResponseServerError()

    def failed_request():
        response = page_views_pending_middleware(view_failing_after_its_inputs)(HttpRequest())
        seen["before close"] = page_view_pending(str(page_view_id))
        request_finished.disconnect(page_views_pending_release, dispatch_uid=DISPATCH_UID)
        try:
            response.close()
            seen["locks on the connection"] = _session_advisory_locks()
        finally:
            request_finished.connect(page_views_pending_release, dispatch_uid=DISPATCH_UID)
        connection.close()
        seen["after"] = page_view_pending(str(page_view_id))

    _pending_in_thread(failed_request)
    assert seen == {"before close": True, "locks on the connection": 0, "after": False}


def test_the_release_middleware_comes_first():
    assert settings.MIDDLEWARE[0] == "recommendations.serving.pending.page_views_pending_middleware"


def _session_advisory_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_closed_connection_took_its_locks_along_and_is_not_reopened_to_release_them():
    member = MemberFactory()
    page_view_id = uuid.uuid4()
    seen = {}

    def closed_early():
        _inputs_marking(member.pk, page_view_id)
        connection.close()
        seen["held"] = page_view_pending(str(page_view_id))
        connection.close()  # looking opened a new one
        page_views_pending_release()
        seen["reopened"] = connection.connection is not None

    _pending_in_thread(closed_early)
    assert seen == {"held": False, "reopened": False}
