"""A signed-in member's search results, re-ordered for them among results of similar relevance
(recommendations/serving/personal_order.py), on the site and in the API."""

import datetime as dt

import pytest
from django.db.models import Case, FloatField, Value, When
from django.urls import reverse
from django.utils import timezone

from catalog.models import Course
from recommendations.serving import personal_order
from recommendations.serving.personal_order import search_results_for_member
from tests.factories import PASSWORD, CourseFactory, CourseSkillFactory
from tests.helpers import new_analyst, token_client


def _primers(world) -> dict[str, Course]:
    """Two courses matching "primer" equally well; the design one is newer."""
    now = timezone.now()
    design = CourseFactory(title="Layers primer", published_at=now - dt.timedelta(hours=1))
    CourseSkillFactory(course=design, skill=world["skills"]["Photoshop"])
    data = CourseFactory(title="Joins primer", published_at=now - dt.timedelta(hours=2))
    CourseSkillFactory(course=data, skill=world["skills"]["SQL"])
    return {"design": design, "data": data}


def _titles(response) -> list[str]:
    return [course.title for course in response.context["page"]]


def test_the_site_orders_similar_results_for_a_signed_in_member(client, world):
    _primers(world)
    url = reverse("catalog:course_list")
    # Visitors: equal relevance, newest first.
    assert _titles(client.get(url, {"q": "primer"})) == ["Layers primer", "Joins primer"]
    member = new_analyst(world, "SQL")
    client.login(username=member.user.username, password=PASSWORD)
    assert _titles(client.get(url, {"q": "primer"})) == ["Joins primer", "Layers primer"]
    # Other sorts, and browsing without a query, are not re-ordered.
    assert _titles(client.get(url, {"q": "primer", "sort": "newest"})) == [
        "Layers primer",
        "Joins primer",
    ]


@pytest.mark.parametrize("name", ["search", "q"])  # `q`: the deprecated name of `search`
def test_the_api_orders_similar_results_for_a_signed_in_member(client, world, name):
    _primers(world)
    member = new_analyst(world, "SQL")
    url = "/api/v1/courses/"
    visitor = client.get(url, {name: "primer"}).json()
    assert [c["title"] for c in visitor["results"]] == ["Layers primer", "Joins primer"]
    mine = token_client(member.user).get(url, {name: "primer"}).json()
    assert [c["title"] for c in mine["results"]] == ["Joins primer", "Layers primer"]
    assert mine["count"] == visitor["count"] == 2


def _ranked(world, relevance: dict[int, float]):
    return (
        Course.objects.filter(pk__in=list(relevance))
        .annotate(
            relevance=Case(
                *[When(pk=pk, then=Value(value)) for pk, value in relevance.items()],
                output_field=FloatField(),
            )
        )
        .order_by("-relevance", "-published_at", "-id")
    )


def test_a_clearly_better_match_stays_ahead_of_what_the_member_prefers(world):
    courses = _primers(world)
    member = new_analyst(world, "SQL")
    photoshop = world["courses"]["Photoshop Essential Training"]
    results = _ranked(
        world,
        {photoshop.pk: 1.0, courses["design"].pk: 0.5, courses["data"].pk: 0.45},
    )
    ordered = list(search_results_for_member(member=member, results=results))
    # The Photoshop course is twice as relevant: it stays first. The two primers are within
    # 80% of each other: the member's SQL one goes first.
    assert ordered == [photoshop, courses["data"], courses["design"]]


def test_only_the_first_results_are_reordered_and_pages_still_add_up(world, monkeypatch):
    monkeypatch.setattr(personal_order, "PERSONAL_SEARCH_WINDOW", 2)
    courses = _primers(world)
    member = new_analyst(world, "SQL")
    tableau = world["courses"]["Tableau Dashboards"]
    relevance = {courses["design"].pk: 1.0, courses["data"].pk: 1.0, tableau.pk: 0.9}
    results = search_results_for_member(member=member, results=_ranked(world, relevance))
    assert len(results) == 3
    assert list(results[0:2]) == [courses["data"], courses["design"]]
    assert list(results[2:4]) == [tableau]
    assert list(results[1:3]) == [courses["design"], tableau]
    assert results[0] == courses["data"]
