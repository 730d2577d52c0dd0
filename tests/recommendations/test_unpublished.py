"""Unpublished courses (unpublished since, or not yet published) are never dismissed or clicked,
and the dismissed list shows published courses only."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from recommendations.feedback.services import course_dismiss
from recommendations.models import Dismissal, FeedbackEvent
from tests.factories import CourseFactory
from tests.helpers import token_client

pytestmark = pytest.mark.django_db


def _unpublished(when: str):
    later = timezone.now() + dt.timedelta(days=3)
    if when == "future":
        return CourseFactory(title="Secret Course", published_at=later)
    # Published once; unpublishing moves the date into the future.
    course = CourseFactory(title="Secret Course")
    course.published_at = later
    course.save(update_fields=["published_at"])
    return course


WHEN = ["since", "future"]


@pytest.mark.parametrize("when", WHEN)
@pytest.mark.parametrize("htmx", [False, True])
def test_dismissing_an_unpublished_course_is_not_found(member_client, member, when, htmx):
    course = _unpublished(when)
    headers = {"HX-Request": "true"} if htmx else {}
    response = member_client.post(
        f"/recommendations/courses/{course.pk}/dismiss/",
        {"page_view_id": str(uuid.uuid4())},
        headers=headers,
    )
    assert response.status_code == 404
    assert "Secret Course" not in response.content.decode()
    assert not Dismissal.objects.exists()
    assert not FeedbackEvent.objects.exists()


def test_dismissing_a_published_course_still_works(member_client, member):
    course = CourseFactory(title="Open Course")
    response = member_client.post(
        f"/recommendations/courses/{course.pk}/dismiss/", {"page_view_id": str(uuid.uuid4())}
    )
    assert response.status_code == 302
    assert Dismissal.objects.filter(member=member, course=course).exists()


@pytest.mark.parametrize("when", WHEN)
def test_clicking_an_unpublished_course_is_not_found(member_client, member, when):
    course = _unpublished(when)
    response = member_client.get(f"/recommendations/go/{uuid.uuid4()}/{course.pk}/")
    assert response.status_code == 404
    assert not FeedbackEvent.objects.exists()


@pytest.mark.parametrize("kind", ["dismiss", "click", "enrol", "bookmark"])
def test_an_event_on_an_unpublished_course_is_a_row_error(member, kind):
    course = _unpublished("future")
    event = {"event_id": str(uuid.uuid4()), "type": kind, "course_id": course.pk}
    if kind == "click":
        event["page_view_id"] = str(uuid.uuid4())
    response = token_client(member.user).post("/api/v1/events/", {"events": [event]}, format="json")
    assert response.status_code == 200
    [result] = response.json()["results"]
    assert (result["status"], result["reason"]) == ("rejected", "unknown_course")
    assert not Dismissal.objects.exists()
    assert not FeedbackEvent.objects.exists()


def test_the_dismissed_list_shows_published_courses_only(member_client, member):
    shown = CourseFactory(title="Still Published")
    hidden = CourseFactory(title="Since Unpublished")
    course_dismiss(member=member, course=shown)
    course_dismiss(member=member, course=hidden)
    hidden.published_at = timezone.now() + dt.timedelta(days=1)
    hidden.save(update_fields=["published_at"])

    html = member_client.get("/recommendations/dismissed/").content.decode()

    assert "Still Published" in html
    assert "Since Unpublished" not in html
