import uuid

import pytest

from recommendations.models import FeedbackEvent
from recommendations.selectors import home_page_for_member


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
    logged = list(
        FeedbackEvent.objects.filter(member=analyst, kind="impression").values_list(
            "page_view_id", "course_id", "reason", "reason_key", "carousel_position", "position"
        )
    )
    returned = [
        (carousel["reason"], carousel["key"], carousel["position"], item)
        for carousel in body["carousels"]
        for item in carousel["courses"]
    ]
    assert sorted(logged, key=lambda row: (row[4], row[5])) == [
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
    assert FeedbackEvent.objects.filter(page_view_id=page_view).count() == 2 * len(follow)


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


def test_recommendations_need_a_member(anon, db):
    assert anon.get("/api/v1/recommendations/").status_code == 401
