"""Impressions of the recommendations API are written once the response has gone out (at its
close(), which the WSGI server calls after the last byte), and a failed write loses only them."""

import logging
import uuid

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from rest_framework.test import APIRequestFactory, force_authenticate

from recommendations.api import RecommendationsView
from recommendations.models import FeedbackEvent
from recommendations.serving import deferred
from tests.recommendations.test_home import _new_analyst


def _close(response):
    """`response.close()` as the WSGI server calls it, keeping the test's database connection:
    the request_finished handler that returns it would close the test's transaction (Django's
    test client disconnects it the same way)."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def _served(member):
    request = APIRequestFactory().get("/api/v1/recommendations/")
    force_authenticate(request, user=member.user)
    response = RecommendationsView.as_view()(request)
    response.render()
    return response


def _page_view_pending(page_view_id: str) -> bool:
    """Whether some database session holds the page view's pending lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND ((classid::bigint << 32) | objid::bigint) = %s",
            [uuid.UUID(page_view_id).int & (2**63 - 1)],
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite writes them at once")
def test_the_impressions_are_written_when_the_response_is_closed(world):
    member = _new_analyst(world, "SQL", "Python")

    response = _served(member)

    assert response.status_code == 200
    assert _page_view_pending(response.data["page_view_id"])
    shown = [
        (card["course"]["id"], carousel["key"], carousel["position"], card["position"])
        for carousel in response.data["carousels"]
        for card in carousel["courses"]
    ]
    assert shown
    assert not FeedbackEvent.objects.filter(member=member).exists()

    _close(response)

    events = FeedbackEvent.objects.filter(member=member, kind="impression")
    assert sorted(
        events.values_list("course_id", "reason_key", "carousel_position", "position")
    ) == sorted(shown)
    assert {str(pv) for pv in events.values_list("page_view_id", flat=True)} == {
        response.data["page_view_id"]
    }
    assert not _page_view_pending(response.data["page_view_id"])


@pytest.mark.skipif(connection.vendor == "postgresql", reason="PostgreSQL writes them at close")
def test_where_clicks_cannot_wait_the_impressions_are_written_before_the_response(world):
    member = _new_analyst(world, "SQL", "Python")

    response = _served(member)

    cards = sum(len(carousel["courses"]) for carousel in response.data["carousels"])
    assert cards
    assert FeedbackEvent.objects.filter(member=member, kind="impression").count() == cards
    _close(response)
    assert FeedbackEvent.objects.filter(member=member, kind="impression").count() == cards


def test_a_failed_write_is_logged_and_the_response_stands(world, monkeypatch, caplog):
    member = _new_analyst(world, "SQL")

    def refuse(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(deferred, "impressions_log", refuse)
    with caplog.at_level(logging.ERROR, logger="recommendations.serving.deferred"):
        response = _served(member)
        _close(response)

    assert response.status_code == 200
    assert response.data["carousels"]
    assert not FeedbackEvent.objects.filter(member=member).exists()
    [record] = [r for r in caplog.records if r.name == "recommendations.serving.deferred"]
    assert record.getMessage() == (
        f"impressions of page view {response.data['page_view_id']} were not logged"
    )
    assert record.exc_info[1].args == ("database went away",)
    if connection.vendor == "postgresql":
        # Clicks on the page stop waiting: it will never have impressions.
        assert not _page_view_pending(response.data["page_view_id"])


@pytest.mark.parametrize("closes", [1, 2])
def test_closing_twice_writes_the_impressions_once(world, closes):
    member = _new_analyst(world, "SQL")
    response = _served(member)
    for _ in range(closes):
        _close(response)
    cards = sum(len(carousel["courses"]) for carousel in response.data["carousels"])
    assert FeedbackEvent.objects.filter(member=member, kind="impression").count() == cards
