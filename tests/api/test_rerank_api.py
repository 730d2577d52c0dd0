"""POST /api/v1/recommendations/rerank/: any list of courses, ordered for the member."""

import datetime as dt

import pytest
from django.utils import timezone

from members.models import Enrolment
from recommendations.models import Dismissal
from recommendations.serving.home_page import home_page_for_member
from recommendations.training.runs import training_run_execute
from tests.factories import CourseFactory

URL = "/api/v1/recommendations/rerank/"


def ids(world, *titles: str) -> list[int]:
    return [world["courses"][title].pk for title in titles]


def test_a_list_comes_back_ordered_for_the_member_with_scores_and_reasons(
    analyst_api, analyst, world
):
    training_run_execute(trigger="test")
    # The analyst follows SQL and Python; the design courses come after theirs.
    asked = ids(
        world,
        "Photoshop Retouching",
        "Illustrator Basics",
        "SQL Window Functions",
        "Python Scripting",
    )
    response = analyst_api.post(URL, {"course_ids": asked}, format="json")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [item["rank"] for item in results] == [1, 2, 3, 4]
    assert sorted(item["course_id"] for item in results) == sorted(asked)
    top_two = {item["course_id"] for item in results[:2]}
    assert top_two == set(ids(world, "SQL Window Functions", "Python Scripting"))
    sql, python = world["skills"]["SQL"].pk, world["skills"]["Python"].pk
    by_id = {item["course_id"]: item for item in results}
    window = by_id[world["courses"]["SQL Window Functions"].pk]
    assert window["reason"] == "follow"
    assert window["reason_key"] in (f"follow:{sql}", f"follow:{python}")
    assert window["label"].startswith("Because you follow ")
    assert window["score"] == 1.0
    scores = [item["score"] for item in results]
    assert scores == sorted(scores, reverse=True)
    assert all(item["score"] > 0 for item in results)


def test_the_order_agrees_with_the_homepage(analyst, world):
    """The homepage's first carousel, asked for as a list, keeps its first course first."""
    from recommendations.serving.personal_order import courses_ordered_for_member

    page = home_page_for_member(member=analyst)
    first = page.carousels[0]
    listed = [card.course.pk for card in first.cards]
    ordered = courses_ordered_for_member(member=analyst, course_ids=list(reversed(listed)))
    assert ordered[0].course_id == listed[0]
    assert ordered[0].reason_key == first.key


def test_taken_and_dismissed_courses_come_last_with_no_reason(analyst_api, analyst, world):
    taken, dismissed, other = ids(
        world, "SQL Essential Training", "Learning Python", "Photoshop Retouching"
    )
    Enrolment.objects.create(
        member=analyst, course_id=taken, enrolled_at=timezone.now(), progress_percent=40
    )
    Dismissal.objects.create(member=analyst, course_id=dismissed)
    response = analyst_api.post(URL, {"course_ids": [taken, dismissed, other]}, format="json")
    results = response.json()["results"]
    assert results[0]["course_id"] == other
    assert results[0]["reason"] is not None
    assert {item["course_id"] for item in results[1:]} == {taken, dismissed}
    assert [item["score"] for item in results[1:]] == [0.0, 0.0]
    assert [item["reason"] for item in results[1:]] == [None, None]
    # Ties without a reason go to the lower id.
    assert [item["course_id"] for item in results[1:]] == sorted([taken, dismissed])


def test_an_id_given_twice_is_ranked_once(analyst_api, world):
    (course,) = ids(world, "Tableau Dashboards")
    response = analyst_api.post(URL, {"course_ids": [course, course]}, format="json")
    assert [item["course_id"] for item in response.json()["results"]] == [course]


def test_a_course_added_since_the_retrain_is_ranked(analyst_api, world):
    training_run_execute(trigger="test")
    course = CourseFactory(published_at=timezone.now())
    response = analyst_api.post(URL, {"course_ids": [course.pk]}, format="json")
    assert response.status_code == 200
    assert response.json()["results"][0]["reason"] == "new"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "This field is required."),
        ({"course_ids": []}, "Ensure this field has at least 1 elements."),
        ({"course_ids": list(range(1, 502))}, "Ensure this field has no more than 500 elements."),
        ({"course_ids": "12"}, 'Expected a list of items but got type "str".'),
    ],
)
def test_bad_lists_are_refused_with_a_field_error(analyst_api, world, body, message):
    response = analyst_api.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"course_ids": [message]}


def test_non_integers_are_refused_per_item(analyst_api, world):
    (course,) = ids(world, "Tableau Dashboards")
    response = analyst_api.post(URL, {"course_ids": [course, "ten", 0]}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "course_ids.1": ["A valid integer is required."],
        "course_ids.2": ["Ensure this value is greater than or equal to 1."],
    }


def test_unknown_and_unpublished_ids_are_refused(analyst_api, world):
    (course,) = ids(world, "Tableau Dashboards")
    later = CourseFactory(published_at=timezone.now() + dt.timedelta(days=3))
    response = analyst_api.post(URL, {"course_ids": [course, 999_999, later.pk]}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "course_ids": [f"No published course has the id 999999, {later.pk}."]
    }


def test_rerank_needs_a_member(anon, db):
    response = anon.post(URL, {"course_ids": [1]}, format="json")
    assert response.status_code == 401
