"""Impressions of the recommendations API are written once the response has gone out (at its
close(), which the WSGI server calls after the last byte), and a failed write loses only them."""

import logging

import pytest
from django.db import connection

from recommendations.models import FeedbackEvent, PageView
from recommendations.serving import deferred
from tests.helpers import (
    new_analyst,
    page_view_pending,
    recommendations_served,
    response_close,
    shown_cards,
)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite writes them at once")
def test_the_impressions_are_written_when_the_response_is_closed(world):
    member = new_analyst(world, "SQL", "Python")

    response = recommendations_served(member)

    assert response.status_code == 200
    assert page_view_pending(response.data["page_view_id"])
    shown = [
        (card["course"]["id"], carousel["key"], carousel["position"], card["position"])
        for carousel in response.data["carousels"]
        for card in carousel["courses"]
    ]
    assert shown
    assert not PageView.objects.filter(member=member).exists()

    response_close(response)

    cards = shown_cards(member=member)
    assert [card[1:2] + card[3:4] + card[5:7] for card in cards] == shown
    assert {str(card[0]) for card in cards} == {response.data["page_view_id"]}
    assert not FeedbackEvent.objects.filter(member=member).exists()
    assert not page_view_pending(response.data["page_view_id"])


@pytest.mark.skipif(connection.vendor == "postgresql", reason="PostgreSQL writes them at close")
def test_where_clicks_cannot_wait_the_impressions_are_written_before_the_response(world):
    member = new_analyst(world, "SQL", "Python")

    response = recommendations_served(member)

    cards = sum(len(carousel["courses"]) for carousel in response.data["carousels"])
    assert cards
    assert len(shown_cards(member=member)) == cards
    response_close(response)
    assert len(shown_cards(member=member)) == cards
    assert PageView.objects.filter(member=member).count() == 1


def test_a_failed_write_is_logged_and_the_response_stands(world, monkeypatch, caplog):
    member = new_analyst(world, "SQL")

    def refuse(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(deferred, "impressions_log", refuse)
    with caplog.at_level(logging.ERROR, logger="recommendations.serving.deferred"):
        response = recommendations_served(member)
        response_close(response)

    assert response.status_code == 200
    assert response.data["carousels"]
    assert not PageView.objects.filter(member=member).exists()
    [record] = [r for r in caplog.records if r.name == "recommendations.serving.deferred"]
    assert record.getMessage() == (
        f"impressions of page view {response.data['page_view_id']} were not logged"
    )
    assert record.exc_info[1].args == ("database went away",)
    if connection.vendor == "postgresql":
        # Clicks on the page stop waiting: it will never have impressions.
        assert not page_view_pending(response.data["page_view_id"])


@pytest.mark.parametrize("closes", [1, 2])
def test_closing_twice_writes_the_impressions_once(world, closes):
    member = new_analyst(world, "SQL")
    response = recommendations_served(member)
    for _ in range(closes):
        response_close(response)
    cards = sum(len(carousel["courses"]) for carousel in response.data["carousels"])
    assert len(shown_cards(member=member)) == cards
    assert PageView.objects.filter(member=member).count() == 1
