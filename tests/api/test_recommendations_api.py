import json
import uuid
from unittest import mock

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from rest_framework.throttling import ScopedRateThrottle

from recommendations.api import _home_page_body
from recommendations.api_selectors import home_page_trim
from recommendations.models import FeedbackEvent, PageView
from recommendations.serializers import HomePageSerializer, home_page_data
from recommendations.serving.home_page import home_page_for_member
from tests.helpers import shown_cards, token_client


def shape(page) -> list[tuple]:
    return [
        (c.reason, c.key, c.label, [(card.course.pk, card.score) for card in c.cards])
        for c in page.carousels
    ]


def api_shape(body) -> list[tuple]:
    return [
        (c["reason"], c["key"], c["label"], [(i["course"]["id"], i["score"]) for i in c["courses"]])
        for c in body["carousels"]
    ]


def test_recommendations_are_the_homepage_carousels(analyst_api, analyst):
    expected = home_page_for_member(member=analyst)
    response = analyst_api.get("/api/v1/recommendations/")
    assert response.status_code == 200
    body = response.json()
    assert api_shape(body) == shape(expected)
    labels = [c["label"] for c in body["carousels"]]
    assert {"Because you follow SQL", "Because you follow Python"} <= set(labels)
    first = body["carousels"][0]
    assert first["position"] == 0
    assert [(i["rank"], i["position"]) for i in first["courses"][:3]] == [(1, 0), (2, 1), (3, 2)]


def test_recommendations_log_one_impression_per_returned_course(analyst_api, analyst):
    body = analyst_api.get("/api/v1/recommendations/").json()
    # One page view holds them all, in slot order.
    logged = [card[:4] + card[5:7] for card in shown_cards(member=analyst)]
    assert PageView.objects.get().channel == "api"
    assert not FeedbackEvent.objects.exists()
    returned = [
        (carousel["reason"], carousel["key"], carousel["position"], item)
        for carousel in body["carousels"]
        for item in carousel["courses"]
    ]
    assert [item["slot"] for *_, item in returned] == list(range(len(returned)))
    assert logged == [
        (
            uuid.UUID(body["page_view_id"]),
            item["course"]["id"],
            reason,
            key,
            position,
            item["position"],
        )
        for reason, key, position, item in returned
    ]


def test_reason_filter_and_limit(analyst_api, analyst):
    full = analyst_api.get("/api/v1/recommendations/").json()
    body = analyst_api.get("/api/v1/recommendations/", {"reason": "follow", "limit": 2}).json()
    follow = [c for c in full["carousels"] if c["reason"] == "follow"]
    assert [c["key"] for c in body["carousels"]] == [c["key"] for c in follow]
    assert all(len(c["courses"]) == 2 for c in body["carousels"])
    # Cards keep the carousel position they have on the full page.
    assert [c["position"] for c in body["carousels"]] == [c["position"] for c in follow]
    page_view = body["page_view_id"]
    assert len(shown_cards(pk=page_view)) == 2 * len(follow)


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"reason": "astrology"}, "reason", '"astrology" is not a valid choice.'),
        ({"limit": 0}, "limit", "Ensure this value is greater than or equal to 1."),
        ({"limit": 13}, "limit", "Ensure this value is less than or equal to 12."),
        ({"limit": "many"}, "limit", "A valid integer is required."),
    ],
)
def test_recommendations_refuse_bad_parameters(analyst_api, analyst, params, field, message):
    response = analyst_api.get("/api/v1/recommendations/", params)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {field: [message]}
    assert not FeedbackEvent.objects.exists()
    assert not PageView.objects.exists()


def test_recommendations_need_a_member(anon, db):
    assert anon.get("/api/v1/recommendations/").status_code == 401


def _as_json(data) -> dict:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


@pytest.mark.parametrize(("reason", "limit"), [(None, 12), ("follow", 2)])
def test_home_page_data_equals_the_home_page_serializer(analyst, reason, limit):
    page = home_page_trim(page=home_page_for_member(member=analyst), reason=reason, limit=limit)
    body = _home_page_body(page)
    courses = [card["course"] for carousel in body["carousels"] for card in carousel["courses"]]
    # Not vacuous: several carousels, and courses with one and with two approved skills.
    assert len(body["carousels"]) >= 2
    assert len(courses) >= 4
    assert {len(course.card_skills) for course in courses} >= {1, 2}
    assert all("description" in course.get_deferred_fields() for course in courses)

    direct = _as_json(home_page_data(body))
    expected = _as_json(dict(HomePageSerializer(body).data))

    assert direct == expected
    # Same keys in the same order, card by card, as the documented schema.
    assert list(direct) == list(expected)
    first = direct["carousels"][0]["courses"][0]
    expected_first = expected["carousels"][0]["courses"][0]
    assert list(first) == list(expected_first)
    assert list(first["course"]) == list(expected_first["course"])
    assert direct["page_view_id"] == str(page.page_view_id)


def test_home_page_data_of_a_page_without_carousels(db):
    body = {"page_view_id": uuid.uuid4(), "carousels": []}
    assert _as_json(home_page_data(body)) == _as_json(dict(HomePageSerializer(body).data))
    assert home_page_data(body) == {"page_view_id": str(body["page_view_id"]), "carousels": []}


def test_recommendations_are_throttled_per_member(analyst, world, other_member, settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert rates["recommendations"] == "30/min"
    api = token_client(analyst.user)
    with mock.patch.dict(ScopedRateThrottle.THROTTLE_RATES, {"recommendations": "2/min"}):
        codes = [api.get("/api/v1/recommendations/").status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert token_client(other_member.user).get("/api/v1/recommendations/").status_code == 200
