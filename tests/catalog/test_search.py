"""Course search that ranks: relevance (weighted full-text and typo tolerance on PostgreSQL, a
simple order elsewhere), newest and popular, on the site and in the API."""

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from catalog import selectors
from tests.factories import CourseFactory, CourseSkillFactory, EnrolmentFactory, SkillFactory

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="full-text and trigram search are PostgreSQL's"
)


def titles(courses) -> list[str]:
    return [course.title for course in courses]


@postgresql_only
def test_a_misspelt_query_finds_python_courses_first(world):
    found = titles(selectors.courses_search(query="pyhton"))
    python = {
        title for title, course in world["courses"].items() if "Python" in title
    }  # every Python-tagged course of the world has Python in its title
    assert len(found) >= len(python)
    assert set(found[: len(python)]) == python


@postgresql_only
@pytest.mark.parametrize("name", ["search", "q"])  # `q`: the deprecated name of `search`
def test_a_misspelt_query_ranks_through_the_api(client, world, name):
    body = client.get("/api/v1/courses/", {name: "pyhton", "page_size": 5}).json()
    assert body["results"][0]["title"] in {
        "Python for Data Analysis",
        "Learning Python",
        "Python Scripting",
        "Python Testing",
        "Python and SQL in Practice",
    }


@postgresql_only
def test_title_outranks_skill_outranks_description_outranks_teacher(db):
    now = timezone.now()
    kotlin = SkillFactory(name="Kotlin")
    # The newest course matches only by teacher: newest-first would put it first.
    in_teacher = CourseFactory(title="Mobile apps", teacher="Kotlin Smith", published_at=now)
    in_description = CourseFactory(
        title="Android basics",
        description="Write your first app in Kotlin.",
        published_at=now - dt.timedelta(days=1),
    )
    in_skill = CourseFactory(title="JVM languages", published_at=now - dt.timedelta(days=2))
    CourseSkillFactory(course=in_skill, skill=kotlin)
    in_title = CourseFactory(title="Kotlin in depth", published_at=now - dt.timedelta(days=3))
    CourseFactory(title="Swift for iOS", published_at=now)

    found = list(selectors.courses_search(query="kotlin"))
    assert found == [in_title, in_skill, in_description, in_teacher]
    assert found[0].relevance > found[1].relevance > found[2].relevance > found[3].relevance


@postgresql_only
def test_every_word_must_still_match_and_short_words_are_not_fuzzy(db):
    CourseFactory(title="Pivot in basketball", description="Footwork.")
    CourseFactory(title="R for statistics", description="Models.")
    CourseFactory(title="Ruby on Rails", description="Web apps.")
    assert titles(selectors.courses_search(query="excel pivot")) == []
    assert titles(selectors.courses_search(query="r statistics")) == ["R for statistics"]


def test_relevance_puts_whole_title_matches_first(db):
    now = timezone.now()
    CourseFactory(
        title="Reporting",
        description="Dashboards with data studio and more.",
        published_at=now,
    )
    CourseFactory(title="Data Studio in a day", published_at=now - dt.timedelta(days=10))
    CourseFactory(title="Studio lighting for data people", published_at=now - dt.timedelta(days=5))
    assert titles(selectors.courses_search(query="data studio")) == [
        "Data Studio in a day",
        "Studio lighting for data people",
        "Reporting",
    ]


def test_sort_newest_and_popular(world):
    newest = titles(selectors.courses_search(query="sql", sort="newest"))
    assert newest[:3] == [
        "SQL for Beginners",
        "Python and SQL in Practice",
        "SQL Performance Tuning",
    ]
    popular = titles(selectors.courses_search(query="sql", sort="popular"))
    # SQL Essential Training: 12 enrolments, Advanced SQL for Analysts: 8; then none, newest first.
    assert popular[:3] == [
        "SQL Essential Training",
        "Advanced SQL for Analysts",
        "SQL for Beginners",
    ]
    EnrolmentFactory(course=world["courses"]["Python Testing"])
    assert titles(selectors.courses_search(query="", sort="popular"))[:4] == [
        "SQL Essential Training",
        "Advanced SQL for Analysts",
        "Photoshop Essential Training",
        "Python for Data Analysis",
    ]


def test_without_a_query_relevance_is_newest_first(world):
    assert titles(selectors.courses_search(query="")) == titles(
        selectors.courses_search(query="", sort="newest")
    )


def test_an_unknown_sort_is_refused(db):
    with pytest.raises(ValueError, match="unknown course sort 'cheapest'"):
        selectors.courses_search(query="", sort="cheapest")


def test_the_course_list_page_sorts_and_refuses_an_unknown_sort(client, world):
    response = client.get(reverse("catalog:course_list"), {"q": "sql", "sort": "popular"})
    assert response.status_code == 200
    assert [c.title for c in response.context["page"]][:2] == [
        "SQL Essential Training",
        "Advanced SQL for Analysts",
    ]
    refused = client.get(reverse("catalog:course_list"), {"sort": "cheapest"})
    assert refused.context["form"].errors == {
        "sort": ["Select a valid choice. cheapest is not one of the available choices."]
    }
    assert b"Sort by" in response.content
